//! Streaming and timeouts: a stalled body gets RequestTimeout and leaves no trace; a 2 GiB PUT and GET
//! stay within bounded memory; SIGTERM stops the server cleanly.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn stalled_body_times_out_and_leaves_no_blob() {
    let data = temp_dir("idle");
    let server = Server::start(&data, &["--idle-timeout", "1"]);
    assert_eq!(request(server.port, "PUT", "idle", "", b"").unwrap().status, 200);
    let blobs_before = count_files(&data.join("blobs"));
    for len in [100usize, 10_000_000] {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write_head(&mut s, "PUT", "/idle/stalled", "/idle/stalled", &[("Content-Length", len.to_string())]);
        s.write_all(&[7u8; 10]).unwrap();
        let r = read_response(&mut s).expect("a response, not a dropped connection");
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("<Code>RequestTimeout</Code>"), "{}", r.text());
        assert!(r.header("x-oss-request-id").is_some() && r.header("x-oss-ec").is_some());
    }
    let g = request(server.port, "GET", "idle", "stalled", b"").unwrap();
    assert_eq!(g.status, 404);
    assert_eq!(count_files(&data.join("blobs")), blobs_before, "a partial upload left a blob behind");
    // The server keeps serving.
    assert_eq!(request(server.port, "PUT", "idle", "after", b"ok").unwrap().status, 200);
    assert!(server.stop(), "SIGTERM did not stop ossd cleanly");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn two_gib_put_and_get_in_bounded_memory() {
    const SIZE: u64 = 2 << 30;
    let data = temp_dir("rss");
    let server = Server::start(&data, &["--fsync", "false"]);
    let port = server.port;
    assert_eq!(request(port, "PUT", "big", "", b"").unwrap().status, 200);
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();

    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    write_head(&mut s, "PUT", "/big/obj", "/big/obj", &[("Content-Length", SIZE.to_string())]);
    for _ in 0..(SIZE >> 20) {
        s.write_all(&chunk).unwrap();
    }
    let r = read_response(&mut s).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let after_put = server.peak_rss_kib();

    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    write_head(&mut s, "GET", "/big/obj", "/big/obj", &[]);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head));
    let mut buf = vec![0u8; 1 << 20];
    let mut got: u64 = 0;
    let mut mismatch = false;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let mut done = 0;
        while done < n {
            let off = ((got + done as u64) % (1 << 20)) as usize;
            let take = (n - done).min(chunk.len() - off);
            if buf[done..done + take] != chunk[off..off + take] {
                mismatch = true;
            }
            done += take;
        }
        got += n as u64;
    }
    assert_eq!(got, SIZE);
    assert!(!mismatch, "GET returned different bytes");
    let peak = server.peak_rss_kib();
    println!("2 GiB streaming: peak RSS {} KiB after PUT, {} KiB after GET", after_put, peak);
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB is not under 100 MiB");
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
}
