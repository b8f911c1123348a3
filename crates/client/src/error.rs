//! The client's errors, in three families: Client (bad input, nothing sent), Request (the transport failed)
//! and Server (the service answered with an error).

use ossd_errors::{Code, Retry};
use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

/// Which cloud's wire format a response came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Oss,
    S3,
    Cos,
    Obs,
    /// No vendor's request-id header: probably an intermediary (proxy, load balancer) answered.
    Unknown,
}

impl Vendor {
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Oss => "OSS",
            Vendor::S3 => "S3",
            Vendor::Cos => "COS",
            Vendor::Obs => "OBS",
            Vendor::Unknown => "unknown",
        }
    }
}

/// Bad input, found before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientErrorKind {
    InvalidBucketName,
    InvalidObjectName,
    EmptyDeleteList,
    TooManyKeys,
    BodyNotReplayable,
    MissingCredentials,
    InvalidEndpoint,
    InvalidArgument,
    Io,
    /// The data received does not match its checksum.
    Inconsistent,
}

#[derive(Debug, Clone)]
pub struct ClientError {
    pub kind: ClientErrorKind,
    pub message: String,
}

/// When a timeout struck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    Connect,
    /// Waiting for the response head.
    Response,
    /// Reading the response body.
    Body,
    /// The operation's overall deadline.
    Deadline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestErrorKind {
    Dns,
    Connect,
    Tls,
    Timeout(TimeoutPhase),
    ConnectionReset,
    TruncatedBody,
    /// The response could not be understood.
    ResponseDecode,
    Other,
}

#[derive(Debug, Clone)]
pub struct RequestError {
    pub kind: RequestErrorKind,
    /// Whether the request may have reached the server (a retry of a non-idempotent request is unsafe).
    pub maybe_sent: bool,
    pub operation: String,
    pub message: String,
}

/// A typed error code: a catalog row, or a code the catalog does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    Known(Code),
    Unknown(String),
}

impl ErrorCode {
    pub fn from_code(code: &str) -> ErrorCode {
        ErrorCode::from_wire(code, None)
    }

    /// The catalog row of a wire code: the row the EC names when it has that code (rows that share a code differ
    /// in EC), else the code's first row, else the one row another dialect spells this way (S3's BadDigest, say;
    /// not SlowDown, which stands for several rows).
    pub fn from_wire(code: &str, ec: Option<&str>) -> ErrorCode {
        let by_ec = ec.and_then(|ec| Code::ALL.iter().copied().find(|c| c.def().ec == ec && c.def().code == code));
        let by_dialect = || {
            let mut rows = ossd_errors::DIALECT_OVERRIDES.iter().filter(|(_, _, wire, _)| *wire == code);
            match (rows.next(), rows.next()) {
                (Some((c, ..)), None) => Some(*c),
                _ => None,
            }
        };
        match by_ec.or_else(|| Code::from_code(code)).or_else(by_dialect) {
            Some(c) => ErrorCode::Known(c),
            None => ErrorCode::Unknown(code.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Known(c) => c.def().code,
            ErrorCode::Unknown(s) => s,
        }
    }
}

/// Where the code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    Body,
    /// A header (OSS `x-oss-err` on HEAD, OBS `x-obs-error-code`).
    Header,
    /// Made up from the status: there was no code on the wire.
    Synthesized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    NotModified,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    LengthRequired,
    PreconditionFailed,
    RangeNotSatisfiable,
    TooManyRequests,
    ServerError,
    ServiceUnavailable,
    /// A 2xx that still reports a failure (203 CallbackFailed, or an error inside a 200 body).
    SuccessWithError,
    Other(u16),
}

impl StatusClass {
    pub fn of(status: u16) -> StatusClass {
        match status {
            200..=299 => StatusClass::SuccessWithError,
            304 => StatusClass::NotModified,
            400 => StatusClass::BadRequest,
            403 => StatusClass::Forbidden,
            404 => StatusClass::NotFound,
            405 => StatusClass::MethodNotAllowed,
            408 => StatusClass::RequestTimeout,
            409 => StatusClass::Conflict,
            411 => StatusClass::LengthRequired,
            412 => StatusClass::PreconditionFailed,
            416 => StatusClass::RangeNotSatisfiable,
            429 => StatusClass::TooManyRequests,
            503 => StatusClass::ServiceUnavailable,
            500..=599 => StatusClass::ServerError,
            s => StatusClass::Other(s),
        }
    }
}

/// The service answered with an error.
#[derive(Debug, Clone)]
pub struct ServerError {
    pub vendor: Vendor,
    pub operation: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub status: u16,
    pub code: ErrorCode,
    pub code_source: CodeSource,
    pub message: String,
    pub request_id: Option<String>,
    pub host_id: Option<String>,
    pub ec: Option<String>,
    pub recommend_doc: Option<String>,
    /// COS's TraceId.
    pub trace_id: Option<String>,
    /// COS's, S3's and OBS's Resource.
    pub resource: Option<String>,
    /// The other elements of the error body.
    pub extra: BTreeMap<String, String>,
    /// The server's clock, from `Date`.
    pub server_time: Option<SystemTime>,
    /// Response headers, without anything secret.
    pub headers: Vec<(String, String)>,
    /// The raw body, capped.
    pub body: Vec<u8>,
}

impl ServerError {
    pub fn status_class(&self) -> StatusClass {
        StatusClass::of(self.status)
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn code_str(&self) -> &str {
        self.code.as_str()
    }

    pub fn is(&self, code: Code) -> bool {
        self.code == ErrorCode::Known(code) || self.code.as_str() == code.def().code
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    pub fn is_no_such_key(&self) -> bool {
        self.is(Code::NoSuchKey)
    }

    pub fn is_no_such_bucket(&self) -> bool {
        self.is(Code::NoSuchBucket)
    }

    pub fn is_access_denied(&self) -> bool {
        self.is(Code::AccessDenied)
    }

    pub fn is_precondition_failed(&self) -> bool {
        self.status == 412
    }

    /// How a client should treat this error: the catalog's class for known codes, else by status and code.
    pub fn retry_class(&self) -> Retry {
        if let ErrorCode::Known(c) = &self.code {
            if self.code_source != CodeSource::Synthesized {
                return c.def().retry;
            }
        }
        match self.code.as_str() {
            "SlowDown" | "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequests" => {
                return Retry::Throttle
            }
            "RequestTimeout" | "InternalError" | "ServiceUnavailable" => return Retry::Transient,
            "RequestTimeTooSkewed" => return Retry::ClockSkew,
            _ => {}
        }
        match self.status {
            429 => Retry::Throttle,
            500 | 502 | 503 | 504 => Retry::Transient,
            _ => Retry::Never,
        }
    }

    /// COS-style: the raw XML as received.
    pub fn origin_msg(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// COS-style: the parsed fields.
    pub fn digest(&self) -> BTreeMap<String, String> {
        let mut m = self.extra.clone();
        m.insert("Code".into(), self.code.as_str().into());
        m.insert("Message".into(), self.message.clone());
        for (k, v) in [
            ("RequestId", &self.request_id),
            ("HostId", &self.host_id),
            ("EC", &self.ec),
            ("RecommendDoc", &self.recommend_doc),
            ("TraceId", &self.trace_id),
            ("Resource", &self.resource),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone());
            }
        }
        m
    }

    /// The catalog's fix for this error, when the code is known.
    pub fn fix(&self) -> Option<&'static str> {
        match &self.code {
            ErrorCode::Known(c) => Some(c.def().fix),
            ErrorCode::Unknown(_) => None,
        }
    }

    /// No vendor request id: the answer probably came from a proxy, not the service.
    pub fn likely_from_proxy(&self) -> bool {
        self.vendor == Vendor::Unknown
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("client error ({kind:?}): {message}", kind = .0.kind, message = .0.message)]
    Client(ClientError),
    #[error("{}", fmt_request(.0))]
    Request(RequestError),
    #[error("{}", fmt_server(.0))]
    Server(Box<ServerError>),
}

fn fmt_request(e: &RequestError) -> String {
    format!(
        "request error in {}: {:?}{} ({})",
        e.operation,
        e.kind,
        if e.maybe_sent { ", may have been sent" } else { ", not sent" },
        e.message
    )
}

fn fmt_server(e: &ServerError) -> String {
    let mut s = format!("{} {} {} {}: {}", e.vendor.as_str(), e.operation, e.status, e.code.as_str(), e.message);
    if let Some(r) = &e.request_id {
        s.push_str(&format!(" (request id {r}"));
        if let Some(ec) = &e.ec {
            s.push_str(&format!(", EC {ec}"));
        }
        s.push(')');
    } else {
        s.push_str(" (no request id: probably not from the service)");
    }
    s
}

impl Error {
    pub fn client(kind: ClientErrorKind, message: impl Into<String>) -> Error {
        Error::Client(ClientError { kind, message: message.into() })
    }

    pub fn server(&self) -> Option<&ServerError> {
        match self {
            Error::Server(s) => Some(s),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        self.server().and_then(|s| s.request_id())
    }

    /// The family, as the CLI's exit status tells it: 2 client, 3 request, 4 server.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Client(_) => 2,
            Error::Request(_) => 3,
            Error::Server(_) => 4,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
