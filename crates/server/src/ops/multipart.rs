//! Multipart upload: Initiate, UploadPart, UploadPartCopy, Complete, Abort, ListParts, ListMultipartUploads.

use super::copy::copy_source_object;
use super::get::parse_range;
use super::list::limit_param;
use super::object::{attrs_from_headers, receive_body};
use super::validate::reject_unsupported_write_headers;
use super::Answer;
use super::{blocking, check_access, empty, ok_xml};
use crate::dialect::vocab::Vocab;
use crate::http::body::{read_small_body, Body};
use crate::http::req::Req;
use crate::http::util::{self, iso8601};
use crate::http::xml::{parse, XmlOut};
use crate::State;
use http::{Response, StatusCode};
use hyper::body::Incoming;
use ossd_engine::model::BucketRecord;
use ossd_engine::{CompletePart, MAX_PART_NUMBER};
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

fn enc(r: &Req, s: &str) -> String {
    if r.url_encoding() {
        util::encode(s)
    } else {
        s.to_string()
    }
}

pub async fn initiate(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let key = r.key()?.to_string();
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    check_access(r, b, None, true)?;
    let attrs = attrs_from_headers(r, b)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let u = blocking(move || engine.initiate_upload(&bucket, &key, attrs)).await?;
    let mut x = XmlOut::new("InitiateMultipartUploadResult");
    x.el("Bucket", &b.name).el("Key", &enc(r, &u.key)).el("UploadId", &u.upload_id);
    if r.url_encoding() {
        x.el("EncodingType", "url");
    }
    ok_xml(x.finish("InitiateMultipartUploadResult"))
}

fn part_number(r: &Req) -> Result<u32> {
    let Some(p) = r.q("partNumber") else {
        return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "partNumber"));
    };
    parse_part_number(p)
}

/// A part number as UploadPart takes it: an integer in 1..=10000, or InvalidArgument (EC 0017-00000220).
pub fn parse_part_number(p: &str) -> Result<u32> {
    match p.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_PART_NUMBER).contains(&n) => Ok(n),
        _ => {
            let shown: String = p.chars().take(64).collect();
            Err(Error::new(Code::InvalidPartNumber).ctx("ArgumentName", "partNumber").ctx("ArgumentValue", shown))
        }
    }
}

pub async fn upload_part(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    check_access(r, b, None, true)?;
    let n = part_number(r)?;
    let upload_id = r.q("uploadId").unwrap_or("").to_string();
    let engine = state.engine.clone();
    let (bucket, k, id) = (b.name.clone(), key.clone(), upload_id.clone());
    let upload = blocking(move || engine.upload(&bucket, &k, &id)).await?;
    let encrypt = upload.attrs.sse.is_some();
    if r.headers.contains_key("x-oss-copy-source") {
        let src = copy_source_object(state, r).await?;
        let (start, len) = match r.h("x-oss-copy-source-range") {
            None => (0, src.size),
            Some(v) => parse_range(v, src.size).ok_or_else(|| {
                Error::invalid_argument("x-oss-copy-source-range", v, "The range is not valid for the source object.")
            })?,
        };
        let engine = state.engine.clone();
        let bucket = b.name.clone();
        let p = blocking(move || {
            let info = engine.copy_data(&src, start, len, encrypt)?;
            engine.upload_part(&bucket, &upload_id, n, info)
        })
        .await?;
        let mut x = XmlOut::new("CopyPartResult");
        x.el("LastModified", &iso8601(p.mtime_ms)).el("ETag", &vocab.etag(&p.etag));
        return Response::builder()
            .header(http::header::ETAG, vocab.etag(&p.etag))
            .engine_header(vocab, "hash-crc64ecma", p.crc64.to_string())
            .xml_body(x.finish("CopyPartResult"));
    }
    reject_unsupported_write_headers(r)?;
    let info = receive_body(state, r, body, encrypt).await?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let p = blocking(move || engine.upload_part(&bucket, &upload_id, n, info)).await?;
    Response::builder()
        .header(http::header::ETAG, vocab.etag(&p.etag))
        .engine_header(vocab, "hash-crc64ecma", p.crc64.to_string())
        .body(Body::Empty)
        .map_err(Error::internal)
}

pub async fn complete(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    check_access(r, b, None, true)?;
    let upload_id = r.q("uploadId").unwrap_or("").to_string();
    let raw = read_small_body(state, body, 4 * 1024 * 1024).await?;
    let complete_all = r.h("x-oss-complete-all").map(|v| v.eq_ignore_ascii_case("yes")).unwrap_or(false);
    let parts = if complete_all {
        if !raw.is_empty() {
            return Err(Error::new(Code::InvalidArgument)
                .msg("Should not speficy both complete all header and http body.")
                .ctx("ArgumentName", "x-oss-complete-all")
                .ctx("ArgumentValue", "yes"));
        }
        None
    } else {
        let doc = parse(&raw, "CompleteMultipartUpload")?;
        let mut list = Vec::new();
        for p in doc.all("Part") {
            let n = p.text_of("PartNumber").unwrap_or("");
            let part_number = n.trim().parse::<u32>().map_err(|_| {
                Error::new(Code::MalformedXML).ctx("Detail", format!("PartNumber {n:?} is not a number"))
            })?;
            let etag =
                p.text_of("ETag").ok_or_else(|| Error::new(Code::MalformedXML).ctx("Detail", "Part without ETag"))?;
            list.push(CompletePart { part_number, etag: etag.to_string() });
        }
        if list.is_empty() {
            return Err(Error::new(Code::MalformedXML).ctx("Detail", "no Part"));
        }
        Some(list)
    };
    let forbid = r.flag("x-oss-forbid-overwrite");
    let cb = super::object::callback_of(r)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let rec = blocking(move || {
        let u = engine.upload(&bucket, &key, &upload_id)?;
        engine.complete_upload(&u, parts.as_deref(), forbid)
    })
    .await?;
    if let Some(cb) = cb {
        return super::callback::call(&cb, &rec, vocab).await;
    }
    let mut x = XmlOut::new("CompleteMultipartUploadResult");
    if r.url_encoding() {
        x.el("EncodingType", "url");
    }
    x.el("Location", &format!("http://{}/{}/{}", state.public_endpoint, b.name, util::encode_path(&rec.key)))
        .el("Bucket", &b.name)
        .el("Key", &enc(r, &rec.key))
        .el("ETag", &vocab.etag(&rec.etag));
    Response::builder()
        .header(http::header::ETAG, vocab.etag(&rec.etag))
        .engine_header(vocab, "hash-crc64ecma", rec.crc64.to_string())
        .xml_body(x.finish("CompleteMultipartUploadResult"))
}

pub async fn abort(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let key = r.key()?.to_string();
    check_access(r, b, None, true)?;
    let upload_id = r.q("uploadId").unwrap_or("").to_string();
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    blocking(move || {
        engine.upload(&bucket, &key, &upload_id)?;
        engine.abort_upload(&bucket, &upload_id)
    })
    .await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn list_parts(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    check_access(r, b, None, false)?;
    let upload_id = r.q("uploadId").unwrap_or("").to_string();
    let max = limit_param(r, "max-parts", 1000, 1000)?;
    let marker: u32 = match r.q("part-number-marker") {
        None | Some("") => 0,
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::invalid_argument("part-number-marker", v, "Invalid part-number-marker."))?,
    };
    let engine = state.engine.clone();
    let (bucket, k, id) = (b.name.clone(), key.clone(), upload_id.clone());
    let mut parts = blocking(move || engine.list_parts(&bucket, &k, &id, marker, max + 1)).await?;
    let truncated = parts.len() > max;
    parts.truncate(max);
    let mut x = XmlOut::new("ListPartsResult");
    x.el("Bucket", &b.name)
        .el("Key", &enc(r, &key))
        .el("UploadId", &upload_id)
        .el("PartNumberMarker", &marker.to_string())
        .el("NextPartNumberMarker", &parts.last().map(|p| p.part_number).unwrap_or(0).to_string())
        .el("MaxParts", &max.to_string())
        .el("IsTruncated", if truncated { "true" } else { "false" });
    for p in &parts {
        x.open("Part")
            .el("PartNumber", &p.part_number.to_string())
            .el("LastModified", &iso8601(p.mtime_ms))
            .el("ETag", &vocab.etag(&p.etag))
            .el("HashCrc64ecma", &p.crc64.to_string())
            .el("Size", &p.size.to_string())
            .close("Part");
    }
    ok_xml(x.finish("ListPartsResult"))
}

pub async fn list_uploads(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    check_access(r, b, None, false)?;
    if r.q("delimiter").is_some_and(|d| !d.is_empty()) {
        return Err(super::not_implemented_op("ListMultipartUploads with a delimiter"));
    }
    let prefix = r.q("prefix").unwrap_or("").to_string();
    let key_marker = r.q("key-marker").unwrap_or("").to_string();
    let id_marker = r.q("upload-id-marker").unwrap_or("").to_string();
    let max = limit_param(r, "max-uploads", 1000, 1000)?;
    let engine = state.engine.clone();
    let (bucket, p, km, im) = (b.name.clone(), prefix.clone(), key_marker.clone(), id_marker.clone());
    let mut ups = blocking(move || engine.list_multipart_uploads(&bucket, &p, &km, &im, max + 1)).await?;
    let truncated = ups.len() > max;
    ups.truncate(max);
    let mut x = XmlOut::new("ListMultipartUploadsResult");
    x.el("Bucket", &b.name)
        .el("KeyMarker", &enc(r, &key_marker))
        .el("UploadIdMarker", &id_marker)
        .el("NextKeyMarker", &enc(r, ups.last().map(|u| u.key.as_str()).unwrap_or("")))
        .el("NextUploadIdMarker", ups.last().map(|u| u.upload_id.as_str()).unwrap_or(""))
        .el("Delimiter", "")
        .el("Prefix", &enc(r, &prefix))
        .el("MaxUploads", &max.to_string())
        .el("IsTruncated", if truncated { "true" } else { "false" });
    if r.url_encoding() {
        x.el("EncodingType", "url");
    }
    for u in &ups {
        x.open("Upload")
            .el("Key", &enc(r, &u.key))
            .el("UploadId", &u.upload_id)
            .el("StorageClass", vocab.storage_class(&u.attrs.storage_class))
            .el("Initiated", &iso8601(u.initiated_ms))
            .close("Upload");
    }
    ok_xml(x.finish("ListMultipartUploadsResult"))
}
