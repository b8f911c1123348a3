//! The two storage traits the engine is written against, and their embedded implementations.

pub mod files;
pub mod sqlite;
pub mod sys;

use crate::live::{LiveChannel, LiveRecord, LiveSegment};
use crate::model::{BucketRecord, ObjectRecord, PartRecord, UploadRecord, UserRecord};
use ossd_errors::Result;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// What a read-modify-write of one object decides.
pub enum Change {
    /// Leave the object as it is.
    Keep,
    /// Store this record in place of whatever was there.
    Put(Box<ObjectRecord>),
    /// Remove the object.
    Delete,
}

/// A decision that `modify_object_then` makes once, on another thread.
pub type ChangeFn = Box<dyn FnOnce(Option<&ObjectRecord>) -> Result<Change> + Send>;
/// Where `modify_object_then` sends its result: the record that was there before.
pub type ModifyDone = Box<dyn FnOnce(Result<Option<ObjectRecord>>) + Send>;

/// `f` as the `FnMut` that `modify_object` takes: a second call is an error.
pub fn once(f: ChangeFn) -> impl FnMut(Option<&ObjectRecord>) -> Result<Change> {
    let mut f = Some(f);
    move |old| match f.take() {
        Some(f) => f(old),
        None => Err(ossd_errors::Error::internal("a write's decision was asked for twice")),
    }
}

/// Transactional records. Every method is one transaction.
pub trait MetaStore: Send + Sync {
    fn put_user(&self, u: &UserRecord) -> Result<()>;
    fn get_user(&self, access_key_id: &str) -> Result<Option<UserRecord>>;
    fn root_user(&self) -> Result<Option<UserRecord>>;
    fn list_users(&self) -> Result<Vec<UserRecord>>;
    /// Removes a user; Ok(false) if there was none.
    fn delete_user(&self, access_key_id: &str) -> Result<bool>;

    /// Creates the bucket; Ok(false) when it already exists (the caller checks the owner).
    fn create_bucket(&self, b: &BucketRecord) -> Result<(bool, BucketRecord)>;
    fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>>;
    /// Buckets of `owner` with names after `marker` and starting with `prefix`, in name order.
    fn list_buckets(&self, owner: &str, prefix: &str, marker: &str, limit: usize) -> Result<Vec<BucketRecord>>;
    fn count_buckets(&self, owner: &str) -> Result<usize>;
    /// The bytes the bucket's objects hold.
    fn bucket_size(&self, bucket: &str) -> Result<u64>;
    /// Deletes an empty bucket: Err(BucketNotEmpty) if it holds objects or uploads, Ok(false) if missing.
    /// Removes an empty bucket. With `drop_uploads`, its unfinished multipart uploads go with it (S3's rule) and
    /// their part blobs are returned; without, they make the bucket not empty (OSS's rule).
    /// `None` when there is no such bucket.
    fn delete_bucket(&self, name: &str, drop_uploads: bool) -> Result<Option<Vec<u64>>>;
    fn set_bucket_acl(&self, name: &str, acl: &str) -> Result<()>;

    /// A bucket's configuration document of one kind (cors, lifecycle, website, logging, worm, …).
    fn put_bucket_config(&self, bucket: &str, kind: &str, body: &str) -> Result<()>;
    fn get_bucket_config(&self, bucket: &str, kind: &str) -> Result<Option<String>>;
    fn delete_bucket_config(&self, bucket: &str, kind: &str) -> Result<bool>;
    /// Every bucket's configuration of one kind, for background workers.
    fn bucket_configs(&self, kind: &str) -> Result<Vec<(String, String)>>;
    /// Puts (`Some`) or removes (`None`) each `(bucket, kind, body)` configuration, all in one transaction.
    fn replace_bucket_configs(&self, changes: &[(String, &str, Option<String>)]) -> Result<()>;

    fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>>;
    /// As `get_object`, but only when it can run at once (a reader is free); `None` means "ask `get_object`
    /// off the async workers". Lets a hot read skip the hop to the blocking pool.
    fn try_get_object(&self, _bucket: &str, _key: &str) -> Option<Result<Option<ObjectRecord>>> {
        None
    }
    /// Reads the object, lets `f` decide, and applies the decision in one transaction.
    /// Returns the record that was there before.
    fn modify_object(
        &self,
        bucket: &str,
        key: &str,
        f: &mut dyn FnMut(Option<&ObjectRecord>) -> Result<Change>,
    ) -> Result<Option<ObjectRecord>>;
    /// As `modify_object`, but queued: the caller does not wait. `done` gets the result (on another thread)
    /// once the change is committed (durable, with fsync on) or has failed.
    fn modify_object_then(&self, bucket: String, key: String, f: ChangeFn, done: ModifyDone) {
        done(self.modify_object(&bucket, &key, &mut once(f)))
    }
    /// A bucket's configuration of one kind if it is known without a query (`None`: it is not).
    fn cached_bucket_config(&self, _bucket: &str, _kind: &str) -> Option<Option<String>> {
        None
    }
    /// Objects with `from <= key` (or `<` when `!inclusive`) and `key < end`, in byte order, with `fields`.
    fn scan_objects(
        &self,
        bucket: &str,
        from: &[u8],
        inclusive: bool,
        end: Option<&[u8]>,
        limit: usize,
        fields: Fields,
    ) -> Result<Vec<ObjectRecord>>;

    fn create_upload(&self, u: &UploadRecord) -> Result<()>;
    fn get_upload(&self, bucket: &str, upload_id: &str) -> Result<Option<UploadRecord>>;
    /// Stores a part; returns the blob of the part it replaced. Err(NoSuchUpload) if the upload is gone.
    fn put_part(&self, bucket: &str, upload_id: &str, p: &PartRecord) -> Result<Option<u64>>;
    fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>>;
    /// Uploads ordered by (key, upload id), after the markers.
    fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: &str,
        limit: usize,
    ) -> Result<Vec<UploadRecord>>;
    /// Removes the upload and its parts, and stores `obj` (when given) in one transaction.
    /// Returns every part blob and the replaced object's record.
    fn finish_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        obj: Option<&ObjectRecord>,
    ) -> Result<(Vec<u64>, Option<ObjectRecord>)>;

    /// Every blob id a record refers to, for the startup sweep of orphaned blobs.
    fn referenced_blobs(&self) -> Result<Vec<u64>>;

    // LiveChannels (see `crate::live`). A bucket with channels is not empty.
    /// Creates or replaces a channel's configuration.
    fn put_live_channel(&self, c: &LiveChannel) -> Result<()>;
    fn get_live_channel(&self, bucket: &str, name: &str) -> Result<Option<LiveChannel>>;
    /// Channels named after `marker` and starting with `prefix`, in name order.
    fn list_live_channels(&self, bucket: &str, prefix: &str, marker: &str, limit: usize) -> Result<Vec<LiveChannel>>;
    /// Removes a channel with its history and segment index; Ok(false) if there was none.
    fn delete_live_channel(&self, bucket: &str, name: &str) -> Result<bool>;
    /// Stores a push record (replacing the one with the same start), keeping the latest `keep`.
    fn put_live_record(&self, bucket: &str, name: &str, rec: &LiveRecord, keep: usize) -> Result<()>;
    /// The latest `limit` push records, newest first.
    fn live_records(&self, bucket: &str, name: &str, limit: usize) -> Result<Vec<LiveRecord>>;
    fn add_live_segment(&self, bucket: &str, name: &str, seg: &LiveSegment) -> Result<()>;
    /// Segments that started within [from_ms, to_ms], in time order.
    fn live_segments(
        &self,
        bucket: &str,
        name: &str,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<LiveSegment>>;
}

/// Which fields of an object record a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fields {
    All,
    /// Only what a listing shows: key, size, ETag, mtime, type and storage class. Every other field is left
    /// empty (no headers, metadata, tags, segments or SSE are read or decoded).
    Listing,
}

/// Small blobs kept inside the metadata store: a small write is then one append to the metadata log, and the
/// flush that makes its record durable makes its bytes durable too (group commit of data and metadata).
pub trait InlineBlobs: Send + Sync {
    /// Stores a blob: durably once a record or part that names it is committed (in the same transaction, or
    /// before it in the same log), and never alone before that.
    fn put_inline(&self, id: u64, data: &[u8]) -> Result<()>;
    fn get_inline(&self, id: u64) -> Result<Option<Vec<u8>>>;
    /// As `get_inline`, but only when a reader is free at once.
    fn try_get_inline(&self, id: u64) -> Option<Result<Option<Vec<u8>>>>;
    /// Whether there was such a blob. On a store's own commit threads the delete may be queued rather than
    /// waited for; it then answers false (not known), and the caller also tries the blob's file.
    fn delete_inline(&self, id: u64) -> Result<bool>;
    fn inline_ids(&self) -> Result<Vec<u64>>;
}

/// Bytes by internal id: what the engine stores object data in. A blob is written once and never changed; it is
/// named by an id the store hands out, never by a user's key. Checksums and encryption are the engine's (see
/// `crate::blob`): a store keeps the bytes it is given.
pub trait BlobStore: Send + Sync {
    /// A fresh id for a new blob.
    fn new_id(&self) -> u64;
    /// Blobs of up to this many bytes are handed over whole with `put_small` (a writer keeps them in memory
    /// until then); 0: every blob streams through `create`.
    fn small_max(&self) -> usize {
        0
    }
    /// Whether a blob of `len` bytes is stored without I/O of its own (its bytes go with its record's commit):
    /// then writing and finishing it need not leave the async workers.
    fn keeps_inline(&self, _len: u64) -> bool {
        false
    }
    /// Stores a whole blob of at most `small_max` bytes, as durably as `BlobSink::finish`.
    fn put_small(&self, id: u64, data: &[u8]) -> io::Result<()>;
    /// Starts a blob written as a stream; Err(AlreadyExists) when `id` is taken.
    fn create(&self, id: u64) -> io::Result<Box<dyn BlobSink>>;
    /// A reader of blob `id` from byte `offset` on.
    fn open(&self, id: u64, offset: u64) -> io::Result<Box<dyn Read + Send>>;
    /// Fills `dst` with the whole of blob `id` when that needs no waiting (memory, page cache); Ok(false) when
    /// it would wait. Lets a small read stay on an async worker.
    fn read_now(&self, _id: u64, _dst: &mut [u8]) -> io::Result<bool> {
        Ok(false)
    }
    /// The stored length of blob `id`; None when it is not stored.
    fn stored_len(&self, id: u64) -> io::Result<Option<u64>>;
    /// Whether blob `id` is stored.
    fn exists(&self, id: u64) -> io::Result<bool> {
        Ok(self.stored_len(id)?.is_some())
    }
    /// Removes blob `id`. A missing blob is no error; a failure is logged (the start-up sweep retries it).
    fn remove(&self, id: u64);
    /// Every blob id stored, for the start-up sweep of orphans and fsck.
    fn all_ids(&self) -> io::Result<Vec<u64>>;
}

/// A blob being written as a stream. Dropped without `finish`, it removes what it wrote.
pub trait BlobSink: Send {
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// Makes the blob complete and durable (fsynced, unless the store was told not to).
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The embedded stores of a data dir: SQLite metadata (which also holds small blobs) and blob files.
pub fn open_embedded(data_dir: &Path, fsync: bool) -> Result<(Arc<sqlite::SqliteMeta>, Arc<dyn BlobStore>)> {
    let meta = sqlite::SqliteMeta::open(data_dir, fsync)?;
    let blobs = files::FileBlobStore::open(data_dir, fsync, Some(meta.clone()))
        .map_err(|e| ossd_errors::Error::internal(format!("blob store: {e}")))?;
    Ok((meta, Arc::new(blobs)))
}
