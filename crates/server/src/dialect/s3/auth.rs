//! The S3 dialect's authentication: SigV4 (header, presigned, and aws-chunked bodies with per-chunk
//! signatures) and SigV2 (header and presigned).

use crate::dialect::sign;
use crate::http::chunked::{ChunkCtx, PayloadHash, S3Auth};
use crate::http::req::Req;
use crate::http::util;
use crate::State;
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::aws;
use ossd_sign::constant_time_eq;
use std::sync::Arc;

fn mismatch(sts: &str, provided: &str, ak: &str, canonical: Option<String>) -> Error {
    let mut e = Error::new(Code::SignatureDoesNotMatch)
        .ctx("AWSAccessKeyId", ak)
        .ctx("StringToSign", sts)
        .ctx("SignatureProvided", provided);
    if let Some(c) = canonical {
        e = e.ctx("CanonicalRequest", c);
    }
    e
}

fn payload_of(v: Option<&str>) -> PayloadHash {
    match v {
        Some("UNSIGNED-PAYLOAD") | None => PayloadHash::Unsigned,
        Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") | Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") => {
            PayloadHash::StreamingSigned
        }
        Some(s) if s.starts_with("STREAMING-") => PayloadHash::StreamingUnsigned,
        Some(h) => PayloadHash::Sha256(h.to_ascii_lowercase()),
    }
}

fn check_region(state: &State, region: &str) -> Result<()> {
    if region == state.region || region == "us-east-1" {
        Ok(())
    } else {
        Err(Error::new(Code::InvalidArgument)
            .msg(format!(
                "The authorization header is malformed; the region '{region}' is wrong; expecting '{}'",
                state.region
            ))
            .ctx("ArgumentName", "Authorization")
            .ctx("ArgumentValue", region))
    }
}

fn skew(t: Option<i64>, raw: &str) -> Result<()> {
    sign::skew_check(t, raw, "AWS authentication requires a valid Date or x-amz-date header")
}

/// The path as SigV4 signs it (decoded), and as SigV2 signs it (the bucket, then the path as sent).
fn paths(r: &Req) -> (String, String) {
    let decoded = util::decode(&r.raw_path, false);
    let v2 = if r.virtual_hosted {
        format!("/{}{}", r.bucket.as_deref().unwrap_or(""), r.raw_path)
    } else {
        r.raw_path.clone()
    };
    (decoded, v2)
}

/// Checks a SigV2 signature. A bucket-level resource is signed as `/bucket/` by most clients and as
/// `/bucket` by some; either is accepted.
fn v2_verify(
    r: &Req,
    user: &UserRecord,
    resource: &str,
    hs: &[(String, String)],
    dates: &[&str],
    ak: &str,
    sig: &str,
) -> Result<()> {
    let candidates = sign::v2_resources(r, resource);
    let mut first = None;
    // The OBS SDK signs AWS V2 requests with OBS's list of sub-resources.
    for subs in [aws::S3_V2_SUBRESOURCES, aws::OBS_SUBRESOURCES] {
        for (res, date) in candidates.iter().flat_map(|res| dates.iter().map(move |d| (res, *d))) {
            let sts = aws::v2_string_to_sign(r.method.as_str(), res, &r.query, hs, date, "x-amz-", subs);
            if constant_time_eq(aws::v2_sign(&user.secret, &sts).as_bytes(), sig.as_bytes()) {
                return Ok(());
            }
            first.get_or_insert(sts);
        }
    }
    Err(mismatch(&first.unwrap_or_default(), sig, ak, None))
}

/// Checks a SigV4 signature over `canonical` for the credential `cred` (ak/date/region/service/aws4_request,
/// already split); returns the signing key and scope, from which aws-chunked bodies chain their chunk signatures.
fn v4_check(
    user: &UserRecord,
    cred: &[&str],
    datetime: &str,
    canonical: String,
    sig: &str,
) -> Result<([u8; 32], String)> {
    let [ak, date, region, service, _] = cred else {
        return Err(Error::new(Code::AccessDenied).msg("The credential is malformed."));
    };
    let want = aws::v4_sign(&user.secret, date, datetime, region, service, &canonical);
    if !constant_time_eq(want.signature.as_bytes(), sig.as_bytes()) {
        return Err(mismatch(&want.string_to_sign, sig, ak, Some(canonical)));
    }
    Ok((want.key, want.scope))
}

/// Parses what follows `AWS4-HMAC-SHA256 ` in an Authorization header: the five credential scope parts
/// (key id, date, region, service, `aws4_request`), SignedHeaders and Signature.
pub fn parse_v4_header(rest: &str) -> Result<(Vec<&str>, &str, &str)> {
    let (mut cred, mut signed, mut sig) = ("", "", "");
    for item in rest.split(',').map(str::trim) {
        if let Some(v) = item.strip_prefix("Credential=") {
            cred = v;
        } else if let Some(v) = item.strip_prefix("SignedHeaders=") {
            signed = v;
        } else if let Some(v) = item.strip_prefix("Signature=") {
            sig = v;
        }
    }
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() != 5 || signed.is_empty() || sig.is_empty() {
        return Err(Error::new(Code::AccessDenied).msg("The authorization header is malformed."));
    }
    Ok((parts, signed, sig))
}

/// Authenticates an S3 request; Ok(None) for an anonymous one.
pub async fn authenticate(state: &Arc<State>, r: &Req) -> Result<Option<(UserRecord, S3Auth)>> {
    let hs = sign::header_pairs(r);
    let (v4_path, v2_resource) = paths(r);
    if let Some(a) = r.h("authorization") {
        if let Some(rest) = a.strip_prefix("AWS4-HMAC-SHA256 ") {
            let (parts, signed, sig) = parse_v4_header(rest)?;
            let user = sign::user(state, parts[0]).await?;
            check_region(state, parts[2])?;
            // The request time is x-amz-date, or else the Date header (which SigV4 then signs in basic ISO form).
            let (datetime, t) = match r.h("x-amz-date") {
                Some(d) => (d.to_string(), util::parse_basic_iso(d)),
                None => {
                    let t = r.h("date").and_then(util::parse_http_date);
                    (
                        t.map(|t| util::iso8601(t * 1000).replace(['-', ':'], "").replace(".000", ""))
                            .unwrap_or_default(),
                        t,
                    )
                }
            };
            let datetime = datetime.as_str();
            skew(t, r.h("x-amz-date").or(r.h("date")).unwrap_or(""))?;
            let payload_raw = r.h("x-amz-content-sha256").unwrap_or("UNSIGNED-PAYLOAD").to_string();
            let signed: Vec<String> = signed.split(';').map(str::to_string).collect();
            let p = aws::V4Parts { method: r.method.as_str(), path: &v4_path, query: &r.query, headers: &hs };
            let canonical = aws::v4_canonical_request(&p, &signed, &payload_raw, false);
            let (key, scope) = v4_check(&user, &parts, datetime, canonical, sig)?;
            let payload = payload_of(Some(&payload_raw));
            let chunk = (payload == PayloadHash::StreamingSigned).then(|| ChunkCtx {
                key,
                datetime: datetime.to_string(),
                scope,
                seed: sig.to_string(),
            });
            return Ok(Some((user, S3Auth { payload, chunk })));
        }
        if let Some(rest) = a.strip_prefix("AWS ") {
            let (ak, sig) = rest
                .trim()
                .rsplit_once(':')
                .ok_or_else(|| Error::new(Code::AccessDenied).msg("The authorization header is malformed."))?;
            let user = sign::user(state, ak).await?;
            // With x-amz-date the Date line of the string to sign is empty (AWS's rule); botocore writes the Date
            // header there anyway, so that is accepted too.
            let date = r.h("date").unwrap_or("");
            let (dates, t) = match r.h("x-amz-date") {
                Some(d) => (vec!["", date], util::parse_http_date(d).or_else(|| util::parse_basic_iso(d))),
                None => (vec![date], r.h("date").and_then(util::parse_http_date)),
            };
            skew(t, r.h("x-amz-date").or(r.h("date")).unwrap_or(""))?;
            v2_verify(r, &user, &v2_resource, &hs, &dates, ak, sig)?;
            let payload = payload_of(r.h("x-amz-content-sha256"));
            return Ok(Some((user, S3Auth { payload, chunk: None })));
        }
        return Err(Error::new(Code::AccessDenied).msg("Unsupported Authorization Type"));
    }
    if r.q("X-Amz-Algorithm").is_some() {
        let need = |k: &'static str| {
            r.q(k)
                .ok_or_else(|| Error::new(Code::AccessDenied).msg(format!("Query-string authentication requires {k}")))
        };
        let cred = need("X-Amz-Credential")?;
        let datetime = need("X-Amz-Date")?;
        let expires: i64 = need("X-Amz-Expires")?
            .parse()
            .map_err(|_| Error::new(Code::AccessDenied).msg("X-Amz-Expires must be a number"))?;
        let signed: Vec<String> = need("X-Amz-SignedHeaders")?.split(';').map(str::to_string).collect();
        let sig = need("X-Amz-Signature")?;
        let parts: Vec<&str> = cred.split('/').collect();
        if parts.len() != 5 {
            return Err(Error::new(Code::AccessDenied).msg("X-Amz-Credential is malformed"));
        }
        let user = sign::user(state, parts[0]).await?;
        check_region(state, parts[2])?;
        let t = util::parse_basic_iso(datetime)
            .ok_or_else(|| Error::new(Code::AccessDenied).msg("X-Amz-Date is malformed"))?;
        if expires > 604_800 {
            return Err(Error::new(Code::AuthorizationQueryParametersError).ctx("X-Amz-Expires", expires.to_string()));
        }
        // A URL presigned for 0 seconds (or fewer) is already expired.
        if expires <= 0 {
            return Err(Error::new(Code::AccessDeniedExpiredS3));
        }
        sign::check_expiry(t.saturating_add(expires)).map_err(|e| {
            if e.code == Code::AccessDeniedExpired {
                Error { code: Code::AccessDeniedExpiredS3, ..e }
            } else {
                e
            }
        })?;
        let p = aws::V4Parts { method: r.method.as_str(), path: &v4_path, query: &r.query, headers: &hs };
        let canonical = aws::v4_canonical_request(&p, &signed, "UNSIGNED-PAYLOAD", true);
        v4_check(&user, &parts, datetime, canonical, sig)?;
        return Ok(Some((user, S3Auth { payload: PayloadHash::Unsigned, chunk: None })));
    }
    if let Some(ak) = r.q("AWSAccessKeyId") {
        let (Some(expires), Some(sig)) = (r.q("Expires"), r.q("Signature")) else {
            return Err(Error::new(Code::AccessDenied)
                .msg("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"));
        };
        let user = sign::user(state, ak).await?;
        let exp: i64 = expires.parse().map_err(|_| Error::new(Code::AccessDenied).msg("Expires must be a number"))?;
        sign::check_expiry(exp)?;
        v2_verify(r, &user, &v2_resource, &hs, &[expires], ak, sig)?;
        return Ok(Some((user, S3Auth { payload: PayloadHash::Unsigned, chunk: None })));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_headers() {
        let (parts, signed, sig) = parse_v4_header(
            "Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab",
        )
        .unwrap();
        assert_eq!(
            (parts, signed, sig),
            (vec!["AK", "20240101", "us-east-1", "s3", "aws4_request"], "host;x-amz-date", "ab")
        );
        for bad in
            ["", ",,,", "Credential=a/b", "Credential=a/b/c/d/e, SignedHeaders=host", "Credential=////, Signature=x"]
        {
            assert_eq!(parse_v4_header(bad).unwrap_err().code, Code::AccessDenied, "{bad}");
        }
    }
}
