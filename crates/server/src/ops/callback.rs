//! Upload callbacks (`x-oss-callback`, `x-oss-callback-var`): after an object is stored, ossd POSTs to the
//! application server and returns its answer. If the callback fails the object stays stored and the answer
//! is 203 CallbackFailed.

use super::Answer;
use crate::dialect::vocab::Vocab;
use crate::http::body::Body;
use crate::http::json::{self, Json};
use crate::http::util::{self};
use base64::Engine as _;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use ossd_engine::model::ObjectRecord;
use ossd_errors::{Code, Error, Result};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Callback {
    pub urls: Vec<String>,
    pub host: Option<String>,
    pub body: String,
    pub body_type: String,
    /// x:name variables.
    pub vars: Vec<(String, String)>,
}

/// The longest callback and callback-var parameters, base64 as sent (OSS: 5 KB, EC 0007-00000001 and
/// 0007-00000101).
pub const MAX_CALLBACK_PARAM: usize = 5 * 1024;
/// The most URLs one callbackUrl may list (OSS: 5, EC 0007-00000005).
pub const MAX_CALLBACK_URLS: usize = 5;
/// The largest answer read from a callback server (OSS: "The size of the response body cannot exceed 1 MB").
pub const MAX_CALLBACK_ANSWER: usize = 1 << 20;

fn bad(msg: &'static str, value: &str) -> Error {
    let shown: String = value.chars().take(256).collect();
    Error::new(Code::InvalidArgument).msg(msg).ctx("ArgumentName", "callback").ctx("ArgumentValue", shown)
}

fn decode_b64_json(v: &str, what: &'static str) -> Result<Json> {
    let raw = base64::engine::general_purpose::STANDARD.decode(v.trim()).map_err(|_| bad(what, v))?;
    json::parse(&raw).map_err(|_| bad(what, v))
}

/// Parses the callback parameter and its variables (both base64 JSON).
pub fn parse(callback: &str, vars: Option<&str>) -> Result<Callback> {
    if callback.len() > MAX_CALLBACK_PARAM {
        return Err(Error::new(Code::CallbackTooLong).ctx("ArgumentName", "callback"));
    }
    if vars.is_some_and(|v| v.len() > MAX_CALLBACK_PARAM) {
        return Err(Error::new(Code::CallbackVarTooLong).ctx("ArgumentName", "callback-var"));
    }
    let j = decode_b64_json(callback, "The callback configuration is not json format.")?;
    let url =
        j.get("callbackUrl").and_then(Json::as_str).ok_or_else(|| bad("The callbackUrl is missing.", callback))?;
    let urls: Vec<String> = url.split(';').map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
    if urls.len() > MAX_CALLBACK_URLS {
        let shown: String = url.chars().take(256).collect();
        return Err(Error::new(Code::CallbackTooManyUrls)
            .ctx("ArgumentName", "callbackUrl")
            .ctx("ArgumentValue", shown));
    }
    if urls.is_empty() || !urls.iter().all(|u| u.starts_with("http://") || u.starts_with("https://")) {
        return Err(bad("The callbackUrl is invalid.", url));
    }
    let body =
        j.get("callbackBody").and_then(Json::as_str).ok_or_else(|| bad("The callbackBody is missing.", callback))?;
    let body_type =
        j.get("callbackBodyType").and_then(Json::as_str).unwrap_or("application/x-www-form-urlencoded").to_string();
    let mut cb = Callback {
        urls,
        host: j.get("callbackHost").and_then(Json::as_str).map(str::to_string),
        body: body.to_string(),
        body_type,
        vars: Vec::new(),
    };
    if let Some(v) = vars {
        let vj = decode_b64_json(v, "The callback-var is not json format.")?;
        if let Json::Object(m) = vj {
            for (k, v) in m {
                if k.starts_with("x:") {
                    cb.vars.push((k, v.as_str().map(str::to_string).unwrap_or_default()));
                }
            }
        }
    }
    Ok(cb)
}

impl Callback {
    /// The request body with `${…}` variables replaced.
    pub fn render(&self, o: &ObjectRecord) -> String {
        let form = !self.body_type.contains("json");
        let esc = |s: &str| if form { util::encode(s) } else { s.to_string() };
        let mut out = self.body.clone();
        for (name, value) in [
            ("bucket", o.bucket.clone()),
            ("object", o.key.clone()),
            ("etag", o.etag.clone()),
            ("size", o.size.to_string()),
            ("mimeType", o.attrs.content_type.clone()),
            ("crc64", o.crc64.to_string()),
        ] {
            out = out.replace(&format!("${{{name}}}"), &esc(&value));
        }
        for (k, v) in &self.vars {
            out = out.replace(&format!("${{{k}}}"), &esc(v));
        }
        out
    }
}

async fn post(
    url: &str,
    host: Option<&str>,
    content_type: &str,
    body: String,
) -> std::result::Result<(u16, Bytes), String> {
    let rest = url.strip_prefix("http://").ok_or("only http:// callback URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    let stream = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(&addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let req = http::Request::post(path)
        .header(http::header::HOST, host.unwrap_or(authority))
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(Duration::from_secs(5), sender.send_request(req))
        .await
        .map_err(|_| "no answer within 5 s".to_string())?
        .map_err(|e| format!("request: {e}"))?;
    let status = resp.status().as_u16();
    // The answer is read only up to the size a callback answer may have.
    let limited = http_body_util::Limited::new(resp.into_body(), MAX_CALLBACK_ANSWER);
    let body = tokio::time::timeout(Duration::from_secs(5), limited.collect())
        .await
        .map_err(|_| "body timed out".to_string())?
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// Calls the application server for a stored object. Its 200 JSON answer is returned to the client;
/// anything else gives 203 CallbackFailed (the object stays stored).
pub async fn call(cb: &Callback, o: &ObjectRecord, vocab: Vocab) -> Result<Response<Body>> {
    let body = cb.render(o);
    let mut last = String::new();
    // The last URL's failure chooses the row: 200 with a body that is not JSON has an EC of its own.
    let mut code = Code::CallbackFailed;
    for url in &cb.urls {
        match post(url, cb.host.as_deref(), &cb.body_type, body.clone()).await {
            Ok((200, answer)) if json::parse(&answer).is_ok() => {
                return Response::builder()
                    .status(StatusCode::OK)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(http::header::ETAG, vocab.etag(&o.etag))
                    .engine_header(vocab, "hash-crc64ecma", o.crc64.to_string())
                    .body(Body::full(answer))
                    .map_err(Error::internal);
            }
            Ok((200, _)) => {
                last = format!("{url}: the callback server's answer is not JSON");
                code = Code::CallbackFailedNotJson;
            }
            Ok((s, _)) => {
                last = format!("{url}: the callback server answered {s}");
                code = Code::CallbackFailed;
            }
            Err(e) => {
                last = format!("{url}: {e}");
                code = Code::CallbackFailed;
            }
        }
    }
    tracing::warn!(bucket = %o.bucket, key = %o.key, "callback failed: {last}");
    Err(Error::new(code)
        .ctx("Detail", last)
        .header("etag", vocab.etag(&o.etag))
        .header("x-oss-hash-crc64ecma", o.crc64.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ossd_engine::model::{ObjectAttrs, ObjectType};

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn parses_and_renders() {
        let cb = parse(
            &b64(r#"{"callbackUrl":"http://127.0.0.1:1/cb","callbackBody":"b=${bucket}&k=${object}&s=${size}&v=${x:tag}"}"#),
            Some(&b64(r#"{"x:tag":"a b"}"#)),
        )
        .unwrap();
        let o = ObjectRecord {
            bucket: "bk".into(),
            key: "dir/f x".into(),
            size: 3,
            etag: "E".into(),
            crc64: 0,
            mtime_ms: 0,
            otype: ObjectType::Normal,
            attrs: ObjectAttrs::default(),
            segments: vec![],
            symlink_target: None,
            restore: None,
            pin: Default::default(),
        };
        assert_eq!(cb.render(&o), "b=bk&k=dir%2Ff%20x&s=3&v=a%20b");
    }

    #[test]
    fn rejects_bad_parameters() {
        for bad in [
            "!!",
            &b64("not json"),
            &b64(r#"{"callbackBody":"x"}"#),
            &b64(r#"{"callbackUrl":"ftp://x","callbackBody":"x"}"#),
        ] {
            assert_eq!(parse(bad, None).unwrap_err().code, Code::InvalidArgument, "{bad}");
        }
        let six = b64(r#"{"callbackUrl":"http://a;http://b;http://c;http://d;http://e;http://f","callbackBody":"x"}"#);
        assert_eq!(parse(&six, None).unwrap_err().code, Code::CallbackTooManyUrls);
        assert_eq!(parse(&"A".repeat(MAX_CALLBACK_PARAM + 1), None).unwrap_err().code, Code::CallbackTooLong);
        let ok = b64(r#"{"callbackUrl":"http://a","callbackBody":"x"}"#);
        assert_eq!(parse(&ok, Some(&"A".repeat(MAX_CALLBACK_PARAM + 1))).unwrap_err().code, Code::CallbackVarTooLong);
        // Deeply nested JSON is refused, not recursed into.
        assert_eq!(parse(&b64(&"[".repeat(3000)), None).unwrap_err().code, Code::InvalidArgument);
    }
}
