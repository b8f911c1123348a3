//! Test support: a real `ossd serve` child process on port 0, and a minimal signed HTTP/1.1 client over
//! std's TcpStream (so the tests exercise the server, not a client library).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

pub const AK: &str = "ItRootKey01";
pub const SK: &str = "integration-secret-not-real";

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data: PathBuf,
    /// Everything the server printed (from its start).
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let p = std::env::temp_dir().join(format!("ossd-it-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).expect("temp dir");
    p
}

impl Server {
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let listen = if extra.contains(&"--listen") { vec![] } else { vec!["--listen", "127.0.0.1:0"] };
        let mut child = Command::new(env!("CARGO_BIN_EXE_ossd"))
            .arg("serve")
            .args(listen)
            .arg("--data")
            .arg(data)
            .args(["--access-key-id", AK, "--access-key-secret", SK, "--log", "info"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ossd");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut port = 0;
        let mut before = String::new();
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            before.push_str(&line);
            before.push('\n');
            if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                port = rest.split_whitespace().next().and_then(|p| p.parse().ok()).expect("port");
                break;
            }
        }
        assert!(port > 0, "ossd did not report its port");
        // Keep draining stdout so the server never blocks on a full pipe, and keep what it says.
        let log = std::sync::Arc::new(std::sync::Mutex::new(before));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(|l| l.ok()) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        Server { child, port, data: data.to_path_buf(), log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server by its process id with SIGKILL.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server by its process id with SIGTERM and waits for it; true if it exited with success.
    pub fn stop(mut self) -> bool {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.log.lock().map(|l| l.contains(needle)).unwrap_or(false)
    }

    /// Peak resident memory of the server so far, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        s.lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The V1 Authorization header for a request with no x-oss-* headers and no sub-resources.
pub fn v1_auth(method: &str, content_type: &str, date: &str, resource: &str) -> String {
    let sts = format!("{method}\n\n{content_type}\n{date}\n{resource}");
    format!("OSS {AK}:{}", ossd_server::dialect::oss::auth::v1_sign(SK, &sts))
}

pub fn http_date() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

/// Writes a signed request's head; `resource` is the V1 canonical resource (`/bucket/key`).
pub fn write_head(s: &mut TcpStream, method: &str, path: &str, resource: &str, extra: &[(&str, String)]) {
    let date = http_date();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nDate: {date}\r\nAuthorization: {}\r\nConnection: close\r\n",
        v1_auth(method, "", &date, resource)
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
}

/// Reads one response (Content-Length bodies; HEAD-less).
pub fn read_response(s: &mut TcpStream) -> std::io::Result<Resp> {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Resp { status, headers, body })
}

/// One signed request with a whole body.
pub fn request(port: u16, method: &str, bucket: &str, key: &str, body: &[u8]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let path = if key.is_empty() { format!("/{bucket}/") } else { format!("/{bucket}/{key}") };
    write_head(&mut s, method, &path, &path, &[("Content-Length", body.len().to_string())]);
    s.write_all(body)?;
    read_response(&mut s)
}

/// Deterministic content for object `i`.
pub fn content(i: usize) -> Vec<u8> {
    let len = 1 + (i * 7919) % 40_000;
    (0..len).map(|j| ((i * 31 + j * 17) % 251) as u8).collect()
}

/// Every file under `dir`, recursively.
pub fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += count_files(&p);
            } else {
                n += 1;
            }
        }
    }
    n
}
