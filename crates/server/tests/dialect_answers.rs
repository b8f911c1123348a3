//! Each dialect writes its answers in its own words: a real ossd with one listener per dialect, one bucket and
//! two objects, read anonymously through every listener. Storage classes, ETags and headers come out in the
//! dialect's vocabulary, and an object's own XML bytes are never rewritten.

use ossd_errors::Dialect;
use ossd_server::{Config, ListenSpec, Scheme};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const AK: &str = "RenderTestKey01";
const SK: &str = "render-test-secret";
const BUCKET: &str = "render";
/// An object whose own bytes look like a listing: it must come back exactly as stored.
const DOC: &str = "<R><ETag>&quot;ABCDEF&quot;</ETag><StorageClass>IA</StorageClass></R>";

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One request over a fresh connection, read to its end (`Connection: close`).
fn send(port: u16, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp { status, headers, body: body.to_string() }
}

/// An OSS V1-signed request on the OSS listener (`extra` are x-oss-* headers, signed).
fn oss_signed(port: u16, method: &str, path: &str, content_type: &str, extra: &[(&str, &str)], body: &[u8]) -> Resp {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let oss: String = extra.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let sts = format!("{method}\n\n{content_type}\n{date}\n{oss}{path}");
    let auth = format!("OSS {AK}:{}", ossd_server::dialect::oss::auth::v1_sign(SK, &sts));
    let mut headers = vec![("Date", date), ("Authorization", auth), ("Content-Type", content_type.to_string())];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    send(port, method, path, &headers, body)
}

/// Starts a server with the main (OSS) listener and one pinned listener for S3, COS and OBS; their ports.
fn start() -> [u16; 4] {
    let dir = std::env::temp_dir().join(format!("ossd-answers-{}", ossd_engine::model::random_u64()));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async move {
            let any = SocketAddr::from(([127, 0, 0, 1], 0));
            let mut cfg = Config::new(any, dir);
            cfg.fsync = false;
            cfg.access_key_id = Some(AK.into());
            cfg.access_key_secret = Some(SK.into());
            cfg.pinned_dialect = Some(Dialect::Oss);
            cfg.also_listen = [Dialect::S3, Dialect::Cos, Dialect::Obs]
                .map(|d| ListenSpec { dialect: Some(d), scheme: Scheme::Http, addr: any })
                .to_vec();
            let bound = ossd_server::bind(cfg).await.expect("bind");
            let ports: Vec<u16> = bound.listeners.iter().map(|l| l.tcp.local_addr().expect("address").port()).collect();
            tx.send(ports).expect("report ports");
            ossd_server::run(bound, std::future::pending()).await;
        });
    });
    let ports = rx.recv().expect("server started");
    [ports[0], ports[1], ports[2], ports[3]]
}

#[test]
fn every_dialect_answers_in_its_own_words() {
    let [oss, s3, cos, obs] = start();
    let put = oss_signed(oss, "PUT", &format!("/{BUCKET}/"), "", &[("x-oss-acl", "public-read")], b"");
    assert_eq!(put.status, 200, "{}", put.body);
    let body = b"hello, dialects";
    let etag = format!("{:x}", <md5::Md5 as md5::Digest>::digest(body));
    let put = oss_signed(oss, "PUT", &format!("/{BUCKET}/k"), "text/plain", &[("x-oss-storage-class", "IA")], body);
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.header("etag"), Some(format!("\"{}\"", etag.to_ascii_uppercase()).as_str()));
    let put = oss_signed(oss, "PUT", &format!("/{BUCKET}/doc.xml"), "application/xml", &[], DOC.as_bytes());
    assert_eq!(put.status, 200, "{}", put.body);

    for (port, class, upper, prefix) in [
        (oss, "IA", true, "x-oss-"),
        (s3, "STANDARD_IA", false, "x-amz-"),
        (cos, "STANDARD_IA", false, "x-cos-"),
        (obs, "WARM", false, "x-obs-"),
    ] {
        let tag = if upper { etag.to_ascii_uppercase() } else { etag.clone() };
        let list = send(port, "GET", &format!("/{BUCKET}?prefix=k"), &[], b"");
        assert_eq!(list.status, 200, "{prefix}: {}", list.body);
        assert!(list.body.contains(&format!("<StorageClass>{class}</StorageClass>")), "{prefix}: {}", list.body);
        assert!(list.body.contains(&format!("<ETag>&quot;{tag}&quot;</ETag>")), "{prefix}: {}", list.body);
        assert_eq!(list.header("content-length"), Some(list.body.len().to_string().as_str()), "{prefix}");

        let head = send(port, "HEAD", &format!("/{BUCKET}/k"), &[], b"");
        assert_eq!(head.status, 200, "{prefix}");
        assert_eq!(head.header("etag"), Some(format!("\"{tag}\"").as_str()), "{prefix}");
        assert_eq!(head.header(&format!("{prefix}storage-class")), Some(class), "{prefix}");
        assert!(head.header(&format!("{prefix}hash-crc64ecma")).is_some(), "{prefix}");
        assert!(head.header(&format!("{prefix}request-id")).is_some(), "{prefix}");
        // Headers of another dialect never leak, and OSS-only ones stay OSS's.
        let foreign: Vec<&str> = head
            .headers
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| ["x-oss-", "x-amz-", "x-cos-", "x-obs-"].iter().any(|p| k.starts_with(p) && *p != prefix))
            .collect();
        assert!(foreign.is_empty(), "{prefix}: {foreign:?}");
        assert_eq!(head.header(&format!("{prefix}object-type")).is_some(), upper, "{prefix}");

        let doc = send(port, "GET", &format!("/{BUCKET}/doc.xml"), &[], b"");
        assert_eq!((doc.status, doc.body.as_str()), (200, DOC), "{prefix}");
    }
}
