//! The COS dialect: `q-sign-algorithm` signatures (header and presigned), and COS's error envelope.

pub mod auth;

pub use auth::authenticate;

use crate::dialect::envelope::{s3_style, S3Style};
use crate::http::body::Body;
use crate::http::req::Req;
use http::Response;
use ossd_errors::Error;

/// An error as this dialect answers it.
pub fn error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    let style = // COS clients read every one of Code, Message, Resource, RequestId (and TraceId).
    S3Style { resource: format!("{}{}", r.host, r.raw_path), extra: ("TraceId", r.id.clone()), head_headers: false };
    s3_style(e, r, is_head, style)
}
