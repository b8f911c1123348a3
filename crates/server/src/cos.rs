//! The COS dialect's authentication: `q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&q-key-time=…&q-header-list=…
//! &q-url-param-list=…&q-signature=…`, in the Authorization header or as presigned query parameters.

use crate::oss::{auth, Req};
use crate::util;
use crate::State;
use hmac::{Hmac, Mac};
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::constant_time_eq;
use sha1::{Digest, Sha1};
use std::sync::Arc;

fn hmac_sha1_hex(key: &[u8], data: &[u8]) -> String {
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(data);
    ossd_sign::hex_lower(&m.finalize().into_bytes())
}

/// The COS string to sign for a request, given the signed header and parameter lists.
pub fn string_to_sign(r: &Req, path: &str, sign_time: &str, header_list: &str, param_list: &str) -> (String, String) {
    let mut params: Vec<(String, String)> = Vec::new();
    for name in param_list.split(';').filter(|s| !s.is_empty()) {
        let v = r
            .query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name) || ossd_sign::encode(k).to_ascii_lowercase() == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        params.push((name.to_string(), ossd_sign::encode(v)));
    }
    params.sort();
    let mut headers: Vec<(String, String)> = Vec::new();
    for name in header_list.split(';').filter(|s| !s.is_empty()) {
        let v = r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        headers.push((name.to_string(), ossd_sign::encode(v)));
    }
    headers.sort();
    let join = |v: &[(String, String)]| v.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let format = format!("{}\n{path}\n{}\n{}\n", r.method.as_str().to_ascii_lowercase(), join(&params), join(&headers));
    let sts = format!("sha1\n{sign_time}\n{}\n", ossd_sign::hex_lower(&Sha1::digest(format.as_bytes())));
    (format, sts)
}

/// The signature over `sts` with the secret and the key time.
pub fn sign(secret: &str, key_time: &str, sts: &str) -> String {
    let sign_key = hmac_sha1_hex(secret.as_bytes(), key_time.as_bytes());
    hmac_sha1_hex(sign_key.as_bytes(), sts.as_bytes())
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
    let user = auth::user(state, ak).await?;
    let (start, end) = sign_time
        .split_once(';')
        .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
        .ok_or_else(|| Error::new(Code::AccessDenied).msg("q-sign-time is malformed."))?;
    let now = util::now_secs();
    if now > end {
        return Err(Error::new(Code::AccessDeniedExpired));
    }
    if now + auth::MAX_SKEW_SECS < start {
        return Err(Error::new(Code::RequestTimeTooSkewed)
            .ctx("RequestTime", start.to_string())
            .ctx("ServerTime", util::iso8601(now * 1000))
            .ctx("MaxAllowedSkewMilliseconds", (auth::MAX_SKEW_SECS * 1000).to_string()));
    }
    let path = format!("/{}", r.key.as_deref().unwrap_or(""));
    let (_, sts) =
        string_to_sign(r, &path, sign_time, get("q-header-list").unwrap_or(""), get("q-url-param-list").unwrap_or(""));
    let want = sign(&user.secret, key_time, &sts);
    if !constant_time_eq(want.as_bytes(), sig.as_bytes()) {
        return Err(Error::new(Code::SignatureDoesNotMatch).ctx("StringToSign", sts).ctx("SignatureProvided", sig));
    }
    Ok(Some(user))
}
