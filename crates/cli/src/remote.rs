//! The client commands of the `ossd` CLI (mb, rb, ls, cp, rm, stat, cat, presign), built on the SDK.
//! Failures print one block (code, message, request id, the catalog's fix) and exit 2 (client), 3 (request)
//! or 4 (server).

use indicatif::{ProgressBar, ProgressStyle};
use ossd_client::multipart::MultipartOptions;
use ossd_client::{Client, Config, Error, GetOptions, ListEntry, PutOptions, SignVersion};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How the client commands reach the service (the client commands' own flags; `ossd serve` has its own).
#[derive(clap::Args, Clone)]
pub struct Conn {
    /// The service, e.g. http://127.0.0.1:9000 or https://oss-cn-hangzhou.aliyuncs.com.
    #[arg(long, env = "OSSD_ENDPOINT")]
    endpoint: Option<String>,
    /// The access key id.
    #[arg(long, env = "OSSD_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    /// The access key secret.
    #[arg(long, env = "OSSD_ACCESS_KEY_SECRET", hide_env_values = true)]
    access_key_secret: Option<String>,
    /// The region (default cn-hangzhou), used in V4 signatures.
    #[arg(long, env = "OSSD_REGION")]
    region: Option<String>,
    /// A PEM file of CA certificates to trust for https:// endpoints, besides the system's (for a private CA
    /// or a self-signed ossd).
    #[arg(long, env = "OSSD_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// A profile file with `endpoint = …`, `access_key_id = …`, `access_key_secret = …`, `region = …`,
    /// `ca_file = …`, `signature_version = v1|v2|v4` lines; flags and the environment win over it.
    #[arg(long, env = "OSSD_PROFILE")]
    profile: Option<PathBuf>,
    /// Sign with OSS signature V1 instead of V4.
    #[arg(long, conflicts_with = "v2")]
    v1: bool,
    /// Sign with OSS signature V2 (OSS2, HMAC-SHA256) instead of V4.
    #[arg(long)]
    v2: bool,
}

#[derive(clap::Subcommand)]
pub enum RemoteCmd {
    /// Make a bucket: ossd mb oss://bucket
    Mb {
        #[command(flatten)]
        conn: Conn,
        target: String,
        #[arg(long)]
        acl: Option<String>,
        #[arg(long)]
        storage_class: Option<String>,
    },
    /// Remove an (empty) bucket.
    Rb {
        #[command(flatten)]
        conn: Conn,
        target: String,
    },
    /// List buckets, or objects under oss://bucket/prefix (one level, or all with -r).
    Ls {
        #[command(flatten)]
        conn: Conn,
        target: Option<String>,
        #[arg(short, long)]
        recursive: bool,
    },
    /// Copy local→remote, remote→local or remote→remote; -r for directories and prefixes.
    Cp {
        #[command(flatten)]
        conn: Conn,
        src: String,
        dst: String,
        #[arg(short, long)]
        recursive: bool,
        /// Files above this size (bytes) go up in parallel parts.
        #[arg(long, default_value_t = 32 << 20)]
        multipart_threshold: u64,
        #[arg(long, default_value_t = 8 << 20)]
        part_size: u64,
    },
    /// Remove an object, or everything under a prefix with -r.
    Rm {
        #[command(flatten)]
        conn: Conn,
        target: String,
        #[arg(short, long)]
        recursive: bool,
    },
    /// Show an object's (or a bucket's) metadata.
    Stat {
        #[command(flatten)]
        conn: Conn,
        target: String,
    },
    /// Write an object to standard output.
    Cat {
        #[command(flatten)]
        conn: Conn,
        target: String,
    },
    /// Print a presigned URL.
    Presign {
        #[command(flatten)]
        conn: Conn,
        target: String,
        #[arg(long, default_value_t = 3600)]
        expires: u64,
        #[arg(long, default_value = "GET")]
        method: String,
    },
}

struct Remote {
    bucket: String,
    key: String,
}

fn remote(s: &str) -> Option<Remote> {
    let rest = s.strip_prefix("oss://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Some(Remote { bucket: bucket.to_string(), key: key.to_string() })
}

fn need_remote(s: &str) -> Result<Remote, Error> {
    remote(s).ok_or_else(|| usage(format!("{s:?} is not a remote path (oss://bucket/key)")))
}

fn usage(msg: String) -> Error {
    Error::client(ossd_client::ClientErrorKind::InvalidArgument, msg)
}

fn profile(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("profile {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

fn client(c: &Conn) -> Result<Client, Error> {
    let prof = match &c.profile {
        Some(p) => profile(p)?,
        None => Vec::new(),
    };
    let from =
        |v: &Option<String>, k: &str| v.clone().or_else(|| prof.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
    let endpoint = from(&c.endpoint, "endpoint").unwrap_or_else(|| "http://127.0.0.1:9000".into());
    let (Some(id), Some(secret)) =
        (from(&c.access_key_id, "access_key_id"), from(&c.access_key_secret, "access_key_secret"))
    else {
        return Err(Error::client(
            ossd_client::ClientErrorKind::MissingCredentials,
            "no credentials: give --access-key-id and --access-key-secret, OSSD_ACCESS_KEY_ID and OSSD_ACCESS_KEY_SECRET, or --profile",
        ));
    };
    let mut cfg = Config::new(&endpoint, &id, &secret);
    if let Some(r) = from(&c.region, "region") {
        cfg.region = r;
    }
    cfg.ca_file = c.ca_file.clone().or_else(|| from(&None, "ca_file").map(PathBuf::from));
    cfg.sign = match (c.v1, c.v2, from(&None, "signature_version").as_deref()) {
        (true, _, _) => SignVersion::V1,
        (_, true, _) => SignVersion::V2,
        (_, _, None | Some("v4" | "V4")) => SignVersion::V4,
        (_, _, Some("v1" | "V1")) => SignVersion::V1,
        (_, _, Some("v2" | "V2")) => SignVersion::V2,
        (_, _, Some(other)) => return Err(usage(format!("profile: signature_version {other:?} is not v1, v2 or v4"))),
    };
    Client::new(cfg)
}

fn report(e: &Error) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e {
        Error::Server(s) => {
            let _ = writeln!(err, "ossd: {} {} ({}): {}", s.operation, s.code_str(), s.status, s.message);
            let _ = writeln!(
                err,
                "  request id: {}",
                s.request_id().unwrap_or("none (the answer did not come from the service)")
            );
            if let Some(ec) = &s.ec {
                let _ = writeln!(err, "  EC:         {ec}");
            }
            if let Some(fix) = s.fix() {
                let _ = writeln!(err, "  fix:        {fix}");
            }
        }
        other => {
            let _ = writeln!(err, "ossd: {other}");
        }
    }
    ExitCode::from(e.exit_code())
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

impl RemoteCmd {
    fn conn(&self) -> &Conn {
        match self {
            RemoteCmd::Mb { conn, .. }
            | RemoteCmd::Rb { conn, .. }
            | RemoteCmd::Ls { conn, .. }
            | RemoteCmd::Cp { conn, .. }
            | RemoteCmd::Rm { conn, .. }
            | RemoteCmd::Stat { conn, .. }
            | RemoteCmd::Cat { conn, .. }
            | RemoteCmd::Presign { conn, .. } => conn,
        }
    }
}

pub fn run(cmd: RemoteCmd) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ossd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(exec(cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

async fn exec(cmd: RemoteCmd) -> Result<(), Error> {
    let c = client(cmd.conn())?;
    match cmd {
        RemoteCmd::Mb { target, acl, storage_class, .. } => {
            let r = need_remote(&target)?;
            c.create_bucket(&r.bucket, acl.as_deref(), storage_class.as_deref()).await?;
            println!("made oss://{}", r.bucket);
        }
        RemoteCmd::Rb { target, .. } => {
            let r = need_remote(&target)?;
            c.delete_bucket(&r.bucket).await?;
            println!("removed oss://{}", r.bucket);
        }
        RemoteCmd::Ls { target: None, .. } => {
            for b in c.list_buckets("").await? {
                println!("{}  {:<12} oss://{}", b.creation_date, b.storage_class, b.name);
            }
        }
        RemoteCmd::Ls { target: Some(t), recursive, .. } => {
            let r = need_remote(&t)?;
            let mut l = c.list_objects(&r.bucket, &r.key, if recursive { "" } else { "/" });
            while let Some(e) = l.next().await {
                match e? {
                    ListEntry::Object(o) => {
                        println!("{}  {:>12}  oss://{}/{}", o.last_modified, o.size, r.bucket, o.key)
                    }
                    ListEntry::Prefix(p) => println!("{:>38}  oss://{}/{}", "DIR", r.bucket, p),
                }
            }
        }
        RemoteCmd::Cp { src, dst, recursive, multipart_threshold, part_size, .. } => {
            let mo = MultipartOptions { threshold: multipart_threshold, part_size, ..Default::default() };
            copy(&c, &src, &dst, recursive, &mo).await?;
        }
        RemoteCmd::Rm { target, recursive, .. } => {
            let r = need_remote(&target)?;
            if recursive {
                let keys: Vec<String> = c
                    .list_objects(&r.bucket, &r.key, "")
                    .collect()
                    .await?
                    .into_iter()
                    .filter_map(|e| if let ListEntry::Object(o) = e { Some(o.key) } else { None })
                    .collect();
                for chunk in keys.chunks(1000) {
                    c.delete_objects(&r.bucket, chunk).await?;
                }
                println!("removed {} objects under oss://{}/{}", keys.len(), r.bucket, r.key);
            } else {
                c.delete_object(&r.bucket, &r.key).await?;
                println!("removed oss://{}/{}", r.bucket, r.key);
            }
        }
        RemoteCmd::Stat { target, .. } => {
            let r = need_remote(&target)?;
            if r.key.is_empty() {
                let b = c.bucket_info(&r.bucket).await?;
                println!(
                    "bucket:        {}\nlocation:      {}\nstorage class: {}\ncreated:       {}\nacl:           {}",
                    b.name,
                    b.location,
                    b.storage_class,
                    b.creation_date,
                    b.acl.unwrap_or_default()
                );
            } else {
                let m = c.head_object(&r.bucket, &r.key).await?;
                println!("object:        oss://{}/{}", r.bucket, r.key);
                println!("size:          {}\netag:          {}\ncrc64:         {}\ntype:          {}\nstorage class: {}\ncontent type:  {}\nlast modified: {}", m.size, m.etag, m.crc64.map(|c| c.to_string()).unwrap_or_default(), m.object_type, m.storage_class, m.content_type, m.last_modified);
                for (k, v) in m.meta {
                    println!("meta {k}: {v}");
                }
            }
        }
        RemoteCmd::Cat { target, .. } => {
            let r = need_remote(&target)?;
            let mut body = c.get_object(&r.bucket, &r.key, &GetOptions::default()).await?;
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = body.chunk().await? {
                out.write_all(&chunk).map_err(|e| usage(format!("stdout: {e}")))?;
            }
        }
        RemoteCmd::Presign { target, expires, method, .. } => {
            let r = need_remote(&target)?;
            let m = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| usage(format!("{method}: not an HTTP method")))?;
            println!("{}", c.presign(m, &r.bucket, &r.key, Duration::from_secs(expires))?);
        }
    }
    Ok(())
}

fn io_err(p: &Path, e: std::io::Error) -> Error {
    Error::client(ossd_client::ClientErrorKind::Io, format!("{}: {e}", p.display()))
}

/// Every file under `dir`, with its path relative to `dir` (using `/`).
fn walk(dir: &Path) -> Result<Vec<(PathBuf, String)>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io_err(&d, e))? {
            let p = entry.map_err(|e| io_err(&d, e))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((p.clone(), rel));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

async fn upload(c: &Client, path: &Path, r: &Remote, mo: &MultipartOptions) -> Result<(), Error> {
    let len = std::fs::metadata(path).map_err(|e| io_err(path, e))?.len();
    let pb = Arc::new(bar(len, &r.key));
    let p2 = pb.clone();
    let mo = MultipartOptions { progress: Some(Arc::new(move |n| p2.inc(n))), ..mo.clone() };
    c.upload_file(&r.bucket, &r.key, path, &mo).await?;
    pb.finish_and_clear();
    println!("{} -> oss://{}/{}", path.display(), r.bucket, r.key);
    Ok(())
}

async fn download(c: &Client, r: &Remote, path: &Path) -> Result<(), Error> {
    let mut body = c.get_object(&r.bucket, &r.key, &GetOptions::default()).await?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    let tmp = path.with_extension("ossd-part");
    let mut f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
    let pb = bar(body.meta.size, &r.key);
    while let Some(chunk) = body.chunk().await? {
        f.write_all(&chunk).map_err(|e| io_err(&tmp, e))?;
        pb.inc(chunk.len() as u64);
    }
    f.sync_all().map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))?;
    pb.finish_and_clear();
    println!("oss://{}/{} -> {}", r.bucket, r.key, path.display());
    Ok(())
}

fn join_key(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{rel}")
    } else {
        format!("{prefix}/{rel}")
    }
}

async fn copy(c: &Client, src: &str, dst: &str, recursive: bool, mo: &MultipartOptions) -> Result<(), Error> {
    match (remote(src), remote(dst)) {
        (None, Some(d)) => {
            let p = Path::new(src);
            if p.is_dir() {
                if !recursive {
                    return Err(usage(format!("{src} is a directory: use -r")));
                }
                for (file, rel) in walk(p)? {
                    upload(c, &file, &Remote { bucket: d.bucket.clone(), key: join_key(&d.key, &rel) }, mo).await?;
                }
                Ok(())
            } else {
                let key = if d.key.is_empty() || d.key.ends_with('/') {
                    format!("{}{}", d.key, p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
                } else {
                    d.key.clone()
                };
                upload(c, p, &Remote { bucket: d.bucket, key }, mo).await
            }
        }
        (Some(s), None) => {
            if recursive {
                let entries = c.list_objects(&s.bucket, &s.key, "").collect().await?;
                for e in entries {
                    if let ListEntry::Object(o) = e {
                        let rel = o.key.strip_prefix(&s.key).unwrap_or(&o.key).trim_start_matches('/');
                        if rel.split('/').any(|seg| seg == ".." || seg == ".") {
                            return Err(usage(format!("refusing to write {:?} outside {dst}", o.key)));
                        }
                        download(
                            c,
                            &Remote { bucket: s.bucket.clone(), key: o.key.clone() },
                            &Path::new(dst).join(rel),
                        )
                        .await?;
                    }
                }
                Ok(())
            } else {
                let mut path = PathBuf::from(dst);
                if path.is_dir() {
                    path = path.join(s.key.rsplit('/').next().unwrap_or("object"));
                }
                download(c, &s, &path).await
            }
        }
        (Some(s), Some(d)) => {
            if recursive {
                let entries = c.list_objects(&s.bucket, &s.key, "").collect().await?;
                for e in entries {
                    if let ListEntry::Object(o) = e {
                        let rel = o.key.strip_prefix(&s.key).unwrap_or(&o.key).trim_start_matches('/');
                        c.copy_object(&s.bucket, &o.key, &d.bucket, &join_key(&d.key, rel), &PutOptions::default())
                            .await?;
                    }
                }
            } else {
                c.copy_object(&s.bucket, &s.key, &d.bucket, &d.key, &PutOptions::default()).await?;
            }
            println!("{src} -> {dst}");
            Ok(())
        }
        (None, None) => Err(usage("one side of cp must be oss://bucket/key".into())),
    }
}
