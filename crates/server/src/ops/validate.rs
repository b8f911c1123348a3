//! Validation written once for every path that sets object attributes (headers, POST form fields, copy):
//! ACLs, storage classes, server-side encryption, tags, user metadata, Content-MD5, traffic limits.

use crate::http::req::Req;
use crate::http::util::{self};
use base64::Engine as _;
use ossd_engine::model::{BucketRecord, ObjectAttrs};
use ossd_errors::{Code, Error, Result};

/// The canned ACLs of a bucket.
pub const ACLS: &[&str] = &["private", "public-read", "public-read-write"];
/// The canned ACLs of an object: the bucket's, or `default` (inherit the bucket's).
pub const OBJECT_ACLS: &[&str] = &["default", "private", "public-read", "public-read-write"];
/// The storage classes, in the engine's (OSS's) names.
pub const STORAGE_CLASSES: &[&str] = &["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"];
/// The standard headers an object stores and answers with.
pub const STANDARD_HEADERS: &[&str] =
    &["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/// Headers that imply functionality a write does not have.
pub fn reject_unsupported_write_headers(r: &Req) -> Result<()> {
    for h in ["if-modified-since", "if-unmodified-since", "if-match", "if-none-match"] {
        if r.headers.contains_key(h) {
            let name = match h {
                "if-modified-since" => "If-Modified-Since",
                "if-unmodified-since" => "If-Unmodified-Since",
                "if-match" => "If-Match",
                _ => "If-None-Match",
            };
            return Err(Error::new(Code::NotImplemented).ctx("Header", name));
        }
    }
    Ok(())
}

/// An object's canned ACL (`x-oss-object-acl`, as a header or a form field).
pub fn object_acl(v: &str) -> Result<String> {
    if !OBJECT_ACLS.contains(&v) {
        return Err(Error::argument(Code::InvalidObjectAcl, "x-oss-object-acl", v));
    }
    Ok(v.to_string())
}

/// A bucket's canned ACL (`x-oss-acl`).
pub fn bucket_acl(v: &str) -> Result<String> {
    if !ACLS.contains(&v) {
        return Err(Error::argument(Code::InvalidBucketAcl, "x-oss-acl", v));
    }
    Ok(v.to_string())
}

/// A storage class, given as `name` (a header, a form field or an XML element); `code` is the operation's row
/// (OSS has one EC for object writes and another for PutBucket and CopyObject).
pub fn storage_class(code: Code, name: &str, v: &str) -> Result<String> {
    if !STORAGE_CLASSES.contains(&v) {
        return Err(Error::argument(code, name, v));
    }
    Ok(v.to_string())
}

/// The attributes an object write sets, read through `field` by their OSS names (the request's headers, or a
/// POST form's fields): content type, standard headers, user metadata (given), ACL, storage class and
/// server-side encryption.
pub fn object_attrs<'a>(
    field: &dyn Fn(&str) -> Option<&'a str>,
    content_type: &str,
    user_meta: Vec<(String, String)>,
    b: &BucketRecord,
) -> Result<ObjectAttrs> {
    let mut a = ObjectAttrs {
        content_type: content_type.to_string(),
        acl: "default".into(),
        storage_class: b.storage_class.clone(),
        user_meta,
        ..Default::default()
    };
    for h in STANDARD_HEADERS {
        if let Some(v) = field(h) {
            a.headers.push((h.to_string(), v.to_string()));
        }
    }
    check_user_meta(&a.user_meta)?;
    if let Some(acl) = field("x-oss-object-acl") {
        a.acl = object_acl(acl)?;
    }
    if let Some(c) = field("x-oss-storage-class") {
        a.storage_class = storage_class(Code::InvalidStorageClass, "x-oss-storage-class", c)?;
    }
    a.sse = sse(field("x-oss-server-side-encryption"))?;
    Ok(a)
}

/// The server-side encryption a write asks for: AES256 (keys managed by ossd) or none.
/// KMS needs a key management service, which ossd does not have; SM4 is not offered.
pub fn sse(v: Option<&str>) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some("AES256") => Ok(Some("AES256".into())),
        Some("KMS") => Err(Error::new(Code::KmsServiceNotEnabled).ctx("Header", "x-oss-server-side-encryption")),
        Some("SM4") => Err(Error::new(Code::NotImplemented)
            .msg("SM4 server-side encryption is not available in ossd; use AES256.")
            .ctx("Header", "x-oss-server-side-encryption")),
        Some(v) => Err(Error::new(Code::InvalidEncryptionAlgorithmError).ctx("ArgumentValue", v)),
    }
}

/// `x-oss-traffic-limit`, in bit/s (819200 to 838860800), as bytes per second.
pub fn traffic_limit(r: &Req) -> Result<Option<u64>> {
    let Some(v) = r.h("x-oss-traffic-limit").or(r.q("x-oss-traffic-limit")) else { return Ok(None) };
    match v.trim().parse::<u64>() {
        Ok(bits) if (819_200..=838_860_800).contains(&bits) => Ok(Some(bits / 8)),
        _ => Err(Error::invalid_argument(
            "x-oss-traffic-limit",
            v,
            "The traffic limit must be between 819200 and 838860800 bit/s.",
        )),
    }
}

/// InvalidDigest when `content_md5` is not base64 of 16 bytes; the mismatch row (S3: BadDigest) when it is
/// another body's MD5.
pub fn check_md5(content_md5: &str, md5: &[u8]) -> Result<()> {
    match base64::engine::general_purpose::STANDARD.decode(content_md5.trim()) {
        Ok(d) if d == md5 => Ok(()),
        Ok(d) if d.len() == 16 => Err(Error::new(Code::InvalidDigestMismatch).ctx("Content-MD5", content_md5)),
        _ => Err(Error::new(Code::InvalidDigest).ctx("Content-MD5", content_md5)),
    }
}

/// The `x-oss-tagging` header: `key` or `key=value` items joined by `&`, each URL-encoded (OSS EC 0010-00000219
/// for any other form), then the tag limits.
pub fn parse_tagging_header(v: &str) -> Result<Vec<(String, String)>> {
    if let Some(item) = v.split('&').find(|item| item.matches('=').count() > 1) {
        let shown: String = item.chars().take(256).collect();
        return Err(Error::new(Code::InvalidTaggingHeader)
            .ctx("ArgumentName", "x-oss-tagging")
            .ctx("ArgumentValue", shown));
    }
    let tags = util::parse_query(v);
    check_tags(&tags)?;
    Ok(tags)
}

pub fn check_tags(tags: &[(String, String)]) -> Result<()> {
    let bad = |value: &str, msg: &'static str| {
        Error::new(Code::InvalidTag).msg(msg).ctx("ArgumentName", "Tagging").ctx("ArgumentValue", value)
    };
    if tags.len() > 10 {
        return Err(bad(&tags.len().to_string(), "Object tags cannot be greater than 10."));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            let shown: String = k.chars().take(128).collect();
            return Err(bad(&shown, "The tag key must be 1 to 128 characters and the value at most 256."));
        }
        if tags[..i].iter().any(|(seen, _)| seen == k) {
            return Err(bad(k, "Cannot provide multiple Tags with the same key."));
        }
    }
    Ok(())
}

/// The most user metadata an object may carry: x-oss-meta-* names and values together (OSS EC 0011-00000002).
pub const MAX_USER_META: usize = 8 * 1024;

/// User metadata (names without the `x-oss-meta-` prefix, and values) within [`MAX_USER_META`].
pub fn check_user_meta(meta: &[(String, String)]) -> Result<()> {
    let total: usize = meta.iter().map(|(k, v)| "x-oss-meta-".len() + k.len() + v.len()).sum();
    if total > MAX_USER_META {
        return Err(Error::new(Code::UserMetaTooLarge)
            .ctx("MaxSizeAllowed", MAX_USER_META.to_string())
            .ctx("ProposedSize", total.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_meta_limit() {
        let meta = |n: usize| vec![("a".to_string(), "m".repeat(n))];
        assert!(check_user_meta(&meta(MAX_USER_META - "x-oss-meta-a".len())).is_ok());
        assert_eq!(check_user_meta(&meta(MAX_USER_META)).unwrap_err().code, Code::UserMetaTooLarge);
    }

    #[test]
    fn tagging_limits() {
        assert_eq!(parse_tagging_header("a=1&b&c=x%20y").unwrap().len(), 3);
        assert_eq!(parse_tagging_header("aa=bb=cc").unwrap_err().code, Code::InvalidTaggingHeader);
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_tagging_header(&eleven.join("&")).unwrap_err().code, Code::InvalidTag);
        assert!(parse_tagging_header(&eleven[..10].join("&")).is_ok());
        assert_eq!(parse_tagging_header("a=1&a=2").unwrap_err().code, Code::InvalidTag);
        assert_eq!(parse_tagging_header(&format!("{}=v", "k".repeat(129))).unwrap_err().code, Code::InvalidTag);
        assert_eq!(parse_tagging_header(&format!("k={}", "v".repeat(257))).unwrap_err().code, Code::InvalidTag);
        // Lengths are in characters: 128 three-byte characters are a valid key.
        assert!(parse_tagging_header(&format!("{}=v", util::encode(&"語".repeat(128)))).is_ok());
        assert_eq!(parse_tagging_header("=v").unwrap_err().code, Code::InvalidTag);
    }
}
