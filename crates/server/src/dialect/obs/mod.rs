//! The OBS dialect: `OBS ak:sig` and presigned signatures, and OBS's error envelope (a HEAD's error in headers).

pub mod auth;

pub use auth::authenticate;

use crate::dialect::envelope::{s3_style, S3Style};
use crate::http::body::Body;
use crate::http::req::Req;
use http::Response;
use ossd_errors::Error;

/// An error as this dialect answers it.
pub fn error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    let style = S3Style { resource: r.raw_path.clone(), extra: ("HostId", r.id.clone()), head_headers: true };
    s3_style(e, r, is_head, style)
}
