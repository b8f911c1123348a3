//! OSS request authentication: V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256), in the Authorization header
//! and in presigned URLs. Signatures are compared in constant time.

use crate::dialect::sign::{check_expiry, header_pairs, skew_check, user};
use crate::http::req::Req;
use crate::http::util;
use crate::State;
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::{constant_time_eq, Parts};
pub use ossd_sign::{hmac256, v1_sign, v4_signing_key, V1_SUBRESOURCES};
use std::sync::Arc;

fn with_parts<T>(r: &Req, f: impl FnOnce(&Parts) -> T) -> T {
    let headers = header_pairs(r);
    let p = Parts {
        method: r.method.as_str(),
        bucket: r.bucket.as_deref(),
        key: r.key.as_deref(),
        query: &r.query,
        headers: &headers,
    };
    f(&p)
}

/// Who sent the request: Ok(None) for an anonymous request, an error for a bad signature.
pub async fn authenticate(state: &Arc<State>, r: &Req) -> Result<Option<UserRecord>> {
    if let Some(auth) = r.h("authorization") {
        if let Some(rest) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
            let v4 = parse_v4_header(rest)?;
            let user = user(state, &v4.access_key_id).await?;
            let date = r.h("x-oss-date").ok_or_else(|| {
                Error::new(Code::AccessDenied).msg("OSS V4 authentication requires the x-oss-date header.")
            })?;
            check_skew(util::parse_basic_iso(date), date)?;
            verify_v4(state, r, &user, &v4, date, None)?;
            return Ok(Some(user));
        }
        if let Some(rest) = auth.strip_prefix("OSS ") {
            let (ak, sig) = rest.trim().rsplit_once(':').ok_or_else(|| {
                Error::new(Code::AccessDenied).msg("Authorization header is invalid.").ctx("Authorization", auth)
            })?;
            let user = user(state, ak).await?;
            let date = r.h("x-oss-date").or(r.h("date")).unwrap_or("");
            check_skew(util::parse_http_date(date), date)?;
            verify_v1(r, &user, sig, date)?;
            return Ok(Some(user));
        }
        return Err(Error::new(Code::AccessDenied)
            .msg("Authorization header is invalid.")
            .ctx("Authorization", auth.chars().take(64).collect::<String>()));
    }
    if r.q("x-oss-signature-version").is_some() {
        return presigned_v4(state, r).await.map(Some);
    }
    if let Some(ak) = r.q("OSSAccessKeyId") {
        let (Some(expires), Some(sig)) = (r.q("Expires"), r.q("Signature")) else {
            return Err(Error::new(Code::AccessDenied)
                .msg("Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters"));
        };
        let user = user(state, ak).await?;
        let exp: i64 = expires.trim().parse().map_err(|_| Error::argument(Code::InvalidExpires, "Expires", expires))?;
        check_expiry(exp).map_err(|e| {
            e.ctx("Expires", util::http_date(exp.saturating_mul(1000)))
                .ctx("ServerTime", util::http_date(util::now_secs() * 1000))
        })?;
        verify_v1(r, &user, sig, expires)?;
        return Ok(Some(user));
    }
    Ok(None)
}

fn check_skew(parsed: Option<i64>, raw: &str) -> Result<()> {
    skew_check(parsed, raw, "OSS authentication requires a valid Date.")
}

fn mismatch(string_to_sign: &str, provided: &str, ak: &str) -> Error {
    let bytes = string_to_sign.bytes().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ");
    Error::new(Code::SignatureDoesNotMatch)
        .ctx("StringToSign", string_to_sign)
        .ctx("StringToSignBytes", bytes)
        .ctx("SignatureProvided", provided)
        .ctx("OSSAccessKeyId", ak)
}

fn verify_v1(r: &Req, u: &UserRecord, provided: &str, date: &str) -> Result<()> {
    let sts = with_parts(r, |p| ossd_sign::v1_string_to_sign(p, date));
    let want = v1_sign(&u.secret, &sts);
    if constant_time_eq(want.as_bytes(), provided.trim().as_bytes()) {
        Ok(())
    } else {
        Err(mismatch(&sts, provided, &u.access_key_id))
    }
}

#[derive(Debug, PartialEq)]
pub struct V4Auth {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub product: String,
    pub additional: Vec<String>,
    pub signature: String,
}

fn bad_v4(what: &str) -> Error {
    Error::new(Code::AccessDenied).msg(format!("Invalid OSS V4 authorization: {what}."))
}

/// Parses the credential scope `id/date/region/product/aliyun_v4_request`.
fn parse_credential(c: &str) -> Result<(String, String, String, String)> {
    let parts: Vec<&str> = c.split('/').collect();
    if parts.len() != 5 || parts[4] != "aliyun_v4_request" {
        return Err(bad_v4("malformed Credential"));
    }
    Ok((parts[0].into(), parts[1].into(), parts[2].into(), parts[3].into()))
}

/// Parses `Credential=…, AdditionalHeaders=…, Signature=…`, with or without spaces after commas.
pub fn parse_v4_header(rest: &str) -> Result<V4Auth> {
    let (mut cred, mut add, mut sig) = (None, None, None);
    for item in rest.split(',') {
        let item = item.trim();
        if let Some(v) = item.strip_prefix("Credential=") {
            cred = Some(v);
        } else if let Some(v) = item.strip_prefix("AdditionalHeaders=") {
            add = Some(v);
        } else if let Some(v) = item.strip_prefix("Signature=") {
            sig = Some(v);
        }
    }
    let (access_key_id, date, region, product) = parse_credential(cred.ok_or_else(|| bad_v4("no Credential"))?)?;
    Ok(V4Auth {
        access_key_id,
        date,
        region,
        product,
        additional: add
            .map(|a| a.split(';').filter(|s| !s.is_empty()).map(|s| s.trim().to_ascii_lowercase()).collect())
            .unwrap_or_default(),
        signature: sig.ok_or_else(|| bad_v4("no Signature"))?.to_string(),
    })
}

fn verify_v4(state: &State, r: &Req, u: &UserRecord, a: &V4Auth, datetime: &str, presigned: Option<()>) -> Result<()> {
    if a.region != state.region {
        return Err(match presigned {
            Some(()) => Error::argument(Code::InvalidSigningRegionPresigned, "x-oss-credential", &a.region),
            None => Error::argument(Code::InvalidSigningRegion, "Authorization", &a.region),
        });
    }
    let canonical = with_parts(r, |p| ossd_sign::v4_canonical_request(p, &a.additional, presigned.is_some()));
    let (want, sts) = ossd_sign::v4_sign(&u.secret, &a.date, datetime, &a.region, &a.product, &canonical);
    if constant_time_eq(want.as_bytes(), a.signature.as_bytes()) {
        Ok(())
    } else {
        Err(mismatch(&sts, &a.signature, &u.access_key_id).ctx("CanonicalRequest", canonical))
    }
}

async fn presigned_v4(state: &Arc<State>, r: &Req) -> Result<UserRecord> {
    if r.q("x-oss-signature-version") != Some("OSS4-HMAC-SHA256") {
        return Err(Error::invalid_argument(
            "x-oss-signature-version",
            r.q("x-oss-signature-version").unwrap_or(""),
            "Unsupported signature version.",
        ));
    }
    let need = |k: &'static str| r.q(k).ok_or_else(|| Error::new(Code::MissingArgument).ctx("ArgumentName", k));
    let (ak, date, region, product) = parse_credential(need("x-oss-credential")?)?;
    let datetime = need("x-oss-date")?;
    let expires = need("x-oss-expires")?;
    let signature = need("x-oss-signature")?;
    let user = user(state, &ak).await?;
    let t = util::parse_basic_iso(datetime)
        .ok_or_else(|| Error::invalid_argument("x-oss-date", datetime, "Invalid x-oss-date."))?;
    let e: i64 =
        expires.parse().map_err(|_| Error::invalid_argument("x-oss-expires", expires, "Invalid x-oss-expires."))?;
    let until = t.saturating_add(e);
    check_expiry(until).map_err(|e| {
        e.ctx("Expires", util::iso8601(until.saturating_mul(1000)))
            .ctx("ServerTime", util::iso8601(util::now_secs() * 1000))
    })?;
    let a = V4Auth {
        access_key_id: ak,
        date,
        region,
        product,
        additional: r
            .q("x-oss-additional-headers")
            .map(|s| s.split(';').filter(|x| !x.is_empty()).map(|x| x.to_ascii_lowercase()).collect())
            .unwrap_or_default(),
        signature: signature.to_string(),
    };
    verify_v4(state, r, &user, &a, datetime, Some(()))?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_header_layouts() {
        let a = parse_v4_header(
            "Credential=ak/20231203/cn-hangzhou/oss/aliyun_v4_request, AdditionalHeaders=host;abc, Signature=ff",
        )
        .unwrap();
        let b = parse_v4_header(
            "Credential=ak/20231203/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host;abc,Signature=ff",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.additional, vec!["host", "abc"]);
        assert!(parse_v4_header("Credential=ak/20231203/cn-hangzhou/oss, Signature=ff").is_err());
        assert!(parse_v4_header("Credential=ak/20231203/cn-hangzhou/oss/aliyun_v4_request").is_err());
    }
}
