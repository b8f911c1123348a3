//! The vendor dialects, one folder each (oss, s3, cos, obs): signature checks and error envelopes. Here:
//! choosing a request's dialect, running its authenticator, rendering an error in its envelope, and the
//! vocabulary (header prefixes, storage-class names, ETag form) in which the operations' answers are written.

pub mod cos;
pub mod envelope;
pub mod obs;
pub mod oss;
pub mod s3;
pub mod sign;
pub mod vocab;

use crate::http::body::Body;
use crate::http::req::Req;
use crate::State;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use ossd_engine::model::UserRecord;
use ossd_errors::{Dialect, Error, Result};
use std::sync::Arc;

/// Checks the request's signature in its dialect: Ok(None) for an anonymous request. An S3 signature also
/// says what to expect of the body (aws-chunked, a whole-body SHA-256), which is kept on the request.
pub async fn authenticate(state: &Arc<State>, r: &mut Req) -> Result<Option<UserRecord>> {
    match r.dialect {
        Dialect::Oss => oss::authenticate(state, r).await,
        Dialect::Cos => cos::authenticate(state, r).await,
        Dialect::Obs => obs::authenticate(state, r).await,
        Dialect::S3 => {
            let authed = s3::authenticate(state, r).await?;
            Ok(authed.map(|(u, body)| {
                r.s3 = Some(body);
                u
            }))
        }
    }
}

/// An error response in the request's dialect (a HEAD's carries no body).
pub fn error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    if let Some((_, detail)) = e.context.iter().find(|(n, _)| *n == "Detail") {
        tracing::error!(request_id = %r.id, "{}: {detail}", e.def().code);
    }
    match r.dialect {
        Dialect::Oss => oss::error_response(e, r, is_head),
        Dialect::S3 => s3::error_response(e, r, is_head),
        Dialect::Cos => cos::error_response(e, r, is_head),
        Dialect::Obs => obs::error_response(e, r, is_head),
    }
}

/// Decides the dialect from the request's own signals: signature scheme, presign parameters, header
/// prefixes and the Host; anonymous requests without any get the listener's default.
pub fn detect(state: &State, h: &HeaderMap, query: &[(String, String)], host: &str) -> Dialect {
    if let Some(a) = h.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if a.starts_with("OSS ") || a.starts_with("OSS2 ") || a.starts_with("OSS4-HMAC-SHA256") {
            return Dialect::Oss;
        }
        if a.starts_with("AWS4-HMAC-SHA256") || a.starts_with("AWS ") {
            return Dialect::S3;
        }
        if a.starts_with("q-sign-algorithm=") {
            return Dialect::Cos;
        }
        if a.starts_with("OBS ") {
            return Dialect::Obs;
        }
    }
    let has_q = |k: &str| query.iter().any(|(n, _)| n == k);
    if has_q("OSSAccessKeyId") || has_q("x-oss-signature-version") {
        return Dialect::Oss;
    }
    if has_q("X-Amz-Algorithm") || has_q("AWSAccessKeyId") {
        return Dialect::S3;
    }
    if has_q("q-sign-algorithm") {
        return Dialect::Cos;
    }
    if has_q("apiversion") || (has_q("AccessKeyId") && has_q("Signature")) {
        return Dialect::Obs;
    }
    for (prefix, d) in
        [("x-oss-", Dialect::Oss), ("x-amz-", Dialect::S3), ("x-cos-", Dialect::Cos), ("x-obs-", Dialect::Obs)]
    {
        if h.keys().any(|k| k.as_str().starts_with(prefix)) {
            return d;
        }
    }
    let host = host.to_ascii_lowercase();
    if host.contains(".myqcloud.com") {
        return Dialect::Cos;
    }
    if crate::http::req::is_oss_host(&host) {
        return Dialect::Oss;
    }
    state.default_dialect
}

/// A dialect's storage-class name in the engine's vocabulary.
fn class_in(v: &str) -> &str {
    match v {
        "STANDARD" | "REDUCED_REDUNDANCY" | "MAZ_STANDARD" => "Standard",
        "STANDARD_IA" | "ONEZONE_IA" | "INTELLIGENT_TIERING" | "WARM" | "MAZ_STANDARD_IA" => "IA",
        "GLACIER" | "GLACIER_IR" | "ARCHIVE" | "COLD" => "Archive",
        "DEEP_ARCHIVE" => "ColdArchive",
        other => other,
    }
}

fn s3_acl_in(v: &str) -> &str {
    match v {
        "private" | "public-read" | "public-read-write" => v,
        // Grants to authenticated users or bucket owners give anonymous users nothing: the nearest is private.
        "authenticated-read" | "bucket-owner-read" | "bucket-owner-full-control" | "aws-exec-read" => "private",
        other => other,
    }
}

/// Request decoding: a dialect's headers in the operations' vocabulary (`x-oss-…` names, the engine's ACL and
/// storage-class values). Answers go the other way through [`vocab::Vocab`], written directly.
pub fn normalize(d: Dialect, h: &HeaderMap, object_level: bool) -> HeaderMap {
    if d == Dialect::Oss {
        return h.clone();
    }
    let prefix = d.prefix();
    let mut out = HeaderMap::with_capacity(h.len());
    for (k, v) in h {
        let name = k.as_str();
        let Some(rest) = name.strip_prefix(prefix) else {
            out.append(k.clone(), v.clone());
            continue;
        };
        let value = v.to_str().unwrap_or("");
        let (new_name, new_value): (String, String) = match rest {
            "acl" if object_level => ("x-oss-object-acl".into(), s3_acl_in(value).into()),
            "acl" => ("x-oss-acl".into(), s3_acl_in(value).into()),
            "storage-class" => ("x-oss-storage-class".into(), class_in(value).into()),
            "tagging-directive" => {
                let v = if value.eq_ignore_ascii_case("replace") { "Replace" } else { "Copy" };
                ("x-oss-tagging-directive".into(), v.into())
            }
            "server-side-encryption" if value == "aws:kms" => ("x-oss-server-side-encryption".into(), "KMS".into()),
            _ => (format!("x-oss-{rest}"), value.into()),
        };
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(new_name.as_bytes()), HeaderValue::from_str(&new_value)) {
            out.append(n, v);
        }
    }
    out
}

/// Stamps an answer with the dialect's request-id headers (OSS also writes `x-oss-server-time`).
pub fn stamp(d: Dialect, h: &mut HeaderMap, request_id: &str) {
    let Ok(id) = HeaderValue::from_str(request_id) else { return };
    let (id1, id2) = vocab::Vocab(d).id_headers();
    h.insert(id1, id.clone());
    h.insert(id2, id);
    if d == Dialect::Oss {
        h.insert("x-oss-server-time", HeaderValue::from_static("0"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_headers_in() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-acl", HeaderValue::from_static("authenticated-read"));
        h.insert("x-amz-storage-class", HeaderValue::from_static("GLACIER"));
        h.insert("x-amz-meta-who", HeaderValue::from_static("me"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        let n = normalize(Dialect::S3, &h, true);
        assert_eq!(n.get("x-oss-object-acl").unwrap(), "private");
        assert_eq!(n.get("x-oss-storage-class").unwrap(), "Archive");
        assert_eq!(n.get("x-oss-meta-who").unwrap(), "me");
        assert_eq!(n.get("content-type").unwrap(), "text/plain");
        assert!(n.get("x-amz-meta-who").is_none());
        assert_eq!(normalize(Dialect::S3, &h, false).get("x-oss-acl").unwrap(), "private");
    }
}
