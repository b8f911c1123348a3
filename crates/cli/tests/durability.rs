//! kill -9 during a stream of PUTs: after a restart every acknowledged object is there, byte for byte,
//! and nothing partial is visible.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn acknowledged_puts_survive_kill_9() {
    let data = temp_dir("kill9");
    let server = Server::start(&data, &["--fsync", "true"]);
    let port = server.port;
    assert_eq!(request(port, "PUT", "durable", "", b"").expect("create bucket").status, 200);

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = n * 4 + w;
                    match request(port, "PUT", "durable", &format!("obj-{i}"), &content(i)) {
                        Ok(r) if r.status == 200 => acked.push(i),
                        Ok(r) => panic!("PUT obj-{i} failed before the kill: {} {}", r.status, r.text()),
                        Err(_) => break, // the server is gone
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<usize> = writers.into_iter().flat_map(|w| w.join().expect("writer")).collect();
    assert!(acked.len() > 20, "too few PUTs before the kill to prove anything: {}", acked.len());

    let server = Server::start(&data, &[]);
    for &i in &acked {
        let r = request(server.port, "GET", "durable", &format!("obj-{i}"), b"").expect("GET");
        assert_eq!(r.status, 200, "acknowledged obj-{i} lost after kill -9");
        assert_eq!(r.body, content(i), "obj-{i} differs after kill -9");
    }
    // Whatever else is listed (a PUT in flight at the kill) is complete, never partial.
    let r = request(server.port, "GET", "durable", "", b"").expect("list");
    let listing = r.text();
    let mut listed = 0;
    for key in listing.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()) {
        let i: usize = key.trim_start_matches("obj-").parse().expect("key");
        let g = request(server.port, "GET", "durable", key, b"").expect("GET");
        assert_eq!(g.body, content(i), "{key} is partial");
        listed += 1;
    }
    println!("kill -9: {} acknowledged PUTs, all intact after restart; {listed} listed", acked.len());
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
}
