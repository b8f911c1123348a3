//! OSS request authentication: V1 (HMAC-SHA1), V2 (OSS2, HMAC-SHA256) and V4 (OSS4-HMAC-SHA256), in the
//! Authorization header and in presigned URLs, with OSS's errors for each. Signatures are compared in
//! constant time.

use crate::dialect::sign::{check_expiry, header_pairs, skew_check, user};
use crate::http::req::Req;
use crate::http::util;
use crate::State;
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::{constant_time_eq, Parts};
pub use ossd_sign::{hmac256, v1_sign, v2_sign, v4_signing_key, V1_SUBRESOURCES};
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
        if let Some(rest) = auth.strip_prefix("OSS2 ") {
            let v2 = parse_v2_header(rest)?;
            let user = user(state, &v2.access_key_id).await?;
            check_additional(r, &v2.additional, Code::V2AdditionalHeaderAbsent)?;
            // The request time is x-oss-date when sent, else Date; the string to sign holds Date as sent.
            let time = r.h("x-oss-date").or(r.h("date")).unwrap_or("");
            check_skew(util::parse_http_date(time), time)?;
            verify_v2(r, &user, &v2.signature, r.h("date").unwrap_or(""), &v2.additional, false)?;
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
    match r.q("x-oss-signature-version") {
        Some("OSS2") => return presigned_v2(state, r).await.map(Some),
        Some("OSS4-HMAC-SHA256") => return presigned_v4(state, r).await.map(Some),
        Some(other) => {
            return Err(Error::new(Code::SignatureVersionInvalid)
                .ctx("ArgumentName", "x-oss-signature-version")
                .ctx("ArgumentValue", other.chars().take(64).collect::<String>()))
        }
        None => {}
    }
    if let Some(ak) = r.q("OSSAccessKeyId") {
        let (Some(expires), Some(sig)) = (r.q("Expires"), r.q("Signature")) else {
            return Err(Error::new(Code::AccessDenied)
                .msg("Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters"));
        };
        let user = user(state, ak).await?;
        let exp = parse_expires("Expires", expires)?;
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

fn parse_expires(name: &'static str, value: &str) -> Result<i64> {
    value.trim().parse().map_err(|_| {
        Error::new(Code::ExpiresInvalid)
            .ctx("ArgumentName", name)
            .ctx("ArgumentValue", value.chars().take(64).collect::<String>())
    })
}

/// What a V2 Authorization header carries.
#[derive(Debug, PartialEq)]
pub struct V2Auth {
    pub access_key_id: String,
    /// Lowercase header names, as listed.
    pub additional: Vec<String>,
    pub signature: String,
}

fn bad_v2(code: Code, rest: &str) -> Error {
    Error::new(code)
        .ctx("ArgumentName", "Authorization")
        .ctx("ArgumentValue", rest.chars().take(128).collect::<String>())
}

/// Parses `AccessKeyId:…[,AdditionalHeaders:…],Signature:…` (the part after `OSS2 `), with OSS's EC for each
/// way it can be malformed.
pub fn parse_v2_header(rest: &str) -> Result<V2Auth> {
    let pairs: Vec<&str> = rest.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if !(2..=3).contains(&pairs.len()) {
        return Err(bad_v2(Code::V2AuthorizationInvalid, rest));
    }
    let (mut ak, mut add, mut sig) = (None, None, None);
    for p in pairs {
        let (k, v) = p.split_once(':').ok_or_else(|| bad_v2(Code::V2AuthorizationNoColon, rest))?;
        let v = v.trim();
        match k.trim() {
            "AccessKeyId" => ak = Some(v),
            "AdditionalHeaders" => add = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(bad_v2(Code::V2AuthorizationUnknownKey, rest)),
        }
    }
    let ak = ak.ok_or_else(|| bad_v2(Code::V2AccessKeyIdMissing, rest))?;
    if ak.is_empty() {
        return Err(bad_v2(Code::V2AccessKeyIdEmpty, rest));
    }
    let sig = sig.ok_or_else(|| bad_v2(Code::V2SignatureMissing, rest))?;
    if sig.is_empty() {
        return Err(bad_v2(Code::V2SignatureEmpty, rest));
    }
    let additional = match add {
        None => Vec::new(),
        Some("") => return Err(bad_v2(Code::V2AdditionalHeadersEmpty, rest)),
        Some(list) => {
            let names: Vec<String> = list.split(';').map(|n| n.trim().to_ascii_lowercase()).collect();
            if names.iter().any(String::is_empty) {
                return Err(bad_v2(Code::V2AdditionalHeadersEmptyItem, rest));
            }
            names
        }
    };
    Ok(V2Auth { access_key_id: ak.to_string(), additional, signature: sig.to_string() })
}

/// Every additional header must be one the request carries (and a header name has no underscore).
fn check_additional(r: &Req, names: &[String], absent: Code) -> Result<()> {
    match names.iter().find(|n| n.contains('_') || !r.headers.contains_key(n.as_str())) {
        Some(n) => Err(Error::new(absent).ctx("Header", n.clone())),
        None => Ok(()),
    }
}

fn verify_v2(
    r: &Req,
    u: &UserRecord,
    provided: &str,
    date: &str,
    additional: &[String],
    presigned: bool,
) -> Result<()> {
    let sts = with_parts(r, |p| ossd_sign::v2_string_to_sign(p, date, additional, presigned));
    let want = v2_sign(&u.secret, &sts);
    if constant_time_eq(want.as_bytes(), provided.trim().as_bytes()) {
        Ok(())
    } else {
        Err(mismatch(&sts, provided, &u.access_key_id))
    }
}

/// A V2 presigned URL: x-oss-signature-version=OSS2, x-oss-access-key-id, x-oss-expires (Unix time),
/// x-oss-signature, and optionally x-oss-additional-headers.
async fn presigned_v2(state: &Arc<State>, r: &Req) -> Result<UserRecord> {
    let need = |k: &str, missing: Code, empty: Code| match r.q(k) {
        None => Err(Error::new(missing)),
        Some("") => Err(Error::new(empty)),
        Some(v) => Ok(v),
    };
    let ak = need("x-oss-access-key-id", Code::V2UrlAccessKeyIdMissing, Code::V2UrlAccessKeyIdEmpty)?;
    let expires = need("x-oss-expires", Code::V2UrlExpiresMissing, Code::V2UrlExpiresEmpty)?;
    let signature = need("x-oss-signature", Code::V2UrlSignatureMissing, Code::V2UrlSignatureEmpty)?;
    let exp = parse_expires("x-oss-expires", expires)?;
    let additional: Vec<String> = match r.q("x-oss-additional-headers") {
        None => Vec::new(),
        Some("") => return Err(Error::new(Code::V2UrlAdditionalHeadersEmpty)),
        Some(list) => {
            let names: Vec<String> = list.split(';').map(str::to_ascii_lowercase).collect();
            let valid = |n: &String| !n.is_empty() && n.bytes().all(|c| c.is_ascii_graphic() && c != b':');
            if !names.iter().all(valid) {
                return Err(Error::new(Code::V2UrlAdditionalHeadersInvalid)
                    .ctx("ArgumentName", "x-oss-additional-headers")
                    .ctx("ArgumentValue", list.chars().take(128).collect::<String>()));
            }
            names
        }
    };
    let user = user(state, ak).await?;
    check_expiry(exp).map_err(|e| {
        e.ctx("Expires", util::iso8601(exp.saturating_mul(1000)))
            .ctx("ServerTime", util::iso8601(util::now_secs() * 1000))
    })?;
    check_additional(r, &additional, Code::V2UrlAdditionalHeaderAbsent)?;
    verify_v2(r, &user, signature, expires, &additional, true)?;
    Ok(user)
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
    fn v2_header_errors_are_osss() {
        let ok = parse_v2_header("AccessKeyId:ak,AdditionalHeaders:Range;host,Signature:c2ln").unwrap();
        assert_eq!(ok.access_key_id, "ak");
        assert_eq!(ok.additional, vec!["range", "host"]);
        assert_eq!(ok.signature, "c2ln");
        assert_eq!(parse_v2_header("AccessKeyId:ak, Signature:c2ln").unwrap().additional, Vec::<String>::new());
        for (h, want) in [
            ("AccessKeyId:ak,", Code::V2AuthorizationInvalid),
            ("AccessKeyId:ak,Signature:s,AdditionalHeaders:h,X:y", Code::V2AuthorizationInvalid),
            ("AccessKeyId:ak,AdditionalHeadershost,Signature:s", Code::V2AuthorizationNoColon),
            ("AccessKeyId:ak,Signature:s,UnknownKey:ABC", Code::V2AuthorizationUnknownKey),
            ("AdditionalHeaders:host,Signature:s", Code::V2AccessKeyIdMissing),
            ("AccessKeyId:,AdditionalHeaders:host,Signature:s", Code::V2AccessKeyIdEmpty),
            ("AccessKeyId:ak,AdditionalHeaders:host", Code::V2SignatureMissing),
            ("AccessKeyId:ak,AdditionalHeaders:host,Signature:", Code::V2SignatureEmpty),
            ("AccessKeyId:ak,AdditionalHeaders:,Signature:s", Code::V2AdditionalHeadersEmpty),
            ("AccessKeyId:ak,AdditionalHeaders:host;,Signature:s", Code::V2AdditionalHeadersEmptyItem),
        ] {
            assert_eq!(parse_v2_header(h).map_err(|e| e.code), Err(want), "{h}");
        }
    }

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
