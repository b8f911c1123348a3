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
    #[command(flatten)]
    conn: remote::Conn,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server. Every flag has an OSSD_* environment twin; flags win over the environment.
    Serve(ServeArgs),
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
    /// HOST:PORT reported as ExtranetEndpoint/IntranetEndpoint, and the host for virtual-hosted addressing.
    /// Defaults to the listen address.
    #[arg(long, env = "OSSD_PUBLIC_ENDPOINT")]
    public_endpoint: Option<String>,
    /// fsync data and metadata before acknowledging a write.
    #[arg(long, env = "OSSD_FSYNC", default_value_t = true, action = ArgAction::Set)]
    fsync: bool,
    /// Seconds a request body may stall before the request fails with RequestTimeout.
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
    /// Another listener, `DIALECT=ADDR` (pinned) or `ADDR` (detecting); may be given several times.
    #[arg(long = "also-listen", env = "OSSD_ALSO_LISTEN", value_delimiter = ',', value_parser = parse_listener)]
    also_listen: Vec<(Option<ossd_errors::Dialect>, SocketAddr)>,
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

fn parse_listener(s: &str) -> Result<(Option<ossd_errors::Dialect>, SocketAddr), String> {
    let (d, addr) = match s.split_once('=') {
        Some((d, a)) => (Some(parse_dialect(d)?), a),
        None => (None, s),
    };
    addr.parse().map(|a| (d, a)).map_err(|e| format!("{addr}: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve(a) => serve(a, cli.conn),
        Cmd::Remote(r) => remote::run(cli.conn, r),
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

fn explain(code: &str) -> ExitCode {
    let rows: Vec<_> = match Code::from_ec(code) {
        Some(c) => vec![c.def()],
        None => {
            CATALOG.iter().filter(|d| d.code.eq_ignore_ascii_case(code) || d.name.eq_ignore_ascii_case(code)).collect()
        }
    };
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

fn serve(a: ServeArgs, conn: remote::Conn) -> ExitCode {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&a.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
    let mut cfg = ossd_server::Config::new(a.listen, a.data.clone());
    cfg.region = conn.region.unwrap_or_else(|| "cn-hangzhou".into());
    cfg.public_endpoint = a.public_endpoint;
    cfg.fsync = a.fsync;
    cfg.access_key_id = conn.access_key_id;
    cfg.access_key_secret = conn.access_key_secret;
    cfg.idle_timeout = std::time::Duration::from_secs(a.idle_timeout.max(1));
    cfg.max_buckets = a.max_buckets;
    cfg.copy_limit = a.copy_limit;
    cfg.day_seconds = a.lifecycle_day_seconds;
    cfg.restore_seconds = a.restore_seconds;
    cfg.limits = ossd_server::limits::LimitConfig {
        total_qps: a.total_qps_limit,
        meta_qps: a.meta_qps_limit,
        user_qps: a.user_qps_limit,
        download_bps: a.download_bandwidth_limit,
        upload_bps: a.upload_bandwidth_limit,
    };
    cfg.default_dialect = a.dialect;
    cfg.pinned_dialect = a.pin_dialect;
    cfg.also_listen = a.also_listen;
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
        let addr = bound.listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        if bound.root_created {
            println!("ossd: created the root access key pair (kept in {}):", a.data.display());
            println!("  access key id:     {}", bound.root.access_key_id);
            println!("  access key secret: {}", bound.root.secret);
        } else {
            println!("ossd: root access key id: {}", bound.root.access_key_id);
        }
        println!("ossd: listening on {addr} (region {}, data {})", bound.state.region, a.data.display());
        for (l, d) in &bound.extra {
            let at = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
            println!("ossd: also listening on {at} ({})", d.map(|d| d.as_str()).unwrap_or("any dialect"));
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
