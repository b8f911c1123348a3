//! The COS dialect's authentication: `q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&q-key-time=…&q-header-list=…
//! &q-url-param-list=…&q-signature=…`, in the Authorization header or as presigned query parameters.

use crate::dialect::sign;
use crate::http::req::Req;
use crate::http::util;
use crate::State;
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::constant_time_eq;
use std::sync::Arc;

/// The COS string to sign for a request, given the signed header and parameter lists.
pub fn string_to_sign(r: &Req, path: &str, sign_time: &str, header_list: &str, param_list: &str) -> String {
    let mut params: Vec<(String, String)> = Vec::new();
    for name in param_list.split(';').filter(|s| !s.is_empty()) {
        let v = r
            .query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name) || ossd_sign::encode(k).to_ascii_lowercase() == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        params.push((name.to_string(), v));
    }
    let headers: Vec<(String, String)> = header_list
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|name| (name.to_string(), r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()))
        .collect();
    ossd_sign::cos::string_to_sign(r.method.as_str(), path, &params, &headers, sign_time)
}

fn fields(s: &str) -> Vec<(String, String)> {
    s.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), util::decode(v, false))).collect()
}

/// Authenticates a COS request; Ok(None) for an anonymous one.
pub async fn authenticate(state: &Arc<State>, r: &Req) -> Result<Option<UserRecord>> {
    let f = match r.h("authorization").filter(|a| !a.is_empty()) {
        Some(a) => fields(a),
        None if r.q("q-sign-algorithm").is_some() => r.query.clone(),
        None => return Ok(None),
    };
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (Some(ak), Some(sign_time), Some(key_time), Some(sig)) =
        (get("q-ak"), get("q-sign-time"), get("q-key-time"), get("q-signature"))
    else {
        return Err(Error::new(Code::AccessDenied).msg("The Authorization is missing required fields."));
    };
    if get("q-sign-algorithm") != Some("sha1") {
        return Err(Error::new(Code::AccessDenied).msg("q-sign-algorithm must be sha1."));
    }
    let user = sign::user(state, ak).await?;
    let (start, end) = sign_time
        .split_once(';')
        .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
        .ok_or_else(|| Error::new(Code::AccessDenied).msg("q-sign-time is malformed."))?;
    let now = util::now_secs();
    sign::check_expiry(end)?;
    if now + sign::MAX_SKEW_SECS < start {
        return Err(Error::new(Code::RequestTimeTooSkewed)
            .ctx("RequestTime", start.to_string())
            .ctx("ServerTime", util::iso8601(now * 1000))
            .ctx("MaxAllowedSkewMilliseconds", (sign::MAX_SKEW_SECS * 1000).to_string()));
    }
    let path = format!("/{}", r.key.as_deref().unwrap_or(""));
    let sts =
        string_to_sign(r, &path, sign_time, get("q-header-list").unwrap_or(""), get("q-url-param-list").unwrap_or(""));
    let want = ossd_sign::cos::sign(&user.secret, key_time, &sts);
    if !constant_time_eq(want.as_bytes(), sig.as_bytes()) {
        return Err(Error::new(Code::SignatureDoesNotMatch).ctx("StringToSign", sts).ctx("SignatureProvided", sig));
    }
    Ok(Some(user))
}
