//! BlobStore on local files: blobs are named by internal id under `<data>/blobs`, never by user key.

use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use md5::{Digest, Md5};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::InlineBlobs;

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

/// A finished blob and the checksums computed while its bytes streamed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub id: u64,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc64: u64,
    /// Computed only when asked for (S3's x-amz-content-sha256).
    pub sha256: Option<[u8; 32]>,
}

/// AES-256 in counter mode; the nonce is the blob id, so every blob has its own key stream and a range
/// read seeks straight to its offset.
type Cipher = ctr::Ctr128BE<aes::Aes256>;

fn cipher(key: &[u8; 32], blob: u64, offset: u64) -> Cipher {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&blob.to_be_bytes());
    let mut c = Cipher::new(key.into(), &iv.into());
    c.seek(offset);
    c
}

#[derive(Clone)]
pub struct FileBlobStore {
    root: PathBuf,
    fsync: bool,
    /// Where small blobs go; without it every blob is a file.
    inline: Option<Arc<dyn InlineBlobs>>,
    /// The master key for encryption at rest, kept in `<data>/master.key`.
    master: [u8; 32],
}

/// Reads the master key, creating it (readable by the owner only) on first use.
fn master_key(data_dir: &Path) -> io::Result<[u8; 32]> {
    let path = data_dir.join("master.key");
    match fs::read(&path) {
        Ok(k) if k.len() == 32 => {
            let mut key = [0u8; 32];
            key.copy_from_slice(&k);
            Ok(key)
        }
        Ok(_) => Err(io::Error::new(io::ErrorKind::InvalidData, format!("{} is not a 32-byte key", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::getrandom(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&path)?;
            f.write_all(&key)?;
            f.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

impl FileBlobStore {
    pub fn open(data_dir: &Path, fsync: bool, inline: Option<Arc<dyn InlineBlobs>>) -> io::Result<Self> {
        let root = data_dir.join("blobs");
        for i in 0..256 {
            fs::create_dir_all(root.join(format!("{i:02x}")))?;
        }
        let master = master_key(data_dir)?;
        Ok(FileBlobStore { root, fsync, inline, master })
    }

    fn dir_of(&self, id: u64) -> PathBuf {
        self.root.join(format!("{:02x}", id >> 56))
    }

    pub fn path_of(&self, id: u64) -> PathBuf {
        self.dir_of(id).join(format!("{id:016x}"))
    }

    /// Starts a new blob with a fresh id, encrypted at rest when `encrypt`. With an inline store, its bytes
    /// stay in memory until they pass `INLINE_MAX`, and a blob that never does is stored inline.
    pub fn create(&self, encrypt: bool) -> io::Result<BlobWriter> {
        let new = |id: u64, file: Option<File>, path: PathBuf| BlobWriter {
            id,
            file,
            path,
            dir: self.dir_of(id),
            fsync: self.fsync,
            inline: self.inline.clone(),
            mem: None,
            md5: Md5::new(),
            crc: crc64fast::Digest::new(),
            size: 0,
            enc: encrypt.then(|| cipher(&self.master, id, 0)),
            scratch: Vec::new(),
            sha256: None,
        };
        if self.inline.is_some() {
            let id = (INLINE_TAG << 56) | (crate::model::random_u64() >> 8);
            let mut w = new(id, None, PathBuf::new());
            w.mem = Some(Vec::new());
            return Ok(w);
        }
        loop {
            let id = crate::model::random_u64();
            let path = self.path_of(id);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok(new(id, Some(file), path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether a blob of `len` bytes is kept inline: then writing and finishing it does no I/O.
    pub fn keeps_inline(&self, len: u64) -> bool {
        self.inline.is_some() && len <= INLINE_MAX as u64
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

    /// A reader of blob `id` from byte `off` on.
    fn open_at(&self, id: u64, off: u64) -> io::Result<Box<dyn Read + Send>> {
        if let Some(data) = self.get_inline(id)? {
            let mut c = io::Cursor::new(data);
            c.set_position(off);
            return Ok(Box::new(c));
        }
        let mut f = File::open(self.path_of(id))?;
        f.seek(SeekFrom::Start(off))?;
        Ok(Box::new(f))
    }

    /// The stored length of blob `id` (ciphertext and plaintext have the same length); None when it is gone.
    pub fn stored_len(&self, id: u64) -> io::Result<Option<u64>> {
        if let Some(data) = self.get_inline(id)? {
            return Ok(Some(data.len() as u64));
        }
        match fs::metadata(self.path_of(id)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether blob `id` is still stored.
    pub fn exists(&self, id: u64) -> io::Result<bool> {
        Ok(self.get_inline(id)?.is_some() || self.path_of(id).exists())
    }

    pub fn remove(&self, id: u64) {
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

    /// The bytes of `segs` (an object of `size` bytes), when every one of them is in the page cache now;
    /// Ok(None) when reading them would wait for the disk. For small reads on an async worker.
    pub fn read_cached(&self, segs: &[crate::model::Segment], size: u64, decrypt: bool) -> io::Result<Option<Vec<u8>>> {
        let mut out = vec![0u8; usize::try_from(size).map_err(io::Error::other)?];
        let mut at = 0usize;
        for seg in segs {
            let len = usize::try_from(seg.len).map_err(io::Error::other)?;
            let dst = out
                .get_mut(at..at + len)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "segments longer than the object"))?;
            if !self.fill_cached(seg.blob, dst)? {
                return Ok(None);
            }
            if decrypt {
                cipher(&self.master, seg.blob, 0).apply_keystream(dst);
            }
            at += len;
        }
        if at as u64 != size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object shorter than its record"));
        }
        Ok(Some(out))
    }

    /// Fills `dst` with blob `id` from memory or the page cache; Ok(false) when that would wait (a busy
    /// metadata store, bytes not cached).
    fn fill_cached(&self, id: u64, dst: &mut [u8]) -> io::Result<bool> {
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

    /// Every blob id stored, inline or on disk.
    pub fn all_ids(&self) -> io::Result<Vec<u64>> {
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

/// A blob being written. Dropped without `finish`, it removes its file: a partial upload leaves no trace.
pub struct BlobWriter {
    id: u64,
    file: Option<File>,
    path: PathBuf,
    dir: PathBuf,
    fsync: bool,
    inline: Option<Arc<dyn InlineBlobs>>,
    /// The bytes so far (as stored: encrypted when the blob is), while the blob may still be stored inline.
    mem: Option<Vec<u8>>,
    md5: Md5,
    crc: crc64fast::Digest,
    size: u64,
    enc: Option<Cipher>,
    scratch: Vec<u8>,
    sha256: Option<sha2::Sha256>,
}

impl BlobWriter {
    /// Also compute the SHA-256 of what is written.
    pub fn with_sha256(mut self) -> Self {
        self.sha256 = Some(sha2::Sha256::new());
        self
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let stored = match &mut self.enc {
            Some(c) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(data);
                c.apply_keystream(&mut self.scratch);
                &self.scratch[..]
            }
            None => data,
        };
        match &mut self.mem {
            Some(mem) if mem.len() + stored.len() <= INLINE_MAX => mem.extend_from_slice(stored),
            Some(mem) => {
                // Too big to keep inline: the blob becomes a file under the same id.
                let path = self.dir.join(format!("{:016x}", self.id));
                let mut f = OpenOptions::new().write(true).create_new(true).open(&path)?;
                self.path = path;
                f.write_all(mem)?;
                f.write_all(stored)?;
                self.file = Some(f);
                self.mem = None;
            }
            None => self.file.as_mut().ok_or_else(|| io::Error::other("blob already finished"))?.write_all(stored)?,
        }
        self.md5.update(data);
        self.crc.write(data);
        if let Some(h) = &mut self.sha256 {
            sha2::Digest::update(h, data);
        }
        self.size += data.len() as u64;
        if self.file.is_some() {
            // Part of the blob is in its file: a crash here leaves a partial file.
            crate::crash_point!("blob::write");
        }
        Ok(())
    }

    /// Flushes (and fsyncs, when on) the blob and returns its checksums.
    pub fn finish(mut self) -> io::Result<BlobInfo> {
        if let Some(mem) = self.mem.take() {
            let store = self.inline.as_ref().ok_or_else(|| io::Error::other("an inline blob without a store"))?;
            store.put_inline(self.id, &mem).map_err(other)?;
        } else {
            self.sync_file()?;
        }
        let md5: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        let sha256 = self.sha256.take().map(|h| sha2::Digest::finalize(h).into());
        let info = BlobInfo { id: self.id, size: self.size, md5, crc64: self.crc.sum64(), sha256 };
        self.path = PathBuf::new();
        Ok(info)
    }

    fn sync_file(&mut self) -> io::Result<()> {
        let f = self.file.take().ok_or_else(|| io::Error::other("blob already finished"))?;
        if self.fsync {
            crate::crash_point!("blob::fsync");
            f.sync_data()?;
            crate::crash_point!("blob::dir_fsync");
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Reads a byte range across an object's segments.
pub struct SegmentReader<'a> {
    store: &'a FileBlobStore,
    segs: Vec<crate::model::Segment>,
    idx: usize,
    /// Offset inside segs[idx].
    off: u64,
    remaining: u64,
    cur: Option<(Box<dyn Read + Send>, Option<Cipher>)>,
    decrypt: bool,
}

impl<'a> SegmentReader<'a> {
    /// Reads bytes `[start, start+len)` of the object made of `segs`.
    pub fn new(store: &'a FileBlobStore, segs: &[crate::model::Segment], start: u64, len: u64, decrypt: bool) -> Self {
        let mut idx = 0;
        let mut off = start;
        while idx < segs.len() && off >= segs[idx].len {
            off -= segs[idx].len;
            idx += 1;
        }
        SegmentReader { store, segs: segs.to_vec(), idx, off, remaining: len, cur: None, decrypt }
    }
}

impl Read for SegmentReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.remaining == 0 || buf.is_empty() {
                return Ok(0);
            }
            let Some(seg) = self.segs.get(self.idx).copied() else {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object shorter than its record"));
            };
            if self.off >= seg.len {
                self.idx += 1;
                self.off = 0;
                self.cur = None;
                continue;
            }
            if self.cur.is_none() {
                let f = self.store.open_at(seg.blob, self.off)?;
                let c = self.decrypt.then(|| cipher(&self.store.master, seg.blob, self.off));
                self.cur = Some((f, c));
            }
            let want = buf.len().min((seg.len - self.off).min(self.remaining) as usize);
            let (f, c) = self.cur.as_mut().ok_or_else(|| io::Error::other("no open blob"))?;
            let n = f.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its record"));
            }
            if let Some(c) = c {
                c.apply_keystream(&mut buf[..n]);
            }
            self.off += n as u64;
            self.remaining -= n as u64;
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Segment;

    fn tmp() -> PathBuf {
        let p = std::env::temp_dir().join(format!("ossd-files-{}", crate::model::random_u64()));
        fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn write_finish_read_and_ranges_across_segments() {
        let dir = tmp();
        let s = FileBlobStore::open(&dir, true, None).unwrap();
        let mut segs = Vec::new();
        let mut all = Vec::new();
        for part in [&b"hello "[..], b"", b"wide ", b"world"] {
            let mut w = s.create(false).unwrap();
            w.write(part).unwrap();
            let info = w.finish().unwrap();
            assert_eq!(info.crc64, crate::crc64::checksum(part));
            segs.push(Segment { blob: info.id, len: info.size });
            all.extend_from_slice(part);
        }
        for start in 0..all.len() {
            for end in start..=all.len() {
                let mut r = SegmentReader::new(&s, &segs, start as u64, (end - start) as u64, false);
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
        let s = FileBlobStore::open(&dir, false, None).unwrap();
        for encrypt in [false, true] {
            let mut segs = Vec::new();
            let mut all = Vec::new();
            for part in [&b"first "[..], b"", b"second part"] {
                let mut w = s.create(encrypt).unwrap();
                w.write(part).unwrap();
                let info = w.finish().unwrap();
                segs.push(Segment { blob: info.id, len: info.size });
                all.extend_from_slice(part);
            }
            let got = s.read_cached(&segs, all.len() as u64, encrypt).unwrap();
            if cfg!(target_os = "linux") {
                assert_eq!(got.as_deref(), Some(&all[..]), "encrypt={encrypt}");
            } else {
                assert_eq!(got, None);
            }
            // A record that claims more bytes than the blobs hold is an error, never padding.
            let mut long = segs.clone();
            long[2].len += 5;
            if cfg!(target_os = "linux") {
                assert!(s.read_cached(&long, all.len() as u64 + 5, encrypt).is_err());
                assert!(s.read_cached(&segs, all.len() as u64 + 1, encrypt).is_err());
            }
        }
        fs::remove_dir_all(dir).unwrap();
    }

    /// A store with its inline tier in a SQLite metadata store beside it.
    fn with_inline(dir: &Path) -> FileBlobStore {
        let meta = crate::stores::sqlite::SqliteMeta::open(dir, false).unwrap();
        FileBlobStore::open(dir, false, Some(meta)).unwrap()
    }

    fn read_all(s: &FileBlobStore, id: u64, len: u64, decrypt: bool) -> Vec<u8> {
        let mut out = Vec::new();
        SegmentReader::new(s, &[Segment { blob: id, len }], 0, len, decrypt).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn small_blobs_live_inline_and_large_ones_spill_to_a_file_under_the_same_id() {
        let dir = tmp();
        let s = with_inline(&dir);
        for encrypt in [false, true] {
            let small = b"a few bytes".to_vec();
            let mut w = s.create(encrypt).unwrap();
            w.write(&small).unwrap();
            let info = w.finish().unwrap();
            assert!(!s.path_of(info.id).exists(), "a small blob makes no file");
            assert!(s.exists(info.id).unwrap());
            assert_eq!(read_all(&s, info.id, info.size, encrypt), small);
            let seg = [Segment { blob: info.id, len: info.size }];
            assert_eq!(s.read_cached(&seg, info.size, encrypt).unwrap(), Some(small.clone()));
            assert_eq!(info.md5, <[u8; 16]>::from(Md5::digest(&small)));

            // Written in pieces that together pass INLINE_MAX.
            let big: Vec<u8> = (0..INLINE_MAX + 5000).map(|i| (i % 253) as u8).collect();
            let mut w = s.create(encrypt).unwrap();
            for piece in big.chunks(3000) {
                w.write(piece).unwrap();
            }
            let spilled = w.finish().unwrap();
            let on_disk = fs::read(s.path_of(spilled.id)).unwrap();
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
        let mut w = s.create(false).unwrap();
        w.write(b"partial").unwrap();
        drop(w);
        let mut w = s.create(false).unwrap();
        w.write(&vec![1u8; INLINE_MAX + 1]).unwrap();
        let path = s.path_of(w.id());
        assert!(path.exists());
        drop(w);
        assert!(!path.exists());
        assert!(s.all_ids().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn encrypted_blobs_are_ciphertext_on_disk_and_plaintext_in_every_range() {
        let dir = tmp();
        let s = FileBlobStore::open(&dir, false, None).unwrap();
        let plain: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8 + b'a').collect();
        let mut segs = Vec::new();
        for part in plain.chunks(1700) {
            let mut w = s.create(true).unwrap();
            w.write(&part[..10]).unwrap();
            w.write(&part[10..]).unwrap();
            let info = w.finish().unwrap();
            assert_eq!(info.crc64, crate::crc64::checksum(part), "checksums are of the plaintext");
            let on_disk = fs::read(s.path_of(info.id)).unwrap();
            assert_ne!(on_disk, part);
            segs.push(Segment { blob: info.id, len: info.size });
        }
        for (start, end) in [(0, 5000), (1, 2), (1699, 1701), (3000, 4999), (4999, 5000)] {
            let mut out = Vec::new();
            SegmentReader::new(&s, &segs, start, end - start, true).read_to_end(&mut out).unwrap();
            assert_eq!(out, &plain[start as usize..end as usize]);
        }
        // The key persists across reopening.
        let again = FileBlobStore::open(&dir, false, None).unwrap();
        let mut out = Vec::new();
        SegmentReader::new(&again, &segs, 0, 5000, true).read_to_end(&mut out).unwrap();
        assert_eq!(out, plain);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn dropped_writer_leaves_no_file() {
        let dir = tmp();
        let s = FileBlobStore::open(&dir, false, None).unwrap();
        let mut w = s.create(false).unwrap();
        w.write(b"partial").unwrap();
        let id = w.id();
        drop(w);
        assert!(!s.path_of(id).exists());
        assert!(s.all_ids().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
