//! The OSS dialect: addressing, authentication, routing to operations, and OSS's error envelope.

pub mod auth;
mod bucket;
pub mod callback;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod image;
mod multipart;
mod object;
pub mod post;
mod web;
mod worm;
pub mod xml;

pub use multipart::parse_part_number;
pub use object::{parse_range, parse_tagging_header, MAX_DELETE_OBJECTS};

use crate::body::Body;
use crate::util;
use crate::State;
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use ossd_engine::model::{BucketRecord, ObjectRecord, UserRecord};
use ossd_errors::{oss_error_xml, Code, Dialect, Error, Result};
use std::sync::Arc;

/// The wire code of an error response, kept for the request log.
#[derive(Clone, Copy)]
pub struct LoggedCode(pub &'static str);

/// What the request touched, kept for the access log.
#[derive(Clone)]
pub struct RequestInfo {
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub requester: String,
    pub operation: &'static str,
}

/// The OSS operation name of a request, for the access log.
fn operation(r: &Req) -> &'static str {
    let (has_bucket, has_key) = (r.bucket.is_some(), r.key.is_some());
    let shape = crate::op::RequestShape {
        method: &r.method,
        has_bucket,
        has_key,
        query: &r.query,
        headers: &r.headers,
        dialect: r.dialect,
    };
    crate::op::Op::from_request(&shape).name()
}

/// One parsed request.
pub struct Req {
    pub id: String,
    pub method: Method,
    pub headers: HeaderMap,
    pub host: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Authenticated user; None for anonymous requests.
    pub user: Option<UserRecord>,
    pub dialect: Dialect,
    /// The path exactly as sent (still percent-encoded).
    pub raw_path: String,
    pub virtual_hosted: bool,
    /// What an S3 signature said about the body.
    pub s3: Option<crate::s3::S3Auth>,
}

impl Req {
    /// An anonymous GET of `key` in this request's bucket, with `headers`: how a website bucket serves its index
    /// and error documents through the ordinary GetObject path.
    pub fn anonymous_get(&self, key: String, headers: HeaderMap) -> Req {
        Req {
            id: self.id.clone(),
            method: Method::GET,
            headers,
            host: self.host.clone(),
            bucket: self.bucket.clone(),
            key: Some(key),
            query: Vec::new(),
            user: None,
            dialect: self.dialect,
            raw_path: self.raw_path.clone(),
            virtual_hosted: self.virtual_hosted,
            s3: None,
        }
    }

    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, k: &str) -> bool {
        self.query.iter().any(|(n, _)| n == k)
    }

    pub fn h(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn bucket(&self) -> Result<&str> {
        self.bucket.as_deref().ok_or_else(|| Error::new(Code::InvalidBucketName))
    }

    pub fn key(&self) -> Result<&str> {
        self.key.as_deref().ok_or_else(|| Error::new(Code::InvalidObjectNameEmpty))
    }

    pub fn owner_id(&self) -> &str {
        self.user.as_ref().map(|u| u.access_key_id.as_str()).unwrap_or("")
    }

    /// `encoding-type=url` was asked for.
    pub fn url_encoding(&self) -> bool {
        self.q("encoding-type") == Some("url")
    }

    /// A bool header such as x-oss-forbid-overwrite.
    pub fn flag(&self, name: &str) -> bool {
        self.h(name).map(|v| v.trim().eq_ignore_ascii_case("true")).unwrap_or(false)
    }
}

/// Splits Host and path into bucket and key: path-style for IP addresses and localhost,
/// virtual-hosted (`bucket.<public host>`) otherwise.
fn address(state: &State, host: &str, path: &str) -> (Option<String>, Option<String>, bool) {
    let host_only = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
    }
    .to_ascii_lowercase();
    if let Some(i) = host_only.find(".cos.").filter(|_| host_only.ends_with(".myqcloud.com")) {
        let decoded = util::decode(path, false);
        let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
        let key = if rest.is_empty() { None } else { Some(rest.to_string()) };
        return (Some(host_only[..i].to_string()), key, true);
    }
    let path_style = host_only.is_empty()
        || host_only == "localhost"
        || host_only.parse::<std::net::IpAddr>().is_ok()
        || !host_only.ends_with(&format!(".{}", state.public_host));
    let decoded = util::decode(path, false);
    let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
    let nonempty = |s: &str| {
        if s.is_empty() {
            None
        } else {
            Some(s.to_string())
        }
    };
    if path_style {
        match rest.split_once('/') {
            Some((b, k)) => (nonempty(b), nonempty(k), false),
            None => (nonempty(rest), None, false),
        }
    } else {
        let b = &host_only[..host_only.len() - state.public_host.len() - 1];
        (nonempty(b), nonempty(rest), true)
    }
}

/// Handles one request and always answers: errors become OSS error responses.
pub async fn handle(
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
        None => crate::dialect::detect(state, &parts.headers, &query, &host),
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
    let is_head = r.method == Method::HEAD;
    let result = if let Err(e) = check_key(&r) {
        Err(e)
    } else if r.method == Method::OPTIONS {
        // A CORS preflight is anonymous by definition.
        web::preflight(state, &r).await
    } else {
        let authed = match r.dialect {
            Dialect::Oss => auth::authenticate(state, &r).await,
            Dialect::Cos => crate::cos::authenticate(state, &r).await,
            Dialect::Obs => crate::obs::authenticate(state, &r).await,
            Dialect::S3 => crate::s3::authenticate(state, &r).await.map(|a| {
                a.map(|(u, s3)| {
                    r.s3 = Some(s3);
                    u
                })
            }),
        };
        if r.dialect != Dialect::Oss {
            r.headers = crate::dialect::normalize(r.dialect, &r.headers, r.key.is_some());
        }
        match authed {
            Ok(user) => {
                r.user = user;
                match admit(state, &r) {
                    Ok(()) => {
                        let resp = route(state, &r, body).await;
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
        Err(e) => error_response(&e, &r, is_head),
    };
    if r.method != Method::OPTIONS {
        web::add_cors_headers(state, &r, &mut resp).await;
    }
    crate::dialect::translate(r.dialect, &mut resp, id);
    let h = resp.headers_mut();
    if r.dialect == Dialect::Oss {
        if let Ok(v) = HeaderValue::from_str(id) {
            h.insert("x-oss-request-id", v);
        }
        h.insert("x-oss-server-time", HeaderValue::from_static("0"));
    }
    h.insert(http::header::SERVER, HeaderValue::from_static("ossd"));
    if has_body && resp.status().as_u16() >= 300 {
        resp.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp.extensions_mut().insert(RequestInfo {
        bucket: r.bucket.clone(),
        key: r.key.clone(),
        requester: r.owner_id().to_string(),
        operation: operation(&r),
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

fn host_id(r: &Req) -> String {
    r.host.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or_else(|| r.host.clone())
}

/// OSS's error response: status, XML body (or x-oss-err on HEAD), x-oss-ec and the error's own headers.
pub fn error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    if let Some((_, detail)) = e.context.iter().find(|(n, _)| *n == "Detail") {
        tracing::error!(request_id = %r.id, "{}: {detail}", e.def().code);
    }
    let def = e.def();
    if r.dialect != Dialect::Oss {
        return dialect_error_response(e, r, is_head);
    }
    let status = StatusCode::from_u16(def.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder().status(status);
    for (k, v) in &e.headers {
        b = b.header(*k, v.as_str());
    }
    b = b.header("x-oss-ec", def.ec);
    let resp = if status == StatusCode::NOT_MODIFIED {
        b.body(Body::Empty)
    } else {
        let xml = oss_error_xml(e, &r.id, &host_id(r));
        b = b.header(http::header::CONTENT_TYPE, "application/xml");
        if is_head {
            b.header("x-oss-err", base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()))
                .header(http::header::CONTENT_LENGTH, "0")
                .body(Body::Empty)
        } else {
            b.body(Body::full(xml))
        }
    };
    let mut resp = resp.unwrap_or_else(|_| {
        let mut r = Response::new(Body::Empty);
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    });
    resp.extensions_mut().insert(LoggedCode(def.code));
    resp
}

/// An error in the S3 envelope (the other dialects' come with them): the dialect's code and status,
/// `Code, Message, Resource, RequestId, HostId`, and no body on HEAD.
fn dialect_error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    let (code, status) = e.code.in_dialect(r.dialect);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder().status(status);
    for (k, v) in &e.headers {
        if !k.starts_with("x-oss-") {
            b = b.header(*k, v.as_str());
        }
    }
    if r.dialect == Dialect::Obs && is_head {
        // OBS tells a HEAD's error in headers.
        b = b.header("x-obs-error-code", code);
        if let Ok(v) = HeaderValue::from_str(e.message()) {
            b = b.header("x-obs-error-message", v);
        }
    }
    let resp = if is_head || status == StatusCode::NOT_MODIFIED {
        b.body(Body::Empty)
    } else {
        let (resource, extra) = match r.dialect {
            // COS clients read every one of Code, Message, Resource, RequestId (and TraceId).
            Dialect::Cos => (format!("{}{}", r.host, r.raw_path), ("TraceId", r.id.as_str())),
            _ => (r.raw_path.clone(), ("HostId", r.id.as_str())),
        };
        let xml = ossd_errors::s3_error_xml(e, code, &resource, &r.id, &[extra]);
        b.header(http::header::CONTENT_TYPE, "application/xml").body(Body::full(xml))
    };
    let mut resp = resp.unwrap_or_else(|_| Response::new(Body::Empty));
    resp.extensions_mut().insert(LoggedCode(code));
    resp
}

/// Which sub-resources name an operation (as opposed to plain parameters).
const BUCKET_SUBRESOURCES_NOT_IMPLEMENTED: &[&str] = &[
    "referer",
    "policy",
    "encryption",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "inventory",
    "tagging",
    "qos",
    "stat",
    "requestPayment",
    "transferAcceleration",
    "cname",
    "metaQuery",
    "httpsConfig",
    "resourceGroup",
    "style",
    "publicAccessBlock",
    "accessPoint",
    "objectInfo",
    "asyncFetch",
    "live",
];

async fn route(state: &Arc<State>, r: &Req, body: Incoming) -> Result<Response<Body>> {
    let m = &r.method;
    if *m == Method::HEAD && r.has("apiversion") {
        // OBS's signature negotiation: this server speaks OBS API 3.0 (whether or not the bucket exists,
        // so that the client's real request gets the real answer).
        return Response::builder().header("x-obs-api", "3.0").body(Body::Empty).map_err(Error::internal);
    }
    let Some(bucket_name) = r.bucket.as_deref() else {
        return match *m {
            Method::GET => bucket::list_buckets(state, r).await,
            _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", m.as_str()).ctx("ResourceType", "Service")),
        };
    };
    ossd_engine::names::check_bucket_name(bucket_name)?;
    if r.key.is_none() {
        let names_subresource =
            r.query.iter().any(|(k, _)| auth::V1_SUBRESOURCES.contains(&k.as_str()) || k == "quota");
        if *m == Method::PUT && !names_subresource {
            return bucket::put_bucket(state, r, body).await;
        }
        let b = bucket_record(state, bucket_name).await?;
        if r.has("worm") || r.has("wormId") {
            return worm::handle(state, r, &b, body).await;
        }
        if r.has("quota") {
            return bucket::quota(state, r, &b, body).await;
        }
        for kind in [config::CORS, config::LIFECYCLE, config::WEBSITE, config::LOGGING] {
            if r.has(kind) {
                return config::handle(state, r, &b, kind, body).await;
            }
        }
        if let Some(site) = web::website_key(state, r).await? {
            return website_get(state, r, &b, site).await;
        }
        if let Some(sub) = unimplemented_subresource(r) {
            return Err(not_implemented_op(sub));
        }
        return match *m {
            Method::PUT if r.has("versioning") => Err(not_implemented_op("PutBucketVersioning")),
            Method::PUT => bucket::put_bucket_acl(state, r, &b).await,
            Method::GET if r.has("acl") => bucket::get_bucket_acl(r, &b),
            Method::GET if r.has("location") => bucket::get_bucket_location(r, &b),
            Method::GET if r.has("bucketInfo") => bucket::get_bucket_info(state, r, &b),
            Method::GET if r.has("uploads") => multipart::list_uploads(state, r, &b).await,
            Method::GET if r.has("versions") => bucket::list_object_versions(state, r, &b).await,
            Method::GET if r.has("versioning") => {
                // Buckets are unversioned: an empty configuration, as for a bucket that never had versioning.
                require_owner(r, &b)?;
                ok_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration/>".to_string())
            }
            Method::GET => bucket::list_objects(state, r, &b).await,
            Method::HEAD => {
                require_owner(r, &b)?;
                Ok(Response::new(Body::Empty))
            }
            Method::DELETE => bucket::delete_bucket(state, r, &b).await,
            Method::POST if r.has("delete") => object::delete_multiple(state, r, &b, body).await,
            Method::POST => post::post_object(state, r, &b, body).await,
            _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", m.as_str()).ctx("ResourceType", "Bucket")),
        };
    }
    let b = bucket_record(state, bucket_name).await?;
    if let Some(sub) = unimplemented_subresource(r).filter(|s| *s != "tagging") {
        return Err(not_implemented_op(sub));
    }
    if let Some(site) = web::website_key(state, r).await? {
        return website_get(state, r, &b, site).await;
    }
    match *m {
        Method::PUT if r.has("acl") => object::put_object_acl(state, r, &b).await,
        Method::PUT if r.has("tagging") => object::put_object_tagging(state, r, &b, body).await,
        Method::PUT if r.has("symlink") => object::put_symlink(state, r, &b).await,
        Method::PUT if r.has("uploadId") => multipart::upload_part(state, r, &b, body).await,
        Method::PUT if r.headers.contains_key("x-oss-copy-source") => object::copy_object(state, r, &b).await,
        Method::PUT => object::put_object(state, r, &b, body).await,
        Method::GET if r.has("acl") => object::get_object_acl(state, r, &b).await,
        Method::GET if r.has("tagging") => object::get_object_tagging(state, r, &b).await,
        Method::GET if r.has("symlink") => object::get_symlink(state, r, &b).await,
        Method::GET if r.has("uploadId") => multipart::list_parts(state, r, &b).await,
        Method::GET => object::get_object(state, r, &b, false).await,
        Method::HEAD if r.has("objectMeta") => object::get_object_meta(state, r, &b).await,
        Method::HEAD => object::get_object(state, r, &b, true).await,
        Method::DELETE if r.has("tagging") => object::delete_object_tagging(state, r, &b).await,
        Method::DELETE if r.has("uploadId") => multipart::abort(state, r, &b).await,
        Method::DELETE => object::delete_object(state, r, &b).await,
        Method::POST if r.has("uploads") => multipart::initiate(state, r, &b).await,
        Method::POST if r.has("uploadId") => multipart::complete(state, r, &b, body).await,
        Method::POST if r.has("append") => object::append_object(state, r, &b, body).await,
        Method::POST if r.has("restore") => worm::restore_object(state, r, &b, body).await,
        _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", m.as_str()).ctx("ResourceType", "Object")),
    }
}

/// An anonymous GET on a website bucket: the index document for the root and "directories", and the
/// error document (with 404) for a key that does not exist.
async fn website_get(
    state: &Arc<State>,
    r: &Req,
    b: &BucketRecord,
    (key, error_key): (String, Option<String>),
) -> Result<Response<Body>> {
    let site = r.anonymous_get(key, r.headers.clone());
    match object::get_object(state, &site, b, false).await {
        Err(e) if e.code == Code::NoSuchKey => match &error_key {
            Some(k) => web::error_document(state, r, k).await.ok_or(e),
            None => Err(e),
        },
        other => other,
    }
}

fn unimplemented_subresource(r: &Req) -> Option<&'static str> {
    BUCKET_SUBRESOURCES_NOT_IMPLEMENTED.iter().copied().find(|s| r.has(s))
}

/// A known OSS operation that ossd does not implement yet: 400 NotImplemented, never a 500 or a wrong success.
pub fn not_implemented_op(what: &str) -> Error {
    Error::new(Code::NotImplemented)
        .msg(format!("The operation {what} is not implemented by ossd yet."))
        .ctx("Operation", what)
}

/// Runs blocking engine work off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(Error::internal)?
}

pub async fn bucket_record(state: &Arc<State>, name: &str) -> Result<BucketRecord> {
    state.bucket(name).await
}

fn denied(r: &Req) -> Error {
    let e = Error::new(Code::AccessDenied);
    if r.user.is_none() {
        e.msg("You are denied by bucket acl.")
    } else {
        e.msg("You have no right to access this bucket.")
    }
}

/// Bucket-level management is for the owner only.
pub fn require_owner(r: &Req, b: &BucketRecord) -> Result<()> {
    match &r.user {
        Some(u) if u.access_key_id == b.owner => Ok(()),
        _ => Err(denied(r)),
    }
}

/// Read or write access to the bucket's contents under its ACL (and the object's, when given).
pub fn check_access(r: &Req, b: &BucketRecord, obj_acl: Option<&str>, write: bool) -> Result<()> {
    if matches!(&r.user, Some(u) if u.access_key_id == b.owner) {
        return Ok(());
    }
    let acl = match obj_acl {
        Some(a) if a != "default" && !a.is_empty() => a,
        _ => b.acl.as_str(),
    };
    let ok = match acl {
        "public-read-write" => true,
        "public-read" => !write,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(denied(r))
    }
}

/// Collects a small request body (XML documents), bounded by `limit` bytes.
pub async fn read_small_body(state: &State, body: Incoming, limit: usize) -> Result<Bytes> {
    let mut body = body;
    // A declared Content-Length past the cap is refused before a byte of the body is read.
    let declared = http_body::Body::size_hint(&body).lower();
    if declared > limit as u64 {
        return Err(Error::new(Code::EntityTooLarge).ctx("MaxSizeAllowed", limit.to_string()));
    }
    let mut buf = bytes::BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(state.idle_timeout, body.frame()).await {
            Err(_) => return Err(Error::new(Code::RequestTimeout)),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(Error::new(Code::RequestTimeout).ctx("Detail", e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(d) = frame.into_data() {
            if buf.len() + d.len() > limit {
                return Err(Error::new(Code::EntityTooLarge).ctx("MaxSizeAllowed", limit.to_string()));
            }
            buf.extend_from_slice(&d);
        }
    }
    Ok(buf.freeze())
}

/// The headers every object response carries.
pub fn object_headers(mut b: http::response::Builder, o: &ObjectRecord) -> http::response::Builder {
    b = b
        .header(http::header::ETAG, format!("\"{}\"", o.etag))
        .header("x-oss-hash-crc64ecma", o.crc64.to_string())
        .header("x-oss-object-type", o.otype.as_str())
        .header("x-oss-storage-class", o.attrs.storage_class.as_str())
        .header(http::header::LAST_MODIFIED, util::http_date(o.mtime_ms))
        .header(http::header::ACCEPT_RANGES, "bytes");
    if o.otype == ossd_engine::model::ObjectType::Appendable {
        b = b.header("x-oss-next-append-position", o.size.to_string());
    }
    if let Some(s) = &o.attrs.sse {
        b = b.header("x-oss-server-side-encryption", s.as_str());
    }
    if let Some(r) = o.restore {
        let now = ossd_engine::model::now_ms();
        if now < r.ready_ms {
            b = b.header("x-oss-restore", "ongoing-request=\"true\"");
        } else if now < r.expiry_ms {
            b = b.header(
                "x-oss-restore",
                format!("ongoing-request=\"false\", expiry-date=\"{}\"", util::http_date(r.expiry_ms)),
            );
        }
    }
    b
}

pub fn ok_xml(xml: String) -> Result<Response<Body>> {
    Response::builder()
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(Body::full(xml))
        .map_err(Error::internal)
}

pub fn empty(status: StatusCode) -> Result<Response<Body>> {
    Response::builder().status(status).body(Body::Empty).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(public: &str) -> State {
        let dir = std::env::temp_dir().join(format!("ossd-addr-{}", ossd_engine::model::random_u64()));
        let engine = ossd_engine::Engine::open(&dir, false, "cn-hangzhou").unwrap();
        State {
            engine: Arc::new(engine),
            region: "cn-hangzhou".into(),
            public_endpoint: public.into(),
            public_host: public.split(':').next().unwrap().into(),
            idle_timeout: std::time::Duration::from_secs(1),
            max_buckets: 100,
            copy_limit: 1 << 30,
            log_flush: std::time::Duration::from_secs(1),
            limits: Default::default(),
            default_dialect: ossd_errors::Dialect::Oss,
            pinned_dialect: None,
            access_log: Default::default(),
            users: Default::default(),
            buckets: Default::default(),
            id_base: 0,
            id_counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    #[test]
    fn path_style_and_virtual_hosted() {
        let s = state("oss.example.com:9000");
        let some = |x: &str| Some(x.to_string());
        assert_eq!(address(&s, "127.0.0.1:9000", "/b/k/x"), (some("b"), some("k/x"), false));
        assert_eq!(address(&s, "localhost", "/b/a//b"), (some("b"), some("a//b"), false));
        assert_eq!(address(&s, "[::1]:9000", "/b"), (some("b"), None, false));
        assert_eq!(address(&s, "127.0.0.1", "/"), (None, None, false));
        assert_eq!(address(&s, "bkt.oss.example.com:9000", "/k%2Fy"), (some("bkt"), some("k/y"), true));
        assert_eq!(address(&s, "bkt.oss.example.com", "/"), (some("bkt"), None, true));
        assert_eq!(address(&s, "oss.example.com", "/b/k"), (some("b"), some("k"), false));
        assert_eq!(address(&s, "127.0.0.1", "/b/%2e%2e/x"), (some("b"), some("../x"), false));
    }
}
