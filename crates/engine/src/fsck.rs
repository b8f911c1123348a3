//! The consistency check of a data dir (`ossd fsck`): every record's blobs exist with the recorded sizes and
//! checksums, and every stored blob is named by a record. Repairs only what is safe to repair: blobs that no record
//! names (what an interrupted write leaves) are deleted; damaged records are reported, never changed.

use crate::blob::{MasterKey, SegmentReader};
use crate::model::{hex_upper, ObjectRecord, ObjectType, Segment};
use crate::stores::BlobStore;
use md5::{Digest, Md5};
use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

/// The blob store and the key to read encrypted blobs with.
struct Blobs<'a> {
    store: &'a dyn BlobStore,
    master: &'a MasterKey,
}

/// One disagreement between metadata and blobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A record names a blob that is not stored.
    MissingBlob { what: String, blob: u64 },
    /// A blob's stored length differs from the length its record gives it.
    WrongSize { what: String, blob: u64, want: u64, got: u64 },
    /// The bytes read back do not match a checksum stored with the record (or could not be read).
    BadData { what: String, detail: String },
    /// A record contradicts itself (its segments do not add up to its size; a part of an upload that is gone).
    BadRecord { what: String, detail: String },
    /// A stored blob that no object and no part of an open upload names.
    Unreferenced { blob: u64, bytes: u64 },
}

impl Problem {
    /// Whether `--repair` fixes it: only unreferenced blobs, which nothing can read, are deleted.
    pub fn repairable(&self) -> bool {
        matches!(self, Problem::Unreferenced { .. })
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::MissingBlob { what, blob } => write!(f, "missing blob: {what} names blob {blob:016x}, not stored"),
            Problem::WrongSize { what, blob, want, got } => {
                write!(f, "wrong size: {what}: blob {blob:016x} holds {got} bytes, the record says {want}")
            }
            Problem::BadData { what, detail } => write!(f, "corrupt data: {what}: {detail}"),
            Problem::BadRecord { what, detail } => write!(f, "bad record: {what}: {detail}"),
            Problem::Unreferenced { blob, bytes } => {
                write!(f, "unreferenced blob: {blob:016x} ({bytes} bytes), named by no object or upload part")
            }
        }
    }
}

/// What a check found (and, with repair, did).
#[derive(Debug, Default)]
pub struct Report {
    pub objects: u64,
    pub parts: u64,
    /// Blobs stored (inline and files), before any repair.
    pub blobs: u64,
    /// Bytes read back and checksummed.
    pub bytes_checked: u64,
    pub problems: Vec<Problem>,
    /// How many of `problems` the repair fixed.
    pub repaired: usize,
}

/// Checks the data dir at `data_dir`; with `repair`, deletes the blobs no record names. Fails (changing
/// nothing) when it is not a data dir or another process (a running server) holds it.
pub fn check(data_dir: &Path, repair: bool) -> Result<Report, String> {
    if !data_dir.join("meta.sqlite").is_file() {
        return Err(format!("{} is not an ossd data dir (no meta.sqlite)", data_dir.display()));
    }
    if !data_dir.join("master.key").is_file() {
        return Err(format!("{} has no master.key: encrypted objects could not be checked", data_dir.display()));
    }
    let _lock = crate::lock::lock(data_dir).map_err(|e| format!("cannot lock the data dir: {e}"))?;
    let (meta, store) =
        crate::stores::open_embedded(data_dir, true).map_err(|e| format!("cannot open the stores: {e}"))?;
    let master = crate::blob::master_key(data_dir).map_err(|e| format!("cannot read master.key: {e}"))?;
    let blobs = Blobs { store: &*store, master: &master };
    let mut report = Report::default();
    let mut referenced = HashSet::new();
    meta.each_object(&mut |rec| {
        report.objects += 1;
        check_object(&blobs, &rec, &mut referenced, &mut report);
        Ok(())
    })
    .map_err(|e| format!("cannot read the object records: {e}"))?;
    let parts = meta.all_upload_parts().map_err(|e| format!("cannot read the upload parts: {e}"))?;
    for (bucket, key, upload_id, sse, part) in parts {
        report.parts += 1;
        referenced.insert(part.blob);
        let what = format!("part {} of upload {upload_id} ({bucket}/{key})", part.part_number);
        if bucket.is_empty() {
            report.problems.push(Problem::BadRecord { what, detail: "its upload is gone".into() });
            continue;
        }
        let seg = Segment { blob: part.blob, len: part.size };
        if present(&blobs, &what, &seg, &mut report) {
            let want_md5 = (part.etag.len() == 32).then_some(part.etag.as_str());
            verify(&blobs, &what, &[seg], part.size, sse, part.crc64, want_md5, &mut report);
        }
    }
    let all = store.all_ids().map_err(|e| format!("cannot list blobs: {e}"))?;
    report.blobs = all.len() as u64;
    for id in all {
        if referenced.contains(&id) {
            continue;
        }
        let bytes = store.stored_len(id).ok().flatten().unwrap_or(0);
        report.problems.push(Problem::Unreferenced { blob: id, bytes });
        if repair {
            store.remove(id);
            if !store.exists(id).unwrap_or(true) {
                report.repaired += 1;
            }
        }
    }
    Ok(report)
}

fn check_object(blobs: &Blobs, rec: &ObjectRecord, referenced: &mut HashSet<u64>, report: &mut Report) {
    let what = format!("object {}/{}", rec.bucket, rec.key);
    if rec.otype == ObjectType::Symlink {
        return;
    }
    referenced.extend(rec.segments.iter().map(|s| s.blob));
    let sum: u64 = rec.segments.iter().map(|s| s.len).sum();
    if sum != rec.size {
        let detail = format!("its blobs add up to {sum} bytes, its size is {}", rec.size);
        report.problems.push(Problem::BadRecord { what, detail });
        return;
    }
    let mut whole = true;
    for seg in &rec.segments {
        whole &= present(blobs, &what, seg, report);
    }
    if whole {
        // A whole-body MD5 is stored only for a single PUT (multipart and appendable ETags are not one).
        let md5 = (rec.otype == ObjectType::Normal && rec.etag.len() == 32).then_some(rec.etag.as_str());
        verify(blobs, &what, &rec.segments, rec.size, rec.attrs.sse.is_some(), rec.crc64, md5, report);
    }
}

/// Whether the blob of `seg` is stored with its length; a problem is reported when not.
fn present(blobs: &Blobs, what: &str, seg: &Segment, report: &mut Report) -> bool {
    match blobs.store.stored_len(seg.blob) {
        Ok(Some(n)) if n == seg.len => true,
        Ok(Some(got)) => {
            let (what, blob, want) = (what.to_string(), seg.blob, seg.len);
            report.problems.push(Problem::WrongSize { what, blob, want, got });
            false
        }
        Ok(None) => {
            report.problems.push(Problem::MissingBlob { what: what.to_string(), blob: seg.blob });
            false
        }
        Err(e) => {
            let detail = format!("blob {:016x} cannot be read: {e}", seg.blob);
            report.problems.push(Problem::BadData { what: what.to_string(), detail });
            false
        }
    }
}

/// Reads `segs` back and compares their CRC-64 (and MD5, when one is stored) with the record's.
#[allow(clippy::too_many_arguments)]
fn verify(
    blobs: &Blobs,
    what: &str,
    segs: &[Segment],
    size: u64,
    decrypt: bool,
    crc64: u64,
    md5: Option<&str>,
    report: &mut Report,
) {
    let mut r = SegmentReader::new(blobs.store, blobs.master, segs, 0, size, decrypt);
    let mut crc = crc64fast::Digest::new();
    let mut sum = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                crc.write(&buf[..n]);
                sum.update(&buf[..n]);
                report.bytes_checked += n as u64;
            }
            Err(e) => {
                report.problems.push(Problem::BadData { what: what.to_string(), detail: format!("read failed: {e}") });
                return;
            }
        }
    }
    let got = crc.sum64();
    if got != crc64 {
        let detail = format!("CRC-64 is {got}, the record says {crc64}");
        report.problems.push(Problem::BadData { what: what.to_string(), detail });
        return;
    }
    let got = hex_upper(&sum.finalize());
    if let Some(want) = md5.filter(|m| !m.eq_ignore_ascii_case(&got)) {
        let detail = format!("MD5 is {got}, the record says {want}");
        report.problems.push(Problem::BadData { what: what.to_string(), detail });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectAttrs;
    use crate::Engine;

    fn blob(e: &Engine, data: &[u8]) -> crate::BlobInfo {
        let mut w = e.new_blob(false).unwrap();
        w.write(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn finds_missing_short_corrupt_and_unreferenced_blobs_and_repairs_only_the_unreferenced() {
        let dir = std::env::temp_dir().join(format!("ossd-fsck-{}", crate::model::random_u64()));
        let attrs = ObjectAttrs { acl: "default".into(), storage_class: "Standard".into(), ..Default::default() };
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (orphan, gone, short, flipped) = {
            let e = Engine::open(&dir, true, "cn-hangzhou").unwrap();
            assert!(check(&dir, false).unwrap_err().contains("in use"), "refused while the engine holds it");
            e.create_bucket("o", "bkt", "private", "Standard").unwrap();
            e.put_object("bkt", "small", blob(&e, b"inline"), attrs.clone(), false).unwrap();
            for k in ["ok", "gone", "short", "flipped"] {
                e.put_object("bkt", k, blob(&e, &big), attrs.clone(), false).unwrap();
            }
            let id = |k: &str| e.head_object("bkt", k).unwrap().segments[0].blob;
            (blob(&e, &big).id, id("gone"), id("short"), id("flipped"))
        };
        let clean = |r: &Report| r.problems.is_empty();
        let path = |id: u64| dir.join("blobs").join(format!("{:02x}", id >> 56)).join(format!("{id:016x}"));
        std::fs::remove_file(path(gone)).unwrap();
        std::fs::write(path(short), &big[..1000]).unwrap();
        let mut bad = big.clone();
        bad[5000] ^= 1;
        std::fs::write(path(flipped), &bad).unwrap();

        let r = check(&dir, false).unwrap();
        assert_eq!((r.objects, r.parts), (5, 0));
        assert!(!clean(&r));
        let mut want = vec![
            Problem::MissingBlob { what: "object bkt/gone".into(), blob: gone },
            Problem::WrongSize { what: "object bkt/short".into(), blob: short, want: 100_000, got: 1000 },
            Problem::Unreferenced { blob: orphan, bytes: 100_000 },
        ];
        for p in &want {
            assert!(r.problems.contains(p), "{p} not in {:?}", r.problems);
        }
        assert!(r.problems.iter().any(|p| matches!(p, Problem::BadData { what, .. } if what == "object bkt/flipped")));
        assert_eq!(r.problems.len(), 4, "{:?}", r.problems);
        assert_eq!(r.repaired, 0);
        assert!(path(orphan).exists(), "a check without repair changes nothing");

        let r = check(&dir, true).unwrap();
        assert_eq!(r.repaired, 1);
        assert!(!path(orphan).exists());
        let r = check(&dir, true).unwrap();
        want.pop();
        assert_eq!(r.problems.len(), 3, "the damaged records are left as they are: {:?}", r.problems);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
