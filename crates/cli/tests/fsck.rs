//! `ossd fsck` on a data dir damaged in several ways: what it reports, its exit status, what `--repair` fixes and
//! what it leaves; and that it refuses to run while a server holds the data dir.

mod common;
use common::*;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn send(port: u16, method: &str, path: &str, body: &[u8], extra: &[(&str, String)]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    // V1 signs the x-oss-* headers too (CanonicalizedOSSHeaders, sorted).
    let date = http_date();
    let mut oss: Vec<String> = extra.iter().map(|(k, v)| format!("{}:{v}\n", k.to_ascii_lowercase())).collect();
    oss.sort();
    let sts = format!("{method}\n\n\n{date}\n{}{path}", oss.concat());
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nDate: {date}\r\nAuthorization: OSS {AK}:{}\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        ossd_server::dialect::oss::auth::v1_sign(SK, &sts),
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    std::io::Write::write_all(&mut s, head.as_bytes()).expect("head");
    std::io::Write::write_all(&mut s, body).expect("body");
    read_response(&mut s).expect("response")
}

/// Runs `ossd fsck` and returns its exit status and what it printed.
fn fsck(data: &Path, repair: bool) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ossd"));
    c.arg("fsck").arg("--data").arg(data);
    if repair {
        c.arg("--repair");
    }
    let out = c.output().expect("run fsck");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn blob_path(data: &Path, id: u64) -> PathBuf {
    data.join("blobs").join(format!("{:02x}", id >> 56)).join(format!("{id:016x}"))
}

/// The blobs of `bucket/key`, from its record.
fn blobs_of(db: &rusqlite::Connection, bucket: &str, key: &str) -> Vec<u64> {
    let segs: String = db
        .query_row("SELECT segments FROM objects WHERE bucket=?1 AND key=?2", (bucket, key.as_bytes()), |r| r.get(0))
        .expect("record");
    segs.split(',').filter_map(|s| u64::from_str_radix(s.split(':').next()?, 16).ok()).collect()
}

fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn fsck_reports_damage_repairs_unreferenced_blobs_and_refuses_a_live_data_dir() {
    let data = temp_dir("fsck");
    let server = Server::start(&data, &["--fsync", "false"]);
    let port = server.port;
    assert_eq!(send(port, "PUT", "/fsckb/", b"", &[]).status, 200);
    let objects = [
        ("small", body(2_000, 1)),
        ("large", body(300_000, 2)),
        ("truncated", body(200_000, 3)),
        ("flipped", body(200_000, 4)),
        ("gone-inline", body(500, 5)),
        ("gone-file", body(50_000, 6)),
    ];
    for (k, b) in &objects {
        assert_eq!(send(port, "PUT", &format!("/fsckb/{k}"), b, &[]).status, 200, "{k}");
    }
    let sse = [("x-oss-server-side-encryption", "AES256".to_string())];
    assert_eq!(send(port, "PUT", "/fsckb/encrypted", &body(70_000, 7), &sse).status, 200);
    for (i, chunk) in body(60_000, 8).chunks(20_000).enumerate() {
        let r = send(port, "POST", &format!("/fsckb/appended?append&position={}", i * 20_000), chunk, &[]);
        assert_eq!(r.status, 200, "append {i}: {}", r.text());
    }
    // An open multipart upload: its parts are referenced although no object names them.
    let r = send(port, "POST", "/fsckb/mp?uploads", b"", &[]);
    let upload =
        r.text().split("<UploadId>").nth(1).and_then(|s| s.split("</UploadId>").next()).expect("id").to_string();
    let p1 = send(port, "PUT", &format!("/fsckb/mp?partNumber=1&uploadId={upload}"), &body(110_000, 9), &[]);
    assert_eq!(p1.status, 200);
    let p2 = send(port, "PUT", &format!("/fsckb/mp?partNumber=2&uploadId={upload}"), &body(1_000, 10), &[]);
    assert_eq!(p2.status, 200);

    // While the server runs, fsck refuses (and changes nothing).
    let (code, out) = fsck(&data, true);
    assert_eq!(code, 8, "{out}");
    assert!(out.contains("in use"), "{out}");
    assert!(server.stop());

    let (code, out) = fsck(&data, false);
    assert_eq!(code, 0, "a clean data dir: {out}");
    assert!(out.contains("8 objects, 2 upload parts") && out.contains("0 problems"), "{out}");

    // Damage it: a file blob gone, one truncated, one with a flipped bit (encrypted too), an inline blob gone, and
    // unreferenced blobs (a file and an inline one) as a crash between blob and record would leave them.
    let db = rusqlite::Connection::open(data.join("meta.sqlite")).expect("open metadata");
    let large = blobs_of(&db, "fsckb", "large")[0];
    std::fs::remove_file(blob_path(&data, blobs_of(&db, "fsckb", "gone-file")[0])).expect("remove");
    let truncated = blob_path(&data, blobs_of(&db, "fsckb", "truncated")[0]);
    std::fs::write(&truncated, body(1_000, 3)).expect("truncate");
    for key in ["flipped", "encrypted"] {
        let p = blob_path(&data, blobs_of(&db, "fsckb", key)[0]);
        let mut bytes = std::fs::read(&p).expect("read");
        bytes[12_345] ^= 0x20;
        std::fs::write(&p, bytes).expect("write");
    }
    let gone_inline = blobs_of(&db, "fsckb", "gone-inline")[0];
    assert_eq!(db.execute("DELETE FROM inline_blobs WHERE id=?1", [gone_inline as i64]).expect("delete"), 1);
    let orphan_file = 0x00c0_ffee_0000_0001u64;
    std::fs::copy(blob_path(&data, large), blob_path(&data, orphan_file)).expect("copy");
    let orphan_inline = 0xFF00_0000_0000_0042u64;
    db.execute("INSERT INTO inline_blobs(id, data) VALUES(?1, x'0102')", [orphan_inline as i64]).expect("insert");
    drop(db);

    let (code, out) = fsck(&data, false);
    assert_eq!(code, 4, "{out}");
    for want in [
        "missing blob: object fsckb/gone-file".to_string(),
        "missing blob: object fsckb/gone-inline".to_string(),
        "wrong size: object fsckb/truncated".to_string(),
        "corrupt data: object fsckb/flipped".to_string(),
        "corrupt data: object fsckb/encrypted".to_string(),
        format!("unreferenced blob: {orphan_file:016x} (300000 bytes)"),
        format!("unreferenced blob: {orphan_inline:016x} (2 bytes)"),
        "7 problems, 0 repaired, 7 left".to_string(),
    ] {
        assert!(out.contains(&want), "{want:?} not in:\n{out}");
    }
    assert!(!out.contains("fsckb/large") && !out.contains("appended") && !out.contains("small"), "{out}");
    assert!(blob_path(&data, orphan_file).exists(), "without --repair nothing changes");

    let (code, out) = fsck(&data, true);
    assert_eq!(code, 4, "damaged records stay: {out}");
    assert!(out.contains("7 problems, 2 repaired, 5 left") && out.contains("[deleted]"), "{out}");
    assert!(!blob_path(&data, orphan_file).exists());
    let (code, out) = fsck(&data, true);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("5 problems, 0 repaired, 5 left") && !out.contains("unreferenced"), "{out}");

    // The server starts on the checked dir: what was sound still reads, the upload still completes.
    let server = Server::start(&data, &["--fsync", "false"]);
    let port = server.port;
    for (k, b) in objects.iter().filter(|(k, _)| ["small", "large"].contains(k)) {
        let r = send(port, "GET", &format!("/fsckb/{k}"), b"", &[]);
        assert_eq!((r.status, &r.body), (200, b), "{k}");
    }
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part>\
         <Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        p1.header("etag").unwrap_or(""),
        p2.header("etag").unwrap_or("")
    );
    let r = send(port, "POST", &format!("/fsckb/mp?uploadId={upload}"), xml.as_bytes(), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    // The damaged objects are deleted through the API; then the dir is clean.
    for k in ["gone-file", "gone-inline", "truncated", "flipped", "encrypted"] {
        assert_eq!(send(port, "DELETE", &format!("/fsckb/{k}"), b"", &[]).status, 204, "{k}");
    }
    assert!(server.stop());
    let (code, out) = fsck(&data, false);
    assert_eq!(code, 0, "{out}");

    // Only unreferenced blobs: --repair fixes everything (status 1), and the next check is clean.
    std::fs::write(blob_path(&data, orphan_file), b"left by a crash").expect("write");
    let (code, out) = fsck(&data, true);
    assert_eq!(code, 1, "{out}");
    assert_eq!(fsck(&data, false).0, 0);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn fsck_refuses_what_is_not_a_data_dir() {
    let dir = temp_dir("fsck-empty");
    let (code, out) = fsck(&dir, false);
    assert_eq!(code, 8, "{out}");
    assert!(out.contains("not an ossd data dir"), "{out}");
    assert!(!dir.join("meta.sqlite").exists(), "nothing created");
    let _ = std::fs::remove_dir_all(&dir);
}
