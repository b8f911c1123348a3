//! A storage failure: the data dir's filesystem fills up. Writes fail with 500 InternalError, the server
//! keeps serving, stored objects stay intact, and writes work again once space is freed.
//! Needs root to mount a small tmpfs (as the test machines run it).

mod common;
use common::*;
use std::process::Command;

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_disk_gives_internal_error_and_harms_nothing() {
    let dir = temp_dir("full");
    let st =
        Command::new("mount").args(["-t", "tmpfs", "-o", "size=12m", "tmpfs"]).arg(&dir).status().expect("run mount");
    assert!(st.success(), "mounting a 12 MiB tmpfs failed: this test needs root");
    let _guard = Mount(dir.clone());
    let data = dir.join("data");
    let server = Server::start(&data, &["--fsync", "true"]);
    let port = server.port;
    assert_eq!(request(port, "PUT", "full", "", b"").unwrap().status, 200);
    let keep = content(1);
    assert_eq!(request(port, "PUT", "full", "keep", &keep).unwrap().status, 200);

    let chunk = vec![42u8; 1 << 20];
    let mut stored = 0;
    let mut failure = None;
    for i in 0..64 {
        let r =
            request(port, "PUT", "full", &format!("fill-{i}"), &chunk).expect("a response, not a dropped connection");
        if r.status == 200 {
            stored += 1;
        } else {
            failure = Some(r);
            break;
        }
    }
    let r = failure.expect("the disk never filled up");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains("<Code>InternalError</Code>"), "{}", r.text());
    assert!(!r.text().contains(dir.to_str().unwrap_or("/")), "the error must not leak server paths");
    assert!(r.header("x-oss-request-id").is_some() && r.header("x-oss-ec").is_some());

    // Everything stored before is intact, and the server still answers.
    let g = request(port, "GET", "full", "keep", b"").unwrap();
    assert_eq!((g.status, g.body), (200, keep));
    for i in 0..stored {
        let g = request(port, "GET", "full", &format!("fill-{i}"), b"").unwrap();
        assert_eq!(g.status, 200);
        assert!(g.body == chunk, "fill-{i} damaged");
    }
    // Freeing space makes writes work again.
    for i in 0..stored.min(4) {
        assert_eq!(request(port, "DELETE", "full", &format!("fill-{i}"), b"").unwrap().status, 204);
    }
    assert_eq!(request(port, "PUT", "full", "after", b"room again").unwrap().status, 200);
    println!("disk full after {stored} MiB: 500 InternalError; all stored objects intact; writes resume after deletes");
    assert!(server.stop());
}
