//! Connections against a real ossd: slowloris connections do not slow a normal request, a flood past
//! --max-connections is refused at once and survived, the request head is bounded (431, 414), and the
//! header-read and keep-alive timeouts close connections each on its own clock.

mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A signed GET of an object; panics unless it answers 200 with the body.
fn normal_get(port: u16, want: &[u8]) -> Duration {
    let t = Instant::now();
    let r = request(port, "GET", "conns", "k", b"").expect("a normal request");
    assert_eq!((r.status, r.body.as_slice()), (200, want));
    t.elapsed()
}

fn setup(port: u16) -> Vec<u8> {
    assert_eq!(request(port, "PUT", "conns", "", b"").expect("create").status, 200);
    let body = content(7);
    assert_eq!(request(port, "PUT", "conns", "k", &body).expect("put").status, 200);
    body
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s
}

/// The status of the one answer on `s`.
fn status(s: &mut TcpStream) -> u16 {
    read_response(s).map(|r| r.status).unwrap_or(0)
}

/// How long until the server closes `s` (reading and dropping whatever it says), up to `limit`.
fn closed_after(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(100))).ok();
    let mut buf = [0u8; 4096];
    while t.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return Some(t.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(t.elapsed()),
        }
    }
    None
}

#[test]
fn slowloris_does_not_slow_a_normal_request() {
    let data = temp_dir("slowloris");
    let server = Server::start(&data, &[]);
    let body = setup(server.port);
    let mut baseline: Vec<Duration> = (0..20).map(|_| normal_get(server.port, &body)).collect();
    baseline.sort();

    // 300 connections that send a request head one line at a time, slowly.
    let mut slow: Vec<TcpStream> = (0..300).map(|_| connect(server.port)).collect();
    for s in &mut slow {
        let _ = s.write_all(b"GET /conns/k HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    }
    let mut during = Vec::new();
    for round in 0..10 {
        for s in &mut slow {
            let _ = s.write_all(format!("X-Slow-{round}: a\r\n").as_bytes());
        }
        for _ in 0..3 {
            during.push(normal_get(server.port, &body));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    during.sort();
    let (base_median, median, worst) = (baseline[10], during[during.len() / 2], during[during.len() - 1]);
    eprintln!("normal GET: median {base_median:?} alone, {median:?} beside 300 slow heads (worst {worst:?})");
    assert!(worst < Duration::from_secs(1), "a normal request took {worst:?} beside 300 slow connections");
    assert!(median < base_median * 10 + Duration::from_millis(50), "median {median:?} vs {base_median:?}");
    drop(slow);
    assert!(server.stop(), "the server stops cleanly");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_flood_past_max_connections_is_refused_at_once_and_survived() {
    let data = temp_dir("flood");
    let server = Server::start(&data, &["--max-connections", "64"]);
    let body = setup(server.port);

    // 200 connections held open: 64 get a slot, the others are closed as soon as they are accepted.
    let mut held: Vec<TcpStream> = (0..200).map(|_| connect(server.port)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut refused = 0;
    for s in &mut held {
        s.set_nonblocking(true).expect("nonblocking");
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            _ => refused += 1,
        }
    }
    assert_eq!(refused, 200 - 64, "connections closed at once past --max-connections 64");
    // While the slots are taken, one more connection is closed at once too, with no answer.
    let mut extra = connect(server.port);
    let _ = extra.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(closed_after(&mut extra, Duration::from_secs(2)).is_some());
    drop(held);

    // A flood of short connections, some sending garbage, then: the server answers normally.
    let started = Instant::now();
    let mut n = 0;
    while n < 1000 && started.elapsed() < Duration::from_secs(10) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", server.port)) {
            if n % 2 == 0 {
                let _ = s.write_all(b"\x00\x01garbage\r\n\r\n");
            }
        }
        n += 1;
    }
    eprintln!("{n} short connections in {:?}", started.elapsed());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match request(server.port, "GET", "conns", "k", b"") {
            Ok(r) if r.status == 200 && r.body == body => break,
            other => {
                assert!(Instant::now() < deadline, "no normal answer after the flood: {:?}", other.map(|r| r.status));
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    assert!(normal_get(server.port, &body) < Duration::from_secs(1));
    assert!(server.logged("--max-connections reached"), "the refusal is logged");
    assert!(server.stop(), "the server stops cleanly after the flood");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn the_request_head_is_bounded() {
    let data = temp_dir("head");
    let server =
        Server::start(&data, &["--max-header-bytes", "16384", "--max-headers", "50", "--max-request-line", "2048"]);
    let send = |head: String| {
        let mut s = connect(server.port);
        s.write_all(head.as_bytes()).expect("write");
        status(&mut s)
    };
    let head = |target: &str, extra: &str| format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n");
    // Within the limits: an ordinary answer (anonymous, to a bucket that does not exist: 404).
    let many: String = (0..40).map(|i| format!("X-H{i}: v\r\n")).collect();
    let big = format!("X-Big: {}\r\n", "a".repeat(10_000));
    assert_eq!(send(head(&format!("/conns/{}", "k".repeat(1000)), &format!("{many}{big}"))), 404);
    // Headers past --max-header-bytes, header lines past --max-headers: 431.
    assert_eq!(send(head("/conns/k", &format!("X-Big: {}\r\n", "a".repeat(20_000)))), 431);
    let too_many: String = (0..60).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(send(head("/conns/k", &too_many)), 431);
    // A request target past --max-request-line: 414.
    assert_eq!(send(head(&format!("/conns/{}", "k".repeat(3000)), "")), 414);
    // A head that never ends is cut at the limit, not buffered.
    let mut s = connect(server.port);
    let _ = s.write_all(b"GET /conns/k HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let line = format!("X-Pad: {}\r\n", "p".repeat(1000));
    for _ in 0..40 {
        if s.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    assert_eq!(status(&mut s), 431);
    // The server still answers.
    let body = setup(server.port);
    assert!(normal_get(server.port, &body) < Duration::from_secs(1));
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn header_read_and_keep_alive_timeouts_each_on_its_own_clock() {
    let data = temp_dir("timeouts");
    let server = Server::start(&data, &["--header-read-timeout", "1", "--keep-alive-timeout", "3"]);
    let ask = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    // A head that is never finished, and a connection that never sends: closed after the header-read timeout.
    let mut partial = connect(server.port);
    partial.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n").expect("write");
    let mut silent = connect(server.port);
    let t = closed_after(&mut partial, Duration::from_secs(5)).expect("a partial head is closed");
    assert!(t >= Duration::from_millis(700) && t < Duration::from_millis(2600), "closed after {t:?}");
    assert!(closed_after(&mut silent, Duration::from_secs(3)).is_some(), "a silent connection is closed");

    // Between requests the keep-alive timeout applies, not the header-read one: idle 2 s, then reused.
    let mut ka = connect(server.port);
    ka.write_all(ask).expect("write");
    assert_eq!(status(&mut ka), 403);
    std::thread::sleep(Duration::from_secs(2));
    ka.write_all(ask).expect("write after 2 s idle");
    assert_eq!(status(&mut ka), 403, "the keep-alive connection served a second request");
    let t = closed_after(&mut ka, Duration::from_secs(6)).expect("closed when idle past the keep-alive timeout");
    assert!(t >= Duration::from_millis(2500) && t < Duration::from_millis(4600), "idle close after {t:?}");
    assert!(server.stop());

    // And the other way round: a short keep-alive timeout closes idle connections before the header timeout.
    let server = Server::start(&data, &["--header-read-timeout", "10", "--keep-alive-timeout", "1"]);
    let mut ka = connect(server.port);
    ka.write_all(ask).expect("write");
    assert_eq!(status(&mut ka), 403);
    let t = closed_after(&mut ka, Duration::from_secs(5)).expect("closed when idle");
    assert!(t >= Duration::from_millis(700) && t < Duration::from_millis(2600), "idle close after {t:?}");
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_response_the_client_stops_reading_is_cut_off() {
    let data = temp_dir("stalled-reader");
    let server = Server::start(&data, &["--idle-timeout", "1"]);
    assert_eq!(request(server.port, "PUT", "conns", "", b"").expect("create").status, 200);
    let big: Vec<u8> = (0..48u32 << 20).map(|i| (i % 253) as u8).collect();
    assert_eq!(request(server.port, "PUT", "conns", "big", &big).expect("put").status, 200);
    let mut s = connect(server.port);
    write_head(&mut s, "GET", "/conns/big", "/conns/big", &[]);
    // Read nothing for a while: the socket buffers fill, the server's writes stall, and it gives up.
    std::thread::sleep(Duration::from_secs(4));
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(got < big.len(), "the whole {} bytes arrived; the stalled response was not cut off", big.len());
    // Everyone else is served.
    let r = request(server.port, "GET", "conns", "big", b"").expect("a reading client");
    assert_eq!((r.status, r.body.len()), (200, big.len()));
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}
