//! The ossd HTTP service: listener, connection handling, request ids and the per-request log line.
//! Requests go to a dialect (only OSS so far), which turns them into engine calls.

pub mod body;
pub mod cos;
pub mod dialect;
pub mod json;
pub mod limits;
pub mod obs;
pub mod oss;
pub mod s3;
pub mod util;
pub mod workers;

use body::Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
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
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
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
    /// More listeners: (dialect they are pinned to, address).
    pub also_listen: Vec<(Option<ossd_errors::Dialect>, SocketAddr)>,
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
    pub max_buckets: usize,
    pub copy_limit: u64,
    pub log_flush: Duration,
    pub limits: limits::Limits,
    pub default_dialect: ossd_errors::Dialect,
    pub pinned_dialect: Option<ossd_errors::Dialect>,
    pub access_log: workers::AccessLog,
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
        if let Some(v) = self.engine.meta.cached_bucket_config(bucket, kind) {
            return Ok(v);
        }
        let engine = self.engine.clone();
        let b = bucket.to_string();
        tokio::task::spawn_blocking(move || engine.meta.get_bucket_config(&b, kind)).await.map_err(Error::internal)?
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
        let u = tokio::task::spawn_blocking(move || engine.meta.get_user(&id)).await.map_err(Error::internal)??;
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

/// A server that is bound and ready to run.
pub struct Bound {
    pub listener: TcpListener,
    /// More listeners, each optionally pinned to a dialect.
    pub extra: Vec<(TcpListener, Option<ossd_errors::Dialect>)>,
    pub state: Arc<State>,
    pub root: UserRecord,
    /// True when the root key pair was generated on this start.
    pub root_created: bool,
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
    let (root, root_created) = settle_root(&engine, &cfg)?;
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
        max_buckets: cfg.max_buckets,
        copy_limit: cfg.copy_limit,
        log_flush: cfg.log_flush,
        limits: limits::Limits::new(cfg.limits),
        default_dialect: cfg.default_dialect,
        pinned_dialect: cfg.pinned_dialect,
        access_log: workers::AccessLog::default(),
        users: Default::default(),
        buckets: Default::default(),
        id_base: random_u64(),
        id_counter: AtomicU64::new(0),
    });
    let mut extra = Vec::new();
    for (d, addr) in &cfg.also_listen {
        let l = TcpListener::bind(addr).await.map_err(|e| Error::internal(format!("bind {addr}: {e}")))?;
        extra.push((l, *d));
    }
    Ok(Bound { listener, extra, state, root, root_created })
}

fn settle_root(engine: &Engine, cfg: &Config) -> Result<(UserRecord, bool)> {
    let existing = engine.meta.root_user()?;
    match (&cfg.access_key_id, &cfg.access_key_secret) {
        (Some(id), Some(secret)) => {
            if let Some(old) = existing.filter(|o| &o.access_key_id != id) {
                engine.meta.put_user(&UserRecord { is_root: false, ..old })?;
            }
            let u = UserRecord {
                access_key_id: id.clone(),
                secret: secret.clone(),
                enabled: true,
                is_root: true,
                key_enabled: true,
            };
            engine.meta.put_user(&u)?;
            Ok((u, false))
        }
        (Some(_), None) | (None, Some(_)) => {
            Err(Error::internal("--access-key-id and --access-key-secret must be given together"))
        }
        (None, None) => match existing {
            Some(u) => Ok((u, false)),
            None => {
                let u = UserRecord {
                    access_key_id: format!("OSSD{}", random_token(20)),
                    secret: random_token(30),
                    enabled: true,
                    is_root: true,
                    key_enabled: true,
                };
                engine.meta.put_user(&u)?;
                Ok((u, true))
            }
        },
    }
}

/// Serves until `shutdown` resolves, then lets open requests finish (up to 10 s).
pub async fn run(bound: Bound, shutdown: impl std::future::Future<Output = ()>) {
    let Bound { listener, state, extra, .. } = bound;
    workers::spawn(&state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    let pinned = state.pinned_dialect;
    for (l, d) in std::iter::once((listener, pinned)).chain(extra) {
        loops.spawn(accept_loop(l, state.clone(), d, stop_rx.clone()));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async { while loops.join_next().await.is_some() {} }).await;
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || s.access_log.flush(&s)).await;
}

/// Accepts connections on one listener (optionally pinned to a dialect) until told to stop, then lets its
/// open connections finish.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    pinned: Option<ossd_errors::Dialect>,
    mut stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop_rx.changed() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let mut stop = stop_rx.clone();
                tasks.spawn(async move {
                    let svc = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(state, req, peer, pinned).await) }
                    });
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(60))
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.as_mut().await;
                        }
                    }
                });
                while tasks.try_join_next().is_some() {}
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}

async fn handle(
    state: Arc<State>,
    req: hyper::Request<hyper::body::Incoming>,
    peer: SocketAddr,
    pinned: Option<ossd_errors::Dialect>,
) -> hyper::Response<Body> {
    let id = state.request_id();
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let uri = req.uri().to_string();
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let (referer, agent, host, req_len) =
        (header("referer"), header("user-agent"), header("host"), header("content-length"));
    let resp = oss::handle(&state, req, &id, pinned).await;
    if let Some(info) = resp.extensions().get::<oss::RequestInfo>().cloned() {
        if let Some(bucket) = info.bucket.as_deref() {
            if let Ok(Some(_)) = state.bucket_config(bucket, oss::config::LOGGING).await {
                let sent = resp.headers().get("content-length").and_then(|v| v.to_str().ok()).unwrap_or("0");
                let code = resp.extensions().get::<oss::LoggedCode>().map(|c| c.0).unwrap_or("-");
                let ms = started.elapsed().as_millis();
                let time = httpdate::fmt_http_date(std::time::SystemTime::now());
                let requester = if info.requester.is_empty() { "-" } else { info.requester.as_str() };
                let line = format!(
                    "{} - - [{time}] \"{method} {uri} HTTP/1.1\" {} {sent} {ms} \"{referer}\" \"{agent}\" \"{host}\" \"{id}\" \"true\" \"{requester}\" \"{}\" \"{bucket}\" \"{}\" - {ms} \"{code}\" {req_len} \"{requester}\"",
                    peer.ip(),
                    resp.status().as_u16(),
                    info.operation,
                    util::encode(info.key.as_deref().unwrap_or("-")),
                );
                state.access_log.record(bucket, line);
            }
        }
    }
    let code = resp.extensions().get::<oss::LoggedCode>().map(|c| c.0).unwrap_or("-");
    let ec = resp.headers().get("x-oss-ec").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info!(target: "ossd::request", "{id} {method} {path} {} {code} {ec}", resp.status().as_u16());
    resp
}
