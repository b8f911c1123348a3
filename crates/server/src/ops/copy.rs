//! CopyObject, and the copy source (x-oss-copy-source and its conditions) that UploadPartCopy shares.

use super::get::check_conditions;
use super::object::attrs_from_headers;
use super::validate::*;
use super::Answer;
use super::{blocking, check_access};
use crate::dialect::vocab::Vocab;
use crate::http::body::Body;
use crate::http::req::Req;
use crate::http::util::{self, iso8601};
use crate::http::xml::XmlOut;
use crate::State;
use http::Response;
use ossd_engine::model::{BucketRecord, ObjectRecord};
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

/// Parses `x-oss-copy-source` (`/bucket/key`, URL-encoded) into bucket and key.
pub fn copy_source(r: &Req) -> Result<(String, String)> {
    let raw = r.h("x-oss-copy-source").unwrap_or("");
    let path = raw.split('?').next().unwrap_or("");
    let decoded = util::decode(path, false);
    let s = decoded.strip_prefix('/').unwrap_or(&decoded);
    match s.split_once('/') {
        // COS names the source by its domain: <bucket>.cos.<region>.myqcloud.com/<key>.
        Some((b, k)) if b.ends_with(".myqcloud.com") && b.contains(".cos.") && !k.is_empty() => {
            Ok((b[..b.find(".cos.").unwrap_or(b.len())].to_string(), k.to_string()))
        }
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(Error::invalid_argument(
            "x-oss-copy-source",
            raw,
            "Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.",
        )),
    }
}

/// The source object of a copy, read-checked, symlink followed, and its copy-source conditions applied.
pub async fn copy_source_object(state: &Arc<State>, r: &Req) -> Result<ObjectRecord> {
    let (sb, sk) = copy_source(r)?;
    ossd_engine::names::check_bucket_name(&sb)?;
    let src_bucket = super::bucket_record(state, &sb).await?;
    let engine = state.engine.clone();
    let rec = blocking(move || engine.head_object(&sb, &sk)).await?;
    check_access(r, &src_bucket, Some(&rec.attrs.acl), false)?;
    let engine = state.engine.clone();
    let o = blocking(move || engine.resolve(rec)).await?;
    check_conditions(
        &o,
        r.h("x-oss-copy-source-if-match"),
        r.h("x-oss-copy-source-if-none-match"),
        r.h("x-oss-copy-source-if-modified-since"),
        r.h("x-oss-copy-source-if-unmodified-since"),
        Code::NotModified,
        Vocab::of(r.dialect),
    )?;
    Ok(o)
}

pub async fn copy_object(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    check_access(r, b, None, true)?;
    let sse = sse(r.h("x-oss-server-side-encryption"))?;
    let src = copy_source_object(state, r).await?;
    if src.size > state.copy_limit {
        return Err(Error::new(Code::EntityTooLargeCopySource)
            .ctx("MaxSizeAllowed", state.copy_limit.to_string())
            .ctx("ProposedSize", src.size.to_string()));
    }
    let directive = r.h("x-oss-metadata-directive").unwrap_or("COPY").to_ascii_uppercase();
    let mut attrs = match directive.as_str() {
        "COPY" => {
            let mut a = src.attrs.clone();
            a.acl = "default".into();
            a.sse = sse;
            a
        }
        "REPLACE" => attrs_from_headers(r, b)?,
        v => return Err(Error::invalid_argument("x-oss-metadata-directive", v, "Invalid metadata directive.")),
    };
    if let Some(acl) = r.h("x-oss-object-acl") {
        attrs.acl = object_acl(acl)?;
    }
    if let Some(c) = r.h("x-oss-storage-class") {
        attrs.storage_class = storage_class(Code::InvalidStorageClassCopy, "x-oss-storage-class", c)?;
    }
    match r.h("x-oss-tagging-directive").unwrap_or("Copy") {
        "Copy" => attrs.tags = src.attrs.tags.clone(),
        "Replace" => attrs.tags = r.h("x-oss-tagging").map(parse_tagging_header).transpose()?.unwrap_or_default(),
        v => return Err(Error::invalid_argument("x-oss-tagging-directive", v, "Invalid tagging directive.")),
    }
    let forbid = r.flag("x-oss-forbid-overwrite");
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let rec = blocking(move || {
        let info = engine.copy_data(&src, 0, src.size, attrs.sse.is_some())?;
        engine.put_object(&bucket, &key, info, attrs, forbid)
    })
    .await?;
    let mut x = XmlOut::new("CopyObjectResult");
    x.el("ETag", &vocab.etag(&rec.etag)).el("LastModified", &iso8601(rec.mtime_ms));
    Response::builder()
        .header(http::header::ETAG, vocab.etag(&rec.etag))
        .engine_header(vocab, "hash-crc64ecma", rec.crc64.to_string())
        .xml_body(x.finish("CopyObjectResult"))
}
