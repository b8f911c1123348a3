//! Object writes and object sub-resources: PutObject, AppendObject, DeleteObject, DeleteMultipleObjects,
//! object ACL, tagging and symlinks; and streaming a request body into a new blob.

use super::validate::*;
use super::Answer;
use super::{blocking, check_access, empty, io, ok_xml, pace, require_owner, SMALL_BODY};
use crate::dialect::vocab::Vocab;
use crate::http::body::{read_small_body, Body};
use crate::http::chunked::{ChunkDecoder, PayloadHash};
use crate::http::req::Req;
use crate::http::util::{self};
use crate::http::xml::{parse, XmlOut};
use crate::State;
use base64::Engine as _;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use md5::{Digest, Md5};
use ossd_engine::model::{BucketRecord, ObjectAttrs, ObjectRecord, ObjectType};
use ossd_engine::{BlobInfo, BlobWriter};
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

fn content_length(r: &Req) -> Result<Option<u64>> {
    if let Some(v) = r.h("content-length") {
        return v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid_argument("Content-Length", v, "Invalid Content-Length."));
    }
    let chunked = r.h("transfer-encoding").map(|t| t.to_ascii_lowercase().contains("chunked")).unwrap_or(false);
    if chunked {
        Ok(None)
    } else {
        Err(Error::new(Code::MissingContentLength))
    }
}

/// Streams the request body into a new blob, computing MD5 and CRC-64 on the way. Memory stays bounded.
/// A body that stalls longer than the idle timeout gives RequestTimeout and leaves no blob behind.
pub async fn receive_body(state: &State, r: &Req, body: Incoming, encrypt: bool) -> Result<BlobInfo> {
    let len = content_length(r)?;
    let rate = traffic_limit(r)?;
    let (chunked, want_sha) = match &r.s3 {
        Some(a) => match &a.payload {
            PayloadHash::StreamingSigned | PayloadHash::StreamingUnsigned => {
                (Some(ChunkDecoder::new(a.chunk.clone())), None)
            }
            PayloadHash::Sha256(h) => (None, Some(h.clone())),
            PayloadHash::Unsigned => (None, None),
        },
        None => (None, None),
    };
    let sha = want_sha.is_some();
    let engine = state.engine.clone();
    let info = if len.is_some_and(|n| n <= SMALL_BODY) && rate.is_none() {
        let data = read_small_body(state, body, SMALL_BODY as usize).await?;
        let data: Vec<Bytes> = match chunked {
            Some(mut d) => {
                let out = d.push(&data)?;
                d.finish()?;
                out
            }
            None => vec![data],
        };
        let inline = engine.keeps_inline(data.iter().map(|d| d.len() as u64).sum());
        let write = move || {
            let mut w = engine.new_blob(encrypt)?;
            if sha {
                w = w.with_sha256();
            }
            for d in &data {
                w.write(d).map_err(io)?;
            }
            w.finish().map_err(io)
        };
        // An inline blob is hashed and kept in memory until its record commits: no I/O, so no hop to the
        // blocking pool.
        if inline {
            write()?
        } else {
            blocking(write).await?
        }
    } else {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        let writer = tokio::task::spawn_blocking(move || -> Result<BlobWriter> {
            let mut w = engine.new_blob(encrypt)?;
            if sha {
                w = w.with_sha256();
            }
            while let Some(chunk) = rx.blocking_recv() {
                w.write(&chunk).map_err(io)?;
            }
            Ok(w)
        });
        let mut body = body;
        let mut failure = None;
        let mut decoder = chunked;
        let (started, mut received) = (std::time::Instant::now(), 0u64);
        loop {
            match tokio::time::timeout(state.idle_timeout, body.frame()).await {
                Err(_) => {
                    failure = Some(Error::new(Code::RequestTimeout));
                    break;
                }
                Ok(None) => {
                    if let Some(d) = &decoder {
                        if let Err(e) = d.finish() {
                            failure = Some(e);
                        }
                    }
                    break;
                }
                Ok(Some(Err(e))) => {
                    failure = Some(Error::new(Code::RequestTimeout).ctx("Detail", e.to_string()));
                    break;
                }
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        received += d.len() as u64;
                        let pieces = match &mut decoder {
                            Some(dec) => match dec.push(&d) {
                                Ok(p) => p,
                                Err(e) => {
                                    failure = Some(e);
                                    break;
                                }
                            },
                            None => vec![d],
                        };
                        let mut stopped = false;
                        for p in pieces {
                            if tx.send(p).await.is_err() {
                                stopped = true;
                                break;
                            }
                        }
                        if stopped {
                            break;
                        }
                        if let Some(wait) = rate.and_then(|r| pace(started, received, r)) {
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }
        }
        drop(tx);
        let w = writer.await.map_err(Error::internal)??;
        if let Some(e) = failure {
            blocking(move || {
                drop(w);
                Ok(())
            })
            .await?;
            return Err(e);
        }
        blocking(move || w.finish().map_err(io)).await?
    };
    let discard = |state: &State, info: BlobInfo| {
        let engine = state.engine.clone();
        blocking(move || {
            engine.discard_blob(info);
            Ok(())
        })
    };
    if let (Some(want), Some(got)) = (&want_sha, info.sha256) {
        if *want != ossd_sign::hex_lower(&got) {
            discard(state, info).await?;
            return Err(Error::new(Code::XAmzContentSHA256Mismatch)
                .ctx("ClientComputedContentSHA256", want.clone())
                .ctx("S3ComputedContentSHA256", ossd_sign::hex_lower(&got)));
        }
    }
    if let Some(want) = r.h("content-md5") {
        if let Err(e) = check_md5(want, &info.md5) {
            discard(state, info).await?;
            return Err(e);
        }
    }
    Ok(info)
}

/// The attributes an upload sets from its headers.
pub fn attrs_from_headers(r: &Req, b: &BucketRecord) -> Result<ObjectAttrs> {
    let user_meta = r
        .headers
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str().strip_prefix("x-oss-meta-")?;
            Some((name.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        })
        .collect();
    let content_type = r.h("content-type").unwrap_or("application/octet-stream");
    let mut a = object_attrs(&|name| r.h(name), content_type, user_meta, b)?;
    if let Some(t) = r.h("x-oss-tagging") {
        a.tags = parse_tagging_header(t)?;
    }
    Ok(a)
}

/// The request's upload callback, checked before any byte is stored.
pub fn callback_of(r: &Req) -> Result<Option<super::callback::Callback>> {
    match r.h("x-oss-callback") {
        Some(c) => super::callback::parse(c, r.h("x-oss-callback-var")).map(Some),
        None => Ok(None),
    }
}

fn write_response(o: &ObjectRecord, info: Option<&BlobInfo>, vocab: Vocab) -> Result<Response<Body>> {
    let mut b = Response::builder().header(http::header::ETAG, vocab.etag(&o.etag)).engine_header(
        vocab,
        "hash-crc64ecma",
        o.crc64.to_string(),
    );
    if let Some(i) = info {
        b = b.header("content-md5", base64::engine::general_purpose::STANDARD.encode(i.md5));
    }
    if o.otype == ObjectType::Appendable {
        b = b.engine_header(vocab, "next-append-position", o.size.to_string());
    }
    if let Some(s) = &o.attrs.sse {
        b = b.engine_header(vocab, "server-side-encryption", s.as_str());
    }
    b.body(Body::Empty).map_err(Error::internal)
}

pub async fn put_object(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    check_access(r, b, None, true)?;
    reject_unsupported_write_headers(r)?;
    let attrs = attrs_from_headers(r, b)?;
    let forbid = r.flag("x-oss-forbid-overwrite");
    let cb = callback_of(r)?;
    let info = receive_body(state, r, body, attrs.sse.is_some()).await?;
    let engine = state.engine.clone();
    let rec = if engine.put_checks_cached(&b.name) {
        // Nothing to wait for before the commit: it is queued from here, with no hop to the blocking pool.
        engine.put_object_queued(&b.name, &key, info, attrs, forbid).await?
    } else {
        let bucket = b.name.clone();
        blocking(move || engine.put_object(&bucket, &key, info, attrs, forbid)).await?
    };
    if let Some(cb) = cb {
        return super::callback::call(&cb, &rec, vocab).await;
    }
    write_response(&rec, Some(&info), vocab)
}

pub async fn append_object(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    check_access(r, b, None, true)?;
    reject_unsupported_write_headers(r)?;
    let position = match r.q("position") {
        None => return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "position")),
        Some(p) => p
            .trim()
            .parse::<u64>()
            .map_err(|_| Error::invalid_argument("position", p, "Argument position must be a non-negative integer."))?,
    };
    let attrs = attrs_from_headers(r, b)?;
    // Appended bytes are encrypted as the object is: its first append decides.
    let engine = state.engine.clone();
    let (bk, k, sse) = (b.name.clone(), key.clone(), attrs.sse.is_some());
    let encrypt = blocking(move || engine.append_encrypted(&bk, &k, sse)).await?;
    let info = receive_body(state, r, body, encrypt).await?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let rec = blocking(move || engine.append_object(&bucket, &key, position, info, attrs)).await?;
    write_response(&rec, Some(&info), vocab)
}

pub async fn delete_object(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let key = r.key()?.to_string();
    check_access(r, b, None, true)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    blocking(move || engine.delete_object(&bucket, &key)).await?;
    empty(StatusCode::NO_CONTENT)
}

/// DeleteMultipleObjects deletes at most this many objects per request (OSS EC 0016-00000609).
pub const MAX_DELETE_OBJECTS: usize = 1000;
/// The largest DeleteMultipleObjects body read: 1000 keys of 1023 bytes, every byte written as a five-byte
/// entity, still fit (ossd's own bound; OSS documents none).
pub const MAX_DELETE_BODY: usize = 6 << 20;

pub async fn delete_multiple(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    check_access(r, b, None, true)?;
    if let Some(e) = r.q("encoding-type").filter(|e| *e != "url") {
        return Err(Error::argument(Code::InvalidEncodingType, "encoding-type", e));
    }
    let md5 = r.h("content-md5").map(str::to_string);
    // S3 clients may send a checksum header instead of Content-MD5.
    let s3_checksum =
        Vocab::of(r.dialect).checksum_for_md5() && r.headers.keys().any(|k| k.as_str().starts_with("x-oss-checksum-"));
    if md5.is_none() && !s3_checksum {
        return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "Content-MD5"));
    }
    let raw = read_small_body(state, body, MAX_DELETE_BODY).await?;
    if let Some(md5) = md5 {
        check_md5(&md5, Md5::digest(&raw).as_slice())?;
    }
    let doc = parse(&raw, "Delete")?;
    let quiet = doc.text_of("Quiet").map(|q| q.trim().eq_ignore_ascii_case("true")).unwrap_or(false);
    let keys: Vec<String> = doc.all("Object").map(|o| o.text_of("Key").unwrap_or("").to_string()).collect();
    if keys.is_empty() {
        return Err(Error::new(Code::MalformedXML).ctx("Detail", "no Object in Delete"));
    }
    if keys.len() > MAX_DELETE_OBJECTS {
        return Err(
            Error::new(Code::MalformedXMLTooManyObjects).ctx("Detail", format!("{} objects in Delete", keys.len()))
        );
    }
    for k in &keys {
        ossd_engine::names::check_object_name_in(k, r.dialect)?;
    }
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let ks = keys.clone();
    blocking(move || {
        for k in &ks {
            engine.delete_object(&bucket, k)?;
        }
        Ok(())
    })
    .await?;
    let enc = r.url_encoding();
    let mut x = XmlOut::new("DeleteResult");
    if enc {
        x.el("EncodingType", "url");
    }
    if !quiet {
        for k in &keys {
            let shown = if enc { util::encode(k) } else { k.clone() };
            x.open("Deleted").el("Key", &shown).close("Deleted");
        }
    }
    ok_xml(x.finish("DeleteResult"))
}

pub async fn put_object_acl(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let key = r.key()?.to_string();
    let Some(acl) = r.h("x-oss-object-acl").map(str::to_string) else {
        return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "x-oss-object-acl"));
    };
    let acl = object_acl(&acl)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    blocking(move || engine.update_attrs(&bucket, &key, &|a| a.acl = acl.clone())).await?;
    empty(StatusCode::OK)
}

pub async fn get_object_acl(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let key = r.key()?.to_string();
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let o = blocking(move || engine.head_object(&bucket, &key)).await?;
    let acl = if o.attrs.acl == "default" && Vocab::of(r.dialect).object_acl_shows_bucket_acl() {
        b.acl.as_str()
    } else {
        o.attrs.acl.as_str()
    };
    super::bucket::acl_policy(r, &b.owner, acl)
}

pub async fn put_object_tagging(
    state: &Arc<State>,
    r: &Req,
    b: &BucketRecord,
    body: Incoming,
) -> Result<Response<Body>> {
    check_access(r, b, None, true)?;
    let key = r.key()?.to_string();
    let raw = read_small_body(state, body, 64 * 1024).await?;
    let doc = parse(&raw, "Tagging")?;
    let set = doc.child("TagSet").ok_or_else(|| Error::new(Code::MalformedXML).ctx("Detail", "no TagSet"))?;
    let tags: Vec<(String, String)> = set
        .all("Tag")
        .map(|t| (t.text_of("Key").unwrap_or("").to_string(), t.text_of("Value").unwrap_or("").to_string()))
        .collect();
    check_tags(&tags)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    blocking(move || engine.update_attrs(&bucket, &key, &|a| a.tags = tags.clone())).await?;
    empty(StatusCode::OK)
}

pub async fn get_object_tagging(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let key = r.key()?.to_string();
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let o = blocking(move || engine.head_object(&bucket, &key)).await?;
    check_access(r, b, Some(&o.attrs.acl), false)?;
    let mut x = XmlOut::new("Tagging");
    x.open("TagSet");
    for (k, v) in &o.attrs.tags {
        x.open("Tag").el("Key", k).el("Value", v).close("Tag");
    }
    x.close("TagSet");
    ok_xml(x.finish("Tagging"))
}

pub async fn delete_object_tagging(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    check_access(r, b, None, true)?;
    let key = r.key()?.to_string();
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    blocking(move || engine.update_attrs(&bucket, &key, &|a| a.tags.clear())).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn put_symlink(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    check_access(r, b, None, true)?;
    let Some(target) = r.h("x-oss-symlink-target") else {
        return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "x-oss-symlink-target"));
    };
    let target = ossd_engine::names::decode_object_name(target.as_bytes())?;
    ossd_engine::names::check_object_name_in(&target, r.dialect)?;
    let attrs = attrs_from_headers(r, b)?;
    let forbid = r.flag("x-oss-forbid-overwrite");
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let rec = blocking(move || engine.put_symlink(&bucket, &key, &target, attrs, forbid)).await?;
    Response::builder().header(http::header::ETAG, vocab.etag(&rec.etag)).body(Body::Empty).map_err(Error::internal)
}

pub async fn get_symlink(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let key = r.key()?.to_string();
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let o = blocking(move || engine.head_object(&bucket, &key)).await?;
    check_access(r, b, Some(&o.attrs.acl), false)?;
    let Some(target) = o.symlink_target.as_deref().filter(|_| o.otype == ObjectType::Symlink) else {
        return Err(Error::new(Code::NotSymlink).ctx("Key", o.key.clone()));
    };
    let mut rb = Response::builder()
        .engine_header(vocab, "symlink-target", util::encode(target))
        .header(http::header::ETAG, vocab.etag(&o.etag))
        .header(http::header::LAST_MODIFIED, util::http_date(o.mtime_ms));
    for (k, v) in &o.attrs.user_meta {
        rb = rb.engine_header(vocab, &format!("meta-{k}"), v.as_str());
    }
    rb.body(Body::Empty).map_err(Error::internal)
}
