//! A focused MPEG-TS muxer for HLS segments: PAT, PMT, and PES packets of H.264 (from FLV's AVC packets,
//! rewritten to Annex B with an access unit delimiter and the parameter sets before each keyframe) and AAC
//! (from FLV's raw frames, given ADTS headers).

const PMT_PID: u16 = 0x1000;
pub const VIDEO_PID: u16 = 0x100;
pub const AUDIO_PID: u16 = 0x101;
const PACKET: usize = 188;
/// Timestamps start this far into the 90 kHz clock, so that a frame's PTS (DTS plus composition offset) and
/// the PCR never go below zero.
const OFFSET_90K: u64 = 126_000;

/// H.264 parameter sets from an AVCDecoderConfigurationRecord.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AvcConfig {
    pub nal_length_size: usize,
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
}

impl AvcConfig {
    /// Parses an AVCDecoderConfigurationRecord; None when it is malformed.
    pub fn parse(b: &[u8]) -> Option<AvcConfig> {
        let mut pos = 5;
        let nal_length_size = (*b.get(4)? & 3) as usize + 1;
        let sets = |count_mask: u8, pos: &mut usize| -> Option<Vec<Vec<u8>>> {
            let n = (*b.get(*pos)? & count_mask) as usize;
            *pos += 1;
            let mut out = Vec::new();
            for _ in 0..n {
                let len = u16::from_be_bytes([*b.get(*pos)?, *b.get(*pos + 1)?]) as usize;
                *pos += 2;
                out.push(b.get(*pos..*pos + len)?.to_vec());
                *pos += len;
            }
            Some(out)
        };
        let sps = sets(0x1f, &mut pos)?;
        let pps = sets(0xff, &mut pos)?;
        Some(AvcConfig { nal_length_size, sps, pps })
    }
}

/// AAC's AudioSpecificConfig, as ADTS headers need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacConfig {
    pub object_type: u8,
    pub sample_rate_index: u8,
    pub channels: u8,
}

const SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

impl AacConfig {
    pub fn parse(b: &[u8]) -> Option<AacConfig> {
        let (a, c) = (*b.first()?, *b.get(1)?);
        let cfg =
            AacConfig { object_type: a >> 3, sample_rate_index: ((a & 7) << 1) | (c >> 7), channels: (c >> 3) & 0xf };
        (cfg.object_type >= 1 && cfg.object_type <= 4 && (cfg.sample_rate_index as usize) < SAMPLE_RATES.len())
            .then_some(cfg)
    }

    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATES.get(self.sample_rate_index as usize).copied().unwrap_or(0)
    }

    fn adts(&self, payload_len: usize) -> [u8; 7] {
        let len = payload_len + 7;
        [
            0xff,
            0xf1,
            ((self.object_type - 1) << 6) | (self.sample_rate_index << 2) | (self.channels >> 2),
            ((self.channels & 3) << 6) | ((len >> 11) as u8 & 3),
            (len >> 3) as u8,
            ((len & 7) as u8) << 5 | 0x1f,
            0xfc,
        ]
    }
}

/// CRC-32/MPEG-2, as PSI sections carry it.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

/// One segment's muxer state: continuity counters and the codec configurations seen so far.
#[derive(Debug, Default)]
pub struct Muxer {
    cc: [u8; 4],
    pub avc: Option<AvcConfig>,
    pub aac: Option<AacConfig>,
}

fn pts_bytes(guard: u8, t: u64) -> [u8; 5] {
    [
        (guard << 4) | (((t >> 29) as u8) & 0x0e) | 1,
        (t >> 22) as u8,
        (((t >> 14) as u8) & 0xfe) | 1,
        (t >> 7) as u8,
        (((t << 1) as u8) & 0xfe) | 1,
    ]
}

impl Muxer {
    fn counter(&mut self, pid: u16) -> u8 {
        let i = match pid {
            0 => 0,
            PMT_PID => 1,
            VIDEO_PID => 2,
            _ => 3,
        };
        let c = self.cc[i];
        self.cc[i] = (c + 1) & 0xf;
        c
    }

    fn section(&mut self, out: &mut Vec<u8>, pid: u16, section: &[u8]) {
        let cc = self.counter(pid);
        let start = out.len();
        out.extend_from_slice(&[0x47, 0x40 | (pid >> 8) as u8, pid as u8, 0x10 | cc, 0]);
        out.extend_from_slice(section);
        out.extend_from_slice(&crc32_mpeg2(section).to_be_bytes());
        out.resize(start + PACKET, 0xff);
    }

    /// Writes the PAT and the PMT: each segment starts with them.
    pub fn tables(&mut self, out: &mut Vec<u8>) {
        let pat = [0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0, 0, 0x00, 0x01, 0xe0 | (PMT_PID >> 8) as u8, PMT_PID as u8];
        self.section(out, 0, &pat);
        let mut pmt =
            vec![0x02, 0xb0, 0, 0x00, 0x01, 0xc1, 0, 0, 0xe0 | (VIDEO_PID >> 8) as u8, VIDEO_PID as u8, 0xf0, 0];
        pmt.extend_from_slice(&[0x1b, 0xe0 | (VIDEO_PID >> 8) as u8, VIDEO_PID as u8, 0xf0, 0]);
        pmt.extend_from_slice(&[0x0f, 0xe0 | (AUDIO_PID >> 8) as u8, AUDIO_PID as u8, 0xf0, 0]);
        pmt[2] = (pmt.len() - 3 + 4) as u8;
        self.section(out, PMT_PID, &pmt);
    }

    /// Splits a PES packet into TS packets; the first carries the PCR (and the random access flag) when given.
    fn pes(&mut self, out: &mut Vec<u8>, pid: u16, pes: &[u8], pcr: Option<u64>, random_access: bool) {
        let mut pos = 0;
        let mut first = true;
        while pos < pes.len() {
            let cc = self.counter(pid);
            let mut af: Vec<u8> = Vec::new();
            if first && (pcr.is_some() || random_access) {
                af.push(if random_access { 0x40 } else { 0 } | if pcr.is_some() { 0x10 } else { 0 });
                if let Some(p) = pcr {
                    af.extend_from_slice(&[(p >> 25) as u8, (p >> 17) as u8, (p >> 9) as u8, (p >> 1) as u8]);
                    af.extend_from_slice(&[((p as u8 & 1) << 7) | 0x7e, 0]);
                }
            }
            let remaining = pes.len() - pos;
            // The adaptation field's size with its length byte.
            let mut af_size = if af.is_empty() { 0 } else { af.len() + 1 };
            if remaining < 184 - af_size {
                af_size = 184 - remaining;
                if af_size >= 2 && af.is_empty() {
                    af.push(0);
                }
                af.resize(af_size.saturating_sub(1), 0xff);
            }
            let take = 184 - af_size;
            out.extend_from_slice(&[
                0x47,
                if first { 0x40 } else { 0 } | (pid >> 8) as u8,
                pid as u8,
                if af_size > 0 { 0x30 } else { 0x10 } | cc,
            ]);
            if af_size > 0 {
                out.push((af_size - 1) as u8);
                out.extend_from_slice(&af);
            }
            out.extend_from_slice(&pes[pos..pos + take]);
            pos += take;
            first = false;
        }
    }

    /// Muxes one FLV AVC NALU packet (the bytes after FLV's 5-byte video header). `dts_ms` is the RTMP
    /// timestamp; `cts_ms` the composition offset. Returns false when there is nothing to mux (no
    /// configuration yet, or no NAL unit).
    pub fn video(&mut self, out: &mut Vec<u8>, dts_ms: u64, cts_ms: i64, keyframe: bool, data: &[u8]) -> bool {
        let Some(cfg) = &self.avc else { return false };
        let mut es = vec![0, 0, 0, 1, 0x09, 0xf0];
        if keyframe {
            for ps in cfg.sps.iter().chain(&cfg.pps) {
                es.extend_from_slice(&[0, 0, 0, 1]);
                es.extend_from_slice(ps);
            }
        }
        let n = cfg.nal_length_size;
        let mut pos = 0;
        let mut nals = 0;
        while pos + n <= data.len() {
            let len = data[pos..pos + n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
            pos += n;
            let Some(nal) = data.get(pos..pos.saturating_add(len)) else { break };
            pos += len;
            if nal.first().is_some_and(|h| h & 0x1f == 9) || nal.is_empty() {
                continue;
            }
            es.extend_from_slice(&[0, 0, 0, 1]);
            es.extend_from_slice(nal);
            nals += 1;
        }
        if nals == 0 {
            return false;
        }
        let dts = dts_ms * 90 + OFFSET_90K;
        let pts = (dts as i64 + cts_ms * 90).max(0) as u64;
        let mut pes = vec![0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10];
        pes.extend_from_slice(&pts_bytes(3, pts));
        pes.extend_from_slice(&pts_bytes(1, dts));
        pes.extend_from_slice(&es);
        self.pes(out, VIDEO_PID, &pes, Some(dts.saturating_sub(OFFSET_90K / 2)), keyframe);
        true
    }

    /// Muxes one raw AAC frame at `pts_ms`. False when there is no configuration yet.
    pub fn audio(&mut self, out: &mut Vec<u8>, pts_ms: u64, data: &[u8]) -> bool {
        let Some(cfg) = self.aac else { return false };
        if data.is_empty() || data.len() > 8191 - 7 {
            return false;
        }
        let pts = pts_ms * 90 + OFFSET_90K;
        let body = data.len() + 7 + 8;
        let mut pes = vec![0, 0, 1, 0xc0, (body >> 8) as u8, body as u8, 0x80, 0x80, 5];
        pes.extend_from_slice(&pts_bytes(2, pts));
        pes.extend_from_slice(&cfg.adts(data.len()));
        pes.extend_from_slice(data);
        self.pes(out, AUDIO_PID, &pes, None, false);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_a_known_pat() {
        // The PAT section of a single-program stream (PMT on PID 0x1000) as common muxers write it.
        let pat = [0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00];
        assert_eq!(crc32_mpeg2(&pat), 0x2ab104b2);
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376e6e7);
    }

    #[test]
    fn configs_parse_and_refuse_garbage() {
        let rec = [1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 3, 0x67, 1, 2, 1, 0, 2, 0x68, 9];
        let c = AvcConfig::parse(&rec).unwrap();
        assert_eq!(c.nal_length_size, 4);
        assert_eq!(c.sps, vec![vec![0x67, 1, 2]]);
        assert_eq!(c.pps, vec![vec![0x68, 9]]);
        assert!(AvcConfig::parse(&rec[..10]).is_none());
        let a = AacConfig::parse(&[0x12, 0x10]).unwrap();
        assert_eq!((a.object_type, a.sample_rate(), a.channels), (2, 44100, 2));
        assert!(AacConfig::parse(&[0xff, 0xff]).is_none());
        assert!(AacConfig::parse(&[0x12]).is_none());
    }

    #[test]
    fn packets_are_aligned_and_counted() {
        let mut m = Muxer {
            avc: AvcConfig::parse(&[1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 2, 0x67, 1, 1, 0, 1, 0x68]),
            ..Default::default()
        };
        m.aac = AacConfig::parse(&[0x12, 0x10]);
        let mut out = Vec::new();
        m.tables(&mut out);
        // Every PES length from tiny to several packets, so that each stuffing case is written.
        for size in [1usize, 150, 170, 175, 176, 177, 178, 182, 183, 184, 400, 1000] {
            let mut nal = vec![0u8, 0, 0, 0];
            nal[..4].copy_from_slice(&(size as u32).to_be_bytes());
            nal.push(0x65);
            nal.resize(4 + size, 0xaa);
            assert!(m.video(&mut out, 40, 0, size % 2 == 0, &nal));
            assert!(m.audio(&mut out, 40, &vec![0x21; size]));
        }
        assert_eq!(out.len() % PACKET, 0);
        let mut cc = std::collections::HashMap::new();
        for p in out.chunks(PACKET) {
            assert_eq!(p[0], 0x47);
            let pid = (((p[1] & 0x1f) as u16) << 8) | p[2] as u16;
            let c = p[3] & 0xf;
            if let Some(prev) = cc.insert(pid, c) {
                assert_eq!(c, (prev + 1) & 0xf, "pid {pid:#x}");
            }
            if p[3] & 0x20 != 0 {
                assert!((p[4] as usize) <= 183);
            }
        }
        // No configuration: nothing is muxed.
        let mut bare = Muxer::default();
        assert!(!bare.video(&mut out, 0, 0, true, &[0, 0, 0, 1, 0x65]));
        assert!(!bare.audio(&mut out, 0, &[1]));
        // Lengths that run past the data are cut, not followed.
        assert!(!m.video(&mut out, 0, 0, true, &[0xff, 0xff, 0xff, 0xff, 0x65]));
    }
}
