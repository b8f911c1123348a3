//! Dialect-neutral operations, one file per family. Each handler takes the parsed request and the bucket
//! record, calls the engine, and answers in the engine's (OSS's) vocabulary through the dialect's vocab.
//! The router (`router.rs`) picks the handler; this file holds what every family shares: access checks,
//! the object response headers, small response builders and the hop to the blocking pool.

pub mod bucket;
pub mod callback;
pub mod config;
pub mod copy;
pub mod cors;
pub mod get;
pub mod image;
pub mod list;
pub mod live;
pub mod multipart;
pub mod object;
pub mod op;
pub mod post;
pub mod router;
pub mod validate;
pub mod website;
pub mod worm;

use crate::dialect::vocab::Vocab;
use crate::http::body::Body;
use crate::http::req::Req;
use crate::http::util;
use crate::State;
use http::{Response, StatusCode};
use ossd_engine::model::{BucketRecord, ObjectRecord};
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

/// Bodies up to this size are collected (on upload) or read (on download) in one blocking call.
pub const SMALL_BODY: u64 = 64 * 1024;

/// An I/O error of the blob store, as an InternalError.
pub fn io(e: std::io::Error) -> Error {
    Error::internal(format!("blob store: {e}"))
}

/// How long to wait so that `sent` bytes since `start` do not exceed `rate` bytes per second.
pub fn pace(start: std::time::Instant, sent: u64, rate: u64) -> Option<std::time::Duration> {
    let due = std::time::Duration::from_secs_f64(sent as f64 / rate as f64);
    due.checked_sub(start.elapsed())
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

/// How the operations finish an answer.
pub trait Answer: Sized {
    /// Adds the engine's header `name` (without a prefix: `hash-crc64ecma`, `meta-color`) under the dialect's
    /// name for it (see [`Vocab::header`]); nothing when the dialect does not carry it.
    fn engine_header(self, vocab: Vocab, name: &str, value: impl AsRef<str>) -> Self;

    /// An XML document as the body, with its type and length.
    fn xml_body(self, xml: String) -> Result<Response<Body>>;
}

impl Answer for http::response::Builder {
    fn engine_header(self, vocab: Vocab, name: &str, value: impl AsRef<str>) -> Self {
        match vocab.header(name) {
            Some(n) => self.header(n, value.as_ref()),
            None => self,
        }
    }

    fn xml_body(self, xml: String) -> Result<Response<Body>> {
        self.header(http::header::CONTENT_TYPE, "application/xml")
            .header(http::header::CONTENT_LENGTH, xml.len())
            .body(Body::full(xml))
            .map_err(Error::internal)
    }
}

/// The headers every object response carries.
pub fn object_headers(mut b: http::response::Builder, vocab: Vocab, o: &ObjectRecord) -> http::response::Builder {
    b = b
        .header(http::header::ETAG, vocab.etag(&o.etag))
        .engine_header(vocab, "hash-crc64ecma", o.crc64.to_string())
        .engine_header(vocab, "object-type", o.otype.as_str())
        .header(http::header::LAST_MODIFIED, util::http_date(o.mtime_ms))
        .header(http::header::ACCEPT_RANGES, "bytes");
    if let Some((name, value)) = vocab.storage_class_header(&o.attrs.storage_class) {
        b = b.header(name, value);
    }
    if o.otype == ossd_engine::model::ObjectType::Appendable {
        b = b.engine_header(vocab, "next-append-position", o.size.to_string());
    }
    if let Some(s) = &o.attrs.sse {
        b = b.engine_header(vocab, "server-side-encryption", s.as_str());
    }
    if let Some(r) = o.restore {
        let now = ossd_engine::model::now_ms();
        if now < r.ready_ms {
            b = b.engine_header(vocab, "restore", "ongoing-request=\"true\"");
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
    Response::builder().xml_body(xml)
}

pub fn empty(status: StatusCode) -> Result<Response<Body>> {
    Response::builder().status(status).body(Body::Empty).map_err(Error::internal)
}
