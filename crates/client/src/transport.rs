//! Sending one operation: signing, the retry loop, and turning transport failures and error responses into
//! the three error families.

use crate::decode::{decode, error_in_success, Failed};
use crate::error::{ClientErrorKind, Error, RequestError, RequestErrorKind, Result, TimeoutPhase};
use crate::retry::{Budget, RetryPolicy};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use ossd_errors::Retry;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// How requests are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignVersion {
    /// OSS signature V1.
    V1,
    /// OSS signature V2 (`OSS2`, HMAC-SHA256 over every query parameter).
    V2,
    /// OSS signature V4.
    V4,
    /// S3 SigV4 (`x-amz-` headers).
    S3V4,
    /// Tencent COS q-sign (`x-cos-` headers; the bucket goes in the Host).
    Cos,
    /// Huawei OBS V2-style signature (`x-obs-` headers).
    Obs,
}

impl SignVersion {
    /// The header prefix of this signature's dialect.
    pub fn prefix(self) -> &'static str {
        match self {
            SignVersion::V1 | SignVersion::V2 | SignVersion::V4 => "x-oss-",
            SignVersion::S3V4 => "x-amz-",
            SignVersion::Cos => "x-cos-",
            SignVersion::Obs => "x-obs-",
        }
    }
}

/// The client writes OSS's header names; other dialects get their own prefix (and S3's `acl` name).
fn to_dialect(sign: SignVersion, headers: Vec<(String, String)>) -> Vec<(String, String)> {
    if matches!(sign, SignVersion::V1 | SignVersion::V2 | SignVersion::V4) {
        return headers;
    }
    headers
        .into_iter()
        .map(|(k, v)| match k.strip_prefix("x-oss-") {
            Some("object-acl") | Some("acl") => (format!("{}acl", sign.prefix()), v),
            Some(rest) => (format!("{}{rest}", sign.prefix()), v),
            None => (k, v),
        })
        .collect()
}

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).field("secret", &"<hidden>").finish()
    }
}

/// A request body that can be sent again on a retry (or, for a stream, only once).
pub enum Payload {
    Empty,
    Bytes(Bytes),
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
    /// Sent once; a retry after it started is refused with BodyNotReplayable.
    Stream(Mutex<Option<mpsc::Receiver<io::Result<Bytes>>>>),
}

impl Payload {
    pub fn len(&self) -> Option<u64> {
        match self {
            Payload::Empty => Some(0),
            Payload::Bytes(b) => Some(b.len() as u64),
            Payload::File { len, .. } => Some(*len),
            Payload::Stream(_) => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    fn replayable(&self) -> bool {
        !matches!(self, Payload::Stream(_))
    }

    fn body(&self) -> Result<ReqBody> {
        match self {
            Payload::Empty => Ok(ReqBody::Full(None)),
            Payload::Bytes(b) => Ok(ReqBody::Full(Some(b.clone()))),
            Payload::File { path, offset, len } => {
                let (tx, rx) = mpsc::channel(4);
                let (path, offset, len) = (path.clone(), *offset, *len);
                tokio::spawn(async move {
                    let res: io::Result<()> = async {
                        let mut f = tokio::fs::File::open(&path).await?;
                        tokio::io::AsyncSeekExt::seek(&mut f, io::SeekFrom::Start(offset)).await?;
                        let mut left = len;
                        while left > 0 {
                            let mut buf = vec![0u8; (256 * 1024).min(left as usize)];
                            let n = f.read(&mut buf).await?;
                            if n == 0 {
                                return Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "file shrank while uploading",
                                ));
                            }
                            buf.truncate(n);
                            left -= n as u64;
                            if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                                return Ok(());
                            }
                        }
                        Ok(())
                    }
                    .await;
                    if let Err(e) = res {
                        let _ = tx.send(Err(e)).await;
                    }
                });
                Ok(ReqBody::Stream(rx))
            }
            Payload::Stream(m) => {
                let rx = m.lock().ok().and_then(|mut g| g.take()).ok_or_else(|| {
                    Error::client(
                        ClientErrorKind::BodyNotReplayable,
                        "the request body is a stream that was already sent",
                    )
                })?;
                Ok(ReqBody::Stream(rx))
            }
        }
    }
}

/// The body hyper sends.
pub enum ReqBody {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<io::Result<Bytes>>),
}

impl http_body::Body for ReqBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        match self.get_mut() {
            ReqBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ReqBody::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReqBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ReqBody::Full(None) => SizeHint::with_exact(0),
            ReqBody::Stream(_) => SizeHint::default(),
        }
    }
}

/// One operation, ready to send (and to send again).
pub struct Op<'a> {
    pub name: &'static str,
    pub method: Method,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub payload: Payload,
    /// Safe to repeat after it may have reached the server.
    pub idempotent: bool,
    /// Retry 5xx and throttling answers even though the operation is not idempotent (CompleteMultipartUpload).
    pub retry_server_errors: bool,
    /// A 200 answer may carry an `<Error>` body (Copy, CompleteMultipartUpload).
    pub error_in_200: bool,
}

impl<'a> Op<'a> {
    pub fn new(name: &'static str, method: Method, bucket: Option<&'a str>, key: Option<&'a str>) -> Op<'a> {
        let idempotent = method != Method::POST;
        Op {
            name,
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            payload: Payload::Empty,
            idempotent,
            retry_server_errors: false,
            error_in_200: false,
        }
    }

    pub fn q(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_string(), v.into()));
        self
    }

    pub fn h(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_ascii_lowercase(), v.into()));
        self
    }

    pub fn body(mut self, p: Payload) -> Self {
        self.payload = p;
        self
    }
}

pub struct Transport {
    pub endpoint_scheme: String,
    pub endpoint_host: String,
    pub path_style: bool,
    pub region: String,
    pub credentials: Option<Credentials>,
    pub sign: SignVersion,
    pub retry: RetryPolicy,
    pub response_timeout: Duration,
    pub http: hyper_util::client::legacy::Client<crate::tls::Connector, ReqBody>,
    /// Server time minus local time, in ms, learnt from a RequestTimeTooSkewed answer.
    pub clock_offset_ms: AtomicI64,
    pub budget: Budget,
}

fn now_with_offset(offset_ms: i64) -> SystemTime {
    let now = SystemTime::now();
    if offset_ms >= 0 {
        now + Duration::from_millis(offset_ms as u64)
    } else {
        now - Duration::from_millis(offset_ms.unsigned_abs())
    }
}

fn basic_iso(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    ossd_sign::date::basic_iso(secs)
}

/// The kind of a transport failure, whether the request may have been sent, and the whole chain of causes.
fn classify(e: &hyper_util::client::legacy::Error) -> (RequestErrorKind, bool, String) {
    let mut text = e.to_string();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut io_kind = None;
    let mut incomplete = false;
    let mut tls = false;
    while let Some(s) = src {
        tls |= s.downcast_ref::<crate::tls::TlsError>().is_some();
        text.push_str(": ");
        text.push_str(&s.to_string());
        if let Some(io) = s.downcast_ref::<io::Error>() {
            io_kind = Some(io.kind());
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            incomplete |= h.is_incomplete_message();
        }
        src = s.source();
    }
    if e.is_connect() {
        let kind = if tls {
            RequestErrorKind::Tls
        } else if text.contains("dns error") || text.contains("failed to lookup") {
            RequestErrorKind::Dns
        } else if io_kind == Some(io::ErrorKind::TimedOut) {
            RequestErrorKind::Timeout(TimeoutPhase::Connect)
        } else {
            RequestErrorKind::Connect
        };
        return (kind, false, text);
    }
    let kind = match io_kind {
        Some(io::ErrorKind::ConnectionReset)
        | Some(io::ErrorKind::BrokenPipe)
        | Some(io::ErrorKind::ConnectionAborted) => RequestErrorKind::ConnectionReset,
        _ if incomplete => RequestErrorKind::ConnectionReset,
        _ => RequestErrorKind::Other,
    };
    (kind, true, text)
}

impl Transport {
    fn url_and_host(&self, op: &Op) -> (String, String) {
        let key_path = op.key.map(ossd_sign::encode_path).unwrap_or_default();
        let mut q = String::new();
        for (i, (k, v)) in op.query.iter().enumerate() {
            q.push(if i == 0 { '?' } else { '&' });
            q.push_str(&ossd_sign::encode(k));
            if !v.is_empty() {
                q.push('=');
                q.push_str(&ossd_sign::encode(v));
            }
        }
        if let (SignVersion::Cos, Some(b)) = (self.sign, op.bucket) {
            // COS addresses the bucket by Host only; the connection still goes to the endpoint.
            let (url, _) =
                self.url_and_host(&Op { bucket: None, key: None, ..Op::new(op.name, op.method.clone(), None, None) });
            let base = url.trim_end_matches('/');
            return (format!("{base}/{key_path}{q}"), format!("{b}.cos.{}.myqcloud.com", self.region));
        }
        let (host, path) = match (op.bucket, self.path_style) {
            (None, _) => (self.endpoint_host.clone(), "/".to_string()),
            (Some(b), true) => (self.endpoint_host.clone(), format!("/{b}/{key_path}")),
            (Some(b), false) => (format!("{b}.{}", self.endpoint_host), format!("/{key_path}")),
        };
        let path = if op.bucket.is_some() && op.key.is_none() && self.path_style {
            path.trim_end_matches('/').to_string() + "/"
        } else {
            path
        };
        (format!("{}://{host}{path}{q}", self.endpoint_scheme), host)
    }

    /// Adds Date/x-oss-date and Authorization to `headers`.
    fn sign(&self, op: &Op, host: &str, headers: &mut Vec<(String, String)>) {
        let Some(c) = &self.credentials else { return };
        let now = now_with_offset(self.clock_offset_ms.load(Ordering::Relaxed));
        match self.sign {
            SignVersion::S3V4 => {
                let stamp = basic_iso(now);
                headers.push(("x-amz-date".into(), stamp.clone()));
                headers.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
                let mut all = headers.clone();
                all.push(("host".into(), host.to_string()));
                let mut signed: Vec<String> = all
                    .iter()
                    .map(|(k, _)| k.clone())
                    .filter(|k| k == "host" || k.starts_with("x-amz-") || k == "content-type" || k == "content-md5")
                    .collect();
                signed.sort();
                signed.dedup();
                let path = match op.bucket {
                    None => "/".to_string(),
                    Some(b) => format!("/{b}/{}", op.key.unwrap_or("")),
                };
                let p = ossd_sign::aws::V4Parts {
                    method: op.method.as_str(),
                    path: &path,
                    query: &op.query,
                    headers: &all,
                };
                let canonical = ossd_sign::aws::v4_canonical_request(&p, &signed, "UNSIGNED-PAYLOAD", false);
                let s = ossd_sign::aws::v4_sign(&c.secret, &stamp[..8], &stamp, &self.region, "s3", &canonical);
                headers.push((
                    "authorization".into(),
                    format!(
                        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                        c.access_key_id,
                        s.scope,
                        signed.join(";"),
                        s.signature
                    ),
                ));
            }
            SignVersion::Obs => {
                let date = httpdate::fmt_http_date(now);
                headers.push(("date".into(), date.clone()));
                let resource = match op.bucket {
                    None => "/".to_string(),
                    Some(b) => format!("/{b}/{}", op.key.map(ossd_sign::encode_path).unwrap_or_default()),
                };
                let sts = ossd_sign::aws::v2_string_to_sign(
                    op.method.as_str(),
                    &resource,
                    &op.query,
                    headers,
                    &date,
                    "x-obs-",
                    ossd_sign::aws::OBS_SUBRESOURCES,
                );
                headers.push((
                    "authorization".into(),
                    format!("OBS {}:{}", c.access_key_id, ossd_sign::aws::v2_sign(&c.secret, &sts)),
                ));
            }
            SignVersion::Cos => {
                let t = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                let time = format!("{};{}", t.saturating_sub(60), t + 3600);
                let params: Vec<(String, String)> =
                    op.query.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
                let signed_headers = vec![("host".to_string(), host.to_string())];
                let path = format!("/{}", op.key.unwrap_or(""));
                let sts = ossd_sign::cos::string_to_sign(op.method.as_str(), &path, &params, &signed_headers, &time);
                let sig = ossd_sign::cos::sign(&c.secret, &time, &sts);
                let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
                names.sort();
                headers.push((
                    "authorization".into(),
                    format!(
                        "q-sign-algorithm=sha1&q-ak={}&q-sign-time={time}&q-key-time={time}&q-header-list=host&q-url-param-list={}&q-signature={sig}",
                        c.access_key_id,
                        names.join(";")
                    ),
                ));
            }
            SignVersion::V1 => {
                let date = httpdate::fmt_http_date(now);
                headers.push(("date".into(), date.clone()));
                let p = ossd_sign::Parts {
                    method: op.method.as_str(),
                    bucket: op.bucket,
                    key: op.key,
                    query: &op.query,
                    headers,
                };
                let sts = ossd_sign::v1_string_to_sign(&p, &date);
                let sig = ossd_sign::v1_sign(&c.secret, &sts);
                headers.push(("authorization".into(), format!("OSS {}:{sig}", c.access_key_id)));
            }
            SignVersion::V2 => {
                let date = httpdate::fmt_http_date(now);
                headers.push(("date".into(), date.clone()));
                let p = ossd_sign::Parts {
                    method: op.method.as_str(),
                    bucket: op.bucket,
                    key: op.key,
                    query: &op.query,
                    headers,
                };
                let sig = ossd_sign::v2_sign(&c.secret, &ossd_sign::v2_string_to_sign(&p, &date, &[], false));
                headers.push(("authorization".into(), format!("OSS2 AccessKeyId:{},Signature:{sig}", c.access_key_id)));
            }
            SignVersion::V4 => {
                let stamp = basic_iso(now);
                headers.push(("x-oss-date".into(), stamp.clone()));
                headers.push(("x-oss-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
                headers.push(("date".into(), httpdate::fmt_http_date(now)));
                let p = ossd_sign::Parts {
                    method: op.method.as_str(),
                    bucket: op.bucket,
                    key: op.key,
                    query: &op.query,
                    headers,
                };
                let canonical = ossd_sign::v4_canonical_request(&p, &[], false);
                let (sig, _) = ossd_sign::v4_sign(&c.secret, &stamp[..8], &stamp, &self.region, "oss", &canonical);
                headers.push((
                    "authorization".into(),
                    format!(
                        "OSS4-HMAC-SHA256 Credential={}/{}/{}/oss/aliyun_v4_request,Signature={sig}",
                        c.access_key_id,
                        &stamp[..8],
                        self.region
                    ),
                ));
            }
        }
    }

    /// A presigned URL for `op`, valid for `expires`.
    pub fn presign(&self, op: &Op, expires: Duration) -> Result<String> {
        let c = self
            .credentials
            .as_ref()
            .ok_or_else(|| Error::client(ClientErrorKind::MissingCredentials, "presigning needs credentials"))?;
        let now = now_with_offset(self.clock_offset_ms.load(Ordering::Relaxed));
        let mut q = op.query.clone();
        match self.sign {
            SignVersion::V1 => {
                let exp =
                    now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + expires.as_secs();
                let p = ossd_sign::Parts {
                    method: op.method.as_str(),
                    bucket: op.bucket,
                    key: op.key,
                    query: &q,
                    headers: &op.headers,
                };
                let sig = ossd_sign::v1_sign(&c.secret, &ossd_sign::v1_string_to_sign(&p, &exp.to_string()));
                q.push(("OSSAccessKeyId".into(), c.access_key_id.clone()));
                q.push(("Expires".into(), exp.to_string()));
                q.push(("Signature".into(), sig));
            }
            SignVersion::V2 => {
                let exp =
                    now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + expires.as_secs();
                q.push(("x-oss-signature-version".into(), "OSS2".into()));
                q.push(("x-oss-expires".into(), exp.to_string()));
                q.push(("x-oss-access-key-id".into(), c.access_key_id.clone()));
                let p = ossd_sign::Parts {
                    method: op.method.as_str(),
                    bucket: op.bucket,
                    key: op.key,
                    query: &q,
                    headers: &op.headers,
                };
                let sig = ossd_sign::v2_sign(&c.secret, &ossd_sign::v2_string_to_sign(&p, &exp.to_string(), &[], true));
                q.push(("x-oss-signature".into(), sig));
            }
            SignVersion::S3V4 => {
                let stamp = basic_iso(now);
                let host = self.url_and_host(op).1;
                let scope = format!("{}/{}/s3/aws4_request", &stamp[..8], self.region);
                q.push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
                q.push(("X-Amz-Credential".into(), format!("{}/{scope}", c.access_key_id)));
                q.push(("X-Amz-Date".into(), stamp.clone()));
                q.push(("X-Amz-Expires".into(), expires.as_secs().to_string()));
                q.push(("X-Amz-SignedHeaders".into(), "host".into()));
                let path = match op.bucket {
                    None => "/".to_string(),
                    Some(b) => format!("/{b}/{}", op.key.unwrap_or("")),
                };
                let hs = vec![("host".to_string(), host)];
                let p = ossd_sign::aws::V4Parts { method: op.method.as_str(), path: &path, query: &q, headers: &hs };
                let canonical =
                    ossd_sign::aws::v4_canonical_request(&p, &["host".to_string()], "UNSIGNED-PAYLOAD", true);
                let s = ossd_sign::aws::v4_sign(&c.secret, &stamp[..8], &stamp, &self.region, "s3", &canonical);
                q.push(("X-Amz-Signature".into(), s.signature));
            }
            SignVersion::Cos | SignVersion::Obs => {
                return Err(Error::client(
                    ClientErrorKind::InvalidArgument,
                    "presigned URLs are made for OSS and S3 signatures only",
                ));
            }
            SignVersion::V4 => {
                let stamp = basic_iso(now);
                q.push(("x-oss-signature-version".into(), "OSS4-HMAC-SHA256".into()));
                q.push((
                    "x-oss-credential".into(),
                    format!("{}/{}/{}/oss/aliyun_v4_request", c.access_key_id, &stamp[..8], self.region),
                ));
                q.push(("x-oss-date".into(), stamp.clone()));
                q.push(("x-oss-expires".into(), expires.as_secs().to_string()));
                let p = ossd_sign::Parts {
                    method: op.method.as_str(),
                    bucket: op.bucket,
                    key: op.key,
                    query: &q,
                    headers: &op.headers,
                };
                let canonical = ossd_sign::v4_canonical_request(&p, &[], true);
                let (sig, _) = ossd_sign::v4_sign(&c.secret, &stamp[..8], &stamp, &self.region, "oss", &canonical);
                q.push(("x-oss-signature".into(), sig));
            }
        }
        let signed = Op { query: q, ..Op::new(op.name, op.method.clone(), op.bucket, op.key) };
        Ok(self.url_and_host(&signed).0)
    }

    fn request_error(op: &Op, kind: RequestErrorKind, maybe_sent: bool, message: impl Into<String>) -> Error {
        Error::Request(RequestError { kind, maybe_sent, operation: op.name.to_string(), message: message.into() })
    }

    /// Sends `op` with retries; returns the response head and its (small) body when `read_body`, else the
    /// streaming response.
    pub async fn send(&self, op: &Op<'_>) -> Result<Answer> {
        let policy = &self.retry;
        let started = Instant::now();
        let mut skew_fixed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = self.attempt(op, started).await;
            let (retry, status, code, request_id, maybe_sent) = match &outcome {
                Ok(_) => {
                    self.budget.success();
                    return outcome;
                }
                Err(Error::Server(s)) => {
                    let class = s.retry_class();
                    if class == Retry::ClockSkew && !skew_fixed {
                        if let Some(server) = s.server_time {
                            let offset = match server.duration_since(SystemTime::now()) {
                                Ok(d) => d.as_millis() as i64,
                                Err(e) => -(e.duration().as_millis() as i64),
                            };
                            self.clock_offset_ms.store(offset, Ordering::Relaxed);
                            skew_fixed = true;
                            tracing::warn!(operation = op.name, attempt, offset_ms = offset, request_id = ?s.request_id, "clock skew: retrying once with the server's time");
                            continue;
                        }
                    }
                    (class, s.status, s.code.as_str().to_string(), s.request_id.clone(), true)
                }
                Err(Error::Request(r)) => {
                    let class = match r.kind {
                        RequestErrorKind::Dns
                        | RequestErrorKind::Connect
                        | RequestErrorKind::Timeout(TimeoutPhase::Connect) => Retry::Transient,
                        RequestErrorKind::Timeout(TimeoutPhase::Deadline) => Retry::Never,
                        RequestErrorKind::Timeout(_)
                        | RequestErrorKind::ConnectionReset
                        | RequestErrorKind::TruncatedBody => Retry::Transient,
                        _ => Retry::Never,
                    };
                    (class, 0, format!("{:?}", r.kind), None, r.maybe_sent)
                }
                Err(Error::Client(_)) => return outcome,
            };
            let allowed = match retry {
                Retry::Never | Retry::ClockSkew => false,
                Retry::Transient | Retry::Throttle => {
                    let server_answer = status != 0;
                    (!maybe_sent || op.idempotent || (server_answer && op.retry_server_errors))
                        && op.payload.replayable()
                }
            };
            if !allowed || attempt >= policy.max_attempts {
                return outcome;
            }
            let delay = policy.delay(attempt, retry == Retry::Throttle);
            if let Some(deadline) = policy.deadline {
                if started.elapsed() + delay >= deadline {
                    return outcome;
                }
            }
            if !self.budget.withdraw(status == 0) {
                tracing::warn!(operation = op.name, attempt, "retry budget exhausted");
                return outcome;
            }
            tracing::warn!(
                operation = op.name,
                attempt,
                delay_ms = delay.as_millis() as u64,
                status,
                code = %code,
                request_id = ?request_id,
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, op: &Op<'_>, started: Instant) -> Result<Answer> {
        let (url, host) = self.url_and_host(op);
        let mut headers = to_dialect(self.sign, op.headers.clone());
        if let Some(n) = op.payload.len() {
            if !headers.iter().any(|(k, _)| k == "content-length")
                && (n > 0 || op.method == Method::PUT || op.method == Method::POST)
            {
                headers.push(("content-length".into(), n.to_string()));
            }
        }
        self.sign(op, &host, &mut headers);
        let mut b = Request::builder().method(op.method.clone()).uri(&url).header(http::header::HOST, host);
        for (k, v) in &headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req =
            b.body(op.payload.body()?).map_err(|e| Error::client(ClientErrorKind::InvalidArgument, e.to_string()))?;
        let mut wait = self.response_timeout;
        if let Some(d) = self.retry.deadline {
            let left = d.checked_sub(started.elapsed()).unwrap_or_default();
            if left.is_zero() {
                return Err(Self::request_error(
                    op,
                    RequestErrorKind::Timeout(TimeoutPhase::Deadline),
                    false,
                    "deadline passed",
                ));
            }
            wait = wait.min(left);
        }
        let resp = match tokio::time::timeout(wait, self.http.request(req)).await {
            Err(_) => {
                return Err(Self::request_error(
                    op,
                    RequestErrorKind::Timeout(TimeoutPhase::Response),
                    true,
                    "no response in time",
                ))
            }
            Ok(Err(e)) => {
                let (kind, maybe_sent, text) = classify(&e);
                return Err(Self::request_error(op, kind, maybe_sent, text));
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if status >= 300 || (op.error_in_200 && status == 200) || status == 203 {
            let (parts, body) = resp.into_parts();
            let bytes = read_body(op, body, self.response_timeout).await?;
            if status < 300 && status != 203 && !error_in_success(&bytes) {
                return Ok(Answer { head: parts, body: AnswerBody::Read(bytes) });
            }
            let e = decode(Failed {
                operation: op.name,
                bucket: op.bucket,
                key: op.key,
                status,
                headers: &parts.headers,
                body: &bytes,
            });
            return Err(Error::Server(Box::new(e)));
        }
        let (head, body) = resp.into_parts();
        Ok(Answer { head, body: AnswerBody::Stream(body) })
    }
}

/// A successful answer: its head, and its body as a stream or as bytes already read.
pub struct Answer {
    pub head: http::response::Parts,
    pub body: AnswerBody,
}

pub enum AnswerBody {
    Stream(Incoming),
    Read(Bytes),
}

impl Answer {
    pub fn status(&self) -> u16 {
        self.head.status.as_u16()
    }

    /// A response header; `x-oss-…` names also find their `x-amz-`, `x-cos-` and `x-obs-` twins.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_str(&self.head.headers, name)
    }

    /// The whole body.
    pub async fn bytes(self, op: &Op<'_>, timeout: Duration) -> Result<Bytes> {
        match self.body {
            AnswerBody::Read(b) => Ok(b),
            AnswerBody::Stream(s) => read_body(op, s, timeout).await,
        }
    }
}

/// Reads a whole (small) body, with a timeout per chunk.
pub async fn read_body(op: &Op<'_>, body: Incoming, timeout: Duration) -> Result<Bytes> {
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    loop {
        match tokio::time::timeout(timeout, body.frame()).await {
            Err(_) => {
                return Err(Transport::request_error(
                    op,
                    RequestErrorKind::Timeout(TimeoutPhase::Body),
                    true,
                    "body stalled",
                ))
            }
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(e))) => return Err(Transport::request_error(op, body_error_kind(&e), true, e.to_string())),
            Ok(Some(Ok(f))) => {
                if let Ok(d) = f.into_data() {
                    buf.extend_from_slice(&d);
                }
            }
        }
    }
}

/// A failure while reading a response body: cut short (truncated) or torn down (reset).
pub fn body_error_kind(e: &hyper::Error) -> RequestErrorKind {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_incomplete_message() || text.contains("end of file") || text.contains("incomplete") {
        RequestErrorKind::TruncatedBody
    } else {
        RequestErrorKind::ConnectionReset
    }
}

pub fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    if let Some(v) = h.get(name).and_then(|v| v.to_str().ok()) {
        return Some(v);
    }
    let rest = name.strip_prefix("x-oss-")?;
    ["x-amz-", "x-cos-", "x-obs-"].iter().find_map(|p| h.get(format!("{p}{rest}")).and_then(|v| v.to_str().ok()))
}

pub fn header_value(v: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(v)
        .map_err(|_| Error::client(ClientErrorKind::InvalidArgument, format!("{v:?} is not a valid header value")))
}
