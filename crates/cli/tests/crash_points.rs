//! The process dies at each step of each write path (a crash point armed with OSSD_FAILPOINTS aborts it), ossd
//! restarts on the same data dir, and: no acknowledged write is lost, nothing partial is visible, and `ossd fsck`
//! finds no unreferenced blob after the start-up sweep. Runs only with `--features failpoints`.
#![cfg(feature = "failpoints")]

mod common;
use common::*;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BUCKET: &str = "crash";
/// The environment is the process's: one server start at a time sets it.
static ENV: Mutex<()> = Mutex::new(());

fn start(data: &Path, failpoints: Option<&str>) -> Server {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    match failpoints {
        Some(f) => std::env::set_var("OSSD_FAILPOINTS", f),
        None => std::env::remove_var("OSSD_FAILPOINTS"),
    }
    let s = Server::start(data, &["--fsync", "true", "--lifecycle-day-seconds", "1"]);
    std::env::remove_var("OSSD_FAILPOINTS");
    s
}

/// One signed request (V1, x-oss-* headers signed); an error when the connection breaks.
fn send(port: u16, method: &str, path: &str, body: &[u8], extra: &[(&str, String)]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let date = http_date();
    let mut oss: Vec<String> = extra
        .iter()
        .filter(|(k, _)| k.starts_with("x-oss-"))
        .map(|(k, v)| format!("{}:{v}\n", k.to_ascii_lowercase()))
        .collect();
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
    std::io::Write::write_all(&mut s, head.as_bytes())?;
    std::io::Write::write_all(&mut s, body)?;
    read_response(&mut s)
}

fn ok(port: u16, method: &str, path: &str, body: &[u8], extra: &[(&str, String)]) -> Resp {
    let r = send(port, method, path, body, extra).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!((200..300).contains(&r.status), "{method} {path}: {} {}", r.status, r.text());
    r
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed)).collect()
}

/// The object's body, or None when it does not exist.
fn get(port: u16, key: &str) -> Option<Vec<u8>> {
    let r = send(port, "GET", &format!("/{BUCKET}/{key}"), b"", &[]).expect("GET");
    match r.status {
        200 => Some(r.body),
        404 => None,
        s => panic!("GET {key}: {s} {}", r.text()),
    }
}

/// Waits for the server to die by its crash point.
fn died(mut server: Server, point: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            use std::os::unix::process::ExitStatusExt;
            // SIGABRT: the crash point's abort (a build without the feature would not die at all).
            assert_eq!(status.signal(), Some(6), "{point}: ossd ended with {status}, not by the crash point");
            return;
        }
        assert!(Instant::now() < deadline, "{point}: ossd is still running");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the setup wrote (all acknowledged).
struct Setup {
    upload: String,
    parts: Vec<String>,
}

const OLD: (usize, u8) = (200_000, 11);
const NEW: (usize, u8) = (300_000, 12);
const APPENDED: usize = 20_000;

fn setup(port: u16) -> Setup {
    ok(port, "PUT", &format!("/{BUCKET}/"), b"", &[]);
    ok(port, "PUT", &format!("/{BUCKET}/keep-small"), &data(2_000, 1), &[]);
    ok(port, "PUT", &format!("/{BUCKET}/keep-large"), &data(300_000, 2), &[]);
    ok(port, "PUT", &format!("/{BUCKET}/victim"), &data(OLD.0, OLD.1), &[]);
    ok(port, "PUT", &format!("/{BUCKET}/exp/old"), &data(50_000, 3), &[]);
    ok(port, "POST", &format!("/{BUCKET}/log?append&position=0"), &data(APPENDED, 4), &[]);
    let r = ok(port, "POST", &format!("/{BUCKET}/mp?uploads"), b"", &[]);
    let upload =
        r.text().split("<UploadId>").nth(1).and_then(|s| s.split("</UploadId>").next()).expect("id").to_string();
    let mut parts = Vec::new();
    for (n, len) in [(1, 110_000), (2, 110_000), (3, 5_000)] {
        let path = format!("/{BUCKET}/mp?partNumber={n}&uploadId={upload}");
        let r = ok(port, "PUT", &path, &data(len, 20 + n as u8), &[]);
        parts.push(r.header("etag").unwrap_or("").to_string());
    }
    Setup { upload, parts }
}

fn complete_xml(s: &Setup) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, etag) in s.parts.iter().take(2).enumerate() {
        xml.push_str(&format!("<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>", i + 1));
    }
    xml + "</CompleteMultipartUpload>"
}

/// The write that meets `point`; its connection breaks when the server dies.
fn crash_op(port: u16, point: &str, s: &Setup) {
    let b = BUCKET;
    let _ = match point {
        "blob::write" | "blob::fsync" | "blob::dir_fsync" | "meta::commit" | "reclaim::old_blob" => {
            send(port, "PUT", &format!("/{b}/victim"), &data(NEW.0, NEW.1), &[])
        }
        "multipart::part" => {
            let path = format!("/{b}/mp?partNumber=4&uploadId={}", s.upload);
            send(port, "PUT", &path, &data(110_000, 24), &[])
        }
        "multipart::complete" | "multipart::parts" => {
            send(port, "POST", &format!("/{b}/mp?uploadId={}", s.upload), complete_xml(s).as_bytes(), &[])
        }
        "append::commit" => {
            send(port, "POST", &format!("/{b}/log?append&position={APPENDED}"), &data(APPENDED, 5), &[])
        }
        "copy::data" => {
            let src = [("x-oss-copy-source", format!("/{b}/keep-large"))];
            send(port, "PUT", &format!("/{b}/copied"), b"", &src)
        }
        "delete::commit" => send(port, "DELETE", &format!("/{b}/victim"), b"", &[]),
        "lifecycle::expire" => {
            let rule = "<LifecycleConfiguration><Rule><ID>exp</ID><Prefix>exp/</Prefix><Status>Enabled</Status>\
                        <Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
            send(port, "PUT", &format!("/{b}/?lifecycle"), rule.as_bytes(), &[])
        }
        other => panic!("no write for crash point {other}"),
    };
}

/// After the restart: every acknowledged write is there, whole; what was in flight is all old or all new.
fn verify(port: u16, point: &str, s: &Setup) {
    assert_eq!(get(port, "keep-small"), Some(data(2_000, 1)), "{point}");
    assert_eq!(get(port, "keep-large"), Some(data(300_000, 2)), "{point}");
    assert_eq!(get(port, "acked"), Some(data(3_000, 9)), "{point}: acknowledged just before the crash");
    let victim = get(port, "victim");
    let (old, new) = (data(OLD.0, OLD.1), data(NEW.0, NEW.1));
    let deleted = point == "delete::commit";
    assert!(
        victim.as_ref() == Some(&old) || victim.as_ref() == Some(&new) || (deleted && victim.is_none()),
        "{point}: victim is neither version ({:?} bytes)",
        victim.map(|v| v.len())
    );
    let log = get(port, "log").expect("log");
    let mut both = data(APPENDED, 4);
    both.extend(data(APPENDED, 5));
    assert!(log == both[..APPENDED] || log == both, "{point}: the appendable object is {} bytes", log.len());
    let mut mp = data(110_000, 21);
    mp.extend(data(110_000, 22));
    match get(port, "mp") {
        Some(body) => assert_eq!(body, mp, "{point}: a partial multipart object"),
        // Not completed: the upload is still there, whole, and completes now.
        None => {
            let path = format!("/{BUCKET}/mp?uploadId={}", s.upload);
            ok(port, "POST", &path, complete_xml(s).as_bytes(), &[]);
            assert_eq!(get(port, "mp"), Some(mp), "{point}");
        }
    }
    if let Some(copied) = get(port, "copied") {
        assert_eq!(copied, data(300_000, 2), "{point}: a partial copy");
    }
    if let Some(exp) = get(port, "exp/old") {
        assert_eq!(exp, data(50_000, 3), "{point}");
    }
}

fn fsck(data: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ossd")).arg("fsck").arg("--data").arg(data).output().expect("fsck");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The points where the crash leaves a blob that no record names (the start-up sweep removes it).
const LEAVES_ORPHAN: &[&str] = &[
    "blob::write",
    "blob::fsync",
    "blob::dir_fsync",
    "meta::commit",
    "reclaim::old_blob",
    "multipart::part",
    "multipart::parts",
    "append::commit",
    "copy::data",
];

fn crash_at(point: &str) {
    let dir = temp_dir(&format!("crash-{}", point.replace("::", "-")));
    let server = start(&dir, None);
    let s = setup(server.port);
    assert!(server.stop(), "{point}: setup server did not stop cleanly");

    // The acknowledged PUT in the crashing run (a small one, which meets no blob point) passes a commit first.
    let arm = if point == "meta::commit" { "1*off->return" } else { "return" };
    let server = start(&dir, Some(&format!("{point}={arm}")));
    ok(server.port, "PUT", &format!("/{BUCKET}/acked"), &data(3_000, 9), &[]);
    crash_op(server.port, point, &s);
    died(server, point);
    // Before the restart: what the crash left is at most unreferenced blobs, never a damaged record.
    let (_, out) = fsck(&dir);
    for damage in ["missing blob", "wrong size", "corrupt data", "bad record"] {
        assert!(!out.contains(damage), "{point}: {damage} after the crash:\n{out}");
    }
    if LEAVES_ORPHAN.contains(&point) {
        assert!(out.contains("unreferenced blob"), "{point}: the crash should leave a blob for the sweep:\n{out}");
    }

    let server = start(&dir, None);
    verify(server.port, point, &s);
    assert!(server.stop());
    let (code, out) = fsck(&dir);
    assert_eq!(code, 0, "{point}: fsck after the restart:\n{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! crash_tests {
    ($($name:ident => $point:expr,)*) => {
        $(
            #[test]
            fn $name() {
                crash_at($point);
            }
        )*

        #[test]
        fn every_crash_point_has_a_test() {
            let tested = [$($point),*];
            for p in ossd_engine::failpoints::POINTS {
                assert!(tested.contains(p), "{p} has no crash test");
            }
        }
    };
}

crash_tests! {
    blob_write => "blob::write",
    blob_fsync => "blob::fsync",
    blob_dir_fsync => "blob::dir_fsync",
    meta_commit => "meta::commit",
    reclaim_old_blob => "reclaim::old_blob",
    multipart_part => "multipart::part",
    multipart_complete => "multipart::complete",
    multipart_parts => "multipart::parts",
    append_commit => "append::commit",
    copy_data => "copy::data",
    delete_commit => "delete::commit",
    lifecycle_expire => "lifecycle::expire",
}
