//! The records the engine keeps: buckets, objects, uploads and parts, users.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    pub owner: String,
    pub created_ms: i64,
    /// private, public-read or public-read-write.
    pub acl: String,
    pub storage_class: String,
    pub region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Normal,
    Multipart,
    Appendable,
    Symlink,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Normal => "Normal",
            ObjectType::Multipart => "Multipart",
            ObjectType::Appendable => "Appendable",
            ObjectType::Symlink => "Symlink",
        }
    }

    pub fn parse(s: &str) -> ObjectType {
        match s {
            "Multipart" => ObjectType::Multipart,
            "Appendable" => ObjectType::Appendable,
            "Symlink" => ObjectType::Symlink,
            _ => ObjectType::Normal,
        }
    }
}

/// A run of bytes stored in one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub blob: u64,
    pub len: u64,
}

/// The metadata an uploader sets, kept with the object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectAttrs {
    pub content_type: String,
    /// Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires: (header name, value).
    pub headers: Vec<(String, String)>,
    /// x-oss-meta-* without the prefix, lowercased names.
    pub user_meta: Vec<(String, String)>,
    /// default, private, public-read or public-read-write.
    pub acl: String,
    pub storage_class: String,
    pub tags: Vec<(String, String)>,
    /// Server-side encryption at rest: Some("AES256").
    pub sse: Option<String>,
}

/// The restore state of an Archive or ColdArchive object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restore {
    /// When the restored copy becomes readable.
    pub ready_ms: i64,
    /// When the restored copy stops being readable.
    pub expiry_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes: uppercase hex MD5, or `HEX-N` for multipart.
    pub etag: String,
    pub crc64: u64,
    pub mtime_ms: i64,
    pub otype: ObjectType,
    pub attrs: ObjectAttrs,
    pub segments: Vec<Segment>,
    pub symlink_target: Option<String>,
    pub restore: Option<Restore>,
    /// Set on a record read for a reader: keeps its blobs while the record (or a copy) lives. Never stored.
    pub pin: crate::reclaim::Pin,
}

/// Encodes the record state that has no column of its own (`extra`).
pub fn encode_extra(sse: Option<&str>, restore: Option<Restore>) -> String {
    let mut p = Vec::new();
    if let Some(s) = sse {
        p.push(("sse".to_string(), s.to_string()));
    }
    if let Some(r) = restore {
        p.push(("restore_ready".to_string(), r.ready_ms.to_string()));
        p.push(("restore_expiry".to_string(), r.expiry_ms.to_string()));
    }
    encode_pairs(&p)
}

pub fn decode_extra(s: &str) -> (Option<String>, Option<Restore>) {
    let p = decode_pairs(s);
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let restore =
        match (get("restore_ready").and_then(|v| v.parse().ok()), get("restore_expiry").and_then(|v| v.parse().ok())) {
            (Some(ready_ms), Some(expiry_ms)) => Some(Restore { ready_ms, expiry_ms }),
            _ => None,
        };
    (get("sse"), restore)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: i64,
    pub attrs: ObjectAttrs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub part_number: u32,
    pub blob: u64,
    pub size: u64,
    /// Uppercase hex MD5 of the part, without quotes.
    pub etag: String,
    pub crc64: u64,
    pub mtime_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub access_key_id: String,
    pub secret: String,
    /// A disabled user's requests fail with UserDisable.
    pub enabled: bool,
    pub is_root: bool,
    /// A disabled key's requests fail with InvalidAccessKeyId "…is disabled".
    pub key_enabled: bool,
}

const PAIR: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Encodes pairs as `k=v&k=v` with both sides percent-encoded.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.extend(utf8_percent_encode(k, PAIR));
        s.push('=');
        s.extend(utf8_percent_encode(v, PAIR));
    }
    s
}

pub fn decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode_str(k).decode_utf8_lossy().into_owned(),
                percent_decode_str(v).decode_utf8_lossy().into_owned(),
            )
        })
        .collect()
}

pub fn encode_segments(segs: &[Segment]) -> String {
    segs.iter().map(|s| format!("{:016x}:{}", s.blob, s.len)).collect::<Vec<_>>().join(",")
}

pub fn decode_segments(s: &str) -> Vec<Segment> {
    s.split(',')
        .filter_map(|p| {
            let (b, l) = p.split_once(':')?;
            Some(Segment { blob: u64::from_str_radix(b, 16).ok()?, len: l.parse().ok()? })
        })
        .collect()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Unix milliseconds to (year, month, day, hour, minute, second) in UTC, proleptic Gregorian.
pub fn civil(ms: i64) -> (i64, u32, u32, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = secs.rem_euclid(86_400);
    (y, m, d, s / 3600, s % 3600 / 60, s % 60)
}

pub fn hex_upper(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// A random id, for blobs and upload ids.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        // Fall back to time and a counter: unique within this process, which is all that is needed.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return (now_ms() as u64).rotate_left(20) ^ n;
    }
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let p = vec![("a b".to_string(), "x=y&z".to_string()), ("日本".to_string(), "".to_string())];
        assert_eq!(decode_pairs(&encode_pairs(&p)), p);
        assert!(decode_pairs("").is_empty());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400_000 + 3_723_000), (2000, 2, 29, 1, 2, 3));
        assert_eq!(civil(1_709_251_199_999), (2024, 2, 29, 23, 59, 59));
        assert_eq!(civil(-1000), (1969, 12, 31, 23, 59, 59));
    }

    #[test]
    fn segments_round_trip() {
        let s = vec![Segment { blob: u64::MAX, len: 0 }, Segment { blob: 7, len: 1 << 40 }];
        assert_eq!(decode_segments(&encode_segments(&s)), s);
        assert!(decode_segments("").is_empty());
    }
}
