//! The `ossd` CLI end to end against a real server: upload a directory, list it, copy it back, compare the
//! bytes; and failures with the right exit status and message.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output};

fn ossd(port: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ossd"))
        .args(args)
        .env("OSSD_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("OSSD_ACCESS_KEY_ID", AK)
        .env("OSSD_ACCESS_KEY_SECRET", SK)
        .output()
        .expect("run ossd")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push((p.strip_prefix(root).unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn upload_list_download_compare_and_fail_well() {
    let data = temp_dir("cli");
    let server = Server::start(&data, &["--fsync", "false"]);
    let port = server.port;
    let work = temp_dir("cli-work");
    let src = work.join("src");
    std::fs::create_dir_all(src.join("a/b")).unwrap();
    std::fs::write(src.join("top.txt"), b"top").unwrap();
    std::fs::write(src.join("a/one.txt"), b"one").unwrap();
    std::fs::write(src.join("a/b/deep name.bin"), vec![7u8; 10]).unwrap();
    let big: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(src.join("a/big.bin"), &big).unwrap();

    ok(&ossd(port, &["mb", "oss://clib"]));
    let src_s = src.to_string_lossy().into_owned();
    ok(&ossd(
        port,
        &["cp", "-r", &src_s, "oss://clib/up/", "--multipart-threshold", "200000", "--part-size", "200000"],
    ));
    let listing = ok(&ossd(port, &["ls", "-r", "oss://clib/up/"]));
    for k in ["up/top.txt", "up/a/one.txt", "up/a/b/deep name.bin", "up/a/big.bin"] {
        assert!(listing.contains(&format!("oss://clib/{k}")), "{listing}");
    }
    let shallow = ok(&ossd(port, &["ls", "oss://clib/up/"]));
    assert!(shallow.contains("oss://clib/up/a/") && !shallow.contains("up/a/one.txt"), "{shallow}");
    let stat = ok(&ossd(port, &["stat", "oss://clib/up/a/big.bin"]));
    assert!(stat.contains("type:          Multipart") && stat.contains("size:          700000"), "{stat}");
    let back = work.join("back");
    ok(&ossd(port, &["cp", "-r", "oss://clib/up/", &back.to_string_lossy()]));
    assert_eq!(tree(&back), tree(&src), "the round trip changed the files");
    assert_eq!(ok(&ossd(port, &["cat", "oss://clib/up/a/one.txt"])), "one");
    ok(&ossd(port, &["cp", "oss://clib/up/top.txt", "oss://clib/copy.txt"]));
    let url = ok(&ossd(port, &["presign", "oss://clib/copy.txt", "--expires", "60"]));
    assert!(url.trim().starts_with(&format!("http://127.0.0.1:{port}/clib/copy.txt?")), "{url}");
    let v1 = ok(&ossd(port, &["presign", "--v1", "oss://clib/copy.txt"]));
    assert!(v1.contains("OSSAccessKeyId="), "{v1}");
    let v2 = ok(&ossd(port, &["presign", "--v2", "oss://clib/copy.txt"]));
    assert!(v2.contains("x-oss-signature-version=OSS2"), "{v2}");
    assert_eq!(ok(&ossd(port, &["cat", "--v2", "oss://clib/copy.txt"])), "top");
    // The profile file chooses the version too; flags win over it.
    let prof = work.join("profile");
    std::fs::write(&prof, "signature_version = v2\n").unwrap();
    let p = prof.to_string_lossy().into_owned();
    assert!(
        ok(&ossd(port, &["presign", "--profile", &p, "oss://clib/copy.txt"])).contains("x-oss-signature-version=OSS2")
    );
    assert!(ok(&ossd(port, &["presign", "--profile", &p, "--v1", "oss://clib/copy.txt"])).contains("OSSAccessKeyId="));
    std::fs::write(&prof, "signature_version = v3\n").unwrap();
    assert_eq!(ossd(port, &["presign", "--profile", &p, "oss://clib/copy.txt"]).status.code(), Some(2));

    // Failures: one clear block, and the exit status tells the family.
    let o = ossd(port, &["cat", "oss://clib/missing"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("NoSuchKey (404)") && err.contains("request id: ") && err.contains("fix:") && err.contains("EC:"),
        "{err}"
    );
    let id = err.lines().find_map(|l| l.trim().strip_prefix("request id: ")).unwrap().trim().to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(server.logged(&id), "the request id printed is the one the server logged");
    let o = ossd(port, &["rb", "oss://clib"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("BucketNotEmpty"));
    let o = ossd(port, &["mb", "oss://Bad_Name"]);
    assert_eq!(o.status.code(), Some(2), "a bad bucket name is caught before sending");
    let o = ossd(port, &["ls", "not-remote"]);
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(env!("CARGO_BIN_EXE_ossd"))
        .args(["ls", "--endpoint", "http://127.0.0.1:1", "--access-key-id", AK, "--access-key-secret", SK])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "a refused connection is a request error: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_ossd"))
        .args(["ls"])
        .env_remove("OSSD_ACCESS_KEY_ID")
        .env_remove("OSSD_ACCESS_KEY_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "missing credentials");

    ok(&ossd(port, &["rm", "-r", "oss://clib/"]));
    ok(&ossd(port, &["rb", "oss://clib"]));
    assert!(!ok(&ossd(port, &["ls"])).contains("oss://clib"));
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&work);
}
