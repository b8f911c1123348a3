//! The ossd engine: object-storage semantics (buckets, objects, listing, multipart, append, symlinks)
//! over a MetaStore and a BlobStore. It knows no HTTP and no vendor. Calls block: run them off async workers.

pub use ossd_sign::crc64;
pub mod blob;
pub mod bucket;
pub mod config_xml;
pub mod failpoints;
pub mod fsck;
pub mod lifecycle;
pub mod list;
pub mod live;
pub mod lock;
pub mod model;
pub mod names;
pub mod reclaim;
pub mod retention;
pub mod stores;
pub mod users;
pub mod wait;
pub mod workers;

pub use blob::{BlobInfo, BlobWriter, SegmentReader};
use md5::{Digest, Md5};
use model::*;
use ossd_errors::{Code, Error, Result};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use stores::{BlobStore, Change, MetaStore};

/// Parts other than the last must be at least this large.
pub const MIN_PART_SIZE: u64 = 100 * 1024;
pub const MAX_PART_NUMBER: u32 = 10_000;

pub struct Engine {
    pub(crate) meta: Arc<dyn MetaStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    /// The key that blobs encrypted at rest are encrypted with.
    master: blob::MasterKey,
    pub region: String,
    /// The length of a "day" for retention, lifecycle and restore periods (shortened in tests).
    pub day_ms: i64,
    /// How long a restore of an archive object takes.
    pub restore_ms: i64,
    /// How many buckets one user may own (TooManyBuckets past it).
    pub max_buckets: usize,
    /// Keeps replaced and deleted blobs until their readers are done (snapshot reads).
    pub reclaim: Arc<reclaim::Reclaimer>,
    /// Access-log lines waiting for delivery (see `workers`).
    access_log: workers::AccessLogQueue,
    /// The LiveChannels being pushed to.
    pub live: live::Sessions,
    /// Held while the engine lives: no second server (or fsck) works on the same data dir.
    _lock: lock::DataDirLock,
}

fn io(e: std::io::Error) -> Error {
    Error::internal(format!("blob store: {e}"))
}

/// One part named in CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct CompletePart {
    pub part_number: u32,
    pub etag: String,
}

impl Engine {
    /// Opens (or creates) the embedded stores in `data_dir` and removes blobs that no record refers to. Fails
    /// when another process has the data dir open (see `lock`).
    pub fn open(data_dir: &Path, fsync: bool, region: &str) -> Result<Engine> {
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let lock = lock::lock(data_dir).map_err(|e| Error::internal(format!("data dir: {e}")))?;
        let (meta, blobs) = stores::open_embedded(data_dir, fsync)?;
        let master = blob::master_key(data_dir).map_err(io)?;
        let reclaim = reclaim::Reclaimer::new(blobs.clone());
        let engine = Engine {
            meta,
            blobs,
            master,
            region: region.to_string(),
            day_ms: 86_400_000,
            restore_ms: 60_000,
            max_buckets: 100,
            reclaim,
            access_log: Default::default(),
            live: Default::default(),
            _lock: lock,
        };
        engine.sweep_orphans()?;
        engine.upgrade_configs()?;
        failpoints::arm_from_env();
        Ok(engine)
    }

    fn sweep_orphans(&self) -> Result<()> {
        let referenced: std::collections::HashSet<u64> = self.meta.referenced_blobs()?.into_iter().collect();
        let mut removed = 0;
        for id in self.blobs.all_ids().map_err(io)? {
            if !referenced.contains(&id) {
                self.blobs.remove(id);
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed orphaned blobs left by an interrupted write");
        }
        Ok(())
    }

    /// Removes the blobs of a write that never became visible.
    fn free_segments(&self, segs: &[Segment]) {
        for s in segs {
            self.blobs.remove(s.blob);
        }
    }

    /// Frees blobs that a committed record no longer names: now, or when the readers that may hold them are done.
    fn retire(&self, ids: impl IntoIterator<Item = u64>) {
        crash_point!("reclaim::old_blob");
        for id in self.reclaim.free(ids) {
            self.blobs.remove(id);
        }
    }

    /// Frees the blobs of `old` that `new` no longer uses.
    fn free_replaced(&self, old: Option<&ObjectRecord>, new: &[Segment]) {
        if let Some(o) = old {
            self.retire(o.segments.iter().map(|s| s.blob).filter(|b| !new.iter().any(|n| n.blob == *b)));
        }
    }

    /// Looks up a record for a reader: it carries a pin that keeps its blobs until every copy of it is dropped.
    fn pinned(
        &self,
        lookup: impl FnOnce() -> Option<Result<Option<ObjectRecord>>>,
    ) -> Option<Result<Option<ObjectRecord>>> {
        let pin = self.reclaim.pin();
        Some(lookup()?.map(|found| {
            found.map(|mut rec| {
                rec.pin = pin.hold(rec.segments.iter().map(|s| s.blob));
                rec
            })
        }))
    }

    // ---- buckets ----

    pub fn bucket(&self, name: &str) -> Result<BucketRecord> {
        self.meta.get_bucket(name)?.ok_or_else(|| Error::new(Code::NoSuchBucket).ctx("BucketName", name))
    }

    /// Removes an empty bucket; `drop_uploads` aborts its unfinished multipart uploads on the way (S3), where
    /// otherwise they keep it from being removed (OSS: BucketNotEmpty).
    pub fn delete_bucket(&self, name: &str, drop_uploads: bool) -> Result<()> {
        let blobs = self
            .meta
            .delete_bucket(name, drop_uploads)?
            .ok_or_else(|| Error::new(Code::NoSuchBucket).ctx("BucketName", name))?;
        for b in blobs {
            self.blobs.remove(b);
        }
        Ok(())
    }

    // ---- quota ----

    pub fn set_quota(&self, bucket: &str, bytes: u64) -> Result<()> {
        self.meta.put_bucket_config(bucket, "quota", &bytes.to_string())
    }

    pub fn quota(&self, bucket: &str) -> Result<u64> {
        Ok(self.meta.get_bucket_config(bucket, "quota")?.and_then(|q| q.parse().ok()).unwrap_or(0))
    }

    /// InsufficientStorageSpace if adding `bytes` (replacing `replaced()` bytes) would pass the bucket's quota.
    /// `replaced` is asked only when the bucket has a quota.
    fn check_quota(&self, bucket: &str, bytes: u64, replaced: impl FnOnce() -> Result<u64>) -> Result<()> {
        let quota = self.quota(bucket)?;
        if quota > 0 && self.meta.bucket_size(bucket)?.saturating_sub(replaced()?) + bytes > quota {
            return Err(Error::new(Code::InsufficientStorageSpace)
                .ctx("BucketName", bucket)
                .ctx("Quota", quota.to_string()));
        }
        Ok(())
    }

    // ---- objects ----

    /// Opens a new blob for an upload's bytes, encrypted at rest when `encrypt`.
    pub fn new_blob(&self, encrypt: bool) -> Result<BlobWriter> {
        BlobWriter::new(&self.blobs, &self.master, encrypt).map_err(io)
    }

    /// Whether a blob of `len` bytes is stored without I/O of its own (see `BlobStore::keeps_inline`): then
    /// writing and finishing it need not leave the async workers.
    pub fn keeps_inline(&self, len: u64) -> bool {
        self.blobs.keeps_inline(len)
    }

    /// Removes a finished blob that will not be committed (a body that failed its checks).
    pub fn discard_blob(&self, blob: BlobInfo) {
        self.blobs.remove(blob.id);
    }

    /// Whether bytes appended to `bucket/key` are encrypted at rest: as the object is, when it exists (its
    /// first append decided), else as this first append asks (`sse`).
    pub fn append_encrypted(&self, bucket: &str, key: &str, sse: bool) -> Result<bool> {
        Ok(match self.meta.get_object(bucket, key)? {
            Some(o) => o.attrs.sse.is_some(),
            None => sse,
        })
    }

    fn record(bucket: &str, key: &str, blob: &BlobInfo, attrs: ObjectAttrs) -> ObjectRecord {
        ObjectRecord {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: blob.size,
            etag: hex_upper(&blob.md5),
            crc64: blob.crc64,
            mtime_ms: now_ms(),
            otype: ObjectType::Normal,
            attrs,
            segments: vec![Segment { blob: blob.id, len: blob.size }],
            symlink_target: None,
            restore: None,
            pin: Default::default(),
        }
    }

    /// Stores `rec` in place of what is there, unless `forbid_overwrite` and something is.
    fn commit_put(&self, rec: ObjectRecord, forbid_overwrite: bool) -> Result<ObjectRecord> {
        let change = match self.put_change(&rec, forbid_overwrite) {
            Ok(c) => c,
            Err(e) => {
                self.free_segments(&rec.segments);
                return Err(e);
            }
        };
        let res = self.meta.modify_object(&rec.bucket, &rec.key, &mut stores::once(change));
        self.after_put(res, rec)
    }

    /// The checks before a PUT (quota, then retention), and the change that stores `rec` over what is there.
    fn put_change(&self, rec: &ObjectRecord, forbid_overwrite: bool) -> Result<stores::ChangeFn> {
        self.check_quota(&rec.bucket, rec.size, || {
            Ok(self.meta.get_object(&rec.bucket, &rec.key)?.map(|o| o.size).unwrap_or(0))
        })?;
        let retention = self.retention_ms(&rec.bucket)?;
        let new = rec.clone();
        Ok(Box::new(move |old| {
            if forbid_overwrite && old.is_some() {
                return Err(Error::new(Code::FileAlreadyExists).ctx("Key", new.key.clone()));
            }
            Self::check_mutable(retention, old)?;
            Ok(Change::Put(Box::new(new)))
        }))
    }

    /// Frees what a PUT replaced, or on failure the PUT's own blobs.
    fn after_put(&self, res: Result<Option<ObjectRecord>>, rec: ObjectRecord) -> Result<ObjectRecord> {
        match res {
            Ok(old) => {
                self.free_replaced(old.as_ref(), &rec.segments);
                Ok(rec)
            }
            Err(e) => {
                self.free_segments(&rec.segments);
                Err(e)
            }
        }
    }

    /// Whether a PUT into `bucket` can be checked without a query (its quota and retention settings are
    /// cached, and it has no quota, whose check reads the bucket's size): then `put_object_queued` does not
    /// block its caller.
    pub fn put_checks_cached(&self, bucket: &str) -> bool {
        let quota = self.meta.cached_bucket_config(bucket, "quota");
        matches!(quota, Some(q) if q.as_deref().and_then(|q| q.parse::<u64>().ok()).unwrap_or(0) == 0)
            && self.meta.cached_bucket_config(bucket, retention::WORM).is_some()
    }

    /// As `put_object`, but the commit is queued to the store's commit thread, and the caller waits on the
    /// result (an async task awaits it, a thread calls `wait`). It blocks only for checks that are not cached
    /// (see `put_checks_cached`).
    pub fn put_object_queued(
        self: &std::sync::Arc<Self>,
        bucket: &str,
        key: &str,
        blob: BlobInfo,
        attrs: ObjectAttrs,
        forbid_overwrite: bool,
    ) -> wait::Waiting<ObjectRecord> {
        let rec = Self::record(bucket, key, &blob, attrs);
        let (tx, rx) = wait::channel();
        match self.put_change(&rec, forbid_overwrite) {
            Err(e) => {
                self.free_segments(&rec.segments);
                tx.send(Err(e));
            }
            Ok(change) => {
                let engine = self.clone();
                let (b, k) = (rec.bucket.clone(), rec.key.clone());
                self.meta.modify_object_then(b, k, change, Box::new(move |res| tx.send(engine.after_put(res, rec))));
            }
        }
        rx
    }

    /// Commits a finished blob as the object `bucket/key`.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        blob: BlobInfo,
        attrs: ObjectAttrs,
        forbid_overwrite: bool,
    ) -> Result<ObjectRecord> {
        self.commit_put(Self::record(bucket, key, &blob, attrs), forbid_overwrite)
    }

    /// Appends a finished blob at `position`. The first append creates the object with `attrs`.
    pub fn append_object(
        &self,
        bucket: &str,
        key: &str,
        position: u64,
        blob: BlobInfo,
        attrs: ObjectAttrs,
    ) -> Result<ObjectRecord> {
        let mut out = None;
        if let Err(e) = self.check_quota(bucket, blob.size, || Ok(0)) {
            self.blobs.remove(blob.id);
            return Err(e);
        }
        let retention = self.retention_ms(bucket).unwrap_or(0);
        crash_point!("append::commit");
        let res = self.meta.modify_object(bucket, key, &mut |old| {
            Self::check_mutable(retention, old)?;
            let rec = match old {
                None => {
                    if position != 0 {
                        return Err(position_error(key, 0));
                    }
                    let mut r = Self::record(bucket, key, &blob, attrs.clone());
                    r.otype = ObjectType::Appendable;
                    r.etag = append_etag(r.crc64, r.size);
                    r
                }
                Some(o) if o.otype != ObjectType::Appendable => {
                    return Err(Error::new(Code::ObjectNotAppendable).ctx("Key", key));
                }
                Some(o) if o.size != position => return Err(position_error(key, o.size)),
                Some(o) => {
                    let mut r = o.clone();
                    r.crc64 = crc64::combine(o.crc64, blob.crc64, blob.size);
                    r.size += blob.size;
                    r.segments.push(Segment { blob: blob.id, len: blob.size });
                    r.mtime_ms = now_ms();
                    r.etag = append_etag(r.crc64, r.size);
                    r
                }
            };
            out = Some(rec.clone());
            Ok(Change::Put(Box::new(rec)))
        });
        match (res, out) {
            (Ok(_), Some(rec)) => Ok(rec),
            (Ok(_), None) => Err(Error::internal("append decided nothing")),
            (Err(e), _) => {
                self.blobs.remove(blob.id);
                Err(e)
            }
        }
    }

    /// The object's own record (a symlink is not followed). Its blobs stay readable while it (or a copy of it)
    /// is alive, even when the object is overwritten or deleted meanwhile.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectRecord> {
        let found = self.pinned(|| Some(self.meta.get_object(bucket, key)));
        found.unwrap_or(Ok(None))?.ok_or_else(|| Error::new(Code::NoSuchKey).ctx("Key", key))
    }

    /// As `head_object`, when a metadata reader is free at once; `None` means "call `head_object` off the
    /// async workers".
    pub fn try_head_object(&self, bucket: &str, key: &str) -> Option<Result<ObjectRecord>> {
        let found = self.pinned(|| self.meta.try_get_object(bucket, key))?;
        Some(found.and_then(|o| o.ok_or_else(|| Error::new(Code::NoSuchKey).ctx("Key", key))))
    }

    /// The bytes of a whole object when all of them are in the page cache now; `None` when reading them would
    /// wait for the disk.
    pub fn read_cached(&self, rec: &ObjectRecord) -> Result<Option<Vec<u8>>> {
        blob::read_now(&*self.blobs, &self.master, &rec.segments, rec.size, rec.attrs.sse.is_some()).map_err(io)
    }

    /// The object behind `rec`: its symlink target when it is a symlink, else itself.
    pub fn resolve(&self, rec: ObjectRecord) -> Result<ObjectRecord> {
        match (&rec.otype, &rec.symlink_target) {
            (ObjectType::Symlink, Some(t)) => self
                .pinned(|| Some(self.meta.get_object(&rec.bucket, t)))
                .unwrap_or(Ok(None))?
                .ok_or_else(|| Error::new(Code::SymlinkTargetNotExist).ctx("Key", rec.key.clone())),
            _ => Ok(rec),
        }
    }

    /// Deletes the object; Ok(false) when there was none.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<bool> {
        let retention = self.retention_ms(bucket)?;
        crash_point!("delete::commit");
        let old = self.meta.modify_object(bucket, key, &mut |old| {
            Self::check_mutable(retention, old)?;
            Ok(if old.is_some() { Change::Delete } else { Change::Keep })
        })?;
        if let Some(o) = &old {
            self.retire(o.segments.iter().map(|s| s.blob));
        }
        Ok(old.is_some())
    }

    pub fn put_symlink(
        &self,
        bucket: &str,
        key: &str,
        target: &str,
        attrs: ObjectAttrs,
        forbid_overwrite: bool,
    ) -> Result<ObjectRecord> {
        names::check_object_name(target)?;
        let rec = ObjectRecord {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: 0,
            etag: hex_upper(&Md5::digest(target.as_bytes())),
            crc64: 0,
            mtime_ms: now_ms(),
            otype: ObjectType::Symlink,
            attrs,
            segments: Vec::new(),
            symlink_target: Some(target.to_string()),
            restore: None,
            pin: Default::default(),
        };
        self.commit_put(rec, forbid_overwrite)
    }

    /// Changes an existing object's attributes (ACL, tags) in place.
    pub fn update_attrs(&self, bucket: &str, key: &str, f: &dyn Fn(&mut ObjectAttrs)) -> Result<()> {
        let mut missing = false;
        self.meta.modify_object(bucket, key, &mut |old| match old {
            None => {
                missing = true;
                Ok(Change::Keep)
            }
            Some(o) => {
                let mut r = o.clone();
                f(&mut r.attrs);
                Ok(Change::Put(Box::new(r)))
            }
        })?;
        if missing {
            return Err(Error::new(Code::NoSuchKey).ctx("Key", key));
        }
        Ok(())
    }

    /// A reader of bytes `[start, start+len)` of the object.
    pub fn reader(&self, rec: &ObjectRecord, start: u64, len: u64) -> SegmentReader<'_> {
        SegmentReader::new(&*self.blobs, &self.master, &rec.segments, start, len, rec.attrs.sse.is_some())
    }

    /// Copies bytes `[start, start+len)` of `rec` into a new blob (encrypted when `encrypt`).
    pub fn copy_data(&self, rec: &ObjectRecord, start: u64, len: u64, encrypt: bool) -> Result<BlobInfo> {
        let mut w = self.new_blob(encrypt)?;
        let mut r = self.reader(rec, start, len);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = r.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            w.write(&buf[..n]).map_err(io)?;
        }
        let info = w.finish().map_err(io)?;
        crash_point!("copy::data");
        Ok(info)
    }

    // ---- multipart ----

    pub fn initiate_upload(&self, bucket: &str, key: &str, attrs: ObjectAttrs) -> Result<UploadRecord> {
        names::check_object_name(key)?;
        let id = format!("{:016X}{:016X}", random_u64(), random_u64());
        let u = UploadRecord {
            upload_id: id,
            bucket: bucket.to_string(),
            key: key.to_string(),
            initiated_ms: now_ms(),
            attrs,
        };
        self.meta.create_upload(&u)?;
        Ok(u)
    }

    /// The upload, checked to belong to `key`.
    pub fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<UploadRecord> {
        match self.meta.get_upload(bucket, upload_id)? {
            Some(u) if u.key == key => Ok(u),
            _ => Err(Error::new(Code::NoSuchUpload).ctx("UploadId", upload_id)),
        }
    }

    pub fn upload_part(&self, bucket: &str, upload_id: &str, part_number: u32, blob: BlobInfo) -> Result<PartRecord> {
        let p = PartRecord {
            part_number,
            blob: blob.id,
            size: blob.size,
            etag: hex_upper(&blob.md5),
            crc64: blob.crc64,
            mtime_ms: now_ms(),
        };
        crash_point!("multipart::part");
        match self.meta.put_part(bucket, upload_id, &p) {
            Ok(Some(old)) => {
                self.blobs.remove(old);
                Ok(p)
            }
            Ok(None) => Ok(p),
            Err(e) => {
                self.blobs.remove(blob.id);
                Err(e)
            }
        }
    }

    /// ListParts: up to `limit` parts of the upload of `key` numbered after `after`, in part-number order.
    pub fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>> {
        self.upload(bucket, key, upload_id)?;
        self.meta.list_parts(upload_id, after, limit)
    }

    /// ListMultipartUploads: up to `limit` unfinished uploads of keys starting with `prefix`, ordered by (key,
    /// upload id), after the markers.
    pub fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: &str,
        limit: usize,
    ) -> Result<Vec<UploadRecord>> {
        self.meta.list_uploads(bucket, prefix, key_marker, upload_id_marker, limit)
    }

    /// Every part of the upload, in part-number order.
    pub fn all_parts(&self, upload_id: &str) -> Result<Vec<PartRecord>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let batch = self.meta.list_parts(upload_id, after, 1000)?;
            let Some(last) = batch.last() else { break };
            after = last.part_number;
            let n = batch.len();
            out.extend(batch);
            if n < 1000 {
                break;
            }
        }
        Ok(out)
    }

    /// Completes the upload from `parts` (or from every uploaded part when `parts` is None).
    pub fn complete_upload(
        &self,
        upload: &UploadRecord,
        parts: Option<&[CompletePart]>,
        forbid_overwrite: bool,
    ) -> Result<ObjectRecord> {
        let uploaded = self.all_parts(&upload.upload_id)?;
        let chosen: Vec<&PartRecord> = match parts {
            None => uploaded.iter().collect(),
            Some(list) => {
                let mut prev = 0u32;
                let mut chosen = Vec::with_capacity(list.len());
                for p in list {
                    if p.part_number == 0 || p.part_number > MAX_PART_NUMBER {
                        return Err(Error::new(Code::InvalidPartNumber));
                    }
                    if p.part_number <= prev {
                        return Err(Error::new(Code::InvalidPartOrder));
                    }
                    prev = p.part_number;
                    let want = p.etag.trim().trim_matches('"');
                    match uploaded.iter().find(|u| u.part_number == p.part_number) {
                        Some(u) if u.etag.eq_ignore_ascii_case(want) => chosen.push(u),
                        _ => {
                            return Err(Error::new(Code::InvalidPart)
                                .ctx("PartNumber", p.part_number.to_string())
                                .ctx("ETag", p.etag.clone()))
                        }
                    }
                }
                chosen
            }
        };
        if chosen.is_empty() {
            return Err(Error::new(Code::InvalidPart));
        }
        if let Some((_, init)) = chosen.split_last() {
            if let Some(small) = init.iter().find(|p| p.size < MIN_PART_SIZE) {
                return Err(Error::new(Code::EntityTooSmall)
                    .ctx("MinSizeAllowed", MIN_PART_SIZE.to_string())
                    .ctx("ProposedSize", small.size.to_string())
                    .ctx("PartNumber", small.part_number.to_string()));
            }
        }
        // A part whose data has gone from the blob store (removed from the data dir, lost to disk damage).
        if let Some(lost) = chosen.iter().find(|p| !self.blobs.exists(p.blob).unwrap_or(false)) {
            return Err(Error::new(Code::FilePartNotExist).ctx("PartNumber", lost.part_number.to_string()));
        }
        let existing = self.meta.get_object(&upload.bucket, &upload.key)?;
        let total: u64 = chosen.iter().map(|p| p.size).sum();
        self.check_quota(&upload.bucket, total, || Ok(existing.as_ref().map(|o| o.size).unwrap_or(0)))?;
        if forbid_overwrite && existing.is_some() {
            return Err(Error::new(Code::FileAlreadyExistsMultipart).ctx("Key", upload.key.clone()));
        }
        Self::check_mutable(self.retention_ms(&upload.bucket)?, existing.as_ref())?;
        let mut md5s = Md5::new();
        let mut crc = 0u64;
        let mut size = 0u64;
        let mut segments = Vec::with_capacity(chosen.len());
        for p in &chosen {
            let mut raw = [0u8; 16];
            for (i, b) in raw.iter_mut().enumerate() {
                *b = u8::from_str_radix(p.etag.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0);
            }
            md5s.update(raw);
            crc = crc64::combine(crc, p.crc64, p.size);
            size += p.size;
            segments.push(Segment { blob: p.blob, len: p.size });
        }
        let rec = ObjectRecord {
            bucket: upload.bucket.clone(),
            key: upload.key.clone(),
            size,
            etag: format!("{}-{}", hex_upper(&md5s.finalize()), chosen.len()),
            crc64: crc,
            mtime_ms: now_ms(),
            otype: ObjectType::Multipart,
            attrs: upload.attrs.clone(),
            segments,
            symlink_target: None,
            restore: None,
            pin: Default::default(),
        };
        crash_point!("multipart::complete");
        let (part_blobs, old) = self.meta.finish_upload(&upload.bucket, &upload.upload_id, Some(&rec))?;
        crash_point!("multipart::parts");
        for b in part_blobs {
            if !rec.segments.iter().any(|s| s.blob == b) {
                self.blobs.remove(b);
            }
        }
        self.free_replaced(old.as_ref(), &rec.segments);
        Ok(rec)
    }

    pub fn abort_upload(&self, bucket: &str, upload_id: &str) -> Result<()> {
        let (blobs, _) = self.meta.finish_upload(bucket, upload_id, None)?;
        for b in blobs {
            self.blobs.remove(b);
        }
        Ok(())
    }
}

fn position_error(key: &str, next: u64) -> Error {
    Error::new(Code::PositionNotEqualToLength).ctx("Key", key).header("x-oss-next-append-position", next.to_string())
}

/// Appendable objects have no whole-body MD5 to hand (it would need a re-read); their ETag is derived
/// from the CRC and the length, so it changes whenever the content does.
fn append_etag(crc: u64, size: u64) -> String {
    hex_upper(&Md5::digest(format!("{crc}:{size}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> ObjectAttrs {
        ObjectAttrs { acl: "default".into(), storage_class: "Standard".into(), ..Default::default() }
    }

    /// An engine (fsync on) in a new temp directory.
    fn temp_engine() -> (std::sync::Arc<Engine>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ossd-engine-{}", random_u64()));
        (std::sync::Arc::new(Engine::open(&dir, true, "cn-hangzhou").unwrap()), dir)
    }

    fn blob(e: &Engine, data: &[u8]) -> BlobInfo {
        let mut w = e.new_blob(false).unwrap();
        w.write(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn a_write_waits_out_another_connection_holding_the_write_lock() {
        let (e, dir) = temp_engine();
        e.create_bucket("owner", "locks", "private", "Standard").unwrap();
        let other = rusqlite::Connection::open(dir.join("meta.sqlite")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            rx.recv().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        tx.send(()).unwrap();
        // Started while the lock is held: it must wait for it, not fail with "database is locked".
        let b = blob(&e, &vec![1u8; 100_000]);
        e.put_object("locks", "k", b, attrs(), false).unwrap();
        holder.join().unwrap();
        assert_eq!(e.head_object("locks", "k").unwrap().size, 100_000);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reopening_keeps_objects_inline_or_not_and_sweeps_blobs_no_record_names() {
        let dir = std::env::temp_dir().join(format!("ossd-engine-{}", random_u64()));
        let big = vec![9u8; 100_000];
        let (orphans, kept) = {
            let e = Engine::open(&dir, true, "cn-hangzhou").unwrap();
            e.create_bucket("owner", "keep", "private", "Standard").unwrap();
            let small = blob(&e, b"inline bytes");
            let large = blob(&e, &big);
            e.put_object("keep", "small", small, attrs(), false).unwrap();
            e.put_object("keep", "large", large, attrs(), false).unwrap();
            // Finished blobs whose records never got written: what a crash between the two steps leaves.
            (vec![blob(&e, b"lost").id, blob(&e, &big).id], vec![small.id, large.id])
        };
        let e = Engine::open(&dir, true, "cn-hangzhou").unwrap();
        let mut left = e.blobs.all_ids().unwrap();
        left.sort();
        let mut want = kept.clone();
        want.sort();
        assert_eq!(left, want, "orphans {orphans:x?} swept, the rest kept");
        for (key, body) in [("small", &b"inline bytes"[..]), ("large", &big[..])] {
            let rec = e.head_object("keep", key).unwrap();
            let mut out = Vec::new();
            e.reader(&rec, 0, rec.size).read_to_end(&mut out).unwrap();
            assert_eq!(out, body, "{key}");
        }
        // Deleting frees the blob, inline or file.
        for key in ["small", "large"] {
            let id = e.head_object("keep", key).unwrap().segments[0].blob;
            assert!(e.delete_object("keep", key).unwrap());
            assert!(!e.blobs.exists(id).unwrap(), "{key}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_record_read_for_a_reader_keeps_its_blobs_through_overwrite_delete_and_append() {
        let (e, dir) = temp_engine();
        e.create_bucket("owner", "snap", "private", "Standard").unwrap();
        let read = |rec: &ObjectRecord| {
            let mut out = Vec::new();
            e.reader(rec, 0, rec.size).read_to_end(&mut out).unwrap();
            out
        };
        for (key, old, new) in [("inline", vec![1u8; 100], vec![2u8; 200]), ("file", vec![3u8; 90_000], vec![4u8; 10])]
        {
            e.put_object("snap", key, blob(&e, &old), attrs(), false).unwrap();
            let first = e.head_object("snap", key).unwrap();
            let id = first.segments[0].blob;
            e.put_object("snap", key, blob(&e, &new), attrs(), false).unwrap();
            assert!(e.blobs.exists(id).unwrap(), "{key}: replaced while a reader holds it");
            let copy = first.clone();
            drop(first);
            assert_eq!(read(&copy), old, "{key}: the reader sees the version it looked up");
            let second = e.head_object("snap", key).unwrap();
            assert!(e.delete_object("snap", key).unwrap());
            assert_eq!(read(&second), new, "{key}: deleted while read");
            drop(copy);
            drop(second);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while e.blobs.exists(id).unwrap() {
                assert!(std::time::Instant::now() < deadline, "{key}: not reclaimed after its readers left");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        // An append does not change what a reader that started before it sees.
        let mut b = blob(&e, b"first ");
        e.append_object("snap", "log", 0, b, attrs()).unwrap();
        let before = e.head_object("snap", "log").unwrap();
        b = blob(&e, b"second");
        e.append_object("snap", "log", 6, b, attrs()).unwrap();
        assert_eq!(read(&before), b"first ");
        assert_eq!(e.reclaim.deferred(), 0);
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn queued_puts_commit_in_shared_batches_and_a_refused_one_frees_its_blob() {
        let (e, dir) = temp_engine();
        e.create_bucket("owner", "queued", "private", "Standard").unwrap();
        assert!(!e.put_checks_cached("queued"), "nothing read yet: the checks would query");
        e.put_object("queued", "first", blob(&e, b"1"), attrs(), false).unwrap();
        assert!(e.put_checks_cached("queued"), "the blocking PUT read and cached them");
        let waits: Vec<_> = (0..200)
            .map(|i| {
                let b = blob(&e, format!("body {i}").as_bytes());
                e.put_object_queued("queued", &format!("k{i}"), b, attrs(), false)
            })
            .collect();
        for (i, w) in waits.into_iter().enumerate() {
            assert_eq!(w.wait().unwrap().key, format!("k{i}"));
        }
        for i in [0, 99, 199] {
            let rec = e.head_object("queued", &format!("k{i}")).unwrap();
            let mut out = Vec::new();
            e.reader(&rec, 0, rec.size).read_to_end(&mut out).unwrap();
            assert_eq!(out, format!("body {i}").as_bytes());
        }
        // Refused in the commit thread (forbid-overwrite): the error comes back and the new blob is freed.
        let b = blob(&e, b"second");
        let err = e.put_object_queued("queued", "k5", b, attrs(), true).wait().unwrap_err();
        assert_eq!(err.code, Code::FileAlreadyExists);
        assert!(!e.blobs.exists(b.id).unwrap());
        // Overwritten: the replaced blob is freed after the new record is committed (queued behind it).
        let old = e.head_object("queued", "k6").unwrap().segments[0].blob;
        e.put_object_queued("queued", "k6", blob(&e, b"new"), attrs(), false).wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while e.blobs.exists(old).unwrap() {
            assert!(std::time::Instant::now() < deadline, "the replaced blob is still there");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // A quota makes the checks query again (the bucket's size), so the server takes the blocking path.
        e.set_quota("queued", 1 << 30).unwrap();
        e.quota("queued").unwrap();
        assert!(!e.put_checks_cached("queued"));
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_queued_overwrites_free_the_replaced_blobs_without_stalling_the_commit_pipeline() {
        let (e, dir) = temp_engine();
        e.create_bucket("owner", "over", "private", "Standard").unwrap();
        e.put_object("over", "k0", blob(&e, b"0"), attrs(), false).unwrap();
        // Each overwrite frees the blob it replaced once it is committed. That happens on the commit pipeline's
        // own threads, which must not wait on the pipeline for it (that once stalled every write).
        let (tx, rx) = std::sync::mpsc::channel();
        for t in 0..8 {
            let (e, tx) = (e.clone(), tx.clone());
            std::thread::spawn(move || {
                for i in 0..100 {
                    let b = blob(&e, format!("{t} {i}").as_bytes());
                    e.put_object_queued("over", &format!("k{}", i % 8), b, attrs(), false).wait().unwrap();
                }
                tx.send(()).unwrap();
            });
        }
        for _ in 0..8 {
            rx.recv_timeout(std::time::Duration::from_secs(30)).expect("the writes stalled");
        }
        // The frees are queued behind the writes: at the end only the 8 live objects' blobs are left.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut want: Vec<u64> =
            (0..8).map(|i| e.head_object("over", &format!("k{i}")).unwrap().segments[0].blob).collect();
        want.sort();
        loop {
            let mut left = e.blobs.all_ids().unwrap();
            left.sort();
            if left == want {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{} blobs left, {} live", left.len(), want.len());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
