//! Cuts a pushed FLV stream into HLS segments as OSS does: a segment ends at the first keyframe after
//! FragDuration, or without one after max(2 × FragDuration, 60 s); and (ossd's own bound) once it holds
//! `MAX_SEGMENT_BYTES`.

use super::ts::{AacConfig, AvcConfig, Muxer};

/// A segment is cut once it holds this many bytes, keyframe or not: what one push keeps in memory.
pub const MAX_SEGMENT_BYTES: usize = 64 << 20;

/// A finished segment.
#[derive(Debug)]
pub struct Segment {
    /// Its start, in ms after the stream's first timestamp.
    pub offset_ms: u64,
    pub duration_ms: u64,
    pub data: Vec<u8>,
}

/// What one FLV tag said, for the stream's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Video,
    Audio,
    /// A configuration record, or a tag of a codec ossd does not mux.
    Other,
}

pub struct Segmenter {
    frag_ms: u64,
    max_ms: u64,
    muxer: Muxer,
    buf: Vec<u8>,
    /// The current segment's first timestamp (None before the first frame).
    start: Option<u64>,
    first: Option<u64>,
    last: u64,
    /// The last video frame's length, to close the final segment.
    frame_ms: u64,
    has_video: bool,
    pub video_codec: Option<&'static str>,
    pub audio_codec: Option<&'static str>,
    pub sample_rate: u32,
}

impl Segmenter {
    pub fn new(frag_duration_s: u32) -> Segmenter {
        let frag_ms = frag_duration_s.max(1) as u64 * 1000;
        Segmenter {
            frag_ms,
            max_ms: (2 * frag_ms).max(60_000),
            muxer: Muxer::default(),
            buf: Vec::new(),
            start: None,
            first: None,
            last: 0,
            frame_ms: 0,
            has_video: false,
            video_codec: None,
            audio_codec: None,
            sample_rate: 0,
        }
    }

    /// Cuts the current segment when it is due at `ts` (`boundary`: a frame a segment may start with).
    fn maybe_cut(&mut self, ts: u64, boundary: bool) -> Option<Segment> {
        let start = self.start?;
        let age = ts.saturating_sub(start);
        let due = (boundary && age >= self.frag_ms) || age >= self.max_ms || self.buf.len() >= MAX_SEGMENT_BYTES;
        if !due || self.buf.is_empty() {
            return None;
        }
        self.close(ts)
    }

    fn close(&mut self, end: u64) -> Option<Segment> {
        let start = self.start.take()?;
        let data = std::mem::take(&mut self.buf);
        if data.is_empty() {
            return None;
        }
        let first = self.first.unwrap_or(start);
        Some(Segment { offset_ms: start - first.min(start), duration_ms: end.saturating_sub(start).max(1), data })
    }

    fn begin(&mut self, ts: u64) {
        if self.start.is_none() {
            self.start = Some(ts);
            self.first.get_or_insert(ts);
            self.muxer.tables(&mut self.buf);
        }
    }

    /// One FLV video tag at `ts`; a finished segment when this frame starts a new one.
    pub fn video(&mut self, ts: u64, tag: &[u8]) -> (Tag, Option<Segment>) {
        let (Some(&head), Some(&kind)) = (tag.first(), tag.get(1)) else { return (Tag::Other, None) };
        if head & 0x0f != 7 || tag.len() < 5 {
            return (Tag::Other, None);
        }
        self.video_codec = Some("H264");
        let body = &tag[5..];
        if kind == 0 {
            if let Some(cfg) = AvcConfig::parse(body) {
                self.muxer.avc = Some(cfg);
                self.has_video = true;
            }
            return (Tag::Other, None);
        }
        if kind != 1 || self.muxer.avc.is_none() {
            return (Tag::Other, None);
        }
        let keyframe = head >> 4 == 1;
        // A signed 24-bit composition offset.
        let cts = (((tag[2] as i32) << 24 | (tag[3] as i32) << 16 | (tag[4] as i32) << 8) >> 8) as i64;
        if self.start.is_none() && !keyframe {
            // A segment starts with a keyframe.
            return (Tag::Video, None);
        }
        let done = self.maybe_cut(ts, keyframe);
        self.begin(ts);
        if ts > self.last {
            self.frame_ms = (ts - self.last).min(1000);
        }
        self.last = self.last.max(ts);
        self.muxer.video(&mut self.buf, ts, cts, keyframe, body);
        (Tag::Video, done)
    }

    /// One FLV audio tag at `ts`.
    pub fn audio(&mut self, ts: u64, tag: &[u8]) -> (Tag, Option<Segment>) {
        let (Some(&head), Some(&kind)) = (tag.first(), tag.get(1)) else { return (Tag::Other, None) };
        if head >> 4 != 10 {
            return (Tag::Other, None);
        }
        self.audio_codec = Some("AAC");
        if kind == 0 {
            if let Some(cfg) = AacConfig::parse(&tag[2..]) {
                self.sample_rate = cfg.sample_rate();
                self.muxer.aac = Some(cfg);
            }
            return (Tag::Other, None);
        }
        if self.muxer.aac.is_none() {
            return (Tag::Other, None);
        }
        // With video, segments start at keyframes; audio before the first one waits for nothing.
        if self.has_video && self.start.is_none() {
            return (Tag::Audio, None);
        }
        let done = self.maybe_cut(ts, !self.has_video);
        self.begin(ts);
        self.last = self.last.max(ts);
        self.muxer.audio(&mut self.buf, ts, &tag[2..]);
        (Tag::Audio, done)
    }

    /// The last segment, when the stream ends.
    pub fn finish(&mut self) -> Option<Segment> {
        let end = self.last + self.frame_ms.max(1);
        self.close(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVC_CONFIG: [u8; 19] = [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 2, 0x67, 1, 1, 0, 1, 0x68];

    fn frame(key: bool) -> Vec<u8> {
        vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 0, 0, 0, 2, if key { 0x65 } else { 0x41 }, 0x88]
    }

    #[test]
    fn cuts_at_the_first_keyframe_after_frag_duration() {
        let mut s = Segmenter::new(2);
        s.video(0, &AVC_CONFIG);
        let mut segs = Vec::new();
        // 25 fps, a keyframe every second, for 6 seconds.
        for i in 0..150u64 {
            let ts = i * 40;
            if let (_, Some(seg)) = s.video(ts, &frame(i % 25 == 0)) {
                segs.push(seg);
            }
        }
        segs.extend(s.finish());
        let d: Vec<u64> = segs.iter().map(|s| s.duration_ms).collect();
        assert_eq!(d, vec![2000, 2000, 2000]);
        assert_eq!(segs.iter().map(|s| s.offset_ms).collect::<Vec<_>>(), vec![0, 2000, 4000]);
        assert!(segs.iter().all(|s| s.data.len() % 188 == 0 && s.data[0] == 0x47));
    }

    #[test]
    fn without_keyframes_a_segment_is_cut_at_sixty_seconds() {
        let mut s = Segmenter::new(1);
        s.video(0, &AVC_CONFIG);
        assert!(s.video(0, &frame(true)).1.is_none());
        let mut cut = None;
        for i in 1..2000u64 {
            if let (_, Some(seg)) = s.video(i * 40, &frame(false)) {
                cut = Some((i * 40, seg.duration_ms));
                break;
            }
        }
        assert_eq!(cut, Some((60_000, 60_000)));
    }

    #[test]
    fn garbage_tags_are_ignored() {
        let mut s = Segmenter::new(1);
        for t in [&[][..], &[0x17], &[0x17, 1], &[0x12, 0], &[0xaf, 0], &[0xaf, 1, 1]] {
            assert!(s.video(0, t).1.is_none());
            assert!(s.audio(0, t).1.is_none());
        }
        assert!(s.finish().is_none());
    }
}
