//! The OBS dialect's authentication: `Authorization: OBS ak:sig` (V2-style, `x-obs-` headers, OBS's
//! sub-resources) and presigned URLs (`AccessKeyId`, `Expires`, `Signature`).

use crate::dialect::sign;
use crate::http::req::Req;
use crate::http::util;
use crate::State;
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::{aws, constant_time_eq};
use std::sync::Arc;

/// `/bucket/key` as OBS signs it: with the key encoded as sent, and a slash after the bucket when the
/// bucket came from the Host.
fn resource(r: &Req) -> String {
    let Some(b) = r.bucket.as_deref() else { return "/".into() };
    if r.virtual_hosted {
        format!("/{b}{}", r.raw_path)
    } else {
        r.raw_path.clone()
    }
}

fn verify(r: &Req, user: &UserRecord, date: &str, ak: &str, sig: &str) -> Result<()> {
    let hs = sign::header_pairs(r);
    let mut tried = Vec::new();
    for c in sign::v2_resources(r, &resource(r)) {
        let sts = aws::v2_string_to_sign(r.method.as_str(), &c, &r.query, &hs, date, "x-obs-", aws::OBS_SUBRESOURCES);
        if constant_time_eq(aws::v2_sign(&user.secret, &sts).as_bytes(), sig.as_bytes()) {
            return Ok(());
        }
        tried.push(sts);
    }
    Err(Error::new(Code::SignatureDoesNotMatch)
        .ctx("StringToSign", tried.into_iter().next().unwrap_or_default())
        .ctx("SignatureProvided", sig)
        .ctx("AccessKeyId", ak))
}

pub async fn authenticate(state: &Arc<State>, r: &Req) -> Result<Option<UserRecord>> {
    if let Some(rest) = r.h("authorization").and_then(|a| a.strip_prefix("OBS ")) {
        let (ak, sig) = rest
            .trim()
            .rsplit_once(':')
            .ok_or_else(|| Error::new(Code::AccessDenied).msg("The authorization header is malformed."))?;
        let user = sign::user(state, ak).await?;
        let (date, raw) = match r.h("x-obs-date") {
            Some(d) => ("", d),
            None => (r.h("date").unwrap_or(""), r.h("date").unwrap_or("")),
        };
        let t = util::parse_http_date(raw).or_else(|| util::parse_basic_iso(raw));
        sign::skew_check(t, raw, "OBS authentication requires a valid Date or x-obs-date.")?;
        verify(r, &user, date, ak, sig)?;
        return Ok(Some(user));
    }
    if let (Some(ak), Some(expires), Some(sig)) = (r.q("AccessKeyId"), r.q("Expires"), r.q("Signature")) {
        let user = sign::user(state, ak).await?;
        let exp: i64 = expires.parse().map_err(|_| Error::new(Code::AccessDenied).msg("Expires must be a number."))?;
        sign::check_expiry(exp)?;
        verify(r, &user, expires, ak, sig)?;
        return Ok(Some(user));
    }
    Ok(None)
}
