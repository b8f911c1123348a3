//! The S3-style error envelope that S3, COS and OBS share (`<Error><Code/><Message/><Resource/><RequestId/>…`);
//! each dialect says how it fills it.

use crate::http::access_log::LoggedCode;
use crate::http::body::Body;
use crate::http::req::Req;
use http::{HeaderValue, Response, StatusCode};
use ossd_errors::Error;

/// How a dialect fills the S3-style envelope.
pub struct S3Style {
    /// The `<Resource>` element's text.
    pub resource: String,
    /// The element after RequestId: S3 and OBS write HostId, COS TraceId.
    pub extra: (&'static str, String),
    /// Whether a HEAD's error is told in `x-<prefix>-error-code` and `-message` headers (OBS).
    pub head_headers: bool,
}

/// An error in the S3 envelope: the dialect's code and status, `Code, Message, Resource, RequestId` and the
/// dialect's extra element, and no body on HEAD.
pub fn s3_style(e: &Error, r: &Req, is_head: bool, style: S3Style) -> Response<Body> {
    let (code, status) = e.code.in_dialect(r.dialect);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder().status(status);
    for (k, v) in &e.headers {
        if !k.starts_with("x-oss-") {
            b = b.header(*k, v.as_str());
        }
    }
    if style.head_headers && is_head {
        let prefix = r.dialect.prefix();
        b = b.header(format!("{prefix}error-code"), code);
        if let Ok(v) = HeaderValue::from_str(e.message()) {
            b = b.header(format!("{prefix}error-message"), v);
        }
    }
    let resp = if is_head || status == StatusCode::NOT_MODIFIED {
        b.body(Body::Empty)
    } else {
        let (name, value) = &style.extra;
        let xml = ossd_errors::s3_error_xml(e, code, &style.resource, &r.id, &[(name, value.as_str())]);
        b.header(http::header::CONTENT_TYPE, "application/xml").body(Body::full(xml))
    };
    let mut resp = resp.unwrap_or_else(|_| Response::new(Body::Empty));
    resp.extensions_mut().insert(LoggedCode(code, e.def().ec));
    resp
}
