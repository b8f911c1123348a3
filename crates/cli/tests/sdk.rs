//! The Rust SDK against a real ossd: every operation, with V1, V2 and V4 signing, and the server errors it meets,
//! each checked for its typed code, status class, request id (as the server logged it) and retry class.

mod common;
use bytes::Bytes;
use common::*;
use ossd_client::multipart::MultipartOptions;
use ossd_client::{
    Client, Config, Error, ErrorCode, GetOptions, ListEntry, Payload, PutOptions, SignVersion, StatusClass,
};
use ossd_errors::{Code, Retry};
use std::io::{Read, Write};
use std::time::Duration;

fn client(port: u16, sign: SignVersion) -> Client {
    let mut c = Config::new(&format!("http://127.0.0.1:{port}"), AK, SK);
    c.sign = sign;
    Client::new(c).expect("client")
}

/// Checks a server error: typed code, status class, request id in the server's log, and retry class.
fn expect(server: &Server, e: Error, code: Code, class: StatusClass, retry: Retry) {
    let s = e.server().unwrap_or_else(|| panic!("expected a server error, got {e}"));
    assert_eq!(s.code, ErrorCode::Known(code), "{e}");
    assert_eq!(s.status_class(), class, "{e}");
    assert_eq!(s.retry_class(), retry, "{e}");
    let id = s.request_id().expect("a request id");
    assert_eq!(id.len(), 24);
    std::thread::sleep(Duration::from_millis(20));
    assert!(server.logged(id), "request id {id} is not in the server log");
    assert_eq!(e.exit_code(), 4);
    let shown = e.to_string();
    assert!(shown.contains(code.def().code) && shown.contains(id), "{shown}");
}

fn raw_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_at(rest.find('/').expect("path"));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("write");
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("read");
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    let status = String::from_utf8_lossy(&all[9..12]).parse().expect("status");
    (status, all[split + 4..].to_vec())
}

async fn every_operation(server: &Server, sign: SignVersion) {
    let c = client(server.port, sign);
    let b = format!("sdk-{sign:?}").to_ascii_lowercase();
    c.create_bucket(&b, Some("private"), Some("IA")).await.unwrap();
    assert!(c.list_buckets("sdk-").await.unwrap().iter().any(|x| x.name == b));
    let info = c.bucket_info(&b).await.unwrap();
    assert_eq!((info.storage_class.as_str(), info.acl.as_deref()), ("IA", Some("private")));
    c.put_bucket_acl(&b, "public-read").await.unwrap();
    assert_eq!(c.get_bucket_acl(&b).await.unwrap(), "public-read");

    // Put from bytes, a file and a stream; get streamed, ranged and conditional; head.
    let opts = PutOptions {
        content_type: Some("text/plain".into()),
        meta: vec![("who".into(), "sdk".into())],
        ..Default::default()
    };
    let r = c.put_object(&b, "dir/a.txt", Payload::Bytes(Bytes::from_static(b"hello sdk")), &opts).await.unwrap();
    assert_eq!(r.crc64, Some(ossd_client::crc64(b"hello sdk")));
    let dir = temp_dir("sdk-file");
    let file = dir.join("f.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    c.put_file(&b, "dir/file.bin", &file, &PutOptions::default()).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        for part in [&b"str"[..], b"eam"] {
            let _ = tx.send(Ok(Bytes::from_static(part))).await;
        }
    });
    c.put_object(&b, "dir/stream", Payload::Stream(std::sync::Mutex::new(Some(rx))), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(c.get_object(&b, "dir/stream", &GetOptions::default()).await.unwrap().bytes().await.unwrap(), b"stream");
    assert_eq!(c.get_object(&b, "dir/file.bin", &GetOptions::default()).await.unwrap().bytes().await.unwrap(), data);
    let part = c
        .get_object(&b, "dir/file.bin", &GetOptions { range: Some((10, Some(19))), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes().await.unwrap(), &data[10..20]);
    let h = c.head_object(&b, "dir/a.txt").await.unwrap();
    assert_eq!(
        (h.size, h.object_type.as_str(), h.meta.clone()),
        (9, "Normal", vec![("who".to_string(), "sdk".to_string())])
    );
    let e = c
        .get_object(&b, "dir/a.txt", &GetOptions { if_none_match: Some(h.etag.clone()), ..Default::default() })
        .await
        .err()
        .unwrap();
    assert_eq!(e.server().unwrap().status_class(), StatusClass::NotModified);
    let e = c
        .get_object(&b, "dir/a.txt", &GetOptions { if_match: Some("\"0\"".into()), ..Default::default() })
        .await
        .err()
        .unwrap();
    expect(server, e, Code::PreconditionFailed, StatusClass::PreconditionFailed, Retry::Never);

    // Copy, tagging, symlink, append.
    c.copy_object(&b, "dir/a.txt", &b, "dir/copy.txt", &PutOptions::default()).await.unwrap();
    assert_eq!(
        c.get_object(&b, "dir/copy.txt", &GetOptions::default()).await.unwrap().bytes().await.unwrap(),
        b"hello sdk"
    );
    c.put_tagging(&b, "dir/a.txt", &[("k".into(), "v & w".into())]).await.unwrap();
    assert_eq!(c.get_tagging(&b, "dir/a.txt").await.unwrap(), vec![("k".to_string(), "v & w".to_string())]);
    c.delete_tagging(&b, "dir/a.txt").await.unwrap();
    assert!(c.get_tagging(&b, "dir/a.txt").await.unwrap().is_empty());
    c.put_symlink(&b, "link", "dir/a.txt").await.unwrap();
    assert_eq!(c.get_symlink(&b, "link").await.unwrap(), "dir/a.txt");
    let a1 = c.append_object(&b, "log", 0, Bytes::from_static(b"one,"), &PutOptions::default()).await.unwrap();
    let a2 =
        c.append_object(&b, "log", a1.next_position, Bytes::from_static(b"two"), &PutOptions::default()).await.unwrap();
    assert_eq!((a2.next_position, a2.crc64), (7, Some(ossd_client::crc64(b"one,two"))));
    let e = c.append_object(&b, "log", 1, Bytes::from_static(b"x"), &PutOptions::default()).await.unwrap_err();
    expect(server, e, Code::PositionNotEqualToLength, StatusClass::Conflict, Retry::Never);

    // Listing pages by itself.
    for i in 0..7 {
        c.put_object(&b, &format!("many/{i}"), Payload::Bytes(Bytes::from_static(b"x")), &PutOptions::default())
            .await
            .unwrap();
    }
    let mut l = c.list_objects(&b, "many/", "");
    l.page_size = 3;
    assert_eq!(l.collect().await.unwrap().len(), 7);
    let top = c.list_objects(&b, "", "/").collect().await.unwrap();
    assert!(top.contains(&ListEntry::Prefix("dir/".into())) && top.contains(&ListEntry::Prefix("many/".into())));

    // Presigned URLs, in this client's signature version.
    let url = c.presign(http::Method::GET, &b, "dir/a.txt", Duration::from_secs(60)).unwrap();
    assert_eq!(raw_get(&url), (200, b"hello sdk".to_vec()));

    // Multipart: parallel parts, CRC checked end to end.
    let big: Vec<u8> = (0..1_100_000u32).map(|i| (i % 253) as u8).collect();
    let bigf = dir.join("big.bin");
    std::fs::write(&bigf, &big).unwrap();
    let mo = MultipartOptions { part_size: 200 * 1024, parallel: 3, threshold: 100 * 1024, ..Default::default() };
    let r = c.upload_file(&b, "big", &bigf, &mo).await.unwrap();
    assert!(r.etag.ends_with("-6"), "{}", r.etag);
    assert_eq!(c.get_object(&b, "big", &GetOptions::default()).await.unwrap().bytes().await.unwrap(), big);

    // Errors.
    let e = c.get_object(&b, "missing", &GetOptions::default()).await.err().unwrap();
    expect(server, e, Code::NoSuchKey, StatusClass::NotFound, Retry::Never);
    let e = c.head_object(&b, "missing").await.unwrap_err();
    expect(server, e, Code::NoSuchKey, StatusClass::NotFound, Retry::Never);
    let e = c.bucket_info("sdk-none").await.unwrap_err();
    expect(server, e, Code::NoSuchBucket, StatusClass::NotFound, Retry::Never);
    let e = c.delete_bucket(&b).await.unwrap_err();
    expect(server, e, Code::BucketNotEmpty, StatusClass::Conflict, Retry::Never);
    let forbid = PutOptions { headers: vec![("x-oss-forbid-overwrite".into(), "true".into())], ..Default::default() };
    let e = c.put_object(&b, "dir/a.txt", Payload::Bytes(Bytes::from_static(b"x")), &forbid).await.unwrap_err();
    expect(server, e, Code::FileAlreadyExists, StatusClass::Conflict, Retry::Never);
    let e = c.abort_upload(&b, "k", "00000000000000000000000000000000").await.unwrap_err();
    expect(server, e, Code::NoSuchUpload, StatusClass::NotFound, Retry::Never);
    let wrong =
        Client::new(Config { sign, ..Config::new(&format!("http://127.0.0.1:{}", server.port), AK, "wrong-secret") })
            .unwrap();
    let e = wrong.head_object(&b, "dir/a.txt").await.unwrap_err();
    expect(server, e, Code::SignatureDoesNotMatch, StatusClass::Forbidden, Retry::Never);
    let stranger =
        Client::new(Config { sign, ..Config::new(&format!("http://127.0.0.1:{}", server.port), "NoSuchKeyId", SK) })
            .unwrap();
    let e = stranger.list_buckets("").await.unwrap_err();
    expect(server, e, Code::InvalidAccessKeyId, StatusClass::Forbidden, Retry::Never);

    // Batch delete empties the bucket.
    let keys: Vec<String> = c
        .list_objects(&b, "", "")
        .collect()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| if let ListEntry::Object(o) = e { Some(o.key) } else { None })
        .collect();
    let deleted = c.delete_objects(&b, &keys).await.unwrap();
    assert_eq!(deleted.len(), keys.len());
    c.delete_bucket(&b).await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_v1_v2_and_v4() {
    let data = temp_dir("sdk");
    let server = Server::start(&data, &["--fsync", "false"]);
    every_operation(&server, SignVersion::V1).await;
    every_operation(&server, SignVersion::V2).await;
    every_operation(&server, SignVersion::V4).await;
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_resumes_from_its_checkpoint() {
    let data = temp_dir("resume");
    let server = Server::start(&data, &["--fsync", "false"]);
    let c = client(server.port, SignVersion::V4);
    c.create_bucket("resume", None, None).await.unwrap();
    let dir = temp_dir("resume-file");
    let file = dir.join("f.bin");
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&file, &body).unwrap();
    let cp = dir.join("upload.checkpoint");
    let mo = MultipartOptions {
        part_size: 100 * 1024,
        parallel: 1,
        threshold: 0,
        checkpoint: Some(cp.clone()),
        ..Default::default()
    };
    // The first run stops when the server goes away.
    let port = server.port;
    let c2 = c.clone();
    let (f2, mo2) = (file.clone(), mo.clone());
    let run = tokio::spawn(async move { c2.upload_file("resume", "obj", &f2, &mo2).await });
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&cp).unwrap_or_default();
        if text.lines().filter(|l| l.starts_with("part ")).count() >= 3 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill9();
    assert!(run.await.unwrap().is_err(), "the upload cannot finish without its server");
    let saved = std::fs::read_to_string(&cp).expect("a checkpoint");
    let upload_id = saved.lines().find_map(|l| l.strip_prefix("upload_id ")).unwrap().to_string();
    let done_before = saved.lines().filter(|l| l.starts_with("part ")).count();
    assert!((3..10).contains(&done_before), "{done_before} parts before the stop");
    // The second run resumes the same upload and sends only the missing parts.
    let server = Server::start(&data, &["--fsync", "false", "--listen", &format!("127.0.0.1:{port}")]);
    let c = client(server.port, SignVersion::V4);
    c.upload_file("resume", "obj", &file, &mo).await.unwrap();
    assert_eq!(c.get_object("resume", "obj", &GetOptions::default()).await.unwrap().bytes().await.unwrap(), body);
    assert!(!cp.exists(), "the checkpoint is removed after success");
    std::thread::sleep(Duration::from_millis(50));
    let log = server.log.lock().unwrap().clone();
    let resent = log.lines().filter(|l| l.contains("PUT /resume/obj") && l.contains(" 200 ")).count();
    assert_eq!(resent, 10 - done_before, "only the missing parts were sent again (upload {upload_id})");
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_reachable_through_the_sdk() {
    let data = temp_dir("sdk-errors");
    let server = Server::start(&data, &["--fsync", "false"]);
    let c = client(server.port, SignVersion::V4);
    let b = "sdk-errs";
    c.create_bucket(b, None, None).await.unwrap();
    let put = |key: &'static str, body: &'static [u8], headers: Vec<(&str, &str)>| {
        let c = c.clone();
        let headers: Vec<(String, String)> = headers.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        async move {
            c.put_object(
                b,
                key,
                Payload::Bytes(Bytes::from_static(body)),
                &PutOptions { headers, ..Default::default() },
            )
            .await
        }
    };
    put("normal", b"abc", vec![]).await.unwrap();
    put("cold", b"abc", vec![("x-oss-storage-class", "Archive")]).await.unwrap();
    c.put_symlink(b, "dangling", "nothing-here").await.unwrap();
    c.put_symlink(b, "link", "normal").await.unwrap();
    c.put_symlink(b, "link2", "link").await.unwrap();
    let anon =
        Client::new(Config { credentials: None, ..Config::new(&format!("http://127.0.0.1:{}", server.port), AK, SK) })
            .unwrap();
    let g = GetOptions::default();

    let cases: Vec<(Error, Code, StatusClass)> = vec![
        (
            c.append_object(b, "normal", 3, Bytes::from_static(b"d"), &PutOptions::default()).await.unwrap_err(),
            Code::ObjectNotAppendable,
            StatusClass::Conflict,
        ),
        (c.get_object(b, "cold", &g).await.err().unwrap(), Code::InvalidObjectState, StatusClass::Forbidden),
        (c.get_object(b, "dangling", &g).await.err().unwrap(), Code::SymlinkTargetNotExist, StatusClass::NotFound),
        (c.get_object(b, "link2", &g).await.err().unwrap(), Code::InvalidTargetType, StatusClass::BadRequest),
        (c.get_symlink(b, "normal").await.unwrap_err(), Code::NotSymlink, StatusClass::BadRequest),
        (anon.get_object(b, "normal", &g).await.err().unwrap(), Code::AccessDenied, StatusClass::Forbidden),
        (anon.list_buckets("").await.unwrap_err(), Code::AccessDenied, StatusClass::Forbidden),
        (
            put("k", b"v", vec![("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")]).await.unwrap_err(),
            Code::InvalidDigestMismatch,
            StatusClass::BadRequest,
        ),
        (
            put("k", b"v", vec![("x-oss-server-side-encryption", "X")]).await.unwrap_err(),
            Code::InvalidEncryptionAlgorithmError,
            StatusClass::BadRequest,
        ),
        (
            put("k", b"v", vec![("x-oss-server-side-encryption", "KMS")]).await.unwrap_err(),
            Code::KmsServiceNotEnabled,
            StatusClass::Forbidden,
        ),
        (
            put("k", b"v", vec![("if-modified-since", "Thu, 11 Aug 2016 01:43:51 GMT")]).await.unwrap_err(),
            Code::NotImplemented,
            StatusClass::BadRequest,
        ),
        (
            put("k", b"v", vec![("x-oss-object-acl", "everyone")]).await.unwrap_err(),
            Code::InvalidObjectAcl,
            StatusClass::BadRequest,
        ),
        (
            c.copy_object(b, "missing", b, "x", &PutOptions::default()).await.unwrap_err(),
            Code::NoSuchKey,
            StatusClass::NotFound,
        ),
        (
            c.create_bucket("sdk-errs-2", Some("everyone"), None).await.unwrap_err(),
            Code::InvalidBucketAcl,
            StatusClass::BadRequest,
        ),
        (c.delete_bucket("sdk-none-here").await.unwrap_err(), Code::NoSuchBucket, StatusClass::NotFound),
        (c.get_tagging(b, "missing").await.unwrap_err(), Code::NoSuchKey, StatusClass::NotFound),
    ];
    for (e, code, class) in cases {
        expect(&server, e, code, class, Retry::Never);
    }
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}

/// The same SDK against ossd's S3, COS and OBS dialects: one Client type, each vendor's signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_in_the_other_dialects() {
    let data = temp_dir("sdk-dialects");
    let server = Server::start(&data, &["--fsync", "false"]);
    for (sign, name) in
        [(SignVersion::S3V4, "sdk-s3"), (SignVersion::Cos, "sdk-cos-1250000000"), (SignVersion::Obs, "sdk-obs")]
    {
        let c = client(server.port, sign);
        c.create_bucket(name, None, None).await.unwrap_or_else(|e| panic!("{sign:?}: {e}"));
        assert!(c.list_buckets("sdk-").await.unwrap().iter().any(|b| b.name == name), "{sign:?}");
        let opts = PutOptions { meta: vec![("who".into(), "sdk".into())], ..Default::default() };
        let r = c
            .put_object(name, "dir/a b.txt", Payload::Bytes(Bytes::from_static(b"dialect body")), &opts)
            .await
            .unwrap();
        assert_eq!(r.crc64, Some(ossd_client::crc64(b"dialect body")), "{sign:?}");
        let h = c.head_object(name, "dir/a b.txt").await.unwrap();
        assert_eq!((h.size, h.meta.clone()), (12, vec![("who".to_string(), "sdk".to_string())]), "{sign:?}");
        let part = c
            .get_object(name, "dir/a b.txt", &GetOptions { range: Some((0, Some(6))), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(part.bytes().await.unwrap(), b"dialect", "{sign:?}");
        c.copy_object(name, "dir/a b.txt", name, "copy", &PutOptions::default()).await.unwrap();
        c.put_tagging(name, "copy", &[("t".into(), "1".into())]).await.unwrap();
        assert_eq!(c.get_tagging(name, "copy").await.unwrap().len(), 1, "{sign:?}");
        let listed = c.list_objects(name, "", "/").collect().await.unwrap();
        assert!(listed.contains(&ListEntry::Prefix("dir/".into())), "{sign:?}: {listed:?}");
        let dir = temp_dir("sdk-dialect-file");
        let file = dir.join("big.bin");
        let big: Vec<u8> = (0..450_000u32).map(|i| (i % 249) as u8).collect();
        std::fs::write(&file, &big).unwrap();
        let mo = MultipartOptions { part_size: 150 * 1024, parallel: 2, threshold: 100 * 1024, ..Default::default() };
        c.upload_file(name, "big", &file, &mo).await.unwrap();
        assert_eq!(
            c.get_object(name, "big", &GetOptions::default()).await.unwrap().bytes().await.unwrap(),
            big,
            "{sign:?}"
        );
        let e = c.get_object(name, "missing", &GetOptions::default()).await.err().unwrap();
        expect(&server, e, Code::NoSuchKey, StatusClass::NotFound, Retry::Never);
        let e = c.delete_bucket(name).await.unwrap_err();
        expect(&server, e, Code::BucketNotEmpty, StatusClass::Conflict, Retry::Never);
        if sign == SignVersion::S3V4 {
            let url = c.presign(http::Method::GET, name, "copy", Duration::from_secs(60)).unwrap();
            assert_eq!(raw_get(&url), (200, b"dialect body".to_vec()));
        }
        let keys = vec!["dir/a b.txt".to_string(), "copy".to_string(), "big".to_string()];
        assert_eq!(c.delete_objects(name, &keys).await.unwrap().len(), 3, "{sign:?}");
        c.delete_bucket(name).await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}
