//! Retry behaviour against a small misbehaving HTTP server inside the test: scripted answers, counted attempts.

use bytes::Bytes;
use ossd_client::{Client, Config, Error, GetOptions, Payload, PutOptions, RequestErrorKind, RetryPolicy, SignVersion};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
enum Act {
    Reply(u16, Vec<(&'static str, String)>, &'static str),
    /// Close the connection without answering.
    Reset,
    /// Promise 100 bytes, send 10, close.
    Truncate,
    /// Wait, then answer 200.
    Slow(Duration),
}

struct Fake {
    port: u16,
    hits: Arc<AtomicUsize>,
    dates: Arc<Mutex<Vec<String>>>,
}

fn oss_error(code: &str) -> &'static str {
    Box::leak(
        format!(
            "<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>m</Message><RequestId>REQ</RequestId></Error>"
        )
        .into_boxed_str(),
    )
}

async fn fake(script: Vec<Act>) -> Fake {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let dates = Arc::new(Mutex::new(Vec::new()));
    let (h, d) = (hits.clone(), dates.clone());
    tokio::spawn(async move {
        let script = Arc::new(script);
        loop {
            let Ok((mut s, _)) = l.accept().await else { return };
            let (h, d, script) = (h.clone(), d.clone(), script.clone());
            tokio::spawn(async move {
                loop {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match s.read(&mut b).await {
                            Ok(1) => head.push(b[0]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head).to_lowercase();
                    let len: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0u8; len];
                    if s.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if text.contains("transfer-encoding: chunked") {
                        let mut chunked = Vec::new();
                        while !chunked.ends_with(b"0\r\n\r\n") {
                            match s.read(&mut b).await {
                                Ok(1) => chunked.push(b[0]),
                                _ => return,
                            }
                        }
                    }
                    let original = String::from_utf8_lossy(&head).to_string();
                    if let Some(date) =
                        original.lines().find_map(|l| l.strip_prefix("date:").or(l.strip_prefix("Date:")))
                    {
                        d.lock().unwrap().push(date.trim().to_string());
                    }
                    let n = h.fetch_add(1, Ordering::SeqCst);
                    let act = script.get(n).cloned().unwrap_or(Act::Reply(200, vec![], ""));
                    match act {
                        Act::Reset => return,
                        Act::Truncate => {
                            let _ = s
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nx-oss-request-id: T\r\n\r\n0123456789",
                                )
                                .await;
                            return;
                        }
                        Act::Slow(d) => {
                            tokio::time::sleep(d).await;
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
                        }
                        Act::Reply(status, headers, body) => {
                            let mut r = format!(
                                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nx-oss-request-id: R{n}\r\n",
                                body.len()
                            );
                            for (k, v) in headers {
                                r.push_str(&format!("{k}: {v}\r\n"));
                            }
                            r.push_str("\r\n");
                            r.push_str(body);
                            if s.write_all(r.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Fake { port, hits, dates }
}

fn client(port: u16, retry: RetryPolicy) -> Client {
    let mut c = Config::new(&format!("http://127.0.0.1:{port}"), "ak", "secret-for-tests");
    c.sign = SignVersion::V1;
    c.retry = RetryPolicy { base: Duration::from_millis(5), throttle_base: Duration::from_millis(10), ..retry };
    c.response_timeout = Duration::from_secs(5);
    Client::new(c).unwrap()
}

#[tokio::test]
async fn a_503_then_200_is_retried() {
    let f = fake(vec![Act::Reply(503, vec![], oss_error("ServiceUnavailable")), Act::Reply(200, vec![], "")]).await;
    client(f.port, RetryPolicy::default()).get_object("bkt", "k", &GetOptions::default()).await.unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn throttling_is_retried_and_attempts_are_capped() {
    let f = fake(vec![Act::Reply(429, vec![], oss_error("QpsLimitExceeded")); 10]).await;
    let e = client(f.port, RetryPolicy { max_attempts: 4, ..Default::default() })
        .get_object("bkt", "k", &GetOptions::default())
        .await
        .err()
        .unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 4);
    let s = e.server().unwrap();
    assert_eq!((s.status, s.code_str()), (429, "QpsLimitExceeded"));
    assert_eq!(s.retry_class(), ossd_errors::Retry::Throttle);
}

#[tokio::test]
async fn a_500_on_append_is_never_retried() {
    let f = fake(vec![Act::Reply(500, vec![], oss_error("InternalError")), Act::Reply(200, vec![], "")]).await;
    let e = client(f.port, RetryPolicy::default())
        .append_object("bkt", "k", 0, Bytes::from_static(b"x"), &PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
    assert_eq!(e.server().unwrap().code_str(), "InternalError");
}

#[tokio::test]
async fn resets_are_retried_for_idempotent_requests_only() {
    let f = fake(vec![Act::Reset, Act::Reset, Act::Reply(200, vec![], "")]).await;
    client(f.port, RetryPolicy::default()).head_object("bkt", "k").await.unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);

    let f = fake(vec![Act::Reset, Act::Reply(200, vec![], "")]).await;
    let e = client(f.port, RetryPolicy::default())
        .append_object("bkt", "k", 0, Bytes::from_static(b"x"), &PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(f.hits.load(Ordering::SeqCst), 1, "an append that may have been sent is not repeated");
    match e {
        Error::Request(r) => assert!(r.maybe_sent && r.kind == RequestErrorKind::ConnectionReset, "{r:?}"),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_truncated_body_is_a_request_error() {
    let f = fake(vec![Act::Truncate]).await;
    let body = client(f.port, RetryPolicy::default()).get_object("bkt", "k", &GetOptions::default()).await.unwrap();
    match body.bytes().await.unwrap_err() {
        Error::Request(r) => assert_eq!(r.kind, RequestErrorKind::TruncatedBody),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn clock_skew_is_corrected_once() {
    let hour_ahead = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
    let f = fake(vec![
        Act::Reply(403, vec![("date", hour_ahead.clone())], oss_error("RequestTimeTooSkewed")),
        Act::Reply(200, vec![], ""),
    ])
    .await;
    client(f.port, RetryPolicy::default()).get_object("bkt", "k", &GetOptions::default()).await.unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);
    let dates = f.dates.lock().unwrap().clone();
    let t = |s: &str| httpdate::parse_http_date(s).unwrap();
    let shift = t(&dates[1]).duration_since(t(&dates[0])).unwrap();
    assert!(shift >= Duration::from_secs(3590), "the retry carries the server's time: {dates:?}");

    let f = fake(vec![Act::Reply(403, vec![("date", hour_ahead.clone())], oss_error("RequestTimeTooSkewed")); 5]).await;
    assert!(client(f.port, RetryPolicy::default()).get_object("bkt", "k", &GetOptions::default()).await.is_err());
    assert_eq!(f.hits.load(Ordering::SeqCst), 2, "corrected and retried once only");
}

#[tokio::test]
async fn internal_error_inside_a_200_copy_is_retried() {
    let f = fake(vec![
        Act::Reply(200, vec![], oss_error("InternalError")),
        Act::Reply(200, vec![("etag", "\"E\"".into())], "<CopyObjectResult/>"),
    ])
    .await;
    let r = client(f.port, RetryPolicy::default())
        .copy_object("bkt", "a", "bkt", "b", &PutOptions::default())
        .await
        .unwrap();
    assert_eq!((r.etag.as_str(), f.hits.load(Ordering::SeqCst)), ("E", 2));
}

#[tokio::test]
async fn a_stream_body_is_not_replayed() {
    let f = fake(vec![Act::Reply(503, vec![], oss_error("ServiceUnavailable")), Act::Reply(200, vec![], "")]).await;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(Ok(Bytes::from_static(b"once"))).await.unwrap();
    drop(tx);
    let e = client(f.port, RetryPolicy::default())
        .put_object("bkt", "k", Payload::Stream(Mutex::new(Some(rx))), &PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
    assert_eq!(e.server().unwrap().status, 503);
}

#[tokio::test]
async fn connect_failures_are_not_sent_and_deadlines_hold() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    match client(port, RetryPolicy { max_attempts: 2, ..Default::default() }).head_object("bkt", "k").await.unwrap_err()
    {
        Error::Request(r) => assert!(r.kind == RequestErrorKind::Connect && !r.maybe_sent, "{r:?}"),
        other => panic!("{other}"),
    }
    let f = fake(vec![Act::Slow(Duration::from_secs(3))]).await;
    let started = std::time::Instant::now();
    let e = client(f.port, RetryPolicy { deadline: Some(Duration::from_millis(300)), ..Default::default() })
        .head_object("bkt", "k")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "the deadline bounds the operation");
    assert!(matches!(e, Error::Request(ref r) if matches!(r.kind, RequestErrorKind::Timeout(_))), "{e}");
}

#[tokio::test]
async fn client_errors_are_caught_before_sending() {
    let f = fake(vec![]).await;
    let c = client(f.port, RetryPolicy::default());
    for e in [
        c.delete_objects("bkt", &[]).await.unwrap_err(),
        c.delete_objects("bkt", &vec!["k".to_string(); 1001]).await.unwrap_err(),
        c.head_object("Bad_Bucket", "k").await.unwrap_err(),
        c.head_object("bkt", "").await.unwrap_err(),
    ] {
        assert!(matches!(e, Error::Client(_)), "{e}");
        assert_eq!(e.exit_code(), 2);
    }
    assert_eq!(f.hits.load(Ordering::SeqCst), 0);
    let none = Client::new(Config { credentials: None, ..Config::new("http://127.0.0.1:1", "a", "b") }).unwrap();
    assert!(matches!(none.presign(http::Method::GET, "bkt", "k", Duration::from_secs(60)), Err(Error::Client(_))));
    assert!(Client::new(Config::new("ftp://x", "a", "b")).is_err());
}
