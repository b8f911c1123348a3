//! The access log's view of a request: what it touched and which code it ended with (kept on the response),
//! and the line written to a bucket's logging target.

use super::util;
use std::net::SocketAddr;

/// The wire code of an error response and its catalog row's EC, kept for the request log (dialects other
/// than OSS send no EC, so the log is where their answers' EC can be read).
#[derive(Clone, Copy)]
pub struct LoggedCode(pub &'static str, pub &'static str);

/// What the request touched, kept for the access log.
#[derive(Clone)]
pub struct RequestInfo {
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub requester: String,
    pub operation: &'static str,
}

/// What the access log needs from the request before it is consumed.
pub struct Seen {
    started: std::time::Instant,
    method: http::Method,
    path: String,
    uri: String,
    referer: String,
    agent: String,
    host: String,
    req_len: String,
}

impl Seen {
    pub fn of<B>(req: &hyper::Request<B>) -> Seen {
        let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
        Seen {
            started: std::time::Instant::now(),
            method: req.method().clone(),
            path: req.uri().path().to_string(),
            uri: req.uri().to_string(),
            referer: header("referer"),
            agent: header("user-agent"),
            host: header("host"),
            req_len: header("content-length"),
        }
    }

    /// The bucket access-log line of a request answered with `resp`.
    pub fn line<B>(
        &self,
        peer: SocketAddr,
        id: &str,
        info: &RequestInfo,
        bucket: &str,
        resp: &hyper::Response<B>,
    ) -> String {
        let Seen { method, uri, referer, agent, host, req_len, .. } = self;
        let sent = resp.headers().get("content-length").and_then(|v| v.to_str().ok()).unwrap_or("0");
        let code = resp.extensions().get::<LoggedCode>().map(|c| c.0).unwrap_or("-");
        let ms = self.started.elapsed().as_millis();
        let time = httpdate::fmt_http_date(std::time::SystemTime::now());
        let requester = if info.requester.is_empty() { "-" } else { info.requester.as_str() };
        format!(
            "{} - - [{time}] \"{method} {uri} HTTP/1.1\" {} {sent} {ms} \"{referer}\" \"{agent}\" \"{host}\" \"{id}\" \"true\" \"{requester}\" \"{}\" \"{bucket}\" \"{}\" - {ms} \"{code}\" {req_len} \"{requester}\"",
            peer.ip(),
            resp.status().as_u16(),
            info.operation,
            util::encode(info.key.as_deref().unwrap_or("-")),
        )
    }

    /// The request's line in the server's own log (target `ossd::request`).
    pub fn trace<B>(&self, id: &str, resp: &hyper::Response<B>) {
        let code = resp.extensions().get::<LoggedCode>().map(|c| c.0).unwrap_or("-");
        let ec = resp.extensions().get::<LoggedCode>().map(|c| c.1).unwrap_or("-");
        let (method, path) = (&self.method, &self.path);
        tracing::info!(target: "ossd::request", "{id} {method} {path} {} {code} {ec}", resp.status().as_u16());
    }
}
