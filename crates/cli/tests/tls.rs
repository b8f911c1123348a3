//! HTTPS end to end: ossd serving TLS (with a plain-HTTP listener beside it), the SDK and the CLI trusting its
//! private CA through `ca_file` / `--ca-file`, and failing with `RequestErrorKind::Tls` when they do not.
//! The certificates are made by the `openssl` command for each run.

mod common;
use common::*;
use ossd_client::{Client, Config, Error, GetOptions, Payload, PutOptions, RequestErrorKind};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A CA, and a server certificate it signed for 127.0.0.1 and localhost: (ca.pem, cert.pem, key.pem).
pub fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ossd test CA"],
    ]
    .concat());
    run(&[&["req"][..], &ec, &["-keyout", "key.pem", "-out", "srv.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext.cnf");
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"))
}

/// The port of the extra listener the server reported.
fn also_port(server: &Server) -> u16 {
    for _ in 0..100 {
        let log = server.log.lock().map(|l| l.clone()).unwrap_or_default();
        if let Some(rest) = log.split("also listening on 127.0.0.1:").nth(1) {
            return rest.split_whitespace().next().and_then(|p| p.parse().ok()).expect("port");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no extra listener reported");
}

fn sdk(endpoint: &str, ca: Option<&Path>) -> Client {
    let mut c = Config::new(endpoint, AK, SK);
    c.ca_file = ca.map(Path::to_path_buf);
    c.connect_timeout = Duration::from_secs(5);
    Client::new(c).expect("client")
}

fn tls_kind(e: &Error) -> Option<RequestErrorKind> {
    match e {
        Error::Request(r) => Some(r.kind),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_private_ca_and_plain_http_beside_it() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = make_certs(&dir);
    let (cert_s, key_s) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let server = Server::start(
        &dir.join("data"),
        &["--tls-cert", &cert_s, "--tls-key", &key_s, "--also-listen", "http://127.0.0.1:0"],
    );
    assert!(server.logged("(any dialect) over http") || also_port(&server) > 0);
    let https = format!("https://127.0.0.1:{}", server.port);
    let plain = format!("http://127.0.0.1:{}", also_port(&server));

    // Trusted through the CA file: every kind of request works over TLS.
    let c = sdk(&https, Some(&ca));
    c.create_bucket("tls-bucket", None, None).await.expect("create over https");
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    c.put_object("tls-bucket", "k", Payload::Bytes(body.clone().into()), &PutOptions::default())
        .await
        .expect("put over https");
    let got = c.get_object("tls-bucket", "k", &GetOptions::default()).await.expect("get").bytes().await.expect("body");
    assert_eq!(got, body);
    // "localhost" is in the certificate too.
    let by_name = sdk(&format!("https://localhost:{}", server.port), Some(&ca));
    assert!(by_name.list_buckets("").await.expect("list by name").iter().any(|b| b.name == "tls-bucket"));

    // Not trusted: a TLS error, not sent, and not retried.
    let e = sdk(&https, None).list_buckets("").await.expect_err("an untrusted certificate");
    assert_eq!(tls_kind(&e), Some(RequestErrorKind::Tls), "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    assert_eq!(e.exit_code(), 3);
    // Failed handshakes and plain HTTP on the TLS port disturb nobody: a connection opened before them
    // and new ones keep working.
    let before = sdk(&https, Some(&ca));
    before.head_object("tls-bucket", "k").await.expect("head");
    for _ in 0..20 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf);
    }
    for _ in 0..5 {
        assert!(sdk(&https, None).list_buckets("").await.is_err());
    }
    assert_eq!(before.head_object("tls-bucket", "k").await.expect("head again").size, body.len() as u64);
    assert_eq!(c.head_object("tls-bucket", "k").await.expect("head again").size, body.len() as u64);

    // The plain listener serves the same store over HTTP.
    let p = sdk(&plain, None);
    assert_eq!(p.head_object("tls-bucket", "k").await.expect("head over http").size, body.len() as u64);

    // The CLI: --ca-file works, without it the request error is a TLS one (exit 3).
    let cli = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ossd"))
            .args(["ls", "oss://tls-bucket", "--endpoint", &https])
            .args(extra)
            .env("OSSD_ACCESS_KEY_ID", AK)
            .env("OSSD_ACCESS_KEY_SECRET", SK)
            .env_remove("OSSD_CA_FILE")
            .output()
            .expect("run ossd")
    };
    let ok = cli(&["--ca-file", &ca.to_string_lossy()]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("oss://tls-bucket/k"));
    let bad = cli(&[]);
    assert_eq!(bad.status.code(), Some(3), "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Tls"), "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(server.stop(), "the server stops cleanly");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_certificate_files_fail_start_up_with_a_clear_message() {
    let dir = temp_dir("tls-bad");
    let (_, cert, key) = make_certs(&dir);
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not pem\n").expect("junk");
    let missing = dir.join("missing.pem");
    let start = |cert: &Path, key: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ossd"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.join("data"))
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .output()
            .expect("run ossd")
    };
    for (c, k, says) in [
        (junk.as_path(), key.as_path(), "no PEM certificate"),
        (cert.as_path(), junk.as_path(), "no PEM private key"),
        (missing.as_path(), key.as_path(), "missing.pem"),
    ] {
        let out = start(c, k);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("cannot start") && err.contains(says), "{err}");
    }
    // A key that is not the certificate's.
    let other = temp_dir("tls-bad-other");
    let (_, _, other_key) = make_certs(&other);
    let out = start(&cert, &other_key);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot start"));
    // --tls-cert needs --tls-key.
    let out = Command::new(env!("CARGO_BIN_EXE_ossd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .output()
        .expect("run ossd");
    assert_eq!(out.status.code(), Some(2));
    for d in [dir, other] {
        let _ = std::fs::remove_dir_all(d);
    }
}
