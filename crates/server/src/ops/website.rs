//! Static website serving from a bucket's website configuration: the index document for the root and
//! "directories", and the error document (with 404) for a key that does not exist.

use super::config::{parse_website, WEBSITE};
use crate::http::body::Body;
use crate::http::req::Req;
use crate::State;
use http::{Method, Response, StatusCode};
use ossd_engine::model::BucketRecord;
use ossd_errors::{Code, Result};
use std::sync::Arc;

/// For an anonymous GET on a bucket with a website configuration: the key to serve instead
/// (the index document for the root or a "directory"), or None when the website does not apply.
pub async fn website_key(state: &Arc<State>, r: &Req) -> Result<Option<(String, Option<String>)>> {
    if r.user.is_some() || r.method != Method::GET || !r.query.is_empty() {
        return Ok(None);
    }
    let Some(bucket) = r.bucket.as_deref() else { return Ok(None) };
    let Some(doc) = state.bucket_config(bucket, WEBSITE).await? else { return Ok(None) };
    let Ok(site) = parse_website(doc.as_bytes()) else { return Ok(None) };
    let key = match r.key.as_deref() {
        None => site.index.clone(),
        Some(k) if k.ends_with('/') => format!("{k}{}", site.index),
        Some(k) => k.to_string(),
    };
    Ok(Some((key, site.error)))
}

/// Serves the website's error document with status 404, or None when there is none to serve.
pub async fn error_document(state: &Arc<State>, r: &Req, error_key: &str) -> Option<Response<Body>> {
    let er = r.anonymous_get(error_key.to_string(), http::HeaderMap::new());
    let b = super::bucket_record(state, r.bucket.as_deref()?).await.ok()?;
    let mut resp = super::get::get_object(state, &er, &b, false).await.ok()?;
    *resp.status_mut() = StatusCode::NOT_FOUND;
    Some(resp)
}

/// An anonymous GET on a website bucket: the index document for the root and "directories", and the
/// error document (with 404) for a key that does not exist.
pub async fn website_get(
    state: &Arc<State>,
    r: &Req,
    b: &BucketRecord,
    (key, error_key): (String, Option<String>),
) -> Result<Response<Body>> {
    let site = r.anonymous_get(key, r.headers.clone());
    match super::get::get_object(state, &site, b, false).await {
        Err(e) if e.code == Code::NoSuchKey => match &error_key {
            Some(k) => error_document(state, r, k).await.ok_or(e),
            None => Err(e),
        },
        other => other,
    }
}
