//! What every dialect's signature check shares: the user behind an access key id, the request-time skew
//! check, the request's headers as the signers see them, presign expiry and SigV2's bucket-resource forms.

use crate::http::req::Req;
use crate::http::util;
use crate::State;
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

/// Requests may be this far from the server's clock.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// The enabled user with access key id `ak`; the key-id errors otherwise.
pub async fn user(state: &Arc<State>, ak: &str) -> Result<UserRecord> {
    if ak.is_empty() || !ak.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'=')) {
        return Err(Error::new(Code::InvalidAccessKeyIdChars).ctx("OSSAccessKeyId", ak));
    }
    match state.user(ak).await? {
        None => Err(Error::new(Code::InvalidAccessKeyId).ctx("OSSAccessKeyId", ak)),
        Some(u) if !u.key_enabled => Err(Error::new(Code::InvalidAccessKeyIdDisabled).ctx("OSSAccessKeyId", ak)),
        Some(u) if !u.enabled => Err(Error::new(Code::UserDisable).ctx("OSSAccessKeyId", ak)),
        Some(u) => Ok(u),
    }
}

/// RequestTimeTooSkewed when the request time is more than 15 minutes from the server's; AccessDenied with
/// `missing` when there is no valid time at all. Every dialect's verifier uses it.
pub fn skew_check(parsed: Option<i64>, raw: &str, missing: &'static str) -> Result<()> {
    let Some(t) = parsed else {
        return Err(Error::new(Code::AccessDenied).msg(missing).ctx("Date", raw.chars().take(64).collect::<String>()));
    };
    let now = util::now_secs();
    if (t - now).abs() > MAX_SKEW_SECS {
        return Err(Error::new(Code::RequestTimeTooSkewed)
            .ctx("RequestTime", raw.chars().take(64).collect::<String>())
            .ctx("ServerTime", util::iso8601(now * 1000))
            .ctx("MaxAllowedSkewMilliseconds", (MAX_SKEW_SECS * 1000).to_string()));
    }
    Ok(())
}

/// The request's headers as the signers see them: lowercase names, values as sent.
pub fn header_pairs(r: &Req) -> Vec<(String, String)> {
    r.headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect()
}

/// AccessDeniedExpired once `until` (seconds since the epoch), a presigned request's expiry, has passed.
pub fn check_expiry(until: i64) -> Result<()> {
    if util::now_secs() > until {
        return Err(Error::new(Code::AccessDeniedExpired));
    }
    Ok(())
}

/// The resources a SigV2-style signature (S3's V2, OBS) may have signed: `resource` as built, and for a
/// bucket-level request also its other form (`/bucket` and `/bucket/` are both in use by clients).
pub fn v2_resources(r: &Req, resource: &str) -> Vec<String> {
    let mut candidates = vec![resource.to_string()];
    if r.key.is_none() && r.bucket.is_some() {
        let other =
            if resource.ends_with('/') { resource.trim_end_matches('/').to_string() } else { format!("{resource}/") };
        candidates.push(other);
    }
    candidates
}
