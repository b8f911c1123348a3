//! The `ossd` binary: `serve` runs the server; `explain` prints a catalog row.

use clap::{ArgAction, Parser, Subcommand};
use ossd_errors::{Code, CATALOG};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

mod fsck;
mod remote;
mod user;

#[derive(Parser)]
#[command(name = "ossd", version, about = "A self-hosted object storage server that speaks the Alibaba Cloud OSS API")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server. Every flag has an OSSD_* environment twin; flags win over the environment.
    /// HTTPS: give --tls-cert and --tls-key; the main listener then serves HTTPS, and an extra listener serves
    /// plain HTTP when it says so: --also-listen http://127.0.0.1:9080.
    Serve(Box<ServeArgs>),
    /// Manage users (works on the data dir; takes effect on a running server at once).
    User {
        /// The server's data directory.
        #[arg(long, env = "OSSD_DATA", default_value = "./ossd-data", global = true)]
        data: PathBuf,
        #[command(subcommand)]
        cmd: user::UserCmd,
    },
    /// Check that a data dir's metadata and blobs agree; --repair deletes unreferenced blobs.
    Fsck(fsck::FsckArgs),
    #[command(flatten)]
    Remote(remote::RemoteCmd),
    /// Print what an error code or EC means: status, message, cause, fix, and whether to retry.
    Explain {
        /// An error code (NoSuchKey), a row name, or an EC (0026-00000001).
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every row: name, code, status, EC and retry class, tab-separated.
        #[arg(long)]
        list: bool,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OSSD_LISTEN", default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Data directory: metadata (SQLite) and blobs.
    #[arg(long, env = "OSSD_DATA", default_value = "./ossd-data")]
    data: PathBuf,
    /// The root user's access key id; generated on first start when not given. On a data dir that already has
    /// a different root key, start-up fails unless --replace-root-key is given.
    #[arg(long, env = "OSSD_ROOT_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    /// The root user's access key secret.
    #[arg(long, env = "OSSD_ROOT_ACCESS_KEY_SECRET", hide_env_values = true)]
    access_key_secret: Option<String>,
    /// Replace the data dir's root key pair with the one given (the previous root key id stays as an ordinary
    /// user; disable it with `ossd user disable ID`).
    #[arg(long, requires = "access_key_id")]
    replace_root_key: bool,
    /// The region reported for buckets and required in V4 signatures.
    #[arg(long, env = "OSSD_REGION", default_value = "cn-hangzhou")]
    region: String,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "OSSD_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "OSSD_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// HOST:PORT reported as ExtranetEndpoint/IntranetEndpoint, and the host for virtual-hosted addressing.
    /// Defaults to the listen address.
    #[arg(long, env = "OSSD_PUBLIC_ENDPOINT")]
    public_endpoint: Option<String>,
    /// fsync data and metadata before acknowledging a write.
    #[arg(long, env = "OSSD_FSYNC", default_value_t = true, action = ArgAction::Set)]
    fsync: bool,
    /// Seconds a request body may stall before the request fails with RequestTimeout (and a response the client
    /// stops reading before it is cut off).
    #[arg(long, env = "OSSD_IDLE_TIMEOUT", default_value_t = 60)]
    idle_timeout: u64,
    /// Buckets each user may own.
    #[arg(long, env = "OSSD_MAX_BUCKETS", default_value_t = 100)]
    max_buckets: usize,
    /// Largest CopyObject source, in bytes.
    #[arg(long, env = "OSSD_COPY_LIMIT", default_value_t = 1 << 30)]
    copy_limit: u64,
    /// Seconds in a "day" for lifecycle rules, WORM retention and restore periods (shorten it for tests).
    #[arg(long, env = "OSSD_LIFECYCLE_DAY_SECONDS", default_value_t = 86_400)]
    lifecycle_day_seconds: u64,
    /// Seconds a RestoreObject of an Archive or ColdArchive object takes.
    #[arg(long, env = "OSSD_RESTORE_SECONDS", default_value_t = 60)]
    restore_seconds: u64,
    /// Seconds between writes of buffered access-log lines to the logging target buckets.
    #[arg(long, env = "OSSD_LOG_FLUSH_SECONDS", default_value_t = 300)]
    log_flush_seconds: u64,
    /// Requests per second for the whole server (503 TotalQpsLimitExceeded past it); 0 is no limit.
    #[arg(long, env = "OSSD_TOTAL_QPS_LIMIT", default_value_t = 0)]
    total_qps_limit: u64,
    /// Service and bucket operations per second (503 MetaOperationQpsLimitExceeded); 0 is no limit.
    #[arg(long, env = "OSSD_META_QPS_LIMIT", default_value_t = 0)]
    meta_qps_limit: u64,
    /// Requests per second per user (429 QpsLimitExceeded); 0 is no limit.
    #[arg(long, env = "OSSD_USER_QPS_LIMIT", default_value_t = 0)]
    user_qps_limit: u64,
    /// Download bytes per second per bucket (503 DownloadTrafficRateLimitExceeded); 0 is no limit.
    #[arg(long, env = "OSSD_DOWNLOAD_BANDWIDTH_LIMIT", default_value_t = 0)]
    download_bandwidth_limit: u64,
    /// Upload bytes per second per bucket (503 UploadTrafficRateLimitExceeded); 0 is no limit.
    #[arg(long, env = "OSSD_UPLOAD_BANDWIDTH_LIMIT", default_value_t = 0)]
    upload_bandwidth_limit: u64,
    /// The dialect (oss, s3, cos, obs) of anonymous requests that carry no other signal.
    #[arg(long, env = "OSSD_DIALECT", default_value = "oss", value_parser = parse_dialect)]
    dialect: ossd_errors::Dialect,
    /// Another listener, `[DIALECT=][SCHEME://]ADDR`: pinned to a dialect or detecting; `http://` or `https://`
    /// (default: https when --tls-cert is given, else http). May be given several times.
    #[arg(long = "also-listen", env = "OSSD_ALSO_LISTEN", value_delimiter = ',', value_parser = parse_listener)]
    also_listen: Vec<ossd_server::ListenSpec>,
    /// RTMP ingest for LiveChannels on ADDR (off unless given): publishers push to the PublishUrl that
    /// PutLiveChannel gives, and the stream is written into the bucket as HLS.
    #[arg(long = "rtmp-listen", env = "OSSD_RTMP_LISTEN")]
    rtmp_listen: Option<std::net::SocketAddr>,
    /// Connections open at once (all listeners together); one more is closed as soon as it is accepted.
    /// Keep it below the open-file limit (ulimit -n).
    #[arg(long, env = "OSSD_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a client has to send a request head (and to finish the TLS handshake) once the server waits
    /// for one.
    #[arg(long, env = "OSSD_HEADER_READ_TIMEOUT", default_value_t = 30)]
    header_read_timeout: u64,
    /// Seconds a connection may stay idle between requests.
    #[arg(long, env = "OSSD_KEEP_ALIVE_TIMEOUT", default_value_t = 60)]
    keep_alive_timeout: u64,
    /// Bytes of a request head (request line and headers; at least 8192); past it: 431.
    #[arg(long, env = "OSSD_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
    max_header_bytes: usize,
    /// Header lines in a request; past it: 431.
    #[arg(long, env = "OSSD_MAX_HEADERS", default_value_t = 256)]
    max_headers: usize,
    /// Bytes of the request target (path and query); past it: 414.
    #[arg(long, env = "OSSD_MAX_REQUEST_LINE", default_value_t = 16 * 1024)]
    max_request_line: usize,
    /// Answer every request in this one dialect.
    #[arg(long, env = "OSSD_PIN_DIALECT", value_parser = parse_dialect)]
    pin_dialect: Option<ossd_errors::Dialect>,
    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "OSSD_LOG", default_value = "info")]
    log: String,
}

fn parse_dialect(s: &str) -> Result<ossd_errors::Dialect, String> {
    ossd_errors::Dialect::parse(s).ok_or_else(|| format!("{s}: the dialects are oss, s3, cos and obs"))
}

fn parse_listener(s: &str) -> Result<ossd_server::ListenSpec, String> {
    use ossd_server::Scheme;
    let (dialect, rest) = match s.split_once('=') {
        Some((d, a)) => (Some(parse_dialect(d)?), a),
        None => (None, s),
    };
    let (scheme, addr) = if let Some(a) = rest.strip_prefix("http://") {
        (Scheme::Http, a)
    } else if let Some(a) = rest.strip_prefix("https://") {
        (Scheme::Https, a)
    } else if rest.contains("://") {
        return Err(format!("{rest}: the schemes are http:// and https://"));
    } else {
        (Scheme::Default, rest)
    };
    let addr = addr.trim_end_matches('/');
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    Ok(ossd_server::ListenSpec { dialect, scheme, addr })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve(a) => serve(*a),
        Cmd::Remote(r) => remote::run(r),
        Cmd::Explain { list: true, .. } => {
            for (d, c) in CATALOG.iter().zip(Code::ALL) {
                let (s3_code, s3_status) = c.in_dialect(ossd_errors::Dialect::S3);
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{s3_code}\t{s3_status}",
                    d.name,
                    d.code,
                    d.status,
                    d.ec,
                    d.retry.as_str()
                );
            }
            ExitCode::SUCCESS
        }
        Cmd::Explain { code, .. } => explain(code.as_deref().unwrap_or("")),
        Cmd::User { data, cmd } => user::run(&data, cmd),
        Cmd::Fsck(a) => fsck::run(a),
    }
}

/// The catalog rows `ossd explain` prints for an EC, a wire code or a row name.
fn explain_rows(code: &str) -> Vec<&'static ossd_errors::ErrorDef> {
    let rows: Vec<_> = Code::all_with_ec(code).map(Code::def).collect();
    if !rows.is_empty() {
        return rows;
    }
    CATALOG.iter().filter(|d| d.code.eq_ignore_ascii_case(code) || d.name.eq_ignore_ascii_case(code)).collect()
}

fn explain(code: &str) -> ExitCode {
    let rows = explain_rows(code);
    if rows.is_empty() {
        eprintln!("ossd explain: {code} is neither a code nor an EC in the catalog");
        return ExitCode::from(2);
    }
    for d in rows {
        println!("{} ({})  HTTP {}  EC {}", d.code, d.name, d.status, d.ec);
        println!("  message: {}", d.message);
        println!("  cause:   {}", d.cause);
        println!("  fix:     {}", d.fix);
        println!("  retry:   {}", d.retry.as_str());
        println!("  doc:     {}", d.recommend_doc());
    }
    ExitCode::SUCCESS
}

fn serve(a: ServeArgs) -> ExitCode {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&a.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
    let mut cfg = ossd_server::Config::new(a.listen, a.data.clone());
    cfg.region = a.region.clone();
    cfg.public_endpoint = a.public_endpoint;
    cfg.fsync = a.fsync;
    cfg.access_key_id = a.access_key_id;
    cfg.access_key_secret = a.access_key_secret;
    cfg.replace_root_key = a.replace_root_key;
    cfg.tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(ossd_server::http::tls::TlsFiles { cert, key }),
        _ => None,
    };
    cfg.conn = ossd_server::http::conn::ConnConfig {
        max_connections: a.max_connections.max(1),
        header_read_timeout: std::time::Duration::from_secs(a.header_read_timeout.max(1)),
        keep_alive_timeout: std::time::Duration::from_secs(a.keep_alive_timeout.max(1)),
        max_header_bytes: a.max_header_bytes,
        max_headers: a.max_headers,
        max_request_line: a.max_request_line,
    };
    cfg.idle_timeout = std::time::Duration::from_secs(a.idle_timeout.max(1));
    cfg.max_buckets = a.max_buckets;
    cfg.copy_limit = a.copy_limit;
    cfg.day_seconds = a.lifecycle_day_seconds;
    cfg.restore_seconds = a.restore_seconds;
    cfg.limits = ossd_server::http::limits::LimitConfig {
        total_qps: a.total_qps_limit,
        meta_qps: a.meta_qps_limit,
        user_qps: a.user_qps_limit,
        download_bps: a.download_bandwidth_limit,
        upload_bps: a.upload_bandwidth_limit,
    };
    cfg.default_dialect = a.dialect;
    cfg.pinned_dialect = a.pin_dialect;
    cfg.also_listen = a.also_listen;
    cfg.rtmp_listen = a.rtmp_listen;
    cfg.log_flush = std::time::Duration::from_secs(a.log_flush_seconds.max(1));
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ossd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let bound = match ossd_server::bind(cfg).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!(
                    "ossd: cannot start: {}",
                    e.context.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("; ")
                );
                return ExitCode::FAILURE;
            }
        };
        match &bound.root_key {
            ossd_server::RootKey::Generated => {
                println!("ossd: created the root access key pair (kept in {}):", a.data.display());
                println!("  access key id:     {}", bound.root.access_key_id);
                println!("  access key secret: {}", bound.root.secret);
            }
            ossd_server::RootKey::Replaced { previous } if *previous == bound.root.access_key_id => {
                println!("ossd: replaced the secret of the root access key id {previous}");
            }
            ossd_server::RootKey::Replaced { previous } => {
                println!(
                    "ossd: replaced the root access key pair: the root access key id is now {}; the previous one, \
                     {previous}, is now an ordinary user (`ossd user disable {previous}` to turn it off)",
                    bound.root.access_key_id
                );
            }
            ossd_server::RootKey::Stored | ossd_server::RootKey::Kept => {
                println!("ossd: root access key id: {}", bound.root.access_key_id)
            }
        }
        for (i, l) in bound.listeners.iter().enumerate() {
            let at = l.tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let scheme = if l.tls { "https" } else { "http" };
            if i == 0 {
                println!(
                    "ossd: listening on {at} ({scheme}; region {}, data {})",
                    bound.state.region,
                    a.data.display()
                );
            } else {
                let d = l.dialect.map(|d| d.as_str()).unwrap_or("any dialect");
                println!("ossd: also listening on {at} ({d}) over {scheme}");
            }
        }
        if let Some(at) = bound.rtmp.as_ref().and_then(|l| l.local_addr().ok()) {
            println!("ossd: RTMP ingest listening on {at}");
        }
        ossd_server::run(bound, shutdown_signal()).await;
        println!("ossd: stopped");
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn explain_finds_every_rows_ec() {
        for d in CATALOG {
            assert!(explain_rows(d.ec).iter().any(|r| r.name == d.name), "explain {} misses {}", d.ec, d.name);
        }
        assert!(explain_rows("0002-00000226").iter().any(|r| r.name == "InvalidSigningRegion"));
        assert!(explain_rows("9999-99999999").is_empty());
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("source dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every EC literal in the server's and engine's code (an EC a site could send without a row of its own) is a
    /// catalog row's, so `ossd explain` answers for it.
    #[test]
    fn explain_finds_every_ec_written_in_the_sources() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for c in ["server/src", "engine/src"] {
            rust_files(&root.join(c), &mut files);
        }
        assert!(files.len() > 20, "the walk found only {} source files", files.len());
        for f in files {
            // Comments cite ECs of OSS limits that ossd answers with another row; only code can send an EC.
            let text: String = std::fs::read_to_string(&f)
                .expect("source file")
                .lines()
                .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
                .collect::<Vec<_>>()
                .join("\n");
            let b = text.as_bytes();
            for i in 0..b.len().saturating_sub(13) {
                let w = &b[i..i + 13];
                let shaped = w[4] == b'-' && w.iter().enumerate().all(|(j, c)| j == 4 || c.is_ascii_digit());
                let bounded = (i == 0 || !b[i - 1].is_ascii_alphanumeric())
                    && b.get(i + 13).is_none_or(|c| !c.is_ascii_alphanumeric());
                if shaped && bounded {
                    let ec = std::str::from_utf8(w).expect("ascii");
                    assert!(!explain_rows(ec).is_empty(), "{} names EC {ec}, which no catalog row has", f.display());
                }
            }
        }
    }
}
