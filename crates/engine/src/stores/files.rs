//! BlobStore on local files: blobs are named by internal id under `<data>/blobs`, never by user key. With an
//! inline tier (`InlineBlobs`, the metadata store), small blobs live there instead of in files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{BlobSink, BlobStore, InlineBlobs};

/// Blobs up to this size live in the metadata store (see `InlineBlobs`); larger ones in files.
pub const INLINE_MAX: usize = 16 * 1024;
/// The top byte of the id of every blob that starts in the metadata store. One that outgrows `INLINE_MAX`
/// keeps its id and moves to a file, so a tagged id is looked up there first, then as a file.
const INLINE_TAG: u64 = 0xFF;

fn tagged(id: u64) -> bool {
    id >> 56 == INLINE_TAG
}

fn other(e: ossd_errors::Error) -> io::Error {
    io::Error::other(e.to_string())
}

#[derive(Clone)]
pub struct FileBlobStore {
    root: PathBuf,
    fsync: bool,
    /// Where small blobs go; without it every blob is a file.
    inline: Option<Arc<dyn InlineBlobs>>,
}

impl FileBlobStore {
    pub fn open(data_dir: &Path, fsync: bool, inline: Option<Arc<dyn InlineBlobs>>) -> io::Result<Self> {
        let root = data_dir.join("blobs");
        for i in 0..256 {
            fs::create_dir_all(root.join(format!("{i:02x}")))?;
        }
        Ok(FileBlobStore { root, fsync, inline })
    }

    fn dir_of(&self, id: u64) -> PathBuf {
        self.root.join(format!("{:02x}", id >> 56))
    }

    pub fn path_of(&self, id: u64) -> PathBuf {
        self.dir_of(id).join(format!("{id:016x}"))
    }

    /// The inline store to look in first for blob `id`: none when `id` can only be a file.
    fn inline_of(&self, id: u64) -> Option<&Arc<dyn InlineBlobs>> {
        self.inline.as_ref().filter(|_| tagged(id))
    }

    /// The bytes of an inline blob; None when `id` is a file.
    fn get_inline(&self, id: u64) -> io::Result<Option<Vec<u8>>> {
        match self.inline_of(id) {
            Some(s) => s.get_inline(id).map_err(other),
            None => Ok(None),
        }
    }
}

impl BlobStore for FileBlobStore {
    /// Ids of blobs that may stay inline carry `INLINE_TAG` in their top byte.
    fn new_id(&self) -> u64 {
        let id = crate::model::random_u64();
        if self.inline.is_some() {
            (INLINE_TAG << 56) | (id >> 8)
        } else {
            id
        }
    }

    fn small_max(&self) -> usize {
        if self.inline.is_some() {
            INLINE_MAX
        } else {
            0
        }
    }

    fn keeps_inline(&self, len: u64) -> bool {
        self.inline.is_some() && len <= INLINE_MAX as u64
    }

    fn put_small(&self, id: u64, data: &[u8]) -> io::Result<()> {
        if let Some(s) = self.inline_of(id) {
            return s.put_inline(id, data).map_err(other);
        }
        let mut sink = self.create(id)?;
        sink.write(data)?;
        sink.finish()
    }

    fn create(&self, id: u64) -> io::Result<Box<dyn BlobSink>> {
        let (dir, path) = (self.dir_of(id), self.path_of(id));
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok(Box::new(FileSink { file: Some(file), path, dir, fsync: self.fsync }))
    }

    fn open(&self, id: u64, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        if let Some(data) = self.get_inline(id)? {
            let mut c = io::Cursor::new(data);
            c.set_position(offset);
            return Ok(Box::new(c));
        }
        let mut f = File::open(self.path_of(id))?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(f))
    }

    /// From the inline tier when a reader is free at once, else from the page cache.
    fn read_now(&self, id: u64, dst: &mut [u8]) -> io::Result<bool> {
        if let Some(s) = self.inline_of(id) {
            match s.try_get_inline(id) {
                None => return Ok(false),
                Some(Err(e)) => return Err(other(e)),
                Some(Ok(Some(data))) if data.len() == dst.len() => {
                    dst.copy_from_slice(&data);
                    return Ok(true);
                }
                Some(Ok(Some(_))) => {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob length differs from its record"))
                }
                Some(Ok(None)) => {}
            }
        }
        let f = File::open(self.path_of(id))?;
        let mut filled = 0;
        while filled < dst.len() {
            match super::sys::pread_nowait(&f, &mut dst[filled..], filled as u64)? {
                None => return Ok(false),
                Some(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its record")),
                Some(n) => filled += n,
            }
        }
        Ok(true)
    }

    fn stored_len(&self, id: u64) -> io::Result<Option<u64>> {
        if let Some(data) = self.get_inline(id)? {
            return Ok(Some(data.len() as u64));
        }
        match fs::metadata(self.path_of(id)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exists(&self, id: u64) -> io::Result<bool> {
        Ok(self.get_inline(id)?.is_some() || self.path_of(id).exists())
    }

    fn remove(&self, id: u64) {
        if let Some(s) = self.inline_of(id) {
            match s.delete_inline(id) {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => tracing::warn!(blob = format!("{id:016x}"), error = %e, "could not remove inline blob"),
            }
        }
        if let Err(e) = fs::remove_file(self.path_of(id)) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(blob = format!("{id:016x}"), error = %e, "could not remove blob");
            }
        }
    }

    fn all_ids(&self) -> io::Result<Vec<u64>> {
        let mut ids = match &self.inline {
            Some(s) => s.inline_ids().map_err(other)?,
            None => Vec::new(),
        };
        for i in 0..256 {
            let dir = self.root.join(format!("{i:02x}"));
            for entry in fs::read_dir(dir)? {
                let name = entry?.file_name();
                if let Some(id) = name.to_str().and_then(|n| u64::from_str_radix(n, 16).ok()) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }
}

/// A blob file being written. Dropped without `finish`, it removes its file: a partial upload leaves no trace.
struct FileSink {
    file: Option<File>,
    path: PathBuf,
    dir: PathBuf,
    fsync: bool,
}

impl BlobSink for FileSink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.as_mut().ok_or_else(|| io::Error::other("blob already finished"))?.write_all(data)?;
        // Part of the blob is in its file: a crash here leaves a partial file.
        crate::crash_point!("blob::write");
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let f = self.file.take().ok_or_else(|| io::Error::other("blob already finished"))?;
        if self.fsync {
            crate::crash_point!("blob::fsync");
            f.sync_data()?;
            crate::crash_point!("blob::dir_fsync");
            File::open(&self.dir)?.sync_all()?;
        }
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::{read_now, BlobWriter, SegmentReader};
    use crate::model::Segment;
    use md5::{Digest, Md5};

    const KEY: [u8; 32] = [7u8; 32];

    fn store(dir: &Path, fsync: bool) -> Arc<dyn BlobStore> {
        Arc::new(FileBlobStore::open(dir, fsync, None).unwrap())
    }

    fn create(s: &Arc<dyn BlobStore>, encrypt: bool) -> BlobWriter {
        BlobWriter::new(s, &KEY, encrypt).unwrap()
    }

    fn tmp() -> PathBuf {
        let p = std::env::temp_dir().join(format!("ossd-files-{}", crate::model::random_u64()));
        fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn write_finish_read_and_ranges_across_segments() {
        let dir = tmp();
        let s = store(&dir, true);
        let mut segs = Vec::new();
        let mut all = Vec::new();
        for part in [&b"hello "[..], b"", b"wide ", b"world"] {
            let mut w = create(&s, false);
            w.write(part).unwrap();
            let info = w.finish().unwrap();
            assert_eq!(info.crc64, crate::crc64::checksum(part));
            segs.push(Segment { blob: info.id, len: info.size });
            all.extend_from_slice(part);
        }
        for start in 0..all.len() {
            for end in start..=all.len() {
                let mut r = SegmentReader::new(&*s, &KEY, &segs, start as u64, (end - start) as u64, false);
                let mut out = Vec::new();
                r.read_to_end(&mut out).unwrap();
                assert_eq!(out, &all[start..end], "{start}..{end}");
            }
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cached_reads_match_the_streaming_reader_plain_and_encrypted_and_catch_short_records() {
        let dir = tmp();
        let s = store(&dir, false);
        for encrypt in [false, true] {
            let mut segs = Vec::new();
            let mut all = Vec::new();
            for part in [&b"first "[..], b"", b"second part"] {
                let mut w = create(&s, encrypt);
                w.write(part).unwrap();
                let info = w.finish().unwrap();
                segs.push(Segment { blob: info.id, len: info.size });
                all.extend_from_slice(part);
            }
            let got = read_now(&*s, &KEY, &segs, all.len() as u64, encrypt).unwrap();
            if cfg!(target_os = "linux") {
                assert_eq!(got.as_deref(), Some(&all[..]), "encrypt={encrypt}");
            } else {
                assert_eq!(got, None);
            }
            // A record that claims more bytes than the blobs hold is an error, never padding.
            let mut long = segs.clone();
            long[2].len += 5;
            if cfg!(target_os = "linux") {
                assert!(read_now(&*s, &KEY, &long, all.len() as u64 + 5, encrypt).is_err());
                assert!(read_now(&*s, &KEY, &segs, all.len() as u64 + 1, encrypt).is_err());
            }
        }
        fs::remove_dir_all(dir).unwrap();
    }

    /// A store with its inline tier in a SQLite metadata store beside it.
    fn with_inline(dir: &Path) -> (Arc<dyn BlobStore>, FileBlobStore) {
        let meta = crate::stores::sqlite::SqliteMeta::open(dir, false).unwrap();
        let files = FileBlobStore::open(dir, false, Some(meta)).unwrap();
        (Arc::new(files.clone()), files)
    }

    fn read_all(s: &Arc<dyn BlobStore>, id: u64, len: u64, decrypt: bool) -> Vec<u8> {
        let mut out = Vec::new();
        SegmentReader::new(&**s, &KEY, &[Segment { blob: id, len }], 0, len, decrypt).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn small_blobs_live_inline_and_large_ones_spill_to_a_file_under_the_same_id() {
        let dir = tmp();
        let (s, files) = with_inline(&dir);
        for encrypt in [false, true] {
            let small = b"a few bytes".to_vec();
            let mut w = create(&s, encrypt);
            w.write(&small).unwrap();
            let info = w.finish().unwrap();
            assert!(!files.path_of(info.id).exists(), "a small blob makes no file");
            assert!(s.exists(info.id).unwrap());
            assert_eq!(read_all(&s, info.id, info.size, encrypt), small);
            let seg = [Segment { blob: info.id, len: info.size }];
            assert_eq!(read_now(&*s, &KEY, &seg, info.size, encrypt).unwrap(), Some(small.clone()));
            assert_eq!(info.md5, <[u8; 16]>::from(Md5::digest(&small)));

            // Written in pieces that together pass INLINE_MAX.
            let big: Vec<u8> = (0..INLINE_MAX + 5000).map(|i| (i % 253) as u8).collect();
            let mut w = create(&s, encrypt);
            for piece in big.chunks(3000) {
                w.write(piece).unwrap();
            }
            let spilled = w.finish().unwrap();
            let on_disk = fs::read(files.path_of(spilled.id)).unwrap();
            assert_eq!(on_disk.len(), big.len());
            assert_eq!(on_disk == big, !encrypt, "ciphertext on disk exactly when encrypted");
            assert_eq!(read_all(&s, spilled.id, spilled.size, encrypt), big);
            assert_eq!(spilled.crc64, crate::crc64::checksum(&big));

            let mut ids = s.all_ids().unwrap();
            ids.sort();
            let mut want = vec![info.id, spilled.id];
            want.sort();
            assert_eq!(ids, want);
            for id in [info.id, spilled.id] {
                s.remove(id);
                assert!(!s.exists(id).unwrap());
            }
            assert!(s.all_ids().unwrap().is_empty());
        }
        // Dropped before finishing, inline or spilled, a blob leaves nothing behind.
        let mut w = create(&s, false);
        w.write(b"partial").unwrap();
        drop(w);
        let mut w = create(&s, false);
        w.write(&vec![1u8; INLINE_MAX + 1]).unwrap();
        let path = files.path_of(w.id());
        assert!(path.exists());
        drop(w);
        assert!(!path.exists());
        assert!(s.all_ids().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn encrypted_blobs_are_ciphertext_on_disk_and_plaintext_in_every_range() {
        let dir = tmp();
        let files = FileBlobStore::open(&dir, false, None).unwrap();
        let s: Arc<dyn BlobStore> = Arc::new(files.clone());
        let plain: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8 + b'a').collect();
        let mut segs = Vec::new();
        for part in plain.chunks(1700) {
            let mut w = create(&s, true);
            w.write(&part[..10]).unwrap();
            w.write(&part[10..]).unwrap();
            let info = w.finish().unwrap();
            assert_eq!(info.crc64, crate::crc64::checksum(part), "checksums are of the plaintext");
            let on_disk = fs::read(files.path_of(info.id)).unwrap();
            assert_ne!(on_disk, part);
            segs.push(Segment { blob: info.id, len: info.size });
        }
        for (start, end) in [(0, 5000), (1, 2), (1699, 1701), (3000, 4999), (4999, 5000)] {
            let mut out = Vec::new();
            SegmentReader::new(&*s, &KEY, &segs, start, end - start, true).read_to_end(&mut out).unwrap();
            assert_eq!(out, &plain[start as usize..end as usize]);
        }
        // Another key reads other bytes.
        let mut out = Vec::new();
        SegmentReader::new(&*s, &[8u8; 32], &segs, 0, 5000, true).read_to_end(&mut out).unwrap();
        assert_ne!(out, plain);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn dropped_writer_leaves_no_file() {
        let dir = tmp();
        let files = FileBlobStore::open(&dir, false, None).unwrap();
        let s: Arc<dyn BlobStore> = Arc::new(files.clone());
        let mut w = create(&s, false);
        w.write(b"partial").unwrap();
        let id = w.id();
        drop(w);
        assert!(!files.path_of(id).exists());
        assert!(s.all_ids().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
