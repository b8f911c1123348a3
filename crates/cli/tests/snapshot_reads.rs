//! Snapshot reads under load: while writers overwrite (small, large and multipart bodies), a deleter deletes and
//! an appender appends, every GET (whole or ranged) delivers one whole version that was written.

mod common;
use common::*;
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BUCKET: &str = "snap";
/// How long the load runs.
const RUN: Duration = Duration::from_secs(7);
/// Sizes of the overwriting PUTs: inline (≤16 KiB), a small file, and large streamed bodies.
const SIZES: [usize; 4] = [4_000, 30_000, 200_000, 700_000];
/// Each append adds this many bytes; an appendable object's length is always a multiple of it.
const APPEND: usize = 20_000;

/// The body of version `seed`: its first 8 bytes are the seed, the rest follow from it.
fn body(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&seed.to_le_bytes());
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02X}")).collect()
}

/// What readers may see: ETag -> the whole body of that version (its MD5 is the one that was written).
#[derive(Default)]
struct Written {
    versions: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl Written {
    fn add(&self, etag: String, data: Vec<u8>) {
        self.versions.lock().expect("lock").insert(etag, Arc::new(data));
    }
    fn get(&self, etag: &str) -> Option<Arc<Vec<u8>>> {
        self.versions.lock().expect("lock").get(etag).cloned()
    }
}

/// One signed request; `sub` is the query string (sub-resources, part of what is signed).
fn send(port: u16, method: &str, key: &str, sub: &str, body: &[u8], extra: &[(&str, String)]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let path = format!("/{BUCKET}/{key}{sub}");
    let mut h = vec![("Content-Length", body.len().to_string())];
    h.extend(extra.iter().cloned());
    write_head(&mut s, method, &path, &path, &h);
    std::io::Write::write_all(&mut s, body)?;
    read_response(&mut s)
}

fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let rest = xml.split(&open).nth(1)?;
    Some(rest.split(&format!("</{name}>")).next()?.to_string())
}

#[derive(Default)]
struct Figures {
    gets: AtomicU64,
    ranged: AtomicU64,
    not_found: AtomicU64,
    bytes: AtomicU64,
    writes: AtomicU64,
    appends: AtomicU64,
    deletes: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Figures {
    fn fail(&self, what: String) {
        let mut f = self.failures.lock().expect("lock");
        if f.len() < 20 {
            eprintln!("FAIL: {what}");
        }
        f.push(what);
    }
}

/// Checks one GET of `key` (ranged from `range` when given) against what was written.
fn check_read(written: &Written, fig: &Figures, key: &str, range: Option<(usize, usize)>, r: std::io::Result<Resp>) {
    let r = match r {
        Ok(r) => r,
        Err(e) => return fig.fail(format!("GET {key} {range:?}: the response broke off: {e}")),
    };
    if r.status == 404 {
        fig.not_found.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let want_status = if range.is_some() { 206 } else { 200 };
    if r.status != want_status {
        return fig.fail(format!("GET {key} {range:?}: status {} {}", r.status, r.text()));
    }
    fig.gets.fetch_add(1, Ordering::Relaxed);
    fig.bytes.fetch_add(r.body.len() as u64, Ordering::Relaxed);
    let etag = r.header("etag").unwrap_or("").trim_matches('"').to_string();
    if key == "appended" {
        // A prefix state that existed: the generation's stream, cut at an append boundary.
        if r.body.len() < 8 || r.body.len() % APPEND != 0 || range.is_some() {
            return fig.fail(format!("GET {key}: {} bytes is no append boundary", r.body.len()));
        }
        let seed = u64::from_le_bytes(r.body[..8].try_into().unwrap_or_default());
        if r.body != body(seed, r.body.len()) {
            fig.fail(format!("GET {key}: {} bytes are not a prefix of generation {seed}", r.body.len()));
        }
        return;
    }
    let Some(whole) = written.get(&etag) else {
        return fig.fail(format!("GET {key} {range:?}: ETag {etag} was never written"));
    };
    match range {
        None => {
            if hex(&Md5::digest(&r.body)) != hex(&Md5::digest(&whole[..])) {
                fig.fail(format!(
                    "GET {key}: {} bytes whose MD5 is not the version's ({} bytes)",
                    r.body.len(),
                    whole.len()
                ));
            }
        }
        Some((start, end)) => {
            fig.ranged.fetch_add(1, Ordering::Relaxed);
            let end = end.min(whole.len() - 1);
            if r.body[..] != whole[start..=end] {
                fig.fail(format!("GET {key} bytes={start}-{end}: {} bytes, not that range of {etag}", r.body.len()));
            }
        }
    }
}

#[test]
fn reads_see_whole_versions_under_overwrite_delete_and_append() {
    let data = temp_dir("snapshot");
    let server = Server::start(&data, &["--fsync", "false"]);
    let port = server.port;
    assert_eq!(request(port, "PUT", BUCKET, "", b"").expect("create bucket").status, 200);
    let written = Arc::new(Written::default());
    let fig = Arc::new(Figures::default());
    let stop = Arc::new(AtomicBool::new(false));
    let seeds = Arc::new(AtomicU64::new(1));
    let mut threads = Vec::new();

    // Overwriters of "over" (one also deletes it now and then) and of "mixed" (multipart or single PUT).
    for w in 0..5usize {
        let (written, fig, stop, seeds) = (written.clone(), fig.clone(), stop.clone(), seeds.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let seed = seeds.fetch_add(1, Ordering::Relaxed);
                let data = body(seed, SIZES[(n + w) % SIZES.len()]);
                // Registered before it is sent: a reader may see it before the PUT is answered.
                written.add(hex(&Md5::digest(&data)), data.clone());
                let key = if w == 0 && n.is_multiple_of(3) { "mixed" } else { "over" };
                match send(port, "PUT", key, "", &data, &[]) {
                    Ok(r) if r.status == 200 => fig.writes.fetch_add(1, Ordering::Relaxed),
                    Ok(r) => return fig.fail(format!("PUT {key}: {} {}", r.status, r.text())),
                    Err(e) => return fig.fail(format!("PUT {key}: {e}")),
                };
                if w == 1 && n.is_multiple_of(4) {
                    match send(port, "DELETE", "over", "", b"", &[]) {
                        Ok(r) if r.status == 204 => fig.deletes.fetch_add(1, Ordering::Relaxed),
                        Ok(r) => return fig.fail(format!("DELETE: {} {}", r.status, r.text())),
                        Err(e) => return fig.fail(format!("DELETE: {e}")),
                    };
                }
            }
        }));
    }
    // Multipart completes of "mixed": two parts (the first at the 100 KiB minimum).
    {
        let (written, fig, stop, seeds) = (written.clone(), fig.clone(), stop.clone(), seeds.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let seed = seeds.fetch_add(1, Ordering::Relaxed);
                let data = body(seed, 100 * 1024 + 50_000);
                let (p1, p2) = data.split_at(100 * 1024);
                let mut md5s = Vec::new();
                md5s.extend_from_slice(&Md5::digest(p1));
                md5s.extend_from_slice(&Md5::digest(p2));
                written.add(format!("{}-2", hex(&Md5::digest(&md5s))), data.clone());
                let r = match send(port, "POST", "mixed", "?uploads", b"", &[]) {
                    Ok(r) if r.status == 200 => r,
                    other => return fig.fail(format!("InitiateMultipartUpload: {:?}", other.map(|r| r.text()))),
                };
                let Some(id) = tag(&r.text(), "UploadId") else { return fig.fail("no UploadId".into()) };
                let mut xml = String::from("<CompleteMultipartUpload>");
                for (i, part) in [p1, p2].iter().enumerate() {
                    let sub = format!("?partNumber={}&uploadId={id}", i + 1);
                    match send(port, "PUT", "mixed", &sub, part, &[]) {
                        Ok(r) if r.status == 200 => xml.push_str(&format!(
                            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                            i + 1,
                            r.header("etag").unwrap_or("")
                        )),
                        other => return fig.fail(format!("UploadPart: {:?}", other.map(|r| r.text()))),
                    }
                }
                xml.push_str("</CompleteMultipartUpload>");
                match send(port, "POST", "mixed", &format!("?uploadId={id}"), xml.as_bytes(), &[]) {
                    Ok(r) if r.status == 200 => fig.writes.fetch_add(1, Ordering::Relaxed),
                    other => return fig.fail(format!("CompleteMultipartUpload: {:?}", other.map(|r| r.text()))),
                };
            }
        }));
    }
    // The appender: appends to "appended" and, every so often, deletes it and starts a new generation.
    {
        let (fig, stop, seeds) = (fig.clone(), stop.clone(), seeds.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let seed = seeds.fetch_add(1, Ordering::Relaxed);
                let data = body(seed, APPEND * 12);
                for (i, chunk) in data.chunks(APPEND).enumerate() {
                    let sub = format!("?append&position={}", i * APPEND);
                    match send(port, "POST", "appended", &sub, chunk, &[]) {
                        Ok(r) if r.status == 200 => fig.appends.fetch_add(1, Ordering::Relaxed),
                        other => return fig.fail(format!("AppendObject: {:?}", other.map(|r| r.text()))),
                    };
                }
                match send(port, "DELETE", "appended", "", b"", &[]) {
                    Ok(r) if r.status == 204 => fig.deletes.fetch_add(1, Ordering::Relaxed),
                    other => return fig.fail(format!("DELETE appended: {:?}", other.map(|r| r.text()))),
                };
            }
        }));
    }
    // Readers: whole and ranged GETs of every key.
    for t in 0..10usize {
        let (written, fig, stop) = (written.clone(), fig.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = t;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let key = ["over", "mixed", "appended"][n % 3];
                let range = (key != "appended" && n % 2 == 0).then(|| {
                    let start = (n * 7919) % 3_900;
                    (start, start + [100, 20_000, 180_000][n % 3])
                });
                let extra: Vec<(&str, String)> =
                    range.iter().map(|(s, e)| ("Range", format!("bytes={s}-{e}"))).collect();
                check_read(&written, &fig, key, range, send(port, "GET", key, "", b"", &extra));
            }
        }));
    }
    let started = Instant::now();
    std::thread::sleep(RUN);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("thread");
    }
    let failures = fig.failures.lock().expect("lock").clone();
    println!(
        "snapshot reads in {:.1}s: {} whole-version GETs ({} ranged, {} MiB), {} not found; {} PUTs/completes, \
         {} appends, {} deletes; {} failures",
        started.elapsed().as_secs_f64(),
        fig.gets.load(Ordering::Relaxed),
        fig.ranged.load(Ordering::Relaxed),
        fig.bytes.load(Ordering::Relaxed) >> 20,
        fig.not_found.load(Ordering::Relaxed),
        fig.writes.load(Ordering::Relaxed),
        fig.appends.load(Ordering::Relaxed),
        fig.deletes.load(Ordering::Relaxed),
        failures.len()
    );
    assert!(fig.gets.load(Ordering::Relaxed) > 100, "too few reads to prove anything");
    assert!(fig.writes.load(Ordering::Relaxed) > 20, "too few writes to prove anything");
    if !failures.is_empty() {
        let log = server.log.lock().map(|l| l.clone()).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("ERROR") || l.contains("WARN")).take(10) {
            eprintln!("server: {line}");
        }
    }
    assert!(failures.is_empty(), "{} torn or wrong reads, first: {:?}", failures.len(), failures.first());
    // Every replaced blob is reclaimed once its readers are done: only the live objects' blobs remain.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // "over" and "mixed" (up to 2 parts) and "appended" (up to 12 appends).
        let files = count_files(&data.join("blobs"));
        if files <= 15 {
            break;
        }
        assert!(Instant::now() < deadline, "{files} blob files left behind after the load");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(server.stop());
    // Metadata and blobs agree: nothing freed too early, nothing left unreferenced.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ossd")).arg("fsck").arg("--data").arg(&data).output();
    let out = out.expect("run fsck");
    assert!(out.status.success(), "fsck after the load: {}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_dir_all(&data);
}
