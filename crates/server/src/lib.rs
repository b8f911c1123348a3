//! The ossd HTTP service: configuration, the shared state, start-up (store, root key, listeners) and the run
//! loop. A request travels `http` (the wire) → `dialect` (oss | s3 | cos | obs: auth, decoding, rendering) →
//! `ops` (dialect-neutral operations) → the engine; `pipeline` wires them together.

pub mod dialect;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod ops;
pub mod pipeline;
pub mod rtmp;

use crate::http::{conn, limits, tls};

use crate::http::util;
use ossd_engine::model::{random_u64, UserRecord};
use ossd_engine::Engine;
use ossd_errors::{Error, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Everything `ossd serve` can be told.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub region: String,
    /// HOST:PORT reported as the bucket endpoint; the listen address when None.
    pub public_endpoint: Option<String>,
    pub fsync: bool,
    /// The root user's key pair; generated on first start when not given.
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    /// Replace the data dir's root key pair when `access_key_id`/`access_key_secret` name another one
    /// (without it, that is a start-up error).
    pub replace_root_key: bool,
    /// Serve HTTPS (on the main listener, and on extra listeners that do not ask for plain HTTP).
    pub tls: Option<tls::TlsFiles>,
    pub conn: conn::ConnConfig,
    pub idle_timeout: Duration,
    pub max_buckets: usize,
    /// The largest CopyObject source, in bytes.
    pub copy_limit: u64,
    /// The length of a "day" for lifecycle, retention and restore periods (shortened in tests).
    pub day_seconds: u64,
    /// How long a restore of an archive object takes.
    pub restore_seconds: u64,
    /// How often buffered access-log lines are written to the logging target buckets.
    pub log_flush: Duration,
    pub limits: limits::LimitConfig,
    /// The dialect of anonymous requests that carry no other signal.
    pub default_dialect: ossd_errors::Dialect,
    /// Pins every request of this listener to one dialect.
    pub pinned_dialect: Option<ossd_errors::Dialect>,
    /// More listeners.
    pub also_listen: Vec<ListenSpec>,
    /// The RTMP ingest listener for LiveChannels (`rtmp`); none when not given.
    pub rtmp_listen: Option<SocketAddr>,
}

/// Whether a listener speaks plain HTTP or HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// HTTPS when the server has a certificate (`--tls-cert`), else HTTP.
    Default,
    Http,
    Https,
}

/// An extra listener: its address, the dialect it is pinned to, and its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenSpec {
    pub dialect: Option<ossd_errors::Dialect>,
    pub scheme: Scheme,
    pub addr: SocketAddr,
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Config {
        Config {
            listen,
            data_dir,
            region: "cn-hangzhou".into(),
            public_endpoint: None,
            fsync: true,
            access_key_id: None,
            access_key_secret: None,
            replace_root_key: false,
            tls: None,
            conn: conn::ConnConfig::default(),
            idle_timeout: Duration::from_secs(60),
            max_buckets: 100,
            copy_limit: 1 << 30,
            day_seconds: 86_400,
            restore_seconds: 60,
            log_flush: Duration::from_secs(300),
            limits: limits::LimitConfig::default(),
            default_dialect: ossd_errors::Dialect::Oss,
            pinned_dialect: None,
            also_listen: Vec::new(),
            rtmp_listen: None,
        }
    }
}

/// Shared by every request.
pub struct State {
    pub engine: Arc<Engine>,
    pub region: String,
    /// HOST:PORT for ExtranetEndpoint/IntranetEndpoint.
    pub public_endpoint: String,
    /// The public endpoint's host, lowercased: `bucket.<this>` is virtual-hosted addressing.
    pub public_host: String,
    pub idle_timeout: Duration,
    pub copy_limit: u64,
    pub log_flush: Duration,
    pub limits: limits::Limits,
    pub default_dialect: ossd_errors::Dialect,
    pub pinned_dialect: Option<ossd_errors::Dialect>,
    /// Users read within the last half second (`ossd user` changes take effect within a second).
    pub(crate) users: std::sync::Mutex<std::collections::HashMap<String, (Option<UserRecord>, std::time::Instant)>>,
    /// Bucket records; this process is their only writer, and forgets one on every change.
    pub(crate) buckets: std::sync::Mutex<std::collections::HashMap<String, ossd_engine::model::BucketRecord>>,
    pub(crate) id_base: u64,
    pub(crate) id_counter: AtomicU64,
}

impl State {
    /// A bucket's configuration document of one kind: from the store's cache when it is there (the store keeps
    /// it in step with every change), else read off the async workers (which fills that cache).
    pub async fn bucket_config(self: &Arc<Self>, bucket: &str, kind: &'static str) -> Result<Option<String>> {
        if let Some(v) = self.engine.cached_bucket_config(bucket, kind) {
            return Ok(v);
        }
        let engine = self.engine.clone();
        let b = bucket.to_string();
        tokio::task::spawn_blocking(move || engine.bucket_config(&b, kind)).await.map_err(Error::internal)?
    }

    /// Drops the cached record of a bucket (after a change).
    pub fn forget_bucket(&self, bucket: &str) {
        if let Ok(mut b) = self.buckets.lock() {
            b.remove(bucket);
        }
    }

    /// A user by access key id, cached for up to a second.
    pub async fn user(self: &Arc<Self>, ak: &str) -> Result<Option<UserRecord>> {
        if let Some((u, at)) = self.users.lock().ok().and_then(|m| m.get(ak).cloned()) {
            if at.elapsed() < Duration::from_millis(500) {
                return Ok(u);
            }
        }
        let engine = self.engine.clone();
        let id = ak.to_string();
        let u = tokio::task::spawn_blocking(move || engine.user(&id)).await.map_err(Error::internal)??;
        if let Ok(mut m) = self.users.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(ak.to_string(), (u.clone(), std::time::Instant::now()));
        }
        Ok(u)
    }

    /// A bucket record, cached until it changes.
    pub async fn bucket(self: &Arc<Self>, name: &str) -> Result<ossd_engine::model::BucketRecord> {
        if let Some(b) = self.buckets.lock().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(b);
        }
        let engine = self.engine.clone();
        let n = name.to_string();
        let b = tokio::task::spawn_blocking(move || engine.bucket(&n)).await.map_err(Error::internal)??;
        if let Ok(mut m) = self.buckets.lock() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(name.to_string(), b.clone());
        }
        Ok(b)
    }

    /// A fresh request id: 24 uppercase hex digits.
    pub fn request_id(&self) -> String {
        let n = self.id_counter.fetch_add(1, Ordering::Relaxed);
        format!("{:08X}{:016X}", util::now_secs() as u32, self.id_base.wrapping_add(n))
    }
}

/// A bound listener.
pub struct Listener {
    pub tcp: TcpListener,
    pub dialect: Option<ossd_errors::Dialect>,
    pub tls: bool,
}

/// What start-up did with the root key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKey {
    /// The data dir's root key pair, unchanged.
    Kept,
    /// A new data dir: the key pair given was stored.
    Stored,
    /// A new data dir and no key pair given: one was generated.
    Generated,
    /// `replace_root_key`: the given pair replaced the root key with this id (which is now an ordinary user,
    /// or, when the id is the same, had its secret replaced).
    Replaced { previous: String },
}

/// A server that is bound and ready to run.
pub struct Bound {
    /// The main listener first, then the extra ones.
    pub listeners: Vec<Listener>,
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
    pub conn: Arc<conn::ConnConfig>,
    pub state: Arc<State>,
    pub root: UserRecord,
    pub root_key: RootKey,
    /// The RTMP ingest listener, when configured.
    pub rtmp: Option<TcpListener>,
}

fn random_token(len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| A[(random_u64() % A.len() as u64) as usize] as char).collect()
}

/// Opens the store, settles the root key pair, and binds the listener.
pub async fn bind(cfg: Config) -> Result<Bound> {
    let dir = cfg.data_dir.clone();
    let (fsync, region) = (cfg.fsync, cfg.region.clone());
    let mut engine =
        tokio::task::spawn_blocking(move || Engine::open(&dir, fsync, &region)).await.map_err(Error::internal)??;
    engine.day_ms = cfg.day_seconds.max(1) as i64 * 1000;
    engine.restore_ms = cfg.restore_seconds as i64 * 1000;
    engine.max_buckets = cfg.max_buckets;
    let acceptor = match &cfg.tls {
        Some(files) => Some(tls::acceptor(files).map_err(Error::internal)?),
        None => None,
    };
    if acceptor.is_none() {
        if let Some(l) = cfg.also_listen.iter().find(|l| l.scheme == Scheme::Https) {
            return Err(Error::internal(format!("--also-listen https://{} needs --tls-cert and --tls-key", l.addr)));
        }
    }
    let (root, root_key) = settle_root(&engine, &cfg)?;
    let listener =
        TcpListener::bind(cfg.listen).await.map_err(|e| Error::internal(format!("bind {}: {e}", cfg.listen)))?;
    let local = listener.local_addr().map_err(Error::internal)?;
    let public_endpoint = cfg.public_endpoint.clone().unwrap_or_else(|| local.to_string());
    let public_host = public_endpoint
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&public_endpoint)
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let state = Arc::new(State {
        engine: Arc::new(engine),
        region: cfg.region.clone(),
        public_endpoint,
        public_host,
        idle_timeout: cfg.idle_timeout,
        copy_limit: cfg.copy_limit,
        log_flush: cfg.log_flush,
        limits: limits::Limits::new(cfg.limits),
        default_dialect: cfg.default_dialect,
        pinned_dialect: cfg.pinned_dialect,
        users: Default::default(),
        buckets: Default::default(),
        id_base: random_u64(),
        id_counter: AtomicU64::new(0),
    });
    let mut listeners = vec![Listener { tcp: listener, dialect: cfg.pinned_dialect, tls: acceptor.is_some() }];
    for spec in &cfg.also_listen {
        let addr = spec.addr;
        let tcp = TcpListener::bind(addr).await.map_err(|e| Error::internal(format!("bind {addr}: {e}")))?;
        let tls = match spec.scheme {
            Scheme::Default => acceptor.is_some(),
            Scheme::Http => false,
            Scheme::Https => true,
        };
        listeners.push(Listener { tcp, dialect: spec.dialect, tls });
    }
    let rtmp = match cfg.rtmp_listen {
        Some(addr) => {
            Some(TcpListener::bind(addr).await.map_err(|e| Error::internal(format!("bind RTMP {addr}: {e}")))?)
        }
        None => None,
    };
    Ok(Bound { listeners, acceptor, conn: Arc::new(cfg.conn.clone()), state, root, root_key, rtmp })
}

fn settle_root(engine: &Engine, cfg: &Config) -> Result<(UserRecord, RootKey)> {
    let existing = engine.root_user()?;
    match (&cfg.access_key_id, &cfg.access_key_secret) {
        (Some(id), Some(secret)) => {
            let u = UserRecord {
                access_key_id: id.clone(),
                secret: secret.clone(),
                enabled: true,
                is_root: true,
                key_enabled: true,
            };
            let outcome = match existing {
                None => RootKey::Stored,
                Some(old) if &old.access_key_id == id && &old.secret == secret => return Ok((old, RootKey::Kept)),
                Some(old) if !cfg.replace_root_key => {
                    return Err(Error::internal(format!(
                        "the data dir {} already has the root access key id {}, and the key pair given \
                         (--access-key-id/--access-key-secret or OSSD_ROOT_ACCESS_KEY_ID/OSSD_ROOT_ACCESS_KEY_SECRET) \
                         is a different one; start without it to keep the root key, or add --replace-root-key \
                         to replace it",
                        cfg.data_dir.display(),
                        old.access_key_id
                    )))
                }
                Some(old) => {
                    if old.access_key_id != *id {
                        engine.put_user(&UserRecord { is_root: false, ..old.clone() })?;
                    }
                    RootKey::Replaced { previous: old.access_key_id }
                }
            };
            engine.put_user(&u)?;
            Ok((u, outcome))
        }
        (Some(_), None) | (None, Some(_)) => {
            Err(Error::internal("--access-key-id and --access-key-secret must be given together"))
        }
        (None, None) => match existing {
            Some(u) => Ok((u, RootKey::Kept)),
            None => {
                let u = UserRecord {
                    access_key_id: format!("OSSD{}", random_token(20)),
                    secret: random_token(30),
                    enabled: true,
                    is_root: true,
                    key_enabled: true,
                };
                engine.put_user(&u)?;
                Ok((u, RootKey::Generated))
            }
        },
    }
}

/// Serves until `shutdown` resolves, then lets open requests finish (up to 10 s).
pub async fn run(bound: Bound, shutdown: impl std::future::Future<Output = ()>) {
    let Bound { listeners, state, acceptor, conn, rtmp, .. } = bound;
    let workers = state.engine.start_workers(state.log_flush);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let slots = Arc::new(tokio::sync::Semaphore::new(conn.max_connections.max(1)));
    let refused = Arc::new(AtomicU64::new(0));
    let mut loops = tokio::task::JoinSet::new();
    for l in listeners {
        let tls = if l.tls { acceptor.clone() } else { None };
        let shared = crate::http::accept::Shared {
            state: state.clone(),
            conn: conn.clone(),
            slots: slots.clone(),
            refused: refused.clone(),
            handler: pipeline::handler,
        };
        loops.spawn(crate::http::accept::accept_loop(l.tcp, tls, l.dialect, shared, stop_rx.clone()));
    }
    if let Some(l) = rtmp {
        loops.spawn(crate::rtmp::serve(state.clone(), l, stop_rx.clone()));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async { while loops.join_next().await.is_some() {} }).await;
    // Stopping delivers the access-log lines still queued.
    let _ = tokio::task::spawn_blocking(move || workers.stop()).await;
}
