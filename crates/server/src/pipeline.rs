//! The pipeline: a request goes from the wire (`http`: parse and address) to its dialect (`dialect`: detect,
//! authenticate), through the limits, to the operation (`ops::router`), and back out through the dialect's
//! rendering; then the access log.

use crate::dialect;
use crate::http::access_log::{RequestInfo, Seen};
use crate::http::body::Body;
use crate::http::req::{address, Req};
use crate::http::util;
use crate::ops;
use crate::ops::op::{Op, RequestShape};
use crate::State;
use http::{HeaderValue, Method, Response};
use hyper::body::Incoming;
use ossd_errors::{Dialect, Result};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

/// The server's request handler, as the connection layer takes it.
pub fn handler(
    state: Arc<State>,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    pinned: Option<Dialect>,
) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
    Box::pin(handle(state, req, peer, pinned))
}

/// Answers one request, then writes its access-log line (when the bucket logs) and its server-log line.
pub async fn handle(
    state: Arc<State>,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    pinned: Option<Dialect>,
) -> Response<Body> {
    let id = state.request_id();
    let seen = Seen::of(&req);
    let resp = answer(&state, req, &id, pinned).await;
    if let Some(info) = resp.extensions().get::<RequestInfo>() {
        if let Some(bucket) = info.bucket.as_deref() {
            if let Ok(Some(_)) = state.bucket_config(bucket, ops::config::LOGGING).await {
                state.engine.queue_log_line(bucket, seen.line(peer, &id, info, bucket, &resp));
            }
        }
    }
    seen.trace(&id, &resp);
    resp
}

/// Parses, authenticates, admits and routes one request; always answers (an error in the dialect's envelope).
async fn answer(
    state: &Arc<State>,
    req: hyper::Request<Incoming>,
    id: &str,
    pinned: Option<Dialect>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(parts.uri.host())
        .unwrap_or("")
        .to_string();
    // An error may be answered before the body is read; such a connection cannot be reused.
    let has_body = parts.headers.contains_key(http::header::TRANSFER_ENCODING)
        || parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let (bucket, key, virtual_hosted) = address(state, &host, parts.uri.path());
    let query = util::parse_query(parts.uri.query().unwrap_or(""));
    let dialect = match pinned {
        Some(d) => d,
        None => dialect::detect(state, &parts.headers, &query, &host),
    };
    let mut r = Req {
        id: id.to_string(),
        method: parts.method,
        headers: parts.headers,
        host,
        bucket,
        key,
        query,
        user: None,
        dialect,
        raw_path: parts.uri.path().to_string(),
        virtual_hosted,
        s3: None,
    };
    let op = Op::from_request(&RequestShape::of(&r));
    let is_head = r.method == Method::HEAD;
    let result = if let Err(e) = check_key(&r) {
        Err(e)
    } else if let Op::Options(_) = op {
        // A CORS preflight is anonymous by definition.
        ops::cors::preflight(state, &r).await
    } else {
        let authed = dialect::authenticate(state, &mut r).await;
        if r.dialect != Dialect::Oss {
            r.headers = dialect::normalize(r.dialect, &r.headers, r.key.is_some());
        }
        match authed {
            Ok(user) => {
                r.user = user;
                match admit(state, &r) {
                    Ok(()) => {
                        let resp = ops::router::route(state, &r, op, body).await;
                        if let (Ok(resp), Some(b)) = (&resp, &r.bucket) {
                            if r.method == Method::GET && r.key.is_some() {
                                let sent = resp.headers().get(http::header::CONTENT_LENGTH);
                                let n = sent.and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
                                state.limits.charge_download(b, n);
                            }
                        }
                        resp
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    };
    let mut resp = match result {
        Ok(resp) => resp,
        Err(e) => dialect::error_response(&e, &r, is_head),
    };
    if !matches!(op, Op::Options(_)) {
        ops::cors::add_cors_headers(state, &r, &mut resp).await;
    }
    let h = resp.headers_mut();
    dialect::stamp(r.dialect, h, id);
    h.insert(http::header::SERVER, HeaderValue::from_static("ossd"));
    if has_body && resp.status().as_u16() >= 300 {
        resp.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp.extensions_mut().insert(RequestInfo {
        bucket: r.bucket.clone(),
        key: r.key.clone(),
        requester: r.owner_id().to_string(),
        operation: op.name(),
    });
    resp
}

/// The object key of a request follows its dialect's naming rules (UTF-8, length, leading slash), for every
/// operation, before authentication or any other work.
fn check_key(r: &Req) -> Result<()> {
    let Some(key) = &r.key else { return Ok(()) };
    ossd_engine::names::decode_object_name(r.raw_path.as_bytes())?;
    ossd_engine::names::check_object_name_in(key, r.dialect)
}

/// Applies the configured QPS and bandwidth limits before any work is done.
fn admit(state: &State, r: &Req) -> Result<()> {
    state.limits.admit(r.key.is_none(), r.user.as_ref().map(|u| u.access_key_id.as_str()))?;
    if let (Some(b), true) = (&r.bucket, r.key.is_some()) {
        match r.method {
            Method::GET => state.limits.check_download(b)?,
            Method::PUT | Method::POST => {
                let n = r.h("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                state.limits.admit_upload(b, n)?;
            }
            _ => {}
        }
    }
    Ok(())
}
