//! Object listing over the ordered key index: a range scan that, with a delimiter, skips past each
//! common prefix instead of walking the keys beneath it.

use crate::model::ObjectRecord;
use crate::stores::Fields;
use crate::Engine;
use ossd_errors::Result;

#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<ObjectRecord>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last key or common prefix returned; where the next page starts (exclusive).
    pub next_marker: String,
}

/// The smallest byte string greater than every string that starts with `p`; None if there is none.
pub fn successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut v = p.to_vec();
    while let Some(&last) = v.last() {
        if last == 0xFF {
            v.pop();
        } else {
            let n = v.len() - 1;
            v[n] += 1;
            return Some(v);
        }
    }
    None
}

/// Rows read from the index at a time.
const BATCH: usize = 1000;
/// Rows read right after skipping past a common prefix.
const AFTER_SKIP: usize = 4;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The common prefix `key` rolls up into, if any.
fn common_prefix<'a>(key: &'a [u8], prefix: &[u8], delimiter: &[u8]) -> Option<&'a [u8]> {
    let rest = key.get(prefix.len()..)?;
    find(rest, delimiter).map(|i| &key[..prefix.len() + i + delimiter.len()])
}

impl Engine {
    /// Lists up to `max` entries (objects and common prefixes) after `marker`.
    /// Never repeats or skips an entry across pages: a common prefix is returned only when it sorts
    /// after the marker, and resuming from a common prefix skips every key beneath it.
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: &str,
        marker: &str,
        max: usize,
    ) -> Result<Listing> {
        let mut out = Listing::default();
        if max == 0 {
            return Ok(out);
        }
        let prefix_b = prefix.as_bytes();
        let delim = delimiter.as_bytes();
        let end = if prefix_b.is_empty() { None } else { successor(prefix_b) };
        let (mut cursor, mut inclusive) =
            if marker.as_bytes() >= prefix_b { (marker.as_bytes().to_vec(), false) } else { (prefix_b.to_vec(), true) };
        // A marker at or inside a common prefix resumes after that whole prefix.
        if !delim.is_empty() && marker.as_bytes().starts_with(prefix_b) {
            if let Some(cp) = common_prefix(marker.as_bytes(), prefix_b, delim) {
                match successor(cp) {
                    Some(s) => {
                        cursor = s;
                        inclusive = true;
                    }
                    None => return Ok(out),
                }
            }
        }
        let mut count = 0usize;
        // Rows to read in the next batch. After skipping past a common prefix the next rows may well be another
        // prefix's, so only a few are read; it grows again while batches hold plain keys. Without this, each
        // skip read a full batch of the keys under the next prefix only to use the first.
        let mut cap = BATCH;
        'scan: loop {
            let want = (max - count + 1).min(cap);
            cap = (cap * 8).min(BATCH);
            let batch = self.meta.scan_objects(bucket, &cursor, inclusive, end.as_deref(), want, Fields::Listing)?;
            let got = batch.len();
            for rec in batch {
                if count == max {
                    out.truncated = true;
                    break 'scan;
                }
                if !delim.is_empty() {
                    if let Some(cp) = common_prefix(rec.key.as_bytes(), prefix_b, delim) {
                        let cp_s = String::from_utf8_lossy(cp).into_owned();
                        match successor(cp) {
                            Some(s) => {
                                cursor = s;
                                inclusive = true;
                            }
                            None => {
                                out.prefixes.push(cp_s.clone());
                                out.next_marker = cp_s;
                                break 'scan;
                            }
                        }
                        out.prefixes.push(cp_s.clone());
                        out.next_marker = cp_s;
                        count += 1;
                        cap = AFTER_SKIP;
                        continue 'scan;
                    }
                }
                cursor = rec.key.as_bytes().to_vec();
                inclusive = false;
                out.next_marker = rec.key.clone();
                out.objects.push(rec);
                count += 1;
            }
            if got < want {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectAttrs;

    fn engine_with(keys: &[&str]) -> (Engine, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ossd-list-{}", crate::model::random_u64()));
        let e = Engine::open(&dir, false, "cn-hangzhou").unwrap();
        e.create_bucket("u", "bkt", "private", "Standard").unwrap();
        for k in keys {
            let mut w = e.new_blob(false).unwrap();
            w.write(k.as_bytes()).unwrap();
            let b = w.finish().unwrap();
            e.put_object("bkt", k, b, ObjectAttrs::default(), false).unwrap();
        }
        (e, dir)
    }

    /// Walks every page with page size `max`, returning the entries in order.
    fn walk(e: &Engine, prefix: &str, delim: &str, max: usize) -> Vec<String> {
        let mut marker = String::new();
        let mut all = Vec::new();
        for _ in 0..10_000 {
            let l = e.list_objects("bkt", prefix, delim, &marker, max).unwrap();
            assert!(l.objects.len() + l.prefixes.len() <= max);
            let mut page: Vec<String> = l.objects.iter().map(|o| o.key.clone()).collect();
            page.extend(l.prefixes.iter().cloned());
            page.sort();
            all.extend(page);
            if !l.truncated {
                return all;
            }
            assert!(l.next_marker > marker, "marker must advance");
            marker = l.next_marker;
        }
        panic!("listing did not end");
    }

    const KEYS: &[&str] =
        &["a", "a/1", "a/2", "a/b/1", "a//x", "b", "b/", "b/c", "c/d/e", "c/d/f", "d", "d/", "e/x", "日本/1", "日本/2"];

    #[test]
    fn successor_of_bytes() {
        assert_eq!(successor(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(successor(&[b'a', 0xFF]), Some(b"b".to_vec()));
        assert_eq!(successor(&[0xFF, 0xFF]), None);
        assert_eq!(successor(b""), None);
    }

    #[test]
    fn pagination_never_repeats_or_skips() {
        let (e, dir) = engine_with(KEYS);
        let mut sorted: Vec<String> = KEYS.iter().map(|s| s.to_string()).collect();
        sorted.sort();
        for max in 1..=16 {
            assert_eq!(walk(&e, "", "", max), sorted, "max {max}");
        }
        let want_delim = vec!["a", "a/", "b", "b/", "c/", "d", "d/", "e/", "日本/"];
        for max in 1..=10 {
            assert_eq!(walk(&e, "", "/", max), want_delim, "max {max}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn delimiter_runs_and_prefixes() {
        let (e, dir) = engine_with(KEYS);
        let l = e.list_objects("bkt", "a/", "/", "", 100).unwrap();
        let keys: Vec<_> = l.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, vec!["a/1", "a/2"]);
        assert_eq!(l.prefixes, vec!["a//", "a/b/"]);
        // A multi-character delimiter.
        let l = e.list_objects("bkt", "", "//", "", 100).unwrap();
        assert_eq!(l.prefixes, vec!["a//"]);
        // The prefix itself is returned as an object when it exists.
        let l = e.list_objects("bkt", "b/", "/", "", 100).unwrap();
        let keys: Vec<_> = l.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, vec!["b/", "b/c"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn markers_inside_common_prefixes() {
        let (e, dir) = engine_with(KEYS);
        // A marker equal to a common prefix resumes after everything beneath it.
        let l = e.list_objects("bkt", "", "/", "a/", 100).unwrap();
        assert_eq!(l.prefixes.first().map(String::as_str), Some("b/"));
        assert_eq!(l.objects.first().map(|o| o.key.as_str()), Some("b"));
        // A marker inside a common prefix does the same.
        let l = e.list_objects("bkt", "", "/", "a/1", 100).unwrap();
        assert!(!l.prefixes.contains(&"a/".to_string()));
        // Without a delimiter a marker is just a key position.
        let l = e.list_objects("bkt", "", "", "a/1", 2).unwrap();
        let keys: Vec<_> = l.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, vec!["a/2", "a/b/1"]);
        assert!(l.truncated);
        // A marker before the prefix starts at the prefix.
        let l = e.list_objects("bkt", "c/", "", "a", 100).unwrap();
        assert_eq!(l.objects.len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn truncation_is_exact() {
        let (e, dir) = engine_with(&["x1", "x2", "x3"]);
        let l = e.list_objects("bkt", "", "", "", 3).unwrap();
        assert!(!l.truncated, "exactly max entries and no more is not truncated");
        let l = e.list_objects("bkt", "", "", "", 2).unwrap();
        assert!(l.truncated);
        assert_eq!(l.next_marker, "x2");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
