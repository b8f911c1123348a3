//! The RTMP ingest (`--rtmp-listen`) against hostile input: garbage, a cut-off handshake, a huge chunk size, an
//! over-long message and too many chunk streams each end their own connection, and the server keeps serving
//! RTMP and HTTP.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn rtmp_port(s: &Server) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let log = s.log.lock().map(|l| l.clone()).unwrap_or_default();
        if let Some(rest) = log.split("RTMP ingest listening on 127.0.0.1:").nth(1) {
            return rest.split_whitespace().next().and_then(|p| p.parse().ok()).expect("RTMP port");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("ossd did not report its RTMP port");
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s
}

/// A full client handshake; returns the connection ready for chunks.
fn handshake(port: u16) -> TcpStream {
    let mut s = connect(port);
    let mut c0c1 = vec![3u8];
    c0c1.extend((0..1536).map(|i| i as u8));
    s.write_all(&c0c1).expect("C0 C1");
    let mut s0s1s2 = vec![0u8; 1 + 2 * 1536];
    s.read_exact(&mut s0s1s2).expect("S0 S1 S2");
    assert_eq!(s0s1s2[0], 3);
    assert_eq!(&s0s1s2[1537..], &c0c1[1..], "S2 echoes C1");
    s.write_all(&s0s1s2[1..1537]).expect("C2");
    s
}

/// Reads until the server closes the connection (EOF or reset); panics if it keeps it open for 10 s.
fn closed_by_server(mut s: TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("connection not closed: {e}")
            }
            Err(_) => return,
        }
    }
}

/// A type 0 chunk header on chunk stream 3: timestamp 0, `len`, `type_id`, message stream 0.
fn header(len: u32, type_id: u8) -> Vec<u8> {
    let l = len.to_be_bytes();
    vec![0x03, 0, 0, 0, l[1], l[2], l[3], type_id, 0, 0, 0, 0]
}

#[test]
fn hostile_rtmp_input_ends_only_its_own_connection() {
    let dir = temp_dir("rtmp");
    let server = Server::start(&dir.join("d"), &["--rtmp-listen", "127.0.0.1:0"]);
    let port = rtmp_port(&server);

    // Garbage instead of a handshake.
    let mut s = connect(port);
    s.write_all(&[0x47u8; 4000]).expect("garbage");
    closed_by_server(s);

    // A handshake cut off half way, then the client goes away.
    let mut s = connect(port);
    s.write_all(&[3u8; 700]).expect("part of C1");
    drop(s);

    // A huge chunk size, then a message cut off long before its end.
    let mut s = handshake(port);
    let mut m = header(4, 1);
    m.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
    m.extend(header(5_000_000, 9));
    m.extend_from_slice(&[0x17; 1000]);
    s.write_all(&m).expect("chunk size");
    drop(s);

    // A message longer than the server takes.
    let mut s = handshake(port);
    s.write_all(&header(0xff_ffff, 9)).expect("long message");
    closed_by_server(s);

    // Chunk streams beyond the limit, each with an unfinished message.
    let mut s = handshake(port);
    let mut m = Vec::new();
    for csid in 2..60u8 {
        let mut h = header(1000, 9);
        h[0] = csid;
        m.extend(h);
        m.extend_from_slice(&[0u8; 100]);
    }
    let _ = s.write_all(&m);
    closed_by_server(s);

    // A connect command for an app that is no LiveChannel app: refused with an error, then closed.
    let mut s = handshake(port);
    let mut body = vec![2, 0, 7];
    body.extend_from_slice(b"connect");
    body.push(0);
    body.extend_from_slice(&1f64.to_be_bytes());
    body.extend_from_slice(&[3, 0, 3]);
    body.extend_from_slice(b"app");
    body.extend_from_slice(&[2, 0, 5]);
    body.extend_from_slice(b"other");
    body.extend_from_slice(&[0, 0, 9]);
    let mut m = header(body.len() as u32, 20);
    m.extend(body);
    s.write_all(&m).expect("connect");
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    assert!(reply.windows(6).any(|w| w == b"_error"), "no _error in {} bytes", reply.len());

    // The server still serves: a new handshake completes, and HTTP answers.
    drop(handshake(port));
    assert_eq!(request(server.port, "PUT", "rtmp-alive", "", b"").expect("create").status, 200);
    assert!(server.stop(), "ossd exits cleanly");
    let _ = std::fs::remove_dir_all(&dir);
}
