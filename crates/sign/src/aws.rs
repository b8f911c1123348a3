//! AWS signatures as S3 uses them: SigV4 (header, presigned, and the chunk signatures of aws-chunked bodies),
//! and SigV2 (header and presigned; OBS signs the same way with its own prefix).

use crate::{encode, encode_path, hex_lower, hmac256};
use sha2::{Digest, Sha256};

/// The sub-resources S3's SigV2 signs.
pub const S3_V2_SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "object-lock",
    "retention",
    "legal-hold",
    "replication",
    "encryption",
    "accelerate",
    "inventory",
    "analytics",
    "metrics",
];

/// The sub-resources OBS's V2-style signatures sign (matched without regard to case).
pub const OBS_SUBRESOURCES: &[&str] = &[
    "acl",
    "backtosource",
    "policy",
    "torrent",
    "logging",
    "location",
    "storageinfo",
    "quota",
    "storageclass",
    "storagepolicy",
    "requestpayment",
    "versions",
    "versioning",
    "versionid",
    "uploads",
    "uploadid",
    "partnumber",
    "website",
    "notification",
    "dispolicy",
    "lifecycle",
    "deletebucket",
    "delete",
    "cors",
    "restore",
    "tagging",
    "replication",
    "metadata",
    "encryption",
    "publicaccessblock",
    "bucketstatus",
    "policystatus",
    "inventory",
    "object-lock",
    "retention",
    "append",
    "position",
    "truncate",
    "modify",
    "rename",
    "length",
    "name",
    "fileinterface",
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "x-image-process",
    "x-oss-process",
];

/// What a SigV4 signature covers. Header names are lowercase.
pub struct V4Parts<'a> {
    pub method: &'a str,
    /// The decoded path as addressed (`/bucket/key` path-style, `/key` virtual-hosted).
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
}

fn trim_all(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The SigV4 canonical request over `signed` headers; `payload` is x-amz-content-sha256 (or UNSIGNED-PAYLOAD).
pub fn v4_canonical_request(p: &V4Parts, signed: &[String], payload: &str, skip_signature: bool) -> String {
    let mut q: Vec<(String, String)> = p
        .query
        .iter()
        .filter(|(k, _)| !(skip_signature && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    q.sort();
    let query = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut headers = String::new();
    for name in signed {
        let values: Vec<String> = p.headers.iter().filter(|(k, _)| k == name).map(|(_, v)| trim_all(v)).collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!("{}\n{}\n{query}\n{headers}\n{}\n{payload}", p.method, encode_path(p.path), signed.join(";"))
}

pub fn v4_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac256(&k, region.as_bytes());
    let k = hmac256(&k, service.as_bytes());
    hmac256(&k, b"aws4_request")
}

pub fn v4_string_to_sign(datetime: &str, scope: &str, canonical: &str) -> String {
    format!("AWS4-HMAC-SHA256\n{datetime}\n{scope}\n{}", hex_lower(&Sha256::digest(canonical.as_bytes())))
}

/// A SigV4 signature and what it was computed from (the server reports the string to sign on a mismatch, and
/// aws-chunked bodies chain their chunk signatures from the key and scope).
pub struct V4Signed {
    pub signature: String,
    pub scope: String,
    pub string_to_sign: String,
    pub key: [u8; 32],
}

/// Signs a canonical request for the credential scope `date/region/service/aws4_request`.
pub fn v4_sign(secret: &str, date: &str, datetime: &str, region: &str, service: &str, canonical: &str) -> V4Signed {
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = v4_string_to_sign(datetime, &scope, canonical);
    let key = v4_signing_key(secret, date, region, service);
    let signature = hex_lower(&hmac256(&key, string_to_sign.as_bytes()));
    V4Signed { signature, scope, string_to_sign, key }
}

/// The signature of one aws-chunked chunk, chained from the previous signature.
pub fn v4_chunk_signature(key: &[u8; 32], datetime: &str, scope: &str, previous: &str, chunk: &[u8]) -> String {
    let empty = hex_lower(&Sha256::digest(b""));
    let sts = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{datetime}\n{scope}\n{previous}\n{empty}\n{}",
        hex_lower(&Sha256::digest(chunk))
    );
    hex_lower(&hmac256(key, sts.as_bytes()))
}

/// A V2-style string to sign (S3 SigV2 with `x-amz-`, OBS with `x-obs-`). `date` is Date (empty when the
/// prefixed date header is given), or Expires for a presigned URL.
/// `resource` is `/bucket/key` with the key as the request encoded it.
#[allow(clippy::too_many_arguments)]
pub fn v2_string_to_sign(
    method: &str,
    resource: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    date: &str,
    prefix: &str,
    subresources: &[&str],
) -> String {
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.trim()).unwrap_or("");
    let mut amz: Vec<(&str, String)> = Vec::new();
    for (k, v) in headers.iter().filter(|(k, _)| k.starts_with(prefix)) {
        match amz.iter_mut().find(|(n, _)| *n == k.as_str()) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(v.trim());
            }
            None => amz.push((k.as_str(), v.trim().to_string())),
        }
    }
    amz.sort();
    let mut s = format!("{method}\n{}\n{}\n{date}\n", get("content-md5"), get("content-type"));
    for (k, v) in amz {
        s.push_str(k);
        s.push(':');
        s.push_str(&v);
        s.push('\n');
    }
    s.push_str(resource);
    crate::append_subresources(&mut s, query, |k| {
        subresources.iter().any(|s| s.eq_ignore_ascii_case(k)) || k.to_ascii_lowercase().starts_with(prefix)
    });
    s
}

/// V2 signs as OSS V1 does (base64 of HMAC-SHA1 with the secret); one implementation serves both.
pub use crate::v1_sign as v2_sign;

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    // Computed with botocore 1.44.5's S3SigV4Auth and HmacV1Auth for fixed inputs.
    #[test]
    fn v4_matches_botocore() {
        let h = owned(&[
            ("host", "127.0.0.1:9000"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20240101T000000Z"),
        ]);
        let q = owned(&[("list-type", "2"), ("prefix", "a b")]);
        let p = V4Parts { method: "GET", path: "/bkt", query: &q, headers: &h };
        let signed: Vec<String> =
            ["host", "x-amz-content-sha256", "x-amz-date"].iter().map(|s| s.to_string()).collect();
        let canonical = v4_canonical_request(&p, &signed, EMPTY_SHA256, false);
        let sts = v4_string_to_sign("20240101T000000Z", "20240101/us-east-1/s3/aws4_request", &canonical);
        let key = v4_signing_key("SECRET", "20240101", "us-east-1", "s3");
        assert_eq!(hex_lower(&hmac256(&key, sts.as_bytes())), V4_VECTOR);
    }

    #[test]
    fn v2_matches_botocore() {
        let h =
            owned(&[("content-type", "text/plain"), ("date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("x-amz-meta-a", "1")]);
        let q = owned(&[("acl", "")]);
        let sts = v2_string_to_sign(
            "PUT",
            "/bkt/k%20y",
            &q,
            &h,
            "Mon, 01 Jan 2024 00:00:00 GMT",
            "x-amz-",
            S3_V2_SUBRESOURCES,
        );
        assert_eq!(sts, "PUT\n\ntext/plain\nMon, 01 Jan 2024 00:00:00 GMT\nx-amz-meta-a:1\n/bkt/k%20y?acl");
        assert_eq!(v2_sign("SECRET", &sts), V2_VECTOR);
    }

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const V4_VECTOR: &str = "75fd4eb42b07989ba451dbdd45c63dfc109cd506b5085991023a41ce664cdfe1";
    const V2_VECTOR: &str = "hjDTfXZwEHgzEv4G8BD5M3VPSwo=";
}
