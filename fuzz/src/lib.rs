//! Shared pieces of the fuzz targets: a scratch directory, the user the stores know, a text form of a request
//! (hand-writable seeds that mutate well), and an in-process ossd that requests are sent to over loopback.
//!
//! A request is written as
//!
//! ```text
//! SIGN METHOD PATH[?QUERY]
//! Name: value
//! ...
//!
//! body
//! ```
//!
//! where SIGN is `-` (sent as it is), `v1` or `v4` (signed with the known user's key, OSS V1 or V4, so the
//! input gets past authentication). In the path, query and header values `@DATE@`, `@ISODATE@`, `@DAY@` and `@LATER@` become the
//! current HTTP date, basic ISO date-time, day, and Unix time an hour from now, so that seeds never go stale;
//! `@MD5@` in a header value becomes the body's Content-MD5.

use ossd_server::http::util;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The user every store of the targets has (as its root key pair).
pub const ACCESS_KEY_ID: &str = "FUZZAK0123456789";
pub const SECRET: &str = "FuzzSecret0123456789abcdef";
/// The buckets the server harness creates: one private, one anyone may write.
pub const BUCKET: &str = "fuzz";
pub const PUBLIC_BUCKET: &str = "fuzz-pub";

/// A fresh directory under the temporary directory (run.sh points TMPDIR at one it removes afterwards).
pub fn scratch_dir(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ossd-fuzz-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `20240101T000000Z` for now.
pub fn basic_iso_now() -> String {
    util::iso8601(now_ms()).replace(['-', ':'], "").split('.').next().unwrap_or("").to_string() + "Z"
}

/// Replaces the date placeholders with current values.
pub fn fill_dates(s: &str) -> String {
    if !s.contains('@') {
        return s.to_string();
    }
    let iso = basic_iso_now();
    s.replace("@DATE@", &util::http_date(now_ms()))
        .replace("@ISODATE@", &iso)
        .replace("@DAY@", iso.get(..8).unwrap_or(""))
        .replace("@LATER@", &(now_ms() / 1000 + 3600).to_string())
}

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sign {
    None,
    V1,
    V4,
}

/// One request in the text form above.
#[derive(Debug, Clone)]
pub struct TextRequest {
    pub sign: Sign,
    pub method: String,
    /// Path and query exactly as they go on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl TextRequest {
    /// Reads the text form; None when there is no request line.
    pub fn parse(data: &[u8]) -> Option<TextRequest> {
        let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&data[..i], data[i + 2..].to_vec()),
            None => (data, Vec::new()),
        };
        let head = String::from_utf8_lossy(head);
        let mut lines = head.lines();
        let mut first = lines.next()?.split(' ');
        let sign = match first.next()? {
            "v1" => Sign::V1,
            "v4" => Sign::V4,
            _ => Sign::None,
        };
        let method = first.next()?.to_string();
        let target = fill_dates(first.next().unwrap_or("/"));
        let mut headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), fill_dates(v.trim())))
            .collect();
        if headers.iter().any(|(_, v)| v.contains("@MD5@")) {
            use base64::Engine as _;
            use md5::Digest as _;
            let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body));
            for (_, v) in &mut headers {
                *v = v.replace("@MD5@", &md5);
            }
        }
        Some(TextRequest { sign, method, target, headers, body })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Adds the Date/x-oss-date and Authorization headers of `self.sign`, computed as the server will check them
    /// (bucket and key from a path-style path, decoded query pairs).
    pub fn sign(&mut self) {
        if self.sign == Sign::None {
            return;
        }
        self.headers.retain(|(k, _)| k != "authorization");
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        let decoded = util::decode(path, false);
        let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
        let (bucket, key) = match rest.split_once('/') {
            Some((b, k)) => (b, Some(k).filter(|k| !k.is_empty())),
            None => (rest, None),
        };
        let bucket = Some(bucket).filter(|b| !b.is_empty());
        let query = util::parse_query(query);
        match self.sign {
            Sign::V1 => {
                if self.header("date").is_none() {
                    self.headers.push(("date".into(), util::http_date(now_ms())));
                }
                let date = self.header("x-oss-date").or(self.header("date")).unwrap_or("").to_string();
                let p = ossd_sign::Parts { method: &self.method, bucket, key, query: &query, headers: &self.headers };
                let sig = ossd_sign::v1_sign(SECRET, &ossd_sign::v1_string_to_sign(&p, &date));
                self.headers.push(("authorization".into(), format!("OSS {ACCESS_KEY_ID}:{sig}")));
            }
            Sign::V4 => {
                let datetime = basic_iso_now();
                let day = datetime.get(..8).unwrap_or("").to_string();
                self.headers.retain(|(k, _)| k != "x-oss-date");
                self.headers.push(("x-oss-date".into(), datetime.clone()));
                if self.header("x-oss-content-sha256").is_none() {
                    self.headers.push(("x-oss-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
                }
                let p = ossd_sign::Parts { method: &self.method, bucket, key, query: &query, headers: &self.headers };
                let canonical = ossd_sign::v4_canonical_request(&p, &[], false);
                let (sig, _) = ossd_sign::v4_sign(SECRET, &day, &datetime, "cn-hangzhou", "oss", &canonical);
                self.headers.push((
                    "authorization".into(),
                    format!(
                        "OSS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{day}/cn-hangzhou/oss/aliyun_v4_request,Signature={sig}"
                    ),
                ));
            }
            Sign::None => {}
        }
    }

    /// The request on the wire: one HTTP/1.1 request whose framing the harness controls (Content-Length of the
    /// body, Connection: close), so that every exchange ends by itself.
    pub fn to_wire(&self, host: &str) -> Vec<u8> {
        let clean = |s: &str| s.replace(['\r', '\n', '\0'], "");
        let mut w = format!("{} {} HTTP/1.1\r\n", clean(&self.method), clean(&self.target)).into_bytes();
        if self.header("host").is_none() {
            w.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        for (k, v) in &self.headers {
            if matches!(k.as_str(), "content-length" | "transfer-encoding" | "connection" | "expect") {
                continue;
            }
            w.extend_from_slice(format!("{}: {}\r\n", clean(k), clean(v)).as_bytes());
        }
        w.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", self.body.len()).as_bytes());
        w.extend_from_slice(&self.body);
        w
    }
}

/// An ossd running in this process (on a runtime of its own, in a background thread) on a scratch data dir.
pub struct Server {
    pub addr: SocketAddr,
}

/// How long one exchange may take before the harness gives up on it (the server's own idle timeout is 2 s).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(4);

/// The one server of this process, started (with its buckets) on first use.
pub fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(Server::start)
}

impl Server {
    fn start() -> Server {
        let dir = scratch_dir("server");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let mut cfg = ossd_server::Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), dir);
                cfg.fsync = false;
                cfg.idle_timeout = Duration::from_secs(2);
                cfg.access_key_id = Some(ACCESS_KEY_ID.into());
                cfg.access_key_secret = Some(SECRET.into());
                let bound = ossd_server::bind(cfg).await.expect("bind");
                tx.send(bound.listeners[0].tcp.local_addr().expect("local address")).expect("report address");
                ossd_server::run(bound, std::future::pending()).await;
            });
        });
        let addr = rx.recv().expect("server started");
        let s = Server { addr };
        for (bucket, acl) in [(BUCKET, "private"), (PUBLIC_BUCKET, "public-read-write")] {
            let req = format!("v1 PUT /{bucket}\nx-oss-acl: {acl}\n");
            let answer = s.send_text(req.as_bytes()).expect("create bucket");
            assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
        }
        s
    }

    /// Sends raw bytes on a fresh connection and reads until the server closes it (or the timeout); the answer
    /// as read, or None when the connection could not be made.
    pub fn send_raw(&self, wire: &[u8]) -> Option<Vec<u8>> {
        let mut c = TcpStream::connect_timeout(&self.addr, EXCHANGE_TIMEOUT).ok()?;
        let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = c.set_write_timeout(Some(EXCHANGE_TIMEOUT));
        // The server may answer (and close) before it has read the whole request: a failed write is an answer.
        let _ = c.write_all(wire);
        let mut answer = Vec::new();
        let start = Instant::now();
        let mut buf = [0u8; 16 * 1024];
        while start.elapsed() < EXCHANGE_TIMEOUT {
            match c.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
        }
        Some(answer)
    }

    /// Sends a request in the text form (signed as it says).
    pub fn send_text(&self, data: &[u8]) -> Option<Vec<u8>> {
        let mut r = TextRequest::parse(data)?;
        r.sign();
        self.send_raw(&r.to_wire(&self.addr.to_string()))
    }

    /// Panics unless the server answers a plain GET of the service within the timeout: after any input, the
    /// server must still be serving.
    /// (A failure on this side, such as no free local port for a moment, gets two more tries.)
    pub fn assert_alive(&self) {
        let wire = format!("GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        let mut answers = Vec::new();
        for attempt in 0..3 {
            let answer = self.send_raw(wire.as_bytes());
            if answer.as_ref().is_some_and(|a| a.starts_with(b"HTTP/1.1 403") || a.starts_with(b"HTTP/1.1 200")) {
                return;
            }
            answers.push(answer.map(|a| String::from_utf8_lossy(&a[..a.len().min(200)]).into_owned()));
            std::thread::sleep(Duration::from_millis(200 * (attempt + 1)));
        }
        panic!("the server stopped answering: {answers:?}");
    }
}

/// The store the authenticator targets share.
pub fn auth_harness() -> &'static ossd_server::fuzzing::AuthHarness {
    static H: OnceLock<ossd_server::fuzzing::AuthHarness> = OnceLock::new();
    H.get_or_init(|| {
        ossd_server::fuzzing::AuthHarness::new(scratch_dir("auth"), ACCESS_KEY_ID, SECRET).expect("auth store")
    })
}

/// Runs one dialect's authenticator over a request in the text form (its body is ignored).
pub fn authenticate(dialect: ossd_errors::Dialect, data: &[u8]) {
    let Some(mut r) = TextRequest::parse(data) else { return };
    r.sign();
    let host = r.header("host").unwrap_or("127.0.0.1:9000").to_string();
    let _ = auth_harness().authenticate(dialect, &r.method, &host, &r.target, &r.headers);
}
