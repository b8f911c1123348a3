//! Multipart upload of a file: parts in parallel, resumable from a checkpoint file, and the CRC-64 checked end
//! to end (each part's CRC is computed locally, combined, and compared with the server's for the whole object).

use crate::client::{check_bucket_name, check_key, Client, PutOptions, PutResult};
use crate::error::{ClientErrorKind, Error, Result};
use crate::transport::{Op, Payload};
use bytes::Bytes;
use http::Method;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

#[derive(Clone)]
pub struct MultipartOptions {
    pub part_size: u64,
    pub parallel: usize,
    /// Files up to this size go in one PutObject.
    pub threshold: u64,
    /// Where progress is kept, so that a failed upload can resume.
    pub checkpoint: Option<PathBuf>,
    pub put: PutOptions,
    /// Called with the number of bytes each finished part (or the whole small file) carried.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl std::fmt::Debug for MultipartOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultipartOptions")
            .field("part_size", &self.part_size)
            .field("parallel", &self.parallel)
            .field("threshold", &self.threshold)
            .field("checkpoint", &self.checkpoint)
            .finish()
    }
}

impl Default for MultipartOptions {
    fn default() -> Self {
        MultipartOptions {
            part_size: 8 << 20,
            parallel: 4,
            threshold: 32 << 20,
            checkpoint: None,
            put: PutOptions::default(),
            progress: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Done {
    etag: String,
    crc: u64,
    size: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Checkpoint {
    bucket: String,
    key: String,
    file_size: u64,
    mtime: u64,
    part_size: u64,
    upload_id: String,
    parts: BTreeMap<u32, Done>,
}

impl Checkpoint {
    fn render(&self) -> String {
        let mut s = format!(
            "ossd-checkpoint 1\nbucket {}\nkey {}\nfile {} {}\npart_size {}\nupload_id {}\n",
            self.bucket,
            ossd_sign::encode(&self.key),
            self.file_size,
            self.mtime,
            self.part_size,
            self.upload_id
        );
        for (n, d) in &self.parts {
            s.push_str(&format!("part {n} {} {} {}\n", d.etag, d.crc, d.size));
        }
        s
    }

    fn parse(text: &str) -> Option<Checkpoint> {
        let mut lines = text.lines();
        if lines.next()? != "ossd-checkpoint 1" {
            return None;
        }
        let mut field =
            |name: &str| -> Option<String> { lines.next()?.strip_prefix(name)?.strip_prefix(' ').map(str::to_string) };
        let bucket = field("bucket")?;
        let key = percent_encoding::percent_decode_str(&field("key")?).decode_utf8().ok()?.into_owned();
        let file = field("file")?;
        let (size, mtime) = file.split_once(' ')?;
        let part_size = field("part_size")?.parse().ok()?;
        let upload_id = field("upload_id")?;
        let mut cp = Checkpoint {
            bucket,
            key,
            file_size: size.parse().ok()?,
            mtime: mtime.parse().ok()?,
            part_size,
            upload_id,
            parts: BTreeMap::new(),
        };
        for l in lines {
            let f: Vec<&str> = l.split(' ').collect();
            if f.len() == 5 && f[0] == "part" {
                cp.parts.insert(
                    f[1].parse().ok()?,
                    Done { etag: f[2].into(), crc: f[3].parse().ok()?, size: f[4].parse().ok()? },
                );
            }
        }
        Some(cp)
    }
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::client(ClientErrorKind::Io, format!("{}: {e}", path.display()))
}

async fn save(path: &Option<PathBuf>, cp: &Checkpoint) -> Result<()> {
    if let Some(p) = path {
        let tmp = p.with_extension("tmp");
        tokio::fs::write(&tmp, cp.render()).await.map_err(|e| io_err(&tmp, e))?;
        tokio::fs::rename(&tmp, p).await.map_err(|e| io_err(p, e))?;
    }
    Ok(())
}

impl Client {
    /// Uploads a file: one PutObject below the threshold, else a parallel, resumable multipart upload.
    pub async fn upload_file(&self, bucket: &str, key: &str, path: &Path, o: &MultipartOptions) -> Result<PutResult> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let meta = tokio::fs::metadata(path).await.map_err(|e| io_err(path, e))?;
        let size = meta.len();
        if size <= o.threshold {
            let r = self.put_file(bucket, key, path, &o.put).await?;
            if let Some(p) = &o.progress {
                p(size);
            }
            return Ok(r);
        }
        if o.part_size < 100 * 1024 || o.parallel == 0 {
            return Err(Error::client(
                ClientErrorKind::InvalidArgument,
                "parts must be at least 100 KiB, with at least one in flight",
            ));
        }
        let parts_total = size.div_ceil(o.part_size);
        if parts_total > 10_000 {
            return Err(Error::client(ClientErrorKind::InvalidArgument, "the part size makes more than 10000 parts"));
        }
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);

        // Resume when the checkpoint describes this very upload and the upload still exists.
        let mut cp = None;
        if let Some(p) = &o.checkpoint {
            if let Ok(text) = tokio::fs::read_to_string(p).await {
                if let Some(c) = Checkpoint::parse(&text) {
                    let same = c.bucket == bucket
                        && c.key == key
                        && c.file_size == size
                        && c.mtime == mtime
                        && c.part_size == o.part_size;
                    let alive = same && self.list_parts_exists(bucket, key, &c.upload_id).await?;
                    if alive {
                        tracing::info!(upload_id = %c.upload_id, done = c.parts.len(), "resuming a multipart upload");
                        cp = Some(c);
                    }
                }
            }
        }
        let cp = match cp {
            Some(c) => c,
            None => {
                let upload_id = self.initiate(bucket, key, &o.put).await?;
                let c = Checkpoint {
                    bucket: bucket.into(),
                    key: key.into(),
                    file_size: size,
                    mtime,
                    part_size: o.part_size,
                    upload_id,
                    parts: BTreeMap::new(),
                };
                save(&o.checkpoint, &c).await?;
                c
            }
        };
        let upload_id = cp.upload_id.clone();
        let state = Arc::new(Mutex::new(cp));
        let sem = Arc::new(tokio::sync::Semaphore::new(o.parallel));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 1..=parts_total as u32 {
            if state.lock().map(|s| s.parts.contains_key(&n)).unwrap_or(false) {
                continue;
            }
            let (client, bucket, key, upload_id, path) =
                (self.clone(), bucket.to_string(), key.to_string(), upload_id.clone(), path.to_path_buf());
            let (sem, state, checkpoint, progress) =
                (sem.clone(), state.clone(), o.checkpoint.clone(), o.progress.clone());
            let offset = (n as u64 - 1) * o.part_size;
            let len = o.part_size.min(size - offset);
            tasks.spawn(async move {
                let _permit =
                    sem.acquire().await.map_err(|_| Error::client(ClientErrorKind::Io, "upload cancelled"))?;
                let mut f = tokio::fs::File::open(&path).await.map_err(|e| io_err(&path, e))?;
                f.seek(std::io::SeekFrom::Start(offset)).await.map_err(|e| io_err(&path, e))?;
                let mut buf = vec![0u8; len as usize];
                f.read_exact(&mut buf).await.map_err(|e| io_err(&path, e))?;
                let crc = crate::crc64(&buf);
                let op = Op::new("UploadPart", Method::PUT, Some(&bucket), Some(&key))
                    .q("partNumber", n.to_string())
                    .q("uploadId", upload_id)
                    .body(Payload::Bytes(Bytes::from(buf)));
                let a = client.t.send(&op).await?;
                let etag = a.header("etag").unwrap_or("").trim_matches('"').to_string();
                if let Some(server) = a.header("x-oss-hash-crc64ecma").and_then(|v| v.parse::<u64>().ok()) {
                    if server != crc {
                        return Err(Error::client(
                            ClientErrorKind::Inconsistent,
                            format!("part {n}: sent CRC-64 {crc}, the server stored {server}"),
                        ));
                    }
                }
                let snapshot = {
                    let mut s =
                        state.lock().map_err(|_| Error::client(ClientErrorKind::Io, "checkpoint lock poisoned"))?;
                    s.parts.insert(n, Done { etag, crc, size: len });
                    s.clone()
                };
                save(&checkpoint, &snapshot).await?;
                if let Some(p) = progress {
                    p(len);
                }
                Ok(())
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.map_err(|e| Error::client(ClientErrorKind::Io, e.to_string()))??;
        }
        let cp = state
            .lock()
            .map(|s| s.clone())
            .map_err(|_| Error::client(ClientErrorKind::Io, "checkpoint lock poisoned"))?;
        let mut xml = String::from("<CompleteMultipartUpload>");
        let mut crc = 0u64;
        for (n, d) in &cp.parts {
            xml.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>\"{}\"</ETag></Part>", d.etag));
            crc = crate::crc64_combine(crc, d.crc, d.size);
        }
        xml.push_str("</CompleteMultipartUpload>");
        let mut op = Op::new("CompleteMultipartUpload", Method::POST, Some(bucket), Some(key))
            .q("uploadId", upload_id)
            .body(Payload::Bytes(Bytes::from(xml)));
        op.retry_server_errors = true;
        op.error_in_200 = true;
        let a = self.t.send(&op).await?;
        let result = PutResult {
            etag: a.header("etag").unwrap_or("").trim_matches('"').to_string(),
            crc64: a.header("x-oss-hash-crc64ecma").and_then(|v| v.parse().ok()),
            request_id: a.header("x-oss-request-id").map(str::to_string),
        };
        if let Some(server) = result.crc64 {
            if server != crc {
                return Err(Error::client(
                    ClientErrorKind::Inconsistent,
                    format!("whole object: local CRC-64 {crc}, the server's {server}"),
                ));
            }
        }
        if let Some(p) = &o.checkpoint {
            let _ = tokio::fs::remove_file(p).await;
        }
        Ok(result)
    }

    async fn initiate(&self, bucket: &str, key: &str, o: &PutOptions) -> Result<String> {
        let op =
            Client::put_op("InitiateMultipartUpload", Method::POST, bucket, key, Payload::Empty, o).q("uploads", "");
        let doc = self.xml(&op, "InitiateMultipartUploadResult").await?;
        Ok(doc.text_of("UploadId").unwrap_or("").to_string())
    }

    async fn list_parts_exists(&self, bucket: &str, key: &str, upload_id: &str) -> Result<bool> {
        let op =
            Op::new("ListParts", Method::GET, Some(bucket), Some(key)).q("uploadId", upload_id).q("max-parts", "1");
        match self.xml(&op, "ListPartsResult").await {
            Ok(_) => Ok(true),
            Err(Error::Server(s)) if s.is(ossd_errors::Code::NoSuchUpload) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Aborts a multipart upload.
    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let op = Op::new("AbortMultipartUpload", Method::DELETE, Some(bucket), Some(key)).q("uploadId", upload_id);
        self.t.send(&op).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trip() {
        let mut cp = Checkpoint {
            bucket: "b".into(),
            key: "dir/a b".into(),
            file_size: 300,
            mtime: 7,
            part_size: 100,
            upload_id: "UP".into(),
            parts: BTreeMap::new(),
        };
        cp.parts.insert(2, Done { etag: "E2".into(), crc: 42, size: 100 });
        assert_eq!(Checkpoint::parse(&cp.render()), Some(cp));
        assert_eq!(Checkpoint::parse("something else"), None);
    }
}
