//! LiveChannels: their configuration, push history and HLS segments as records (MetaStore), the storage rules
//! OSS documents for them, the live state of the channels being pushed to (in memory), and the HLS objects a
//! push writes into the bucket (`.ts` segments and the `.m3u8` playlist).

use crate::model::{now_ms, ObjectAttrs, ObjectRecord};
use crate::Engine;
use ossd_errors::{Code, Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The default playlist name.
pub const DEFAULT_PLAYLIST: &str = "playlist.m3u8";
/// GetLiveChannelHistory gives at most this many pushes (the latest).
pub const HISTORY_KEPT: usize = 10;
/// PostVodPlaylist and GetVodPlaylist cover at most this many segments.
pub const VOD_MAX_SEGMENTS: usize = 20_000;

/// A LiveChannel's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveChannel {
    pub bucket: String,
    pub name: String,
    pub description: String,
    /// `enabled` or `disabled`.
    pub status: String,
    /// Seconds per `.ts` segment, 1 to 100.
    pub frag_duration: u32,
    /// Segments in the playlist, 1 to 100.
    pub frag_count: u32,
    pub playlist_name: String,
    pub mtime_ms: i64,
}

impl LiveChannel {
    pub fn enabled(&self) -> bool {
        self.status == "enabled"
    }

    /// The object key of the channel's live playlist.
    pub fn playlist_key(&self) -> String {
        format!("{}/{}", self.name, self.playlist_name)
    }
}

/// A LiveChannel's configuration as a request gives it: each field as text, None when absent.
#[derive(Debug, Clone, Default)]
pub struct LiveChannelInput {
    pub description: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub frag_duration: Option<String>,
    pub frag_count: Option<String>,
    pub playlist_name: Option<String>,
}

/// One push to a channel (GetLiveChannelHistory's LiveRecord). `end_ms` is 0 while it goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRecord {
    pub start_ms: i64,
    pub end_ms: i64,
    pub remote_addr: String,
}

/// One finished `.ts` segment of a channel: its start (which names it) and its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSegment {
    pub start_ms: i64,
    pub duration_ms: i64,
}

impl LiveSegment {
    /// The segment's file name inside the channel's folder (OSS names them by their start, in milliseconds).
    pub fn file_name(&self) -> String {
        format!("{}.ts", self.start_ms)
    }
}

/// What GetLiveChannelStat reports of a stream being pushed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamStat {
    pub width: u32,
    pub height: u32,
    pub frame_rate: u32,
    /// Bytes per second.
    pub video_bandwidth: u64,
    pub video_codec: Option<String>,
    pub audio_bandwidth: u64,
    pub sample_rate: u32,
    pub audio_codec: Option<String>,
}

/// A channel being pushed to.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub connected_ms: i64,
    pub remote_addr: String,
    pub stat: StreamStat,
}

/// GetLiveChannelStat's answer.
#[derive(Debug, Clone)]
pub enum ChannelStat {
    Disabled,
    Idle,
    Live(LiveState),
}

struct Session {
    state: LiveState,
    /// Set when the channel is disabled or deleted while pushed to: the push ends.
    stop: Arc<AtomicBool>,
}

/// The channels being pushed to, by (bucket, channel).
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<(String, String), Session>>,
}

/// A push in progress, as the ingest holds it. Dropping it ends the push (stat turns Idle).
pub struct Push {
    engine: Arc<Engine>,
    pub channel: LiveChannel,
    pub start_ms: i64,
    remote_addr: String,
    stop: Arc<AtomicBool>,
    /// The playlist's segments (the latest FragCount).
    segments: Vec<LiveSegment>,
    /// Segments written in this push.
    written: u64,
}

fn check_channel_name(name: &str) -> Result<()> {
    crate::names::check_object_name(name)?;
    if name.contains('/') {
        return Err(Error::new(Code::LiveChannelInvalidName).ctx("ChannelName", name));
    }
    Ok(())
}

fn check_playlist_name(name: &str) -> Result<()> {
    if name.contains('/') {
        return Err(Error::new(Code::LiveChannelPlaylistNameSlash).ctx("PlaylistName", name));
    }
    if !(6..=128).contains(&name.chars().count()) {
        return Err(Error::new(Code::LiveChannelPlaylistNameLength).ctx("PlaylistName", name));
    }
    if !name.ends_with(".m3u8") {
        return Err(Error::new(Code::LiveChannelPlaylistNameSuffix).ctx("PlaylistName", name));
    }
    Ok(())
}

fn check_status(s: &str) -> Result<()> {
    match s {
        "enabled" | "disabled" => Ok(()),
        _ => Err(Error::new(Code::LiveChannelInvalidStatus).ctx("Status", s)),
    }
}

fn in_range(v: &str, code: Code, field: &'static str) -> Result<u32> {
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(Error::new(code).ctx(field, v)),
    }
}

impl LiveChannelInput {
    /// The channel this input configures, with OSS's defaults, or the first rule it breaks.
    pub fn validate(&self, bucket: &str, name: &str) -> Result<LiveChannel> {
        check_channel_name(name)?;
        let description = self.description.clone().unwrap_or_default();
        if description.len() > 128 {
            return Err(Error::new(Code::LiveChannelDescriptionTooLong));
        }
        let status = self.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "enabled".into());
        check_status(&status)?;
        let kind = self.kind.as_deref().unwrap_or("");
        if kind != "HLS" {
            return Err(Error::new(Code::LiveChannelInvalidType).ctx("Type", kind));
        }
        let frag_duration = match self.frag_duration.as_deref() {
            Some(v) => in_range(v, Code::LiveChannelInvalidFragDuration, "FragDuration")?,
            None => 5,
        };
        let frag_count = match self.frag_count.as_deref() {
            Some(v) => in_range(v, Code::LiveChannelInvalidFragCount, "FragCount")?,
            None => 3,
        };
        let playlist_name = match self.playlist_name.as_deref() {
            None | Some("") => DEFAULT_PLAYLIST.to_string(),
            Some(p) => {
                check_playlist_name(p)?;
                p.to_string()
            }
        };
        Ok(LiveChannel {
            bucket: bucket.to_string(),
            name: name.to_string(),
            description,
            status,
            frag_duration,
            frag_count,
            playlist_name,
            mtime_ms: now_ms(),
        })
    }
}

/// A playlist of `segments` (HLS version 3); `ended` closes it (a VOD playlist).
pub fn m3u8(segments: &[LiveSegment], media_sequence: u64, ended: bool) -> String {
    let target = segments.iter().map(|s| (s.duration_ms + 999) / 1000).max().unwrap_or(1).max(1);
    let mut out =
        format!("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:{media_sequence}\n#EXT-X-TARGETDURATION:{target}\n");
    for s in segments {
        out.push_str(&format!("#EXTINF:{}.{:03},\n{}\n", s.duration_ms / 1000, s.duration_ms % 1000, s.file_name()));
    }
    if ended {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

fn no_such_channel(name: &str) -> Error {
    Error::new(Code::NoSuchLiveChannel).ctx("ChannelName", name)
}

impl Engine {
    /// PutLiveChannel: creates or replaces the channel.
    pub fn put_live_channel(&self, channel: &LiveChannel) -> Result<()> {
        self.bucket(&channel.bucket)?;
        self.meta.put_live_channel(channel)
    }

    pub fn live_channel(&self, bucket: &str, name: &str) -> Result<LiveChannel> {
        self.meta.get_live_channel(bucket, name)?.ok_or_else(|| no_such_channel(name))
    }

    /// ListLiveChannel: up to `limit` channels named after `marker` and starting with `prefix`, in name order.
    pub fn list_live_channels(
        &self,
        bucket: &str,
        prefix: &str,
        marker: &str,
        limit: usize,
    ) -> Result<Vec<LiveChannel>> {
        self.meta.list_live_channels(bucket, prefix, marker, limit)
    }

    /// DeleteLiveChannel: the channel, its history and its segment index go; the objects it wrote stay. A push
    /// to it ends.
    pub fn delete_live_channel(&self, bucket: &str, name: &str) -> Result<()> {
        if !self.meta.delete_live_channel(bucket, name)? {
            return Err(no_such_channel(name));
        }
        self.live.stop(bucket, name);
        Ok(())
    }

    /// PutLiveChannelStatus. Disabling a channel ends a push to it.
    pub fn set_live_channel_status(&self, bucket: &str, name: &str, status: &str) -> Result<()> {
        check_status(status)?;
        let mut c = self.live_channel(bucket, name)?;
        c.status = status.to_string();
        c.mtime_ms = now_ms();
        self.meta.put_live_channel(&c)?;
        if !c.enabled() {
            self.live.stop(bucket, name);
        }
        Ok(())
    }

    /// GetLiveChannelStat.
    pub fn live_channel_stat(&self, bucket: &str, name: &str) -> Result<ChannelStat> {
        let c = self.live_channel(bucket, name)?;
        if !c.enabled() {
            return Ok(ChannelStat::Disabled);
        }
        Ok(match self.live.get(bucket, name) {
            Some(s) => ChannelStat::Live(s),
            None => ChannelStat::Idle,
        })
    }

    /// GetLiveChannelHistory: the latest pushes, newest first.
    pub fn live_channel_history(&self, bucket: &str, name: &str) -> Result<Vec<LiveRecord>> {
        self.live_channel(bucket, name)?;
        self.meta.live_records(bucket, name, HISTORY_KEPT)
    }

    fn vod_segments(&self, bucket: &str, name: &str, start: i64, end: i64) -> Result<Vec<LiveSegment>> {
        if start < 0 || end <= start || end - start > 86_400 {
            return Err(Error::new(Code::LiveChannelInvalidTimeRange)
                .ctx("StartTime", start.to_string())
                .ctx("EndTime", end.to_string()));
        }
        self.live_channel(bucket, name)?;
        let segs = self.meta.live_segments(bucket, name, start * 1000, end * 1000, VOD_MAX_SEGMENTS)?;
        if segs.is_empty() {
            return Err(Error::new(Code::LiveChannelNoSegments));
        }
        Ok(segs)
    }

    /// GetVodPlaylist: a playlist of the segments that started within [start, end] (Unix seconds).
    pub fn vod_playlist(&self, bucket: &str, name: &str, start: i64, end: i64) -> Result<String> {
        Ok(m3u8(&self.vod_segments(bucket, name, start, end)?, 0, true))
    }

    /// PostVodPlaylist: stores that playlist as `<channel>/<playlist>`.
    pub fn post_vod_playlist(
        &self,
        bucket: &str,
        name: &str,
        playlist: &str,
        start: i64,
        end: i64,
    ) -> Result<ObjectRecord> {
        if playlist.contains('/') {
            return Err(Error::new(Code::LiveChannelPlaylistNameSlash).ctx("PlaylistName", playlist));
        }
        if !playlist.ends_with(".m3u8") {
            return Err(Error::new(Code::LiveChannelPlaylistNameSuffix).ctx("PlaylistName", playlist));
        }
        let body = self.vod_playlist(bucket, name, start, end)?;
        self.put_bytes(bucket, &format!("{name}/{playlist}"), "application/x-mpegURL", body.as_bytes())
    }

    /// Stores `data` as the object `bucket/key` (not encrypted, the bucket's storage class).
    pub fn put_bytes(&self, bucket: &str, key: &str, content_type: &str, data: &[u8]) -> Result<ObjectRecord> {
        let b = self.bucket(bucket)?;
        let mut w = self.new_blob(false)?;
        w.write(data).map_err(crate::io)?;
        let blob = w.finish().map_err(crate::io)?;
        let attrs = ObjectAttrs {
            content_type: content_type.to_string(),
            acl: "default".into(),
            storage_class: b.storage_class,
            ..Default::default()
        };
        self.put_object(bucket, key, blob, attrs, false)
    }

    /// Starts a push to a channel: Err(NoSuchLiveChannel), Err(LiveChannelDisabled), or Err(AccessDenied) when
    /// the channel is being pushed to already. The push is recorded in the history at once.
    pub fn start_push(self: &Arc<Self>, bucket: &str, name: &str, remote_addr: &str) -> Result<Push> {
        let channel = self.live_channel(bucket, name)?;
        if !channel.enabled() {
            return Err(Error::new(Code::LiveChannelDisabled).ctx("ChannelName", name));
        }
        let start_ms = now_ms();
        let stop = Arc::new(AtomicBool::new(false));
        let state =
            LiveState { connected_ms: start_ms, remote_addr: remote_addr.to_string(), stat: Default::default() };
        if !self.live.begin(bucket, name, state, stop.clone()) {
            return Err(Error::new(Code::AccessDenied).msg("The live channel is being pushed to by another client."));
        }
        let rec = LiveRecord { start_ms, end_ms: 0, remote_addr: remote_addr.to_string() };
        if let Err(e) = self.meta.put_live_record(bucket, name, &rec, HISTORY_KEPT) {
            self.live.end(bucket, name);
            return Err(e);
        }
        Ok(Push {
            engine: self.clone(),
            channel,
            start_ms,
            remote_addr: remote_addr.to_string(),
            stop,
            segments: Vec::new(),
            written: 0,
        })
    }
}

impl Push {
    /// Whether the channel was disabled or deleted since the push began.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Updates what GetLiveChannelStat reports.
    pub fn set_stat(&self, stat: StreamStat) {
        self.engine.live.set_stat(&self.channel.bucket, &self.channel.name, stat);
    }

    /// Stores a finished segment and the playlist of the latest FragCount segments.
    pub fn add_segment(&mut self, seg: LiveSegment, data: &[u8]) -> Result<()> {
        let c = &self.channel;
        self.engine.put_bytes(&c.bucket, &format!("{}/{}", c.name, seg.file_name()), "video/MP2T", data)?;
        self.engine.meta.add_live_segment(&c.bucket, &c.name, &seg)?;
        self.segments.push(seg);
        let keep = c.frag_count as usize;
        let first = self.segments.len().saturating_sub(keep);
        if first > 0 {
            self.segments.drain(..first);
        }
        self.written += 1;
        let seq = self.written - self.segments.len() as u64;
        let playlist = m3u8(&self.segments, seq, false);
        self.engine.put_bytes(&c.bucket, &c.playlist_key(), "application/x-mpegURL", playlist.as_bytes())?;
        Ok(())
    }
}

impl Drop for Push {
    fn drop(&mut self) {
        let c = &self.channel;
        self.engine.live.end(&c.bucket, &c.name);
        let rec = LiveRecord { start_ms: self.start_ms, end_ms: now_ms(), remote_addr: self.remote_addr.clone() };
        if let Err(e) = self.engine.meta.put_live_record(&c.bucket, &c.name, &rec, HISTORY_KEPT) {
            tracing::warn!(error = %e, channel = %c.name, "cannot record the end of a push");
        }
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Session>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a push; false when the channel is pushed to already.
    fn begin(&self, bucket: &str, name: &str, state: LiveState, stop: Arc<AtomicBool>) -> bool {
        let mut m = self.lock();
        let k = (bucket.to_string(), name.to_string());
        if m.contains_key(&k) {
            return false;
        }
        m.insert(k, Session { state, stop });
        true
    }

    fn end(&self, bucket: &str, name: &str) {
        self.lock().remove(&(bucket.to_string(), name.to_string()));
    }

    fn stop(&self, bucket: &str, name: &str) {
        if let Some(s) = self.lock().get(&(bucket.to_string(), name.to_string())) {
            s.stop.store(true, Ordering::SeqCst);
        }
    }

    fn get(&self, bucket: &str, name: &str) -> Option<LiveState> {
        self.lock().get(&(bucket.to_string(), name.to_string())).map(|s| s.state.clone())
    }

    fn set_stat(&self, bucket: &str, name: &str, stat: StreamStat) {
        if let Some(s) = self.lock().get_mut(&(bucket.to_string(), name.to_string())) {
            s.state.stat = stat;
        }
    }

    /// How many channels are being pushed to.
    pub fn count(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> LiveChannelInput {
        LiveChannelInput { kind: Some("HLS".into()), ..Default::default() }
    }

    #[test]
    fn defaults_and_rules() {
        let c = input().validate("b", "ch").unwrap();
        assert_eq!(
            (c.frag_duration, c.frag_count, c.playlist_name.as_str(), c.status.as_str()),
            (5, 3, "playlist.m3u8", "enabled")
        );
        let bad = |i: LiveChannelInput| i.validate("b", "ch").unwrap_err().code;
        assert_eq!(
            bad(LiveChannelInput { frag_duration: Some("0".into()), ..input() }),
            Code::LiveChannelInvalidFragDuration
        );
        assert_eq!(
            bad(LiveChannelInput { frag_duration: Some("abc".into()), ..input() }),
            Code::LiveChannelInvalidFragDuration
        );
        assert_eq!(
            bad(LiveChannelInput { frag_count: Some("101".into()), ..input() }),
            Code::LiveChannelInvalidFragCount
        );
        assert_eq!(bad(LiveChannelInput { kind: Some("DASH".into()), ..input() }), Code::LiveChannelInvalidType);
        assert_eq!(bad(LiveChannelInput { status: Some("on".into()), ..input() }), Code::LiveChannelInvalidStatus);
        assert_eq!(
            bad(LiveChannelInput { playlist_name: Some("a/b.m3u8".into()), ..input() }),
            Code::LiveChannelPlaylistNameSlash
        );
        assert_eq!(
            bad(LiveChannelInput { playlist_name: Some(".m3u8".into()), ..input() }),
            Code::LiveChannelPlaylistNameLength
        );
        assert_eq!(
            bad(LiveChannelInput { playlist_name: Some("abc.text".into()), ..input() }),
            Code::LiveChannelPlaylistNameSuffix
        );
        assert_eq!(
            bad(LiveChannelInput { description: Some("x".repeat(129)), ..input() }),
            Code::LiveChannelDescriptionTooLong
        );
        assert_eq!(input().validate("b", "a/b").unwrap_err().code, Code::LiveChannelInvalidName);
    }

    #[test]
    fn playlists() {
        let segs =
            [LiveSegment { start_ms: 1000, duration_ms: 2040 }, LiveSegment { start_ms: 3040, duration_ms: 1960 }];
        let p = m3u8(&segs, 7, false);
        assert_eq!(
            p,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-TARGETDURATION:3\n#EXTINF:2.040,\n1000.ts\n#EXTINF:1.960,\n3040.ts\n"
        );
        assert!(m3u8(&segs, 0, true).ends_with("#EXT-X-ENDLIST\n"));
    }
}
