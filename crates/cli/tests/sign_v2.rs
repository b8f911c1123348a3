//! OSS signature V2 and OSS's own host names against a real ossd: the SDK's V2 requests and presigned URLs,
//! the errors of a wrong secret, an expired URL and a malformed header, and requests whose Host is
//! `<bucket>.oss-<region>.aliyuncs.com` (signed V1, V2 and V4) sent to 127.0.0.1.

mod common;
use bytes::Bytes;
use common::*;
use ossd_client::{Client, Config, ErrorCode, GetOptions, Payload, PutOptions, SignVersion};
use ossd_errors::Code;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

fn client(port: u16, secret: &str) -> Client {
    let mut c = Config::new(&format!("http://127.0.0.1:{port}"), AK, secret);
    c.sign = SignVersion::V2;
    Client::new(c).expect("client")
}

/// Sends one request with exactly these head lines (and no body), and reads the answer.
fn send(port: u16, method: &str, target: &str, headers: &[(&str, String)]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    read_response(&mut s).expect("response")
}

fn ec(r: &Resp) -> &str {
    r.header("x-oss-ec").unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_v2_round_trips_presigns_and_errors() {
    let data = temp_dir("sign-v2");
    let server = Server::start(&data, &["--fsync", "false"]);
    let c = client(server.port, SK);
    let b = "v2-sdk";
    c.create_bucket(b, None, None).await.unwrap();
    let key = "dir/a b+c~é.txt";
    let opts = PutOptions { meta: vec![("who".into(), "v2".into())], ..Default::default() };
    c.put_object(b, key, Payload::Bytes(Bytes::from_static(b"signed with OSS2")), &opts).await.unwrap();
    let got = c
        .get_object(b, key, &GetOptions { range: Some((0, Some(5))), ..Default::default() })
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got, b"signed");
    assert_eq!(c.head_object(b, key).await.unwrap().meta, vec![("who".to_string(), "v2".to_string())]);

    // A presigned V2 URL works without any header, and carries OSS2's parameters.
    let url = c.presign(http::Method::GET, b, key, Duration::from_secs(60)).unwrap();
    assert!(url.contains("x-oss-signature-version=OSS2") && url.contains("x-oss-access-key-id="), "{url}");
    let target = &url[url.find("/v2-sdk/").expect("path-style url")..];
    let r = send(server.port, "GET", target, &[("Host", "127.0.0.1".into())]);
    assert_eq!((r.status, r.body.as_slice()), (200, b"signed with OSS2".as_slice()), "{}", r.text());
    // The same URL with one parameter changed no longer matches.
    let r = send(server.port, "GET", &target.replace("x-oss-expires=", "x-oss-expires=1"), &[("Host", "h".into())]);
    assert_eq!((r.status, ec(&r)), (403, "0002-00000040"), "{}", r.text());

    // Wrong secret: SignatureDoesNotMatch with the server's string to sign, V2's (HMAC-SHA256 over every
    // query parameter, the resource URI-encoded whole).
    let e = client(server.port, "not-the-secret").get_object(b, key, &GetOptions::default()).await.err().unwrap();
    let s = e.server().expect("a server error");
    assert_eq!((s.status, s.code.clone()), (403, ErrorCode::Known(Code::SignatureDoesNotMatch)), "{e}");
    assert_eq!(s.ec.as_deref(), Some("0002-00000040"));
    let sts = s.extra.get("StringToSign").expect("StringToSign in the body");
    assert!(sts.starts_with("GET\n") && sts.ends_with("%2Fv2-sdk%2Fdir%2Fa%20b%2Bc~%C3%A9.txt"), "{sts:?}");

    // An expired V2 URL: AccessDenied, EC 0002-00000069, with the expiry and the server's time.
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let exp = (now - 10).to_string();
    let q = vec![
        ("x-oss-signature-version".to_string(), "OSS2".to_string()),
        ("x-oss-expires".to_string(), exp.clone()),
        ("x-oss-access-key-id".to_string(), AK.to_string()),
    ];
    let p = ossd_sign::Parts { method: "GET", bucket: Some(b), key: Some("x"), query: &q, headers: &[] };
    let sig = ossd_sign::v2_sign(SK, &ossd_sign::v2_string_to_sign(&p, &exp, &[], true));
    let target = format!(
        "/{b}/x?x-oss-signature-version=OSS2&x-oss-expires={exp}&x-oss-access-key-id={AK}&x-oss-signature={}",
        ossd_sign::encode(&sig)
    );
    let r = send(server.port, "GET", &target, &[("Host", "127.0.0.1".into())]);
    assert_eq!((r.status, ec(&r)), (403, "0002-00000069"), "{}", r.text());
    assert!(r.text().contains("<Code>AccessDenied</Code>") && r.text().contains("<Expires>"), "{}", r.text());

    // A V2 URL missing its signature, and a header with an unknown key: OSS's ECs for each.
    let r = send(
        server.port,
        "GET",
        &format!("/{b}/x?x-oss-signature-version=OSS2&x-oss-expires=9999999999&x-oss-access-key-id={AK}"),
        &[],
    );
    assert_eq!((r.status, ec(&r)), (403, "0002-00000117"), "{}", r.text());
    let r = send(
        server.port,
        "GET",
        &format!("/{b}/x"),
        &[("Date", http_date()), ("Authorization", format!("OSS2 AccessKeyId:{AK},Signature:abc,UnknownKey:ABC"))],
    );
    assert_eq!((r.status, ec(&r)), (400, "0002-00000104"), "{}", r.text());

    c.delete_object(b, key).await.unwrap();
    c.delete_bucket(b).await.unwrap();
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}

/// The V1 Authorization for `resource` with the given Date (no x-oss-* headers, no sub-resources).
fn v1(method: &str, date: &str, resource: &str) -> String {
    v1_auth(method, "", date, resource)
}

fn v2(method: &str, date: &str, bucket: Option<&str>, key: Option<&str>) -> String {
    let h = vec![("date".to_string(), date.to_string())];
    let p = ossd_sign::Parts { method, bucket, key, query: &[], headers: &h };
    format!(
        "OSS2 AccessKeyId:{AK},Signature:{}",
        ossd_sign::v2_sign(SK, &ossd_sign::v2_string_to_sign(&p, date, &[], false))
    )
}

/// V4 headers for a request to `bucket`/`key` (no query), as an SDK sends them.
fn v4(method: &str, bucket: &str, key: &str) -> Vec<(&'static str, String)> {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = now.div_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = now.rem_euclid(86_400);
    let stamp = format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", s / 3600, s % 3600 / 60, s % 60);
    let h = vec![
        ("x-oss-date".to_string(), stamp.clone()),
        ("x-oss-content-sha256".to_string(), "UNSIGNED-PAYLOAD".to_string()),
    ];
    let p = ossd_sign::Parts { method, bucket: Some(bucket), key: Some(key), query: &[], headers: &h };
    let canonical = ossd_sign::v4_canonical_request(&p, &[], false);
    let (sig, _) = ossd_sign::v4_sign(SK, &stamp[..8], &stamp, "cn-hangzhou", "oss", &canonical);
    vec![
        ("x-oss-date", stamp.clone()),
        ("x-oss-content-sha256", "UNSIGNED-PAYLOAD".into()),
        (
            "Authorization",
            format!(
                "OSS4-HMAC-SHA256 Credential={AK}/{}/cn-hangzhou/oss/aliyun_v4_request,Signature={sig}",
                &stamp[..8]
            ),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn osss_own_host_names_address_the_bucket() {
    let data = temp_dir("oss-hosts");
    let server = Server::start(&data, &["--fsync", "false"]);
    let c = client(server.port, SK);
    c.create_bucket("hostbkt", None, None).await.unwrap();
    c.put_object("hostbkt", "k/1", Payload::Bytes(Bytes::from_static(b"by host")), &PutOptions::default())
        .await
        .unwrap();
    let port = server.port;
    for host in [
        "hostbkt.oss-cn-hangzhou.aliyuncs.com",
        "hostbkt.oss-cn-hangzhou-internal.aliyuncs.com",
        "hostbkt.oss-accelerate.aliyuncs.com",
        "hostbkt.oss-accelerate-overseas.aliyuncs.com:443",
    ] {
        let date = http_date();
        let r = send(
            port,
            "GET",
            "/k/1",
            &[("Host", host.into()), ("Date", date.clone()), ("Authorization", v1("GET", &date, "/hostbkt/k/1"))],
        );
        assert_eq!((r.status, r.body.as_slice()), (200, b"by host".as_slice()), "V1 {host}: {}", r.text());
        let r = send(
            port,
            "GET",
            "/k/1",
            &[
                ("Host", host.into()),
                ("Date", date.clone()),
                ("Authorization", v2("GET", &date, Some("hostbkt"), Some("k/1"))),
            ],
        );
        assert_eq!((r.status, r.body.as_slice()), (200, b"by host".as_slice()), "V2 {host}: {}", r.text());
        let mut h = v4("GET", "hostbkt", "k/1");
        h.push(("Host", host.into()));
        let r = send(port, "GET", "/k/1", &h);
        assert_eq!((r.status, r.body.as_slice()), (200, b"by host".as_slice()), "V4 {host}: {}", r.text());
    }
    // A bucket-listing request: the Host names the bucket, the path is /.
    let date = http_date();
    let r = send(
        port,
        "GET",
        "/",
        &[
            ("Host", "hostbkt.oss-cn-hangzhou.aliyuncs.com".into()),
            ("Date", date.clone()),
            ("Authorization", v1("GET", &date, "/hostbkt/")),
        ],
    );
    assert!(r.status == 200 && r.text().contains("<Key>k/1</Key>"), "{}", r.text());
    // The bare endpoint is the service: ListBuckets.
    let r = send(
        port,
        "GET",
        "/",
        &[
            ("Host", "oss-cn-hangzhou.aliyuncs.com".into()),
            ("Date", date.clone()),
            ("Authorization", v1("GET", &date, "/")),
        ],
    );
    assert!(r.status == 200 && r.text().contains("<Name>hostbkt</Name>"), "{}", r.text());
    let r = send(
        port,
        "GET",
        "/",
        &[
            ("Host", "oss-cn-hangzhou-internal.aliyuncs.com".into()),
            ("Date", date.clone()),
            ("Authorization", v2("GET", &date, None, None)),
        ],
    );
    assert!(r.status == 200 && r.text().contains("<Name>hostbkt</Name>"), "{}", r.text());
    // A signature for hostbkt sent with another bucket's Host does not match: the Host names the bucket.
    let r = send(
        port,
        "GET",
        "/k/1",
        &[
            ("Host", "otherbkt.oss-cn-hangzhou.aliyuncs.com".into()),
            ("Date", date.clone()),
            ("Authorization", v1("GET", &date, "/hostbkt/k/1")),
        ],
    );
    assert_eq!((r.status, ec(&r)), (403, "0002-00000040"), "{}", r.text());
    let mut h = v4("GET", "hostbkt", "k/1");
    h.push(("Host", "otherbkt.oss-cn-hangzhou.aliyuncs.com".into()));
    assert_eq!(send(port, "GET", "/k/1", &h).status, 403);
    // Signed for the bucket the Host names, which does not exist: NoSuchBucket.
    let r = send(
        port,
        "GET",
        "/k/1",
        &[
            ("Host", "otherbkt.oss-cn-hangzhou.aliyuncs.com".into()),
            ("Date", date.clone()),
            ("Authorization", v1("GET", &date, "/otherbkt/k/1")),
        ],
    );
    assert!(r.status == 404 && r.text().contains("<Code>NoSuchBucket</Code>"), "{}", r.text());
    c.delete_object("hostbkt", "k/1").await.unwrap();
    c.delete_bucket("hostbkt").await.unwrap();
    assert!(server.stop());
    let _ = std::fs::remove_dir_all(&data);
}
