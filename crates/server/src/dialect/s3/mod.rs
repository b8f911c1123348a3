//! The S3 dialect: SigV4 (header, presigned, aws-chunked bodies) and SigV2 signatures, and S3's error envelope.

pub mod auth;

pub use auth::authenticate;

use crate::dialect::envelope::{s3_style, S3Style};
use crate::http::body::Body;
use crate::http::req::Req;
use http::Response;
use ossd_errors::Error;

/// An error as this dialect answers it.
pub fn error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    let style = S3Style { resource: r.raw_path.clone(), extra: ("HostId", r.id.clone()), head_headers: false };
    s3_style(e, r, is_head, style)
}
