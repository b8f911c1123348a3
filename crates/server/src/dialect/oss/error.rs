//! OSS's error envelope: `<Error>` with Code, Message, RequestId, HostId, the error's context and EC; on
//! HEAD the same XML base64-encoded in `x-oss-err`.

use crate::http::access_log::LoggedCode;
use crate::http::body::Body;
use crate::http::req::Req;
use base64::Engine as _;
use http::{Response, StatusCode};
use ossd_errors::{oss_error_xml, Error};

fn host_id(r: &Req) -> String {
    r.host.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or_else(|| r.host.clone())
}

/// OSS's error response: status, XML body (or x-oss-err on HEAD), x-oss-ec and the error's own headers.
pub fn error_response(e: &Error, r: &Req, is_head: bool) -> Response<Body> {
    let def = e.def();
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
    resp.extensions_mut().insert(LoggedCode(def.code, def.ec));
    resp
}
