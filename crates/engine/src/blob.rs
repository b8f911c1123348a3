//! Object bytes over any `BlobStore`: the writer that checksums (MD5, CRC-64, SHA-256) and encrypts a body as it
//! streams in, and the reader of a byte range across an object's segments. Encryption at rest is the engine's:
//! a store only ever holds the bytes it is given.

use crate::model::Segment;
use crate::stores::{BlobSink, BlobStore};
use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use md5::{Digest, Md5};
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

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

/// The master key for encryption at rest.
pub type MasterKey = [u8; 32];

/// AES-256 in counter mode; the nonce is the blob id, so every blob has its own key stream and a range
/// read seeks straight to its offset.
type Cipher = ctr::Ctr128BE<aes::Aes256>;

fn cipher(key: &MasterKey, blob: u64, offset: u64) -> Cipher {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&blob.to_be_bytes());
    let mut c = Cipher::new(key.into(), &iv.into());
    c.seek(offset);
    c
}

/// Reads the master key kept in `<data>/master.key`, creating it (readable by the owner only) on first use.
pub fn master_key(data_dir: &Path) -> io::Result<MasterKey> {
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

/// A blob being written. Up to the store's `small_max` bytes it stays in memory and is handed over whole on
/// `finish`; past that it streams into the store. Dropped without `finish`, it leaves nothing behind.
pub struct BlobWriter {
    id: u64,
    store: Arc<dyn BlobStore>,
    small_max: usize,
    /// The bytes so far (as stored: encrypted when the blob is), while the blob may still be stored whole.
    mem: Option<Vec<u8>>,
    sink: Option<Box<dyn BlobSink>>,
    md5: Md5,
    crc: crc64fast::Digest,
    size: u64,
    enc: Option<Cipher>,
    scratch: Vec<u8>,
    sha256: Option<sha2::Sha256>,
}

impl BlobWriter {
    /// Starts a new blob with a fresh id, encrypted with `master` when `encrypt`.
    pub fn new(store: &Arc<dyn BlobStore>, master: &MasterKey, encrypt: bool) -> io::Result<BlobWriter> {
        let small_max = store.small_max();
        let (id, mem, sink) = if small_max > 0 {
            (store.new_id(), Some(Vec::new()), None)
        } else {
            loop {
                let id = store.new_id();
                match store.create(id) {
                    Ok(sink) => break (id, None, Some(sink)),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            }
        };
        Ok(BlobWriter {
            id,
            store: store.clone(),
            small_max,
            mem,
            sink,
            md5: Md5::new(),
            crc: crc64fast::Digest::new(),
            size: 0,
            enc: encrypt.then(|| cipher(master, id, 0)),
            scratch: Vec::new(),
            sha256: None,
        })
    }

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
            Some(mem) if mem.len() + stored.len() <= self.small_max => mem.extend_from_slice(stored),
            Some(mem) => {
                // Too big to hand over whole: the blob streams into the store under the same id.
                let mut sink = self.store.create(self.id)?;
                sink.write(mem)?;
                sink.write(stored)?;
                self.sink = Some(sink);
                self.mem = None;
            }
            None => self.sink.as_mut().ok_or_else(|| io::Error::other("blob already finished"))?.write(stored)?,
        }
        self.md5.update(data);
        self.crc.write(data);
        if let Some(h) = &mut self.sha256 {
            sha2::Digest::update(h, data);
        }
        self.size += data.len() as u64;
        Ok(())
    }

    /// Stores the blob (durably, as the store is told to) and returns its checksums.
    pub fn finish(mut self) -> io::Result<BlobInfo> {
        match (self.mem.take(), self.sink.take()) {
            (Some(mem), _) => self.store.put_small(self.id, &mem)?,
            (None, Some(sink)) => sink.finish()?,
            (None, None) => return Err(io::Error::other("blob already finished")),
        }
        let md5: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        let sha256 = self.sha256.take().map(|h| sha2::Digest::finalize(h).into());
        Ok(BlobInfo { id: self.id, size: self.size, md5, crc64: self.crc.sum64(), sha256 })
    }
}

/// The bytes of `segs` (an object of `size` bytes), when every one of them can be read without waiting (memory,
/// page cache); Ok(None) when reading them would wait. For small reads on an async worker.
pub fn read_now(
    store: &dyn BlobStore,
    master: &MasterKey,
    segs: &[Segment],
    size: u64,
    decrypt: bool,
) -> io::Result<Option<Vec<u8>>> {
    let mut out = vec![0u8; usize::try_from(size).map_err(io::Error::other)?];
    let mut at = 0usize;
    for seg in segs {
        let len = usize::try_from(seg.len).map_err(io::Error::other)?;
        let dst = out
            .get_mut(at..at + len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "segments longer than the object"))?;
        if !store.read_now(seg.blob, dst)? {
            return Ok(None);
        }
        if decrypt {
            cipher(master, seg.blob, 0).apply_keystream(dst);
        }
        at += len;
    }
    if at as u64 != size {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object shorter than its record"));
    }
    Ok(Some(out))
}

/// Reads a byte range across an object's segments.
pub struct SegmentReader<'a> {
    store: &'a dyn BlobStore,
    master: &'a MasterKey,
    segs: Vec<Segment>,
    idx: usize,
    /// Offset inside segs[idx].
    off: u64,
    remaining: u64,
    cur: Option<(Box<dyn Read + Send>, Option<Cipher>)>,
    decrypt: bool,
}

impl<'a> SegmentReader<'a> {
    /// Reads bytes `[start, start+len)` of the object made of `segs`.
    pub fn new(
        store: &'a dyn BlobStore,
        master: &'a MasterKey,
        segs: &[Segment],
        start: u64,
        len: u64,
        decrypt: bool,
    ) -> Self {
        let mut idx = 0;
        let mut off = start;
        while idx < segs.len() && off >= segs[idx].len {
            off -= segs[idx].len;
            idx += 1;
        }
        SegmentReader { store, master, segs: segs.to_vec(), idx, off, remaining: len, cur: None, decrypt }
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
                let f = self.store.open(seg.blob, self.off)?;
                let c = self.decrypt.then(|| cipher(self.master, seg.blob, self.off));
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

    #[test]
    fn the_master_key_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("ossd-key-{}", crate::model::random_u64()));
        fs::create_dir_all(&dir).unwrap();
        let first = master_key(&dir).unwrap();
        assert_eq!(master_key(&dir).unwrap(), first);
        assert_ne!(first, [0u8; 32]);
        fs::write(dir.join("master.key"), b"short").unwrap();
        assert_eq!(master_key(&dir).unwrap_err().kind(), io::ErrorKind::InvalidData);
        fs::remove_dir_all(dir).unwrap();
    }
}
