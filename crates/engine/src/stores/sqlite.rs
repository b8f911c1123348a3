//! MetaStore on SQLite (bundled), in WAL mode: one writer connection, a few readers.
//! Keys are stored as BLOBs so that ordering is plain byte order, as OSS lists them.

use super::{once, Change, ChangeFn, Fields, InlineBlobs, MetaStore, ModifyDone};
use crate::live::{LiveChannel, LiveRecord, LiveSegment};
use crate::model::*;
use ossd_errors::{Code, Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users(ak TEXT PRIMARY KEY, secret TEXT NOT NULL, enabled INTEGER NOT NULL, is_root INTEGER NOT NULL,
  key_enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS buckets(name TEXT PRIMARY KEY, owner TEXT NOT NULL, created INTEGER NOT NULL,
  acl TEXT NOT NULL, storage_class TEXT NOT NULL, region TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS buckets_by_owner ON buckets(owner, name);
CREATE TABLE IF NOT EXISTS objects(bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  crc64 INTEGER NOT NULL, mtime INTEGER NOT NULL, otype TEXT NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL,
  meta TEXT NOT NULL, acl TEXT NOT NULL, storage_class TEXT NOT NULL, tags TEXT NOT NULL, segments TEXT NOT NULL,
  symlink TEXT, extra TEXT NOT NULL DEFAULT '', PRIMARY KEY(bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads(upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated INTEGER NOT NULL,
  content_type TEXT NOT NULL, headers TEXT NOT NULL, meta TEXT NOT NULL, acl TEXT NOT NULL, storage_class TEXT NOT NULL, tags TEXT NOT NULL,
  extra TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS parts(upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob INTEGER NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, crc64 INTEGER NOT NULL, mtime INTEGER NOT NULL, PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inline_blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bucket_configs(bucket TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(bucket, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS live_channels(bucket TEXT NOT NULL, name BLOB NOT NULL, description TEXT NOT NULL, status TEXT NOT NULL,
  frag_duration INTEGER NOT NULL, frag_count INTEGER NOT NULL, playlist_name TEXT NOT NULL, mtime INTEGER NOT NULL,
  PRIMARY KEY(bucket, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS live_records(bucket TEXT NOT NULL, name BLOB NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  remote_addr TEXT NOT NULL, PRIMARY KEY(bucket, name, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS live_segments(bucket TEXT NOT NULL, name BLOB NOT NULL, start INTEGER NOT NULL, duration INTEGER NOT NULL,
  PRIMARY KEY(bucket, name, start)) WITHOUT ROWID;
";

const OBJ_COLS: &str =
    "bucket, key, size, etag, crc64, mtime, otype, content_type, headers, meta, acl, storage_class, tags, segments, symlink, extra";
const UPLOAD_COLS: &str =
    "upload_id, bucket, key, initiated, content_type, headers, meta, acl, storage_class, tags, extra";
/// The columns `row_user` reads, in its order (a macro so that `concat!` builds each statement at compile time).
macro_rules! user_cols {
    () => {
        "ak, secret, enabled, is_root, key_enabled"
    };
}
/// The columns `row_bucket` reads, in its order.
macro_rules! bucket_cols {
    () => {
        "name, owner, created, acl, storage_class, region"
    };
}
const READERS: usize = 4;

pub struct SqliteMeta {
    writer: Mutex<Writer>,
    /// Threads waiting for the writer: while there are any, a finished write leaves its transaction open for
    /// them to join (see `write`).
    queued: AtomicUsize,
    /// Write transactions committed, counted under the writer lock (so in WAL order).
    commits: AtomicU64,
    readers: Vec<Mutex<Connection>>,
    /// Group commit: transactions commit without their own fsync; the WAL is then fsynced outside the writer
    /// lock, and one fsync covers every commit made before it.
    group: Option<GroupSync>,
    /// Inline blobs finished but not yet named by a record: written in the same transaction as the record
    /// (or part) that first names them, so a small PUT is one transaction. Bounded by PENDING_MAX bytes;
    /// past that, put_inline writes at once.
    pending: Mutex<Pending>,
    configs: ConfigCache,
    /// Writes handed to the commit thread (`modify_object_then`).
    jobs: Arc<Queue<Job>>,
    /// Batches the commit thread committed, for the sync thread to make durable and report.
    syncs: Arc<Queue<Synced>>,
    /// Wakes the checkpoint thread (see `checkpoint_loop`).
    checkpoints: Arc<Queue<()>>,
    /// Whether the WAL has grown long (see `checkpoint_loop`).
    wal: Arc<WalLength>,
}

/// Set by the checkpoint thread when the WAL is longer than `limit` frames: the writer then checkpoints before
/// its next transaction, so that the WAL starts over.
struct WalLength {
    long: std::sync::atomic::AtomicBool,
    limit: std::sync::atomic::AtomicI64,
}

/// The checkpoint thread is woken every this many commits.
const CHECKPOINT_EVERY: u64 = 16;
/// A WAL longer than this many frames (4 KiB each) makes the writer checkpoint it itself.
const WAL_LONG_FRAMES: i64 = 16_384;

/// `PRAGMA wal_checkpoint(PASSIVE)`: whether the WAL is fully copied into the database, and its length.
fn checkpoint(c: &Connection) -> rusqlite::Result<(bool, i64)> {
    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        let (busy, log, done): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        Ok((busy == 0 && log == done, log))
    })
}

/// The checkpoint thread: copies the WAL into the database on its own connection, beside the writer (SQLite's
/// automatic checkpoint would run inside the commit that crosses its threshold, on the commit thread). A
/// checkpoint that runs beside writes rarely catches the WAL's end, and the WAL starts over only when one has;
/// so when the WAL grows past WAL_LONG_FRAMES it asks the writer to checkpoint before its next transaction.
fn checkpoint_loop(wake: Arc<Queue<()>>, c: Connection, wal: Arc<WalLength>) {
    while wake.take().is_some() {
        match checkpoint(&c) {
            Ok((_, log)) if log > wal.limit.load(Ordering::Relaxed) => wal.long.store(true, Ordering::SeqCst),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

/// A queued write: it runs on the commit thread inside the open transaction, and returns what to call with the
/// transaction's outcome once it is committed (and durable) or has failed.
type Job = Box<dyn FnOnce(&SqliteMeta, &Connection) -> Finisher + Send>;
type Finisher = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;

thread_local! {
    /// Set on the commit and sync threads. What they run after a commit (the callers' `done`, which frees
    /// replaced blobs) must not wait on a write: the write would wait for a commit that only they can finish.
    static PIPELINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn on_pipeline() -> bool {
    PIPELINE.with(|p| p.get())
}

/// A committed batch on its way to the sync thread: the store, what the commit owes, and whom to tell.
type Synced = (Arc<SqliteMeta>, Committed, Vec<Finisher>);

/// A queue between threads, closed when the store is dropped.
struct Queue<T> {
    /// The items, and whether the queue is closed.
    items: Mutex<(Vec<T>, bool)>,
    cv: Condvar,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue { items: Mutex::new((Vec::new(), false)), cv: Condvar::new() }
    }
}

impl<T> Queue<T> {
    fn lock(&self) -> MutexGuard<'_, (Vec<T>, bool)> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, item: T) {
        let mut q = self.lock();
        q.0.push(item);
        if q.0.len() == 1 {
            self.cv.notify_one();
        }
    }

    /// Waits for items and takes them all; `None` once the queue is closed and empty.
    fn take(&self) -> Option<Vec<T>> {
        let mut q = self.lock();
        loop {
            if !q.0.is_empty() {
                return Some(std::mem::take(&mut q.0));
            }
            if q.1 {
                return None;
            }
            q = self.cv.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn close(&self) {
        self.lock().1 = true;
        self.cv.notify_all();
    }
}

/// The commit thread: takes every queued write, runs them in one transaction (each in its savepoint), commits,
/// and hands the batch to the sync thread, which fsyncs and tells each write. Writes queued meanwhile form the
/// next batch, so the batch grows with the load; and the next batch runs while the last one is being fsynced.
fn commit_loop(jobs: Arc<Queue<Job>>, syncs: Arc<Queue<Synced>>, meta: std::sync::Weak<SqliteMeta>) {
    PIPELINE.with(|p| p.set(true));
    while let Some(batch) = jobs.take() {
        // Each job's sender tells its waiter if the job is dropped unrun.
        let Some(m) = meta.upgrade() else { return };
        let mut finish = Vec::with_capacity(batch.len());
        let (res, committed) = m.run_write(|c| {
            for job in batch {
                finish.push(job(&m, c));
            }
            Ok(())
        });
        match committed {
            Some(c) => syncs.push((m.clone(), c, finish)),
            // Another thread committed the batch this one joined; it has been fsynced.
            None => tell(finish, res),
        }
    }
}

/// Tells each write of a batch the batch's outcome.
fn tell(finish: Vec<Finisher>, outcome: Result<()>) {
    let outcome = outcome.map_err(|e| e.to_string());
    for f in finish {
        f(outcome.clone());
    }
}

/// The sync thread: fsyncs what the commit thread committed (one fsync for all it finds queued) and tells
/// each write.
fn sync_loop(syncs: Arc<Queue<Synced>>) {
    PIPELINE.with(|p| p.set(true));
    while let Some(batches) = syncs.take() {
        for (m, committed, finish) in batches {
            tell(finish, committed.finish(&m));
        }
    }
}

impl Drop for SqliteMeta {
    fn drop(&mut self) {
        self.jobs.close();
        self.syncs.close();
        self.checkpoints.close();
    }
}

/// The writer connection and the transaction it has open, shared by every write made since it began.
struct Writer {
    conn: Connection,
    batch: Option<Arc<Batch>>,
    ops: usize,
}

/// One write transaction that several writes share: each waits here until it is committed (and, with fsync on,
/// durable) or has failed.
#[derive(Default)]
struct Batch {
    outcome: Mutex<Option<std::result::Result<(), String>>>,
    cv: Condvar,
}

impl Batch {
    fn publish(&self, r: std::result::Result<(), String>) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        self.cv.notify_all();
    }

    fn wait(&self) -> Result<()> {
        let mut o = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match &*o {
                Some(Ok(())) => return Ok(()),
                Some(Err(e)) => return Err(Error::internal(e.clone())),
                None => o = self.cv.wait(o).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

/// What the thread that committed a batch still owes it: the fsync, then telling the batch's other writes.
struct Committed {
    batch: Arc<Batch>,
    /// The commit's number (see `SqliteMeta::sync`).
    mine: u64,
    committed: Result<()>,
}

impl Committed {
    fn finish(self, m: &SqliteMeta) -> Result<()> {
        let outcome = self.committed.and_then(|()| m.sync(self.mine));
        self.batch.publish(outcome.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        outcome
    }
}

/// At most this many writes share one transaction.
const BATCH_MAX: usize = 256;

#[derive(Default)]
struct Pending {
    blobs: std::collections::HashMap<u64, Vec<u8>>,
    bytes: usize,
}

const PENDING_MAX: usize = 64 << 20;

/// Bucket configurations as the table holds them (absent ones too), so that the checks every write makes
/// (quota, retention) cost no query. Every change goes through this store and drops its entry after it is
/// committed; `gen` counts those drops, so that a read that raced a change does not cache what it read.
#[derive(Default)]
struct ConfigCache(Mutex<(u64, std::collections::HashMap<String, Option<String>>)>);

const CONFIG_CACHE_MAX: usize = 100_000;

impl ConfigCache {
    fn lock(&self) -> MutexGuard<'_, (u64, std::collections::HashMap<String, Option<String>>)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value, if any, and the generation to hand to `put` after reading the table.
    fn get(&self, bucket: &str, kind: &str) -> (Option<Option<String>>, u64) {
        let c = self.lock();
        (c.1.get(&format!("{bucket}\n{kind}")).cloned(), c.0)
    }

    fn put(&self, gen: u64, bucket: &str, kind: &str, v: &Option<String>) {
        let mut c = self.lock();
        if c.0 == gen {
            if c.1.len() >= CONFIG_CACHE_MAX {
                c.1.clear();
            }
            c.1.insert(format!("{bucket}\n{kind}"), v.clone());
        }
    }

    fn forget(&self, bucket: &str, kind: &str) {
        let mut c = self.lock();
        c.0 += 1;
        c.1.remove(&format!("{bucket}\n{kind}"));
    }
}

struct GroupSync {
    synced: Mutex<u64>,
    wal: std::path::PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

fn db(e: rusqlite::Error) -> Error {
    match e.sqlite_error() {
        Some(f) => Error::internal(format!("metadata store: {e} (SQLite code {})", f.extended_code)),
        None => Error::internal(format!("metadata store: {e}")),
    }
}

fn open_conn(path: &Path, fsync: bool) -> Result<Connection> {
    let c = Connection::open(path).map_err(db)?;
    c.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
    // With fsync on, durability comes from the group fsync of the WAL (see GroupSync).
    let sync = if fsync { "NORMAL" } else { "OFF" };
    // temp_store=MEMORY keeps each write's savepoint journal in memory (by default it spills to a temp file).
    c.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
    ))
    .map_err(db)?;
    Ok(c)
}

fn key_text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn row_object(r: &Row) -> rusqlite::Result<ObjectRecord> {
    let (sse, restore) = decode_extra(&r.get::<_, String>(15)?);
    Ok(ObjectRecord {
        bucket: r.get(0)?,
        key: key_text(r.get(1)?),
        size: r.get::<_, i64>(2)? as u64,
        etag: r.get(3)?,
        crc64: r.get::<_, i64>(4)? as u64,
        mtime_ms: r.get(5)?,
        otype: ObjectType::parse(&r.get::<_, String>(6)?),
        attrs: ObjectAttrs {
            content_type: r.get(7)?,
            headers: decode_pairs(&r.get::<_, String>(8)?),
            user_meta: decode_pairs(&r.get::<_, String>(9)?),
            acl: r.get(10)?,
            storage_class: r.get(11)?,
            tags: decode_pairs(&r.get::<_, String>(12)?),
            sse,
        },
        segments: decode_segments(&r.get::<_, String>(13)?),
        symlink_target: r.get(14)?,
        restore,
        pin: Default::default(),
    })
}

const LISTING_COLS: &str = "bucket, key, size, etag, mtime, otype, storage_class";

fn row_listed(r: &Row) -> rusqlite::Result<ObjectRecord> {
    Ok(ObjectRecord {
        bucket: r.get(0)?,
        key: key_text(r.get(1)?),
        size: r.get::<_, i64>(2)? as u64,
        etag: r.get(3)?,
        crc64: 0,
        mtime_ms: r.get(4)?,
        otype: ObjectType::parse(&r.get::<_, String>(5)?),
        attrs: ObjectAttrs { storage_class: r.get(6)?, ..ObjectAttrs::default() },
        segments: Vec::new(),
        symlink_target: None,
        restore: None,
        pin: Default::default(),
    })
}

fn row_upload(r: &Row) -> rusqlite::Result<UploadRecord> {
    let (sse, _) = decode_extra(&r.get::<_, String>(10)?);
    Ok(UploadRecord {
        upload_id: r.get(0)?,
        bucket: r.get(1)?,
        key: key_text(r.get(2)?),
        initiated_ms: r.get(3)?,
        attrs: ObjectAttrs {
            content_type: r.get(4)?,
            headers: decode_pairs(&r.get::<_, String>(5)?),
            user_meta: decode_pairs(&r.get::<_, String>(6)?),
            acl: r.get(7)?,
            storage_class: r.get(8)?,
            tags: decode_pairs(&r.get::<_, String>(9)?),
            sse,
        },
    })
}

fn row_bucket(r: &Row) -> rusqlite::Result<BucketRecord> {
    Ok(BucketRecord {
        name: r.get(0)?,
        owner: r.get(1)?,
        created_ms: r.get(2)?,
        acl: r.get(3)?,
        storage_class: r.get(4)?,
        region: r.get(5)?,
    })
}

fn row_user(r: &Row) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        access_key_id: r.get(0)?,
        secret: r.get(1)?,
        enabled: r.get(2)?,
        is_root: r.get(3)?,
        key_enabled: r.get(4)?,
    })
}

fn insert_object(c: &Connection, o: &ObjectRecord) -> rusqlite::Result<()> {
    c.prepare_cached(&format!(
        "INSERT OR REPLACE INTO objects({OBJ_COLS}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
    ))?
    .execute(params![
        o.bucket,
        o.key.as_bytes(),
        o.size as i64,
        o.etag,
        o.crc64 as i64,
        o.mtime_ms,
        o.otype.as_str(),
        o.attrs.content_type,
        encode_pairs(&o.attrs.headers),
        encode_pairs(&o.attrs.user_meta),
        o.attrs.acl,
        o.attrs.storage_class,
        encode_pairs(&o.attrs.tags),
        encode_segments(&o.segments),
        o.symlink_target,
        encode_extra(o.attrs.sse.as_deref(), o.restore),
    ])?;
    Ok(())
}

const LIVE_COLS: &str = "bucket, name, description, status, frag_duration, frag_count, playlist_name, mtime";

fn row_live_channel(r: &Row) -> rusqlite::Result<LiveChannel> {
    let name: Vec<u8> = r.get(1)?;
    Ok(LiveChannel {
        bucket: r.get(0)?,
        name: String::from_utf8_lossy(&name).into_owned(),
        description: r.get(2)?,
        status: r.get(3)?,
        frag_duration: r.get(4)?,
        frag_count: r.get(5)?,
        playlist_name: r.get(6)?,
        mtime_ms: r.get(7)?,
    })
}

fn select_object(c: &Connection, bucket: &str, key: &str) -> rusqlite::Result<Option<ObjectRecord>> {
    c.prepare_cached(&format!("SELECT {OBJ_COLS} FROM objects WHERE bucket=?1 AND key=?2"))?
        .query_row(params![bucket, key.as_bytes()], row_object)
        .optional()
}

impl SqliteMeta {
    /// Opens the store and starts its commit, sync and checkpoint threads (which stop when it is dropped).
    pub fn open(data_dir: &Path, fsync: bool) -> Result<Arc<Self>> {
        let path = data_dir.join("meta.sqlite");
        let writer = open_conn(&path, fsync)?;
        writer.execute_batch(SCHEMA).map_err(db)?;
        // Checkpoints run on the checkpoint thread (checkpoint_loop), not inside commits.
        writer.execute_batch("PRAGMA wal_autocheckpoint=0;").map_err(db)?;
        let checkpointer = open_conn(&path, fsync)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(Mutex::new(open_conn(&path, fsync)?));
        }
        let group = fsync.then(|| GroupSync {
            synced: Mutex::new(0),
            wal: data_dir.join("meta.sqlite-wal"),
            file: Mutex::new(None),
        });
        let m = Arc::new(SqliteMeta {
            writer: Mutex::new(Writer { conn: writer, batch: None, ops: 0 }),
            queued: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
            readers,
            group,
            pending: Default::default(),
            configs: ConfigCache::default(),
            jobs: Arc::default(),
            syncs: Arc::default(),
            checkpoints: Arc::default(),
            wal: Arc::new(WalLength { long: false.into(), limit: WAL_LONG_FRAMES.into() }),
        });
        let (jobs, syncs, weak) = (m.jobs.clone(), m.syncs.clone(), Arc::downgrade(&m));
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map(|_| ())
                .map_err(|e| Error::internal(format!("cannot start the {name} thread: {e}")))
        };
        spawn("ossd-commit", Box::new(move || commit_loop(jobs, syncs, weak)))?;
        let syncs = m.syncs.clone();
        spawn("ossd-sync", Box::new(move || sync_loop(syncs)))?;
        let (wake, wal) = (m.checkpoints.clone(), m.wal.clone());
        spawn("ossd-checkpoint", Box::new(move || checkpoint_loop(wake, checkpointer, wal)))?;
        Ok(m)
    }

    /// Runs `op` as one atomic write, and returns once it is committed (durable, with fsync on).
    ///
    /// Writes are batched: `op` runs inside a savepoint of the writer's open transaction (a failed `op` rolls
    /// back its savepoint alone). When other threads are queued for the writer, the transaction is left open for
    /// them and this thread waits for the last of them to commit it; the last one commits, releases the writer,
    /// fsyncs the WAL (see `sync`) and wakes the rest. One commit then writes each shared B-tree page to the WAL
    /// once for the whole batch, not once per write.
    fn write<T>(&self, op: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if on_pipeline() {
            return Err(Error::internal("a write waited on from the commit pipeline would never finish"));
        }
        let (res, committed) = self.run_write(op);
        if let Some(c) = committed {
            c.finish(self)?;
        }
        res
    }

    /// `write` up to its commit: when this thread committed the batch, it gets what it still owes the batch
    /// (the fsync, then telling the others) as a `Committed`, which the commit thread hands to the sync thread.
    fn run_write<T>(&self, op: impl FnOnce(&Connection) -> Result<T>) -> (Result<T>, Option<Committed>) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let batch = match &w.batch {
            Some(b) => b.clone(),
            None => {
                if self.wal.long.load(Ordering::SeqCst) {
                    // Nothing writes while this runs, so it can reach the WAL's end; the BEGIN below then
                    // starts the WAL over.
                    match checkpoint(&w.conn) {
                        Ok((true, _)) => self.wal.long.store(false, Ordering::SeqCst),
                        Ok((false, _)) => {}
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    }
                }
                // IMMEDIATE takes the write lock at BEGIN, where SQLite waits out a busy lock (busy_timeout). A
                // deferred BEGIN takes it at the first write, where SQLite does not wait: a reader that briefly
                // holds the WAL write lock to re-read a changing WAL header then failed a PUT with "database is
                // locked" (seen under load as about one PUT in 50,000).
                if let Err(e) = w.conn.execute_batch("BEGIN IMMEDIATE") {
                    return (Err(db(e)), None);
                }
                let b = Arc::new(Batch::default());
                w.batch = Some(b.clone());
                w.ops = 0;
                b
            }
        };
        let res = savepoint(&w.conn, op);
        w.ops += 1;
        if self.queued.load(Ordering::SeqCst) > 0 && w.ops < BATCH_MAX {
            drop(w);
            return (res.and_then(|v| batch.wait().map(|()| v)), None);
        }
        w.batch = None;
        let committed = w.conn.execute_batch("COMMIT").map_err(db);
        if committed.is_err() && !w.conn.is_autocommit() {
            let _ = w.conn.execute_batch("ROLLBACK");
        }
        let mine = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        drop(w);
        if mine.is_multiple_of(CHECKPOINT_EVERY) {
            self.checkpoints.push(());
        }
        (res, Some(Committed { batch, mine, committed }))
    }

    /// Waits until the WAL is fsynced past commit number `mine` (one fsync serves every commit made before it).
    fn sync(&self, mine: u64) -> Result<()> {
        let Some(g) = &self.group else { return Ok(()) };
        let mut synced = g.synced.lock().map_err(|_| Error::internal("group sync lock poisoned"))?;
        if *synced >= mine {
            return Ok(());
        }
        let target = self.commits.load(Ordering::SeqCst);
        let mut f = g.file.lock().map_err(|_| Error::internal("group sync lock poisoned"))?;
        if f.is_none() {
            *f = Some(std::fs::File::open(&g.wal).map_err(|e| Error::internal(format!("open the WAL: {e}")))?);
        }
        if let Some(file) = f.as_ref() {
            file.sync_data().map_err(|e| Error::internal(format!("fsync the WAL: {e}")))?;
        }
        *synced = target;
        Ok(())
    }

    fn pending(&self) -> Result<MutexGuard<'_, Pending>> {
        self.pending.lock().map_err(|_| Error::internal("pending blob lock poisoned"))
    }

    /// Writes the pending inline blobs among `ids` inside the transaction on `c`.
    fn store_pending(&self, c: &Connection, ids: impl Iterator<Item = u64>) -> Result<()> {
        let mut p = self.pending()?;
        if p.blobs.is_empty() {
            return Ok(());
        }
        for id in ids {
            if let Some(data) = p.blobs.remove(&id) {
                p.bytes -= data.len();
                insert_inline(c, id, &data)?;
            }
        }
        Ok(())
    }

    /// A reader that is free right now, if any.
    fn try_r(&self) -> Option<MutexGuard<'_, Connection>> {
        self.readers.iter().find_map(|m| m.try_lock().ok())
    }

    fn r(&self) -> Result<MutexGuard<'_, Connection>> {
        if let Some(g) = self.try_r() {
            return Ok(g);
        }
        let i = (random_u64() as usize) % self.readers.len();
        self.readers[i].lock().map_err(|_| Error::internal("metadata reader lock poisoned"))
    }

    /// Reads the object, lets `f` decide, and applies the decision, inside the open transaction on `tx`.
    fn modify_in(
        &self,
        tx: &Connection,
        bucket: &str,
        key: &str,
        f: &mut dyn FnMut(Option<&ObjectRecord>) -> Result<Change>,
    ) -> Result<Option<ObjectRecord>> {
        let old = select_object(tx, bucket, key).map_err(db)?;
        match f(old.as_ref())? {
            Change::Keep => {}
            Change::Put(rec) => {
                self.store_pending(tx, rec.segments.iter().map(|s| s.blob))?;
                insert_object(tx, &rec).map_err(db)?
            }
            Change::Delete => {
                tx.prepare_cached("DELETE FROM objects WHERE bucket=?1 AND key=?2")
                    .and_then(|mut s| s.execute(params![bucket, key.as_bytes()]))
                    .map_err(db)?;
            }
        }
        crate::crash_point!("meta::commit");
        Ok(old)
    }

    /// `cols` of the objects in `(from, inclusive, end)`, in key order, read by `row`.
    fn scan(
        &self,
        cols: &str,
        row: fn(&Row) -> rusqlite::Result<ObjectRecord>,
        bucket: &str,
        (from, inclusive, end): (&[u8], bool, Option<&[u8]>),
        limit: usize,
    ) -> Result<Vec<ObjectRecord>> {
        let c = self.r()?;
        let op = if inclusive { ">=" } else { ">" };
        let upper = if end.is_some() { " AND key<?3" } else { "" };
        let sql = format!("SELECT {cols} FROM objects WHERE bucket=?1 AND key{op}?2{upper} ORDER BY key LIMIT ?4");
        let mut s = c.prepare_cached(&sql).map_err(db)?;
        let rows = match end {
            Some(end) => s.query_map(params![bucket, from, end, limit as i64], row),
            None => s.query_map(params![bucket, from, rusqlite::types::Null, limit as i64], row),
        }
        .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }
}

impl MetaStore for SqliteMeta {
    fn put_user(&self, u: &UserRecord) -> Result<()> {
        self.write(|c| {
            c.execute(
                concat!("INSERT OR REPLACE INTO users(", user_cols!(), ") VALUES(?1,?2,?3,?4,?5)"),
                params![u.access_key_id, u.secret, u.enabled, u.is_root, u.key_enabled],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn get_user(&self, ak: &str) -> Result<Option<UserRecord>> {
        self.r()?
            .prepare_cached(concat!("SELECT ", user_cols!(), " FROM users WHERE ak=?1"))
            .and_then(|mut s| s.query_row([ak], row_user).optional())
            .map_err(db)
    }

    fn root_user(&self) -> Result<Option<UserRecord>> {
        self.r()?
            .prepare_cached(concat!("SELECT ", user_cols!(), " FROM users WHERE is_root=1 LIMIT 1"))
            .and_then(|mut s| s.query_row([], row_user).optional())
            .map_err(db)
    }

    fn list_users(&self) -> Result<Vec<UserRecord>> {
        let c = self.r()?;
        let mut s = c.prepare_cached(concat!("SELECT ", user_cols!(), " FROM users ORDER BY ak")).map_err(db)?;
        let rows = s.query_map([], row_user).map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn delete_user(&self, ak: &str) -> Result<bool> {
        self.write(|c| c.execute("DELETE FROM users WHERE ak=?1", [ak]).map(|n| n > 0).map_err(db))
    }

    fn create_bucket(&self, b: &BucketRecord) -> Result<(bool, BucketRecord)> {
        self.write(|tx| {
            let existing = tx
                .query_row(concat!("SELECT ", bucket_cols!(), " FROM buckets WHERE name=?1"), [&b.name], row_bucket)
                .optional()
                .map_err(db)?;
            if let Some(e) = existing {
                return Ok((false, e));
            }
            tx.execute(
                concat!("INSERT INTO buckets(", bucket_cols!(), ") VALUES(?1,?2,?3,?4,?5,?6)"),
                params![b.name, b.owner, b.created_ms, b.acl, b.storage_class, b.region],
            )
            .map_err(db)?;
            Ok((true, b.clone()))
        })
    }

    fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>> {
        self.r()?
            .prepare_cached(concat!("SELECT ", bucket_cols!(), " FROM buckets WHERE name=?1"))
            .and_then(|mut s| s.query_row([name], row_bucket).optional())
            .map_err(db)
    }

    fn list_buckets(&self, owner: &str, prefix: &str, marker: &str, limit: usize) -> Result<Vec<BucketRecord>> {
        let c = self.r()?;
        let mut s = c
            .prepare_cached(concat!(
                "SELECT ",
                bucket_cols!(),
                " FROM buckets
                 WHERE owner=?1 AND name>?2 AND substr(name, 1, length(?3))=?3 ORDER BY name LIMIT ?4"
            ))
            .map_err(db)?;
        let rows = s.query_map(params![owner, marker, prefix, limit as i64], row_bucket).map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn count_buckets(&self, owner: &str) -> Result<usize> {
        self.r()?
            .query_row("SELECT count(*) FROM buckets WHERE owner=?1", [owner], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(db)
    }

    fn bucket_size(&self, bucket: &str) -> Result<u64> {
        self.r()?
            .query_row("SELECT COALESCE(SUM(size), 0) FROM objects WHERE bucket=?1", [bucket], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(db)
    }

    fn delete_bucket(&self, name: &str, drop_uploads: bool) -> Result<Option<Vec<u64>>> {
        self.write(|tx| {
            let has_obj: bool = tx
                .query_row("SELECT EXISTS(SELECT 1 FROM objects WHERE bucket=?1)", [name], |r| r.get(0))
                .map_err(db)?;
            let has_up: bool = tx
                .query_row("SELECT EXISTS(SELECT 1 FROM uploads WHERE bucket=?1)", [name], |r| r.get(0))
                .map_err(db)?;
            let has_live: bool = tx
                .query_row("SELECT EXISTS(SELECT 1 FROM live_channels WHERE bucket=?1)", [name], |r| r.get(0))
                .map_err(db)?;
            if has_obj || has_live || (has_up && !drop_uploads) {
                return Err(Error::new(Code::BucketNotEmpty).ctx("BucketName", name));
            }
            let mut blobs = Vec::new();
            if has_up {
                const PARTS: &str = "FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket=?1)";
                let mut s = tx.prepare(&format!("SELECT blob {PARTS}")).map_err(db)?;
                let rows = s.query_map([name], |r| r.get::<_, i64>(0)).map_err(db)?;
                for b in rows {
                    blobs.push(b.map_err(db)? as u64);
                }
                drop(s);
                tx.execute(&format!("DELETE {PARTS}"), [name]).map_err(db)?;
                tx.execute("DELETE FROM uploads WHERE bucket=?1", [name]).map_err(db)?;
            }
            let n = tx.execute("DELETE FROM buckets WHERE name=?1", [name]).map_err(db)?;
            Ok((n > 0).then_some(blobs))
        })
    }

    fn set_bucket_acl(&self, name: &str, acl: &str) -> Result<()> {
        self.write(|c| c.execute("UPDATE buckets SET acl=?2 WHERE name=?1", [name, acl]).map(|_| ()).map_err(db))
    }

    fn put_bucket_config(&self, bucket: &str, kind: &str, body: &str) -> Result<()> {
        let res = self.write(|c| {
            c.execute(
                "INSERT OR REPLACE INTO bucket_configs(bucket, kind, body) VALUES(?1,?2,?3)",
                [bucket, kind, body],
            )
            .map(|_| ())
            .map_err(db)
        });
        self.configs.forget(bucket, kind);
        res
    }

    fn get_bucket_config(&self, bucket: &str, kind: &str) -> Result<Option<String>> {
        let (hit, gen) = self.configs.get(bucket, kind);
        if let Some(v) = hit {
            return Ok(v);
        }
        let v = self
            .r()?
            .prepare_cached("SELECT body FROM bucket_configs WHERE bucket=?1 AND kind=?2")
            .and_then(|mut s| s.query_row([bucket, kind], |r| r.get(0)).optional())
            .map_err(db)?;
        self.configs.put(gen, bucket, kind, &v);
        Ok(v)
    }

    fn delete_bucket_config(&self, bucket: &str, kind: &str) -> Result<bool> {
        let res = self.write(|c| {
            c.execute("DELETE FROM bucket_configs WHERE bucket=?1 AND kind=?2", [bucket, kind])
                .map(|n| n > 0)
                .map_err(db)
        });
        self.configs.forget(bucket, kind);
        res
    }

    fn bucket_configs(&self, kind: &str) -> Result<Vec<(String, String)>> {
        let c = self.r()?;
        let mut s =
            c.prepare_cached("SELECT bucket, body FROM bucket_configs WHERE kind=?1 ORDER BY bucket").map_err(db)?;
        let rows = s.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn replace_bucket_configs(&self, changes: &[(String, &str, Option<String>)]) -> Result<()> {
        let res = self.write(|c| {
            for (bucket, kind, body) in changes {
                match body {
                    Some(body) => c.execute(
                        "INSERT OR REPLACE INTO bucket_configs(bucket, kind, body) VALUES(?1,?2,?3)",
                        [bucket.as_str(), kind, body.as_str()],
                    ),
                    None => {
                        c.execute("DELETE FROM bucket_configs WHERE bucket=?1 AND kind=?2", [bucket.as_str(), kind])
                    }
                }
                .map_err(db)?;
            }
            Ok(())
        });
        for (bucket, kind, _) in changes {
            self.configs.forget(bucket, kind);
        }
        res
    }

    fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        let c = self.r()?;
        select_object(&c, bucket, key).map_err(db)
    }

    fn try_get_object(&self, bucket: &str, key: &str) -> Option<Result<Option<ObjectRecord>>> {
        let c = self.try_r()?;
        Some(select_object(&c, bucket, key).map_err(db))
    }

    fn modify_object(
        &self,
        bucket: &str,
        key: &str,
        f: &mut dyn FnMut(Option<&ObjectRecord>) -> Result<Change>,
    ) -> Result<Option<ObjectRecord>> {
        self.write(|tx| self.modify_in(tx, bucket, key, f))
    }

    fn modify_object_then(&self, bucket: String, key: String, f: ChangeFn, done: ModifyDone) {
        let job: Job = Box::new(move |m, c| {
            let res = savepoint(c, |c| m.modify_in(c, &bucket, &key, &mut once(f)));
            Box::new(move |outcome| {
                done(match (res, outcome) {
                    (Ok(old), Ok(())) => Ok(old),
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => Err(Error::internal(e)),
                })
            })
        });
        self.jobs.push(job);
    }

    fn cached_bucket_config(&self, bucket: &str, kind: &str) -> Option<Option<String>> {
        self.configs.get(bucket, kind).0
    }

    fn scan_objects(
        &self,
        bucket: &str,
        from: &[u8],
        inclusive: bool,
        end: Option<&[u8]>,
        limit: usize,
        fields: Fields,
    ) -> Result<Vec<ObjectRecord>> {
        match fields {
            Fields::All => self.scan(OBJ_COLS, row_object, bucket, (from, inclusive, end), limit),
            Fields::Listing => self.scan(LISTING_COLS, row_listed, bucket, (from, inclusive, end), limit),
        }
    }

    fn create_upload(&self, u: &UploadRecord) -> Result<()> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO uploads({UPLOAD_COLS}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"),
                params![
                    u.upload_id,
                    u.bucket,
                    u.key.as_bytes(),
                    u.initiated_ms,
                    u.attrs.content_type,
                    encode_pairs(&u.attrs.headers),
                    encode_pairs(&u.attrs.user_meta),
                    u.attrs.acl,
                    u.attrs.storage_class,
                    encode_pairs(&u.attrs.tags),
                    encode_extra(u.attrs.sse.as_deref(), None),
                ],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn get_upload(&self, bucket: &str, upload_id: &str) -> Result<Option<UploadRecord>> {
        self.r()?
            .prepare_cached(&format!("SELECT {UPLOAD_COLS} FROM uploads WHERE upload_id=?1 AND bucket=?2"))
            .and_then(|mut s| s.query_row([upload_id, bucket], row_upload).optional())
            .map_err(db)
    }

    fn put_part(&self, bucket: &str, upload_id: &str, p: &PartRecord) -> Result<Option<u64>> {
        self.write(|tx| {
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM uploads WHERE upload_id=?1 AND bucket=?2)",
                [upload_id, bucket],
                |r| r.get(0),
            )
            .map_err(db)?;
        if !exists {
            return Err(Error::new(Code::NoSuchUpload).ctx("UploadId", upload_id));
        }
        let old: Option<i64> = tx
            .query_row(
                "SELECT blob FROM parts WHERE upload_id=?1 AND part_number=?2",
                params![upload_id, p.part_number],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        self.store_pending(tx, std::iter::once(p.blob))?;
        tx.execute(
            "INSERT OR REPLACE INTO parts(upload_id, part_number, blob, size, etag, crc64, mtime) VALUES(?1,?2,?3,?4,?5,?6,?7)",
            params![upload_id, p.part_number, p.blob as i64, p.size as i64, p.etag, p.crc64 as i64, p.mtime_ms],
        )
        .map_err(db)?;
        crate::crash_point!("meta::commit");
        Ok(old.map(|b| b as u64))
        })
    }

    fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>> {
        let c = self.r()?;
        let mut s = c
            .prepare_cached(
                "SELECT part_number, blob, size, etag, crc64, mtime FROM parts
                 WHERE upload_id=?1 AND part_number>?2 ORDER BY part_number LIMIT ?3",
            )
            .map_err(db)?;
        let rows = s
            .query_map(params![upload_id, after, limit as i64], |r| {
                Ok(PartRecord {
                    part_number: r.get(0)?,
                    blob: r.get::<_, i64>(1)? as u64,
                    size: r.get::<_, i64>(2)? as u64,
                    etag: r.get(3)?,
                    crc64: r.get::<_, i64>(4)? as u64,
                    mtime_ms: r.get(5)?,
                })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: &str,
        limit: usize,
    ) -> Result<Vec<UploadRecord>> {
        let c = self.r()?;
        let mut s = c
            .prepare_cached(&format!(
                "SELECT {UPLOAD_COLS} FROM uploads WHERE bucket=?1
                 AND (key>?2 OR (key=?2 AND upload_id>?3))
                 AND substr(key, 1, length(?4))=?4 ORDER BY key, upload_id LIMIT ?5"
            ))
            .map_err(db)?;
        let rows = s
            .query_map(
                params![bucket, key_marker.as_bytes(), upload_id_marker, prefix.as_bytes(), limit as i64],
                row_upload,
            )
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn finish_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        obj: Option<&ObjectRecord>,
    ) -> Result<(Vec<u64>, Option<ObjectRecord>)> {
        self.write(|tx| {
            let n =
                tx.execute("DELETE FROM uploads WHERE upload_id=?1 AND bucket=?2", [upload_id, bucket]).map_err(db)?;
            if n == 0 {
                return Err(Error::new(Code::NoSuchUpload).ctx("UploadId", upload_id));
            }
            let blobs = {
                let mut s = tx.prepare_cached("SELECT blob FROM parts WHERE upload_id=?1").map_err(db)?;
                let rows = s.query_map([upload_id], |r| r.get::<_, i64>(0)).map_err(db)?;
                rows.map(|b| b.map(|b| b as u64)).collect::<rusqlite::Result<Vec<_>>>().map_err(db)?
            };
            tx.execute("DELETE FROM parts WHERE upload_id=?1", [upload_id]).map_err(db)?;
            let mut old = None;
            if let Some(o) = obj {
                old = select_object(tx, &o.bucket, &o.key).map_err(db)?;
                self.store_pending(tx, o.segments.iter().map(|s| s.blob))?;
                insert_object(tx, o).map_err(db)?;
            }
            crate::crash_point!("meta::commit");
            Ok((blobs, old))
        })
    }

    fn referenced_blobs(&self) -> Result<Vec<u64>> {
        let c = self.r()?;
        let mut out = Vec::new();
        let mut s = c.prepare("SELECT segments FROM objects").map_err(db)?;
        let rows = s.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        for r in rows {
            out.extend(decode_segments(&r.map_err(db)?).into_iter().map(|s| s.blob));
        }
        let mut s = c.prepare("SELECT blob FROM parts").map_err(db)?;
        let rows = s.query_map([], |r| r.get::<_, i64>(0)).map_err(db)?;
        for r in rows {
            out.push(r.map_err(db)? as u64);
        }
        Ok(out)
    }

    fn put_live_channel(&self, c: &LiveChannel) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO live_channels(bucket, name, description, status, frag_duration, frag_count,
                 playlist_name, mtime) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                params![
                    c.bucket,
                    c.name.as_bytes(),
                    c.description,
                    c.status,
                    c.frag_duration,
                    c.frag_count,
                    c.playlist_name,
                    c.mtime_ms
                ],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn get_live_channel(&self, bucket: &str, name: &str) -> Result<Option<LiveChannel>> {
        self.r()?
            .prepare_cached(&format!("SELECT {LIVE_COLS} FROM live_channels WHERE bucket=?1 AND name=?2"))
            .and_then(|mut s| s.query_row(params![bucket, name.as_bytes()], row_live_channel).optional())
            .map_err(db)
    }

    fn list_live_channels(&self, bucket: &str, prefix: &str, marker: &str, limit: usize) -> Result<Vec<LiveChannel>> {
        let c = self.r()?;
        let mut s = c
            .prepare_cached(&format!(
                "SELECT {LIVE_COLS} FROM live_channels WHERE bucket=?1 AND name>?2
                 AND substr(name, 1, length(?3))=?3 ORDER BY name LIMIT ?4"
            ))
            .map_err(db)?;
        let rows = s
            .query_map(params![bucket, marker.as_bytes(), prefix.as_bytes(), limit as i64], row_live_channel)
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn delete_live_channel(&self, bucket: &str, name: &str) -> Result<bool> {
        self.write(|tx| {
            let key = params![bucket, name.as_bytes()];
            tx.execute("DELETE FROM live_records WHERE bucket=?1 AND name=?2", key).map_err(db)?;
            tx.execute("DELETE FROM live_segments WHERE bucket=?1 AND name=?2", key).map_err(db)?;
            tx.execute("DELETE FROM live_channels WHERE bucket=?1 AND name=?2", key).map(|n| n > 0).map_err(db)
        })
    }

    fn put_live_record(&self, bucket: &str, name: &str, rec: &LiveRecord, keep: usize) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO live_records(bucket, name, start, end, remote_addr) VALUES(?1,?2,?3,?4,?5)",
                params![bucket, name.as_bytes(), rec.start_ms, rec.end_ms, rec.remote_addr],
            )
            .map_err(db)?;
            tx.execute(
                "DELETE FROM live_records WHERE bucket=?1 AND name=?2 AND start NOT IN
                 (SELECT start FROM live_records WHERE bucket=?1 AND name=?2 ORDER BY start DESC LIMIT ?3)",
                params![bucket, name.as_bytes(), keep as i64],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn live_records(&self, bucket: &str, name: &str, limit: usize) -> Result<Vec<LiveRecord>> {
        let c = self.r()?;
        let mut s = c
            .prepare_cached(
                "SELECT start, end, remote_addr FROM live_records WHERE bucket=?1 AND name=?2
                 ORDER BY start DESC LIMIT ?3",
            )
            .map_err(db)?;
        let rows = s
            .query_map(params![bucket, name.as_bytes(), limit as i64], |r| {
                Ok(LiveRecord { start_ms: r.get(0)?, end_ms: r.get(1)?, remote_addr: r.get(2)? })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn add_live_segment(&self, bucket: &str, name: &str, seg: &LiveSegment) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO live_segments(bucket, name, start, duration) VALUES(?1,?2,?3,?4)",
                params![bucket, name.as_bytes(), seg.start_ms, seg.duration_ms],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn live_segments(
        &self,
        bucket: &str,
        name: &str,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<LiveSegment>> {
        let c = self.r()?;
        let mut s = c
            .prepare_cached(
                "SELECT start, duration FROM live_segments WHERE bucket=?1 AND name=?2 AND start>=?3 AND start<=?4
                 ORDER BY start LIMIT ?5",
            )
            .map_err(db)?;
        let rows = s
            .query_map(params![bucket, name.as_bytes(), from_ms, to_ms, limit as i64], |r| {
                Ok(LiveSegment { start_ms: r.get(0)?, duration_ms: r.get(1)? })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }
}

/// A part of an open upload: (bucket, key, upload id, whether the upload is encrypted, the part).
pub type UploadPart = (String, String, String, bool, PartRecord);

/// Whole-store scans for `fsck` (they hold a reader for their whole run).
impl SqliteMeta {
    /// Calls `f` with every object record, in (bucket, key) order.
    pub fn each_object(&self, f: &mut dyn FnMut(ObjectRecord) -> Result<()>) -> Result<()> {
        let c = self.r()?;
        let mut s = c.prepare(&format!("SELECT {OBJ_COLS} FROM objects ORDER BY bucket, key")).map_err(db)?;
        let rows = s.query_map([], row_object).map_err(db)?;
        for r in rows {
            f(r.map_err(db)?)?;
        }
        Ok(())
    }

    /// Every part of every open upload; bucket and key are empty for a part whose upload is gone.
    pub fn all_upload_parts(&self) -> Result<Vec<UploadPart>> {
        let c = self.r()?;
        let mut s = c
            .prepare(
                "SELECT u.bucket, u.key, p.upload_id, u.extra, p.part_number, p.blob, p.size, p.etag, p.crc64, p.mtime \
                 FROM parts p LEFT JOIN uploads u ON u.upload_id = p.upload_id ORDER BY p.upload_id, p.part_number",
            )
            .map_err(db)?;
        let rows = s
            .query_map([], |r| {
                let extra: Option<String> = r.get(3)?;
                let sse = decode_extra(extra.as_deref().unwrap_or("")).0.is_some();
                let part = PartRecord {
                    part_number: r.get::<_, i64>(4)? as u32,
                    blob: r.get::<_, i64>(5)? as u64,
                    size: r.get::<_, i64>(6)? as u64,
                    etag: r.get(7)?,
                    crc64: r.get::<_, i64>(8)? as u64,
                    mtime_ms: r.get(9)?,
                };
                let key: Option<Vec<u8>> = r.get(1)?;
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    key_text(key.unwrap_or_default()),
                    r.get(2)?,
                    sse,
                    part,
                ))
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }
}

impl InlineBlobs for SqliteMeta {
    fn put_inline(&self, id: u64, data: &[u8]) -> Result<()> {
        {
            let mut p = self.pending()?;
            if p.bytes + data.len() <= PENDING_MAX {
                p.bytes += data.len();
                p.blobs.insert(id, data.to_vec());
                return Ok(());
            }
        }
        self.write(|c| insert_inline(c, id, data))
    }

    fn get_inline(&self, id: u64) -> Result<Option<Vec<u8>>> {
        if let Some(d) = self.pending()?.blobs.get(&id) {
            return Ok(Some(d.clone()));
        }
        select_inline(&*self.r()?, id)
    }

    fn try_get_inline(&self, id: u64) -> Option<Result<Option<Vec<u8>>>> {
        match self.pending() {
            Ok(p) => {
                if let Some(d) = p.blobs.get(&id) {
                    return Some(Ok(Some(d.clone())));
                }
            }
            Err(e) => return Some(Err(e)),
        }
        Some(select_inline(&*self.try_r()?, id))
    }

    fn delete_inline(&self, id: u64) -> Result<bool> {
        {
            let mut p = self.pending()?;
            if let Some(d) = p.blobs.remove(&id) {
                p.bytes -= d.len();
                return Ok(true);
            }
        }
        let delete = move |c: &Connection| {
            c.prepare_cached("DELETE FROM inline_blobs WHERE id=?1")
                .and_then(|mut s| s.execute(params![id as i64]))
                .map(|n| n > 0)
                .map_err(db)
        };
        if on_pipeline() {
            // Queued behind the writes, not waited for: a crash before it runs leaves an orphan that the
            // startup sweep removes. Ok(false) as its outcome is not known yet (the blob may be a file).
            self.jobs.push(Box::new(move |_, c| {
                if let Err(e) = savepoint(c, delete) {
                    tracing::warn!(blob = format!("{id:016x}"), error = %e, "could not remove inline blob");
                }
                Box::new(|_| {})
            }));
            return Ok(false);
        }
        self.write(delete)
    }

    fn inline_ids(&self) -> Result<Vec<u64>> {
        let mut ids: Vec<u64> = self.pending()?.blobs.keys().copied().collect();
        let c = self.r()?;
        let mut s = c.prepare("SELECT id FROM inline_blobs").map_err(db)?;
        let rows = s.query_map([], |r| r.get::<_, i64>(0)).map_err(db)?;
        for r in rows {
            ids.push(r.map_err(db)? as u64);
        }
        Ok(ids)
    }
}

/// Runs `op` inside a savepoint, rolled back if `op` fails (or panics: the writer is shared, so a panic must
/// neither poison it nor leave the batch uncommitted).
fn savepoint<T>(c: &Connection, op: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    c.prepare_cached("SAVEPOINT op").and_then(|mut s| s.execute([])).map_err(db)?;
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(c)))
        .unwrap_or_else(|_| Err(Error::internal("a metadata write panicked")));
    if res.is_err() {
        c.prepare_cached("ROLLBACK TO op").and_then(|mut s| s.execute([])).map_err(db)?;
    }
    c.prepare_cached("RELEASE op").and_then(|mut s| s.execute([])).map_err(db)?;
    res
}

fn insert_inline(c: &Connection, id: u64, data: &[u8]) -> Result<()> {
    c.prepare_cached("INSERT INTO inline_blobs(id, data) VALUES(?1, ?2)")
        .and_then(|mut s| s.execute(params![id as i64, data]))
        .map(|_| ())
        .map_err(db)
}

fn select_inline(c: &Connection, id: u64) -> Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT data FROM inline_blobs WHERE id=?1")
        .and_then(|mut s| s.query_row(params![id as i64], |r| r.get::<_, Vec<u8>>(0)).optional())
        .map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_temp(fsync: bool) -> (Arc<SqliteMeta>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ossd-sqlite-{}", random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        (SqliteMeta::open(&dir, fsync).unwrap(), dir)
    }

    fn config_count(m: &SqliteMeta) -> i64 {
        m.r().unwrap().query_row("SELECT count(*) FROM bucket_configs", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn writes_queued_behind_a_write_share_its_transaction_and_each_failure_rolls_back_alone() {
        let (m, dir) = open_temp(true);
        let before = m.commits.load(Ordering::SeqCst);
        std::thread::scope(|s| {
            // The first write holds the writer while the others queue behind it.
            s.spawn(|| {
                m.write(|c| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    c.execute("INSERT INTO bucket_configs VALUES('b', 'first', 'x')", []).map_err(db)
                })
                .unwrap()
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            for i in 0..12 {
                let m = &m;
                s.spawn(move || {
                    let res = m.write(|c| {
                        c.execute("INSERT INTO bucket_configs VALUES('b', ?1, 'x')", [i.to_string()]).map_err(db)?;
                        match i % 4 {
                            0 => Err(Error::new(Code::InvalidArgument)),
                            1 if i == 5 => panic!("a write that panics"),
                            _ => Ok(i),
                        }
                    });
                    match i % 4 {
                        0 => assert_eq!(res.unwrap_err().code, Code::InvalidArgument),
                        1 if i == 5 => assert_eq!(res.unwrap_err().code, Code::InternalError),
                        _ => assert_eq!(res.unwrap(), i),
                    }
                    // A successful write is committed by the time it returns.
                    let n: i64 = m
                        .r()
                        .unwrap()
                        .query_row("SELECT count(*) FROM bucket_configs WHERE kind=?1", [i.to_string()], |r| r.get(0))
                        .unwrap();
                    assert_eq!(n, i64::from(i % 4 != 0 && i != 5), "write {i}");
                });
            }
        });
        // 13 writes, 9 kept; they shared one or two transactions (one each would be 13).
        assert_eq!(config_count(&m), 1 + 12 - 3 - 1);
        let commits = m.commits.load(Ordering::SeqCst) - before;
        assert!((1..=2).contains(&commits), "{commits} commits");
        // The writer is neither poisoned nor left inside a transaction.
        m.put_bucket_config("b", "after", "y").unwrap();
        assert!(m.writer.lock().unwrap().conn.is_autocommit());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn writes_queued_to_the_commit_thread_share_commits_and_each_gets_its_own_result() {
        let (m, dir) = open_temp(true);
        let rec = |key: &str| ObjectRecord {
            bucket: "b".into(),
            key: key.into(),
            size: 0,
            etag: "e".into(),
            crc64: 0,
            mtime_ms: 0,
            otype: ObjectType::Normal,
            attrs: Default::default(),
            segments: Vec::new(),
            symlink_target: None,
            restore: None,
            pin: Default::default(),
        };
        let before = m.commits.load(Ordering::SeqCst);
        let (tx, rx) = std::sync::mpsc::channel();
        {
            // Holding the writer makes the commit thread wait, so the writes queue up behind it.
            let _held = m.writer.lock().unwrap();
            for i in 0..100 {
                let r = rec(&format!("k{i}"));
                let f: ChangeFn = Box::new(move |_| match i {
                    50 => Err(Error::new(Code::InvalidArgument)),
                    _ => Ok(Change::Put(Box::new(r))),
                });
                let tx = tx.clone();
                m.modify_object_then("b".into(), format!("k{i}"), f, Box::new(move |res| tx.send((i, res)).unwrap()));
            }
        }
        let mut got: Vec<_> = (0..100).map(|_| rx.recv().unwrap()).collect();
        got.sort_by_key(|(i, _)| *i);
        for (i, res) in got {
            match i {
                50 => assert_eq!(res.unwrap_err().code, Code::InvalidArgument),
                _ => assert!(res.unwrap().is_none(), "write {i}: nothing was there before"),
            }
            assert_eq!(m.get_object("b", &format!("k{i}")).unwrap().is_some(), i != 50, "write {i}");
        }
        let commits = m.commits.load(Ordering::SeqCst) - before;
        assert!(commits <= 3, "100 queued writes took {commits} commits");
        // The threads do not keep the store alive: the sync thread lets go of it once it has told the writes.
        let weak = Arc::downgrade(&m);
        drop(m);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while weak.upgrade().is_some() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(weak.upgrade().is_none(), "the store is still held");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn checkpoints_run_beside_the_writer_and_the_wal_stays_bounded() {
        let (m, dir) = open_temp(true);
        m.wal.limit.store(64, Ordering::SeqCst);
        let row = vec![7u8; 4000];
        // 2,000 commits of a page or more each: about 8 MB of WAL if nothing checkpointed it.
        for i in 0..2000u64 {
            m.write(|c| insert_inline(c, i + 1, &row)).unwrap();
        }
        let wal = std::fs::metadata(dir.join("meta.sqlite-wal")).unwrap().len();
        assert!(wal < 6 << 20, "the WAL grew to {wal} bytes");
        let db = std::fs::metadata(dir.join("meta.sqlite")).unwrap().len();
        assert!(db > 4 << 20, "the database holds the checkpointed rows ({db} bytes)");
        assert_eq!(m.inline_ids().unwrap().len(), 2000);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cached_bucket_configs_follow_every_change() {
        let (m, dir) = open_temp(false);
        assert_eq!(m.get_bucket_config("b", "quota").unwrap(), None);
        m.put_bucket_config("b", "quota", "10").unwrap();
        assert_eq!(m.get_bucket_config("b", "quota").unwrap().as_deref(), Some("10"));
        m.put_bucket_config("b", "quota", "20").unwrap();
        assert_eq!(m.get_bucket_config("b", "quota").unwrap().as_deref(), Some("20"));
        assert!(m.delete_bucket_config("b", "quota").unwrap());
        assert_eq!(m.get_bucket_config("b", "quota").unwrap(), None);
        // A read that started before a change does not cache the value it read.
        let (_, gen) = m.configs.get("b", "worm");
        m.put_bucket_config("b", "worm", "new").unwrap();
        m.configs.put(gen, "b", "worm", &None);
        assert_eq!(m.get_bucket_config("b", "worm").unwrap().as_deref(), Some("new"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn inline_blobs_wait_in_memory_for_their_record_up_to_a_bound_then_go_straight_to_the_table() {
        let dir = std::env::temp_dir().join(format!("ossd-sqlite-{}", random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = SqliteMeta::open(&dir, false).unwrap();
        let in_table = |id: u64| select_inline(&m.r().unwrap(), id).unwrap();
        let chunk = vec![3u8; 16 * 1024];
        let n = (PENDING_MAX / chunk.len()) as u64;
        for id in 1..=n {
            m.put_inline(id, &chunk).unwrap();
        }
        assert_eq!(in_table(1), None, "pending: not written alone");
        assert_eq!(m.get_inline(1).unwrap().as_deref(), Some(&chunk[..]), "but readable");
        // The bound is reached: the next blob is written at once.
        m.put_inline(n + 1, b"over the bound").unwrap();
        assert_eq!(in_table(n + 1).as_deref(), Some(&b"over the bound"[..]));
        assert_eq!(m.inline_ids().unwrap().len() as u64, n + 1);
        // A part naming a pending blob writes it in the part's transaction.
        let up = UploadRecord {
            upload_id: "u1".into(),
            bucket: "b".into(),
            key: "k".into(),
            initiated_ms: 0,
            attrs: Default::default(),
        };
        m.create_upload(&up).unwrap();
        let part =
            PartRecord { part_number: 1, blob: 2, size: chunk.len() as u64, etag: "e".into(), crc64: 0, mtime_ms: 0 };
        m.put_part("b", "u1", &part).unwrap();
        assert_eq!(in_table(2).as_deref(), Some(&chunk[..]));
        // Deleting works on both kinds, and frees the pending bytes.
        for id in [1, 2, n + 1] {
            assert!(m.delete_inline(id).unwrap());
            assert_eq!(m.get_inline(id).unwrap(), None);
            assert!(!m.delete_inline(id).unwrap());
        }
        assert_eq!(m.pending().unwrap().bytes, (n as usize - 2) * chunk.len());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
