//! CORS as a bucket configuration applies it to requests: the OPTIONS preflight, and the Access-Control-*
//! headers on the response of a request that carries an allowed Origin.

use super::config::{parse_cors, Cors, CORS};
use crate::http::body::Body;
use crate::http::req::Req;
use crate::State;
use http::HeaderValue;
use http::Response;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

async fn cors_of(state: &Arc<State>, bucket: &str) -> Result<Option<Cors>> {
    let doc = state.bucket_config(bucket, CORS).await?;
    Ok(doc.and_then(|d| parse_cors(d.as_bytes()).ok()))
}

/// Answers an OPTIONS preflight from the bucket's CORS rules; AccessForbidden when no rule allows it.
pub async fn preflight(state: &Arc<State>, r: &Req) -> Result<Response<Body>> {
    let bucket = r.bucket()?;
    super::bucket_record(state, bucket).await?;
    let origin = r.h("origin").unwrap_or("");
    let method = r.h("access-control-request-method").unwrap_or("");
    let headers: Vec<&str> = r
        .h("access-control-request-headers")
        .map(|h| h.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let forbidden = || Error::new(Code::AccessForbidden);
    if origin.is_empty() || method.is_empty() {
        return Err(forbidden());
    }
    let cors = cors_of(state, bucket).await?.ok_or_else(forbidden)?;
    let rule = cors.matching(origin, method, &headers).ok_or_else(forbidden)?;
    let allow_origin = if rule.origins.iter().any(|o| o == "*") { "*" } else { origin };
    let mut b = Response::builder()
        .header("access-control-allow-origin", allow_origin)
        .header("access-control-allow-methods", rule.methods.join(", "));
    if !headers.is_empty() {
        b = b.header("access-control-allow-headers", headers.join(", "));
    }
    if !rule.expose.is_empty() {
        b = b.header("access-control-expose-headers", rule.expose.join(", "));
    }
    if let Some(a) = rule.max_age {
        b = b.header("access-control-max-age", a.to_string());
    }
    if cors.vary {
        b = b.header("vary", "Origin");
    }
    b.body(Body::Empty).map_err(Error::internal)
}

/// Adds Access-Control-* headers to the response of a request that carries an allowed Origin.
pub async fn add_cors_headers(state: &Arc<State>, r: &Req, resp: &mut Response<Body>) {
    let (Some(bucket), Some(origin)) = (r.bucket.as_deref(), r.h("origin")) else { return };
    let Ok(Some(cors)) = cors_of(state, bucket).await else { return };
    let h = resp.headers_mut();
    if cors.vary {
        h.insert("vary", HeaderValue::from_static("Origin"));
    }
    let Some(rule) = cors.matching(origin, r.method.as_str(), &[]) else { return };
    let allow = if rule.origins.iter().any(|o| o == "*") { "*" } else { origin };
    if let Ok(v) = HeaderValue::from_str(allow) {
        h.insert("access-control-allow-origin", v);
    }
    if let Ok(v) = HeaderValue::from_str(&rule.methods.join(", ")) {
        h.insert("access-control-allow-methods", v);
    }
    if !rule.expose.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&rule.expose.join(", ")) {
            h.insert("access-control-expose-headers", v);
        }
    }
    if let Some(a) = rule.max_age {
        h.insert("access-control-max-age", HeaderValue::from(a));
    }
}
