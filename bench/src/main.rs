//! ossd-bench: a load generator (fixed concurrency for a fixed time, bounded in requests, loopback only) that
//! reports ops/s, MB/s, p50/p99 latency and the server's CPU-seconds per operation; and probes of the disk's
//! limits (sequential write + fsync, 4 KiB create + fsync). Prints one JSON object per run.

use bytes::Bytes;
use clap::{Args, Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum Sign {
    /// OSS signature V1.
    Oss,
    /// S3 SigV4 (for S3 peers and ossd's S3 dialect).
    S3,
    /// No signature (nginx, public files).
    None,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum Op {
    Put,
    Get,
    Head,
    Delete,
    /// ListObjectsV2 pages over the whole bucket (or prefix).
    List,
    /// One multipart upload of `--size` bytes in parts of `--part-size`: initiate, parts, complete.
    Multipart,
}

#[derive(Subcommand)]
enum Cmd {
    /// Drive load at a fixed concurrency.
    Load {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        load: Box<LoadArgs>,
    },
    /// Sequential write with one fsync at the end, in MB/s.
    DiskSeq {
        #[arg(long)]
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = 256)]
        mib: usize,
    },
    /// Creates of 4 KiB files with fsync (file and directory), files/s, at a concurrency.
    DiskCreate {
        #[arg(long)]
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = s.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let (u, k): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((u + k) / 100.0)
}

#[derive(Args)]
struct Target {
    /// Loopback address of the server.
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long, value_enum, default_value = "oss")]
    sign: Sign,
    #[arg(long, default_value = "")]
    ak: String,
    #[arg(long, default_value = "")]
    sk: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Bucket (path-style); for `--sign none`, a path prefix.
    #[arg(long, default_value = "bench")]
    bucket: String,
}

#[derive(Args)]
struct LoadArgs {
    #[arg(long, value_enum)]
    op: Op,
    #[arg(long, default_value_t = 4096)]
    size: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Objects to cycle over (GET, HEAD) or at most to touch (DELETE).
    #[arg(long, default_value_t = 1000)]
    keys: usize,
    /// Hard cap on requests.
    #[arg(long, default_value_t = 5_000_000)]
    max_requests: u64,
    /// Upload the keys first (for GET and HEAD).
    #[arg(long)]
    prepare: bool,
    /// The server's pid, to report its CPU-seconds per operation.
    #[arg(long)]
    server_pid: Option<u32>,
    /// ListObjectsV2 with this delimiter.
    #[arg(long)]
    delimiter: Option<String>,
    #[arg(long, default_value = "")]
    label: String,
    /// With `--prepare`, spread the keys across this many prefixes (`dNNN/obj-N`), for listings.
    #[arg(long, default_value_t = 0)]
    dirs: usize,
    /// Part size for `--op multipart`.
    #[arg(long, default_value_t = 8 << 20)]
    part_size: usize,
}

fn basic_iso(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (d, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}{m:02}{day:02}T{:02}{:02}{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

impl Target {
    /// A signed request for `key` (None: the bucket) with `query`.
    fn request(
        &self,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        body: Bytes,
    ) -> http::Request<Full<Bytes>> {
        let path = match key {
            Some(k) => format!("/{}/{}", self.bucket, k),
            None => format!("/{}/", self.bucket),
        };
        let q: String = query
            .iter()
            .enumerate()
            .map(|(i, (k, v))| {
                format!("{}{}={}", if i == 0 { "?" } else { "&" }, ossd_sign::encode(k), ossd_sign::encode(v))
            })
            .collect();
        let host = self.addr.to_string();
        let mut headers: Vec<(String, String)> = vec![("content-length".into(), body.len().to_string())];
        let now = SystemTime::now();
        match self.sign {
            Sign::None => {}
            Sign::Oss => {
                let date = httpdate::fmt_http_date(now);
                headers.push(("date".into(), date.clone()));
                let p = ossd_sign::Parts { method, bucket: Some(&self.bucket), key, query, headers: &headers };
                let sig = ossd_sign::v1_sign(&self.sk, &ossd_sign::v1_string_to_sign(&p, &date));
                headers.push(("authorization".into(), format!("OSS {}:{sig}", self.ak)));
            }
            Sign::S3 => {
                let stamp = basic_iso(now);
                headers.push(("x-amz-date".into(), stamp.clone()));
                headers.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
                let mut all = headers.clone();
                all.push(("host".into(), host.clone()));
                let signed: Vec<String> = vec!["host".into(), "x-amz-content-sha256".into(), "x-amz-date".into()];
                let p = ossd_sign::aws::V4Parts { method, path: &path, query, headers: &all };
                let canonical = ossd_sign::aws::v4_canonical_request(&p, &signed, "UNSIGNED-PAYLOAD", false);
                let s = ossd_sign::aws::v4_sign(&self.sk, &stamp[..8], &stamp, &self.region, "s3", &canonical);
                headers.push((
                    "authorization".into(),
                    format!(
                        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                        self.ak,
                        s.scope,
                        signed.join(";"),
                        s.signature
                    ),
                ));
            }
        }
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("http://{host}{}{q}", ossd_sign::encode_path(&path)))
            .header("host", host);
        for (k, v) in headers {
            b = b.header(k, v);
        }
        b.body(Full::new(body)).expect("a well-formed request")
    }
}

type Client = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// Sends one request; returns (status, body bytes).
async fn send(c: &Client, req: http::Request<Full<Bytes>>) -> Result<(u16, u64, Bytes), String> {
    let resp = c.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body.len() as u64, body))
}

/// One multipart upload of `payload` under `key`, in parts of `part` bytes sent one after another.
async fn multipart(c: &Client, t: &Target, key: &str, payload: &Bytes, part: usize) -> Result<(), String> {
    let q = |k: &str, v: &str| (k.to_string(), v.to_string());
    let (status, _, body) = send(c, t.request("POST", Some(key), &[q("uploads", "")], Bytes::new())).await?;
    let text = String::from_utf8_lossy(&body);
    let id = text
        .split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .filter(|_| status < 300)
        .ok_or_else(|| format!("initiate answered {status}: {text}"))?
        .to_string();
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, start) in (0..payload.len()).step_by(part.max(1)).enumerate() {
        let piece = payload.slice(start..(start + part).min(payload.len()));
        let req = t.request("PUT", Some(key), &[q("partNumber", &(i + 1).to_string()), q("uploadId", &id)], piece);
        let resp = c.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let _ = resp.into_body().collect().await.map_err(|e| e.to_string())?;
        if status >= 300 || etag.is_empty() {
            return Err(format!("part {} answered {status}", i + 1));
        }
        xml.push_str(&format!("<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>", i + 1));
    }
    xml.push_str("</CompleteMultipartUpload>");
    let (status, _, body) = send(c, t.request("POST", Some(key), &[q("uploadId", &id)], Bytes::from(xml))).await?;
    if status >= 300 {
        return Err(format!("complete answered {status}: {}", String::from_utf8_lossy(&body)));
    }
    Ok(())
}

async fn load(t: Arc<Target>, args: LoadArgs) {
    let LoadArgs {
        op,
        size,
        concurrency,
        seconds,
        warmup,
        keys,
        max_requests,
        prepare,
        server_pid,
        delimiter,
        label,
        dirs,
        part_size,
    } = args;
    assert!(t.addr.ip().is_loopback(), "load tests target loopback only");
    let mut conn = hyper_util::client::legacy::connect::HttpConnector::new();
    conn.set_nodelay(true);
    let client: Client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(concurrency * 2)
        .build(conn);
    let payload = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    if t.sign != Sign::None {
        let _ = send(&client, t.request("PUT", None, &[], Bytes::new())).await;
    }
    if prepare {
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (c, t, next, payload) = (client.clone(), t.clone(), next.clone(), payload.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= keys {
                        break;
                    }
                    let key = match dirs {
                        0 => format!("obj-{i}"),
                        d => format!("d{:03}/obj-{i}", i % d),
                    };
                    let _ = send(&c, t.request("PUT", Some(&key), &[], payload.clone())).await;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")));
    let (ops, bytes, errors, sent) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (c, t, payload, delimiter) = (client.clone(), t.clone(), payload.clone(), delimiter.clone());
        let (stop, measuring, hist, ops, bytes, errors, sent) =
            (stop.clone(), measuring.clone(), hist.clone(), ops.clone(), bytes.clone(), errors.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let mut n = w;
            let mut token: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                if sent.fetch_add(1, Ordering::Relaxed) >= max_requests {
                    break;
                }
                let key = format!("obj-{}", n % keys.max(1));
                n += concurrency;
                if op == Op::Multipart {
                    let started = Instant::now();
                    let res = multipart(&c, &t, &format!("mp-{w}-{n}"), &payload, part_size).await;
                    let us = started.elapsed().as_micros() as u64;
                    if res.is_ok() && measuring.load(Ordering::Relaxed) {
                        bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
                        ops.fetch_add(1, Ordering::Relaxed);
                        let _ = local.record(us.max(1));
                    } else if let Err(e) = res {
                        eprintln!("multipart: {e}");
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                }
                let req = match op {
                    Op::Multipart => unreachable!("handled above"),
                    Op::Put => t.request("PUT", Some(&format!("put-{w}-{n}")), &[], payload.clone()),
                    Op::Get => t.request("GET", Some(&key), &[], Bytes::new()),
                    Op::Head => t.request("HEAD", Some(&key), &[], Bytes::new()),
                    Op::Delete => {
                        if n / concurrency > keys / concurrency {
                            break;
                        }
                        t.request("DELETE", Some(&key), &[], Bytes::new())
                    }
                    Op::List => {
                        let mut q = vec![
                            ("list-type".to_string(), "2".to_string()),
                            ("max-keys".to_string(), "1000".to_string()),
                        ];
                        if let Some(d) = &delimiter {
                            q.push(("delimiter".into(), d.clone()));
                        }
                        if let Some(tk) = &token {
                            q.push(("continuation-token".into(), tk.clone()));
                        }
                        t.request("GET", None, &q, Bytes::new())
                    }
                };
                let started = Instant::now();
                let res = send(&c, req).await;
                let us = started.elapsed().as_micros() as u64;
                match res {
                    Ok((status, len, body)) if status < 300 => {
                        if op == Op::List {
                            let text = String::from_utf8_lossy(&body);
                            let keys_in_page = text.matches("<Key>").count() + text.matches("<Prefix>").count();
                            token = text
                                .split("<NextContinuationToken>")
                                .nth(1)
                                .and_then(|s| s.split('<').next())
                                .map(str::to_string);
                            if measuring.load(Ordering::Relaxed) {
                                bytes.fetch_add(keys_in_page as u64, Ordering::Relaxed);
                            }
                        } else if measuring.load(Ordering::Relaxed) {
                            bytes.fetch_add(if op == Op::Put { payload.len() as u64 } else { len }, Ordering::Relaxed);
                        }
                        if measuring.load(Ordering::Relaxed) {
                            ops.fetch_add(1, Ordering::Relaxed);
                            let _ = local.record(us.max(1));
                        }
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if let Ok(mut h) = hist.lock() {
                let _ = h.add(&local);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    let cpu0 = server_pid.and_then(cpu_seconds);
    measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    // Measure for `seconds`, or until every worker has run out of work (DELETE
    // stops when its keys are gone), so the rate divides by the time really used.
    while t0.elapsed().as_secs_f64() < seconds && !tasks.iter().all(|t| t.is_finished()) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    measuring.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu1 = server_pid.and_then(cpu_seconds);
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let n = ops.load(Ordering::Relaxed);
    let h = hist.lock().map(|h| h.clone()).unwrap_or_else(|_| Histogram::new(3).expect("histogram"));
    let cpu_per_op = match (cpu0, cpu1) {
        (Some(a), Some(b)) if n > 0 => format!("{:.9}", (b - a) / n as f64),
        _ => "null".into(),
    };
    let rate = n as f64 / elapsed;
    let units = bytes.load(Ordering::Relaxed) as f64 / elapsed;
    let (mbps, keys_per_s) = if op == Op::List { (0.0, units) } else { (units / 1e6, 0.0) };
    println!(
        "{{\"label\":\"{label}\",\"op\":\"{op:?}\",\"size\":{size},\"concurrency\":{concurrency},\"ops_per_s\":{rate:.1},\"mb_per_s\":{mbps:.2},\"keys_per_s\":{keys_per_s:.0},\"p50_us\":{},\"p99_us\":{},\"errors\":{},\"cpu_s_per_op\":{cpu_per_op}}}",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        errors.load(Ordering::Relaxed)
    );
}

fn disk_seq(dir: &std::path::Path, mib: usize) {
    let path = dir.join("seq.bin");
    let chunk = vec![7u8; 1 << 20];
    let t0 = Instant::now();
    let mut f = std::fs::File::create(&path).expect("create");
    for _ in 0..mib {
        f.write_all(&chunk).expect("write");
    }
    f.sync_all().expect("fsync");
    let s = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    println!("{{\"label\":\"disk\",\"op\":\"seq_write_fsync\",\"mb_per_s\":{:.1}}}", (mib << 20) as f64 / 1e6 / s);
}

fn disk_create(dir: &std::path::Path, seconds: f64, concurrency: usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let block = vec![1u8; 4096];
    let handles: Vec<_> = (0..concurrency)
        .map(|w| {
            let (stop, count, block, dir) = (stop.clone(), count.clone(), block.clone(), dir.to_path_buf());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let p = dir.join(format!("c-{w}-{i}"));
                    let mut f = std::fs::File::create(&p).expect("create");
                    f.write_all(&block).expect("write");
                    f.sync_all().expect("fsync");
                    std::fs::File::open(&dir).and_then(|d| d.sync_all()).expect("dir fsync");
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let n = count.load(Ordering::Relaxed);
    println!(
        "{{\"label\":\"disk\",\"op\":\"create_4k_fsync\",\"concurrency\":{concurrency},\"files_per_s\":{:.0}}}",
        n as f64 / seconds
    );
}

fn main() {
    match Cli::parse().cmd {
        Cmd::Load { target, load: args } => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
            rt.block_on(load(Arc::new(target), *args));
        }
        Cmd::DiskSeq { dir, mib } => disk_seq(&dir, mib),
        Cmd::DiskCreate { dir, seconds, concurrency } => disk_create(&dir, seconds, concurrency),
    }
}
