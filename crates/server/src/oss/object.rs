//! Object operations: Put, Get, Head, GetObjectMeta, Delete, DeleteMultipleObjects, Copy, Append,
//! object ACL, tagging and symlinks.

use super::bucket::STORAGE_CLASSES;
use super::xml::{parse, XmlOut};
use super::{blocking, check_access, empty, object_headers, ok_xml, read_small_body, require_owner, Req};
use crate::body::Body;
use crate::s3::{ChunkDecoder, PayloadHash};
use crate::util::{self, iso8601};
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
use std::io::Read;
use std::sync::Arc;

pub const OBJECT_ACLS: &[&str] = &["default", "private", "public-read", "public-read-write"];
const STANDARD_HEADERS: &[&str] =
    &["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
/// Bodies up to this size are collected and written in one blocking call.
const SMALL_BODY: u64 = 64 * 1024;
const CHUNK: usize = 256 * 1024;

fn io(e: std::io::Error) -> Error {
    Error::internal(format!("blob store: {e}"))
}

/// Headers that imply functionality a write does not have.
pub fn reject_unsupported_write_headers(r: &Req) -> Result<()> {
    for h in ["if-modified-since", "if-unmodified-since", "if-match", "if-none-match"] {
        if r.headers.contains_key(h) {
            let name = match h {
                "if-modified-since" => "If-Modified-Since",
                "if-unmodified-since" => "If-Unmodified-Since",
                "if-match" => "If-Match",
                _ => "If-None-Match",
            };
            return Err(Error::new(Code::NotImplemented).ctx("Header", name));
        }
    }
    Ok(())
}

/// The server-side encryption a request asks for: AES256 (keys managed by ossd) or none.
/// KMS needs a key management service, which ossd does not have; SM4 is not offered.
pub fn check_sse(r: &Req) -> Result<Option<String>> {
    match r.h("x-oss-server-side-encryption") {
        None => Ok(None),
        Some("AES256") => Ok(Some("AES256".into())),
        Some("KMS") => Err(Error::new(Code::KmsServiceNotEnabled).ctx("Header", "x-oss-server-side-encryption")),
        Some("SM4") => Err(Error::new(Code::NotImplemented)
            .msg("SM4 server-side encryption is not available in ossd; use AES256.")
            .ctx("Header", "x-oss-server-side-encryption")),
        Some(v) => Err(Error::new(Code::InvalidEncryptionAlgorithmError).ctx("ArgumentValue", v)),
    }
}

/// `x-oss-traffic-limit`, in bit/s (819200 to 838860800), as bytes per second.
pub fn traffic_limit(r: &Req) -> Result<Option<u64>> {
    let Some(v) = r.h("x-oss-traffic-limit").or(r.q("x-oss-traffic-limit")) else { return Ok(None) };
    match v.trim().parse::<u64>() {
        Ok(bits) if (819_200..=838_860_800).contains(&bits) => Ok(Some(bits / 8)),
        _ => Err(Error::invalid_argument(
            "x-oss-traffic-limit",
            v,
            "The traffic limit must be between 819200 and 838860800 bit/s.",
        )),
    }
}

/// How long to wait so that `sent` bytes since `start` do not exceed `rate` bytes per second.
fn pace(start: std::time::Instant, sent: u64, rate: u64) -> Option<std::time::Duration> {
    let due = std::time::Duration::from_secs_f64(sent as f64 / rate as f64);
    due.checked_sub(start.elapsed())
}

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
        let inline = engine.blobs.keeps_inline(data.iter().map(|d| d.len() as u64).sum());
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
    let discard = |state: &State, id: u64| {
        let engine = state.engine.clone();
        blocking(move || {
            engine.blobs.remove(id);
            Ok(())
        })
    };
    if let (Some(want), Some(got)) = (&want_sha, info.sha256) {
        if *want != ossd_sign::hex_lower(&got) {
            discard(state, info.id).await?;
            return Err(Error::new(Code::XAmzContentSHA256Mismatch)
                .ctx("ClientComputedContentSHA256", want.clone())
                .ctx("S3ComputedContentSHA256", ossd_sign::hex_lower(&got)));
        }
    }
    if let Some(want) = r.h("content-md5") {
        if let Err(e) = check_md5(want, &info.md5) {
            discard(state, info.id).await?;
            return Err(e);
        }
    }
    Ok(info)
}

/// InvalidDigest when `content_md5` is not base64 of 16 bytes; the mismatch row (S3: BadDigest) when it is
/// another body's MD5.
pub fn check_md5(content_md5: &str, md5: &[u8]) -> Result<()> {
    match base64::engine::general_purpose::STANDARD.decode(content_md5.trim()) {
        Ok(d) if d == md5 => Ok(()),
        Ok(d) if d.len() == 16 => Err(Error::new(Code::InvalidDigestMismatch).ctx("Content-MD5", content_md5)),
        _ => Err(Error::new(Code::InvalidDigest).ctx("Content-MD5", content_md5)),
    }
}

/// The `x-oss-tagging` header: `key` or `key=value` items joined by `&`, each URL-encoded (OSS EC 0010-00000219
/// for any other form), then the tag limits.
pub fn parse_tagging_header(v: &str) -> Result<Vec<(String, String)>> {
    if let Some(item) = v.split('&').find(|item| item.matches('=').count() > 1) {
        let shown: String = item.chars().take(256).collect();
        return Err(Error::new(Code::InvalidTaggingHeader)
            .ctx("ArgumentName", "x-oss-tagging")
            .ctx("ArgumentValue", shown));
    }
    let tags = util::parse_query(v);
    check_tags(&tags)?;
    Ok(tags)
}

fn check_tags(tags: &[(String, String)]) -> Result<()> {
    let bad = |value: &str, msg: &'static str| {
        Error::new(Code::InvalidTag).msg(msg).ctx("ArgumentName", "Tagging").ctx("ArgumentValue", value)
    };
    if tags.len() > 10 {
        return Err(bad(&tags.len().to_string(), "Object tags cannot be greater than 10."));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            let shown: String = k.chars().take(128).collect();
            return Err(bad(&shown, "The tag key must be 1 to 128 characters and the value at most 256."));
        }
        if tags[..i].iter().any(|(seen, _)| seen == k) {
            return Err(bad(k, "Cannot provide multiple Tags with the same key."));
        }
    }
    Ok(())
}

/// The most user metadata an object may carry: x-oss-meta-* names and values together (OSS EC 0011-00000002).
pub const MAX_USER_META: usize = 8 * 1024;

/// User metadata (names without the `x-oss-meta-` prefix, and values) within [`MAX_USER_META`].
pub fn check_user_meta(meta: &[(String, String)]) -> Result<()> {
    let total: usize = meta.iter().map(|(k, v)| "x-oss-meta-".len() + k.len() + v.len()).sum();
    if total > MAX_USER_META {
        return Err(Error::new(Code::UserMetaTooLarge)
            .ctx("MaxSizeAllowed", MAX_USER_META.to_string())
            .ctx("ProposedSize", total.to_string()));
    }
    Ok(())
}

/// The attributes an upload sets from its headers.
pub fn attrs_from_headers(r: &Req, b: &BucketRecord) -> Result<ObjectAttrs> {
    let mut a = ObjectAttrs {
        content_type: r.h("content-type").unwrap_or("application/octet-stream").to_string(),
        acl: "default".into(),
        storage_class: b.storage_class.clone(),
        ..Default::default()
    };
    for h in STANDARD_HEADERS {
        if let Some(v) = r.h(h) {
            a.headers.push((h.to_string(), v.to_string()));
        }
    }
    for (k, v) in &r.headers {
        if let Some(name) = k.as_str().strip_prefix("x-oss-meta-") {
            a.user_meta.push((name.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()));
        }
    }
    check_user_meta(&a.user_meta)?;
    if let Some(acl) = r.h("x-oss-object-acl") {
        if !OBJECT_ACLS.contains(&acl) {
            return Err(Error::invalid_argument("x-oss-object-acl", acl, "no such object access control exists"));
        }
        a.acl = acl.to_string();
    }
    if let Some(c) = r.h("x-oss-storage-class") {
        if !STORAGE_CLASSES.contains(&c) {
            return Err(Error::invalid_argument("x-oss-storage-class", c, "Invalid storage class."));
        }
        a.storage_class = c.to_string();
    }
    if let Some(t) = r.h("x-oss-tagging") {
        a.tags = parse_tagging_header(t)?;
    }
    a.sse = check_sse(r)?;
    Ok(a)
}

/// The request's upload callback, checked before any byte is stored.
pub fn callback_of(r: &Req) -> Result<Option<super::callback::Callback>> {
    match r.h("x-oss-callback") {
        Some(c) => super::callback::parse(c, r.h("x-oss-callback-var")).map(Some),
        None => Ok(None),
    }
}

fn write_response(o: &ObjectRecord, info: Option<&BlobInfo>) -> Result<Response<Body>> {
    let mut b = Response::builder()
        .header(http::header::ETAG, format!("\"{}\"", o.etag))
        .header("x-oss-hash-crc64ecma", o.crc64.to_string());
    if let Some(i) = info {
        b = b.header("content-md5", base64::engine::general_purpose::STANDARD.encode(i.md5));
    }
    if o.otype == ObjectType::Appendable {
        b = b.header("x-oss-next-append-position", o.size.to_string());
    }
    if let Some(s) = &o.attrs.sse {
        b = b.header("x-oss-server-side-encryption", s.as_str());
    }
    b.body(Body::Empty).map_err(Error::internal)
}

pub async fn put_object(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
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
        return super::callback::call(&cb, &rec).await;
    }
    write_response(&rec, Some(&info))
}

pub async fn append_object(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
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
    let (bk, k) = (b.name.clone(), key.clone());
    let existing = blocking(move || engine.meta.get_object(&bk, &k)).await?;
    let encrypt = match &existing {
        Some(o) => o.attrs.sse.is_some(),
        None => attrs.sse.is_some(),
    };
    let info = receive_body(state, r, body, encrypt).await?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let rec = blocking(move || engine.append_object(&bucket, &key, position, info, attrs)).await?;
    write_response(&rec, Some(&info))
}

fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t.eq_ignore_ascii_case(etag))
}

/// If-Match and If-Unmodified-Since give 412; If-None-Match and If-Modified-Since give 304.
fn check_conditions(
    o: &ObjectRecord,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    if_unmodified_since: Option<&str>,
    failed_not_modified: Code,
) -> Result<()> {
    let mtime = o.mtime_ms / 1000;
    if let Some(m) = if_match {
        if !etag_matches(m, &o.etag) {
            return Err(Error::new(Code::PreconditionFailed).ctx("Condition", "If-Match"));
        }
    } else if let Some(t) = if_unmodified_since.and_then(util::parse_http_date) {
        if mtime > t {
            return Err(Error::new(Code::PreconditionFailed).ctx("Condition", "If-Unmodified-Since"));
        }
    }
    let not_modified = || {
        Error::new(failed_not_modified)
            .header("etag", format!("\"{}\"", o.etag))
            .header("last-modified", util::http_date(o.mtime_ms))
    };
    if let Some(m) = if_none_match {
        if etag_matches(m, &o.etag) {
            return Err(not_modified());
        }
    } else if let Some(t) = if_modified_since.and_then(util::parse_http_date) {
        if mtime <= t {
            return Err(not_modified());
        }
    }
    Ok(())
}

/// Parses a single `bytes=` range against `size`; None means "send the whole object" (as OSS does for
/// a range it cannot satisfy).
pub fn parse_range(v: &str, size: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let s: u64 = a.parse().ok()?;
        let e: u64 = if b.is_empty() { size - 1 } else { b.parse::<u64>().ok()?.min(size - 1) };
        (s, e)
    };
    if start > end || start >= size {
        return None;
    }
    Some((start, end - start + 1))
}

/// Looks up the object the request names, following a symlink, after checking read access.
async fn readable(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<ObjectRecord> {
    readable_prefetch(state, r, b, false).await.map(|(rec, _)| rec)
}

/// The record of `bucket`/`key` and, with `prefetch` and a small plain object, its bytes. With `now`, only
/// when that needs no wait (a free metadata reader, bytes in the page cache): `None` says "do it off the async
/// workers". Without `now` it always answers.
fn lookup(
    engine: &ossd_engine::Engine,
    bucket: &str,
    key: &str,
    prefetch: bool,
    now: bool,
) -> Option<Result<(ObjectRecord, Option<Bytes>)>> {
    let rec = if now { engine.try_head_object(bucket, key)? } else { engine.head_object(bucket, key) };
    let rec = match rec {
        Ok(rec) => rec,
        Err(e) => return Some(Err(e)),
    };
    let small = prefetch
        && rec.otype != ObjectType::Symlink
        && rec.size > 0
        && rec.size <= SMALL_BODY
        && ossd_engine::Engine::readable_now(&rec);
    if !small {
        return Some(Ok((rec, None)));
    }
    let bytes = if now {
        match engine.read_cached(&rec) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        }
    } else {
        let mut buf = vec![0u8; rec.size as usize];
        if let Err(e) = engine.reader(&rec, 0, rec.size).read_exact(&mut buf) {
            return Some(Err(io(e)));
        }
        buf
    };
    Some(Ok((rec, Some(Bytes::from(bytes)))))
}

/// As `readable`; with `prefetch`, a small plain object's bytes come with its record. Both are read right here
/// on the async worker when that cannot wait (a point lookup and a page-cache read cost less than a hop to the
/// blocking pool and back); otherwise in one blocking call. The bytes leave this function only after the access
/// check.
async fn readable_prefetch(
    state: &Arc<State>,
    r: &Req,
    b: &BucketRecord,
    prefetch: bool,
) -> Result<(ObjectRecord, Option<Bytes>)> {
    let key = r.key()?.to_string();
    let found = match lookup(&state.engine, &b.name, &key, prefetch, true) {
        Some(found) => found,
        None => {
            let engine = state.engine.clone();
            let bucket = b.name.clone();
            blocking(move || {
                lookup(&engine, &bucket, &key, prefetch, false)
                    .unwrap_or_else(|| Err(Error::internal("a lookup that may wait gave no answer")))
            })
            .await
        }
    };
    let (rec, bytes) = match found {
        Ok(found) => found,
        // Whether a key exists is not told to those who may not read the bucket.
        Err(e) => {
            check_access(r, b, None, false)?;
            return Err(e);
        }
    };
    check_access(r, b, Some(&rec.attrs.acl), false)?;
    if rec.otype != ObjectType::Symlink {
        return Ok((rec, bytes));
    }
    let engine = state.engine.clone();
    let mut target = blocking(move || engine.resolve(rec)).await?;
    if target.otype == ObjectType::Symlink {
        return Err(Error::new(Code::InvalidTargetType).ctx("Key", r.key()?));
    }
    target.otype = ObjectType::Symlink;
    Ok((target, None))
}

/// Streams bytes `[start, start+len)` of `rec` from a blocking reader, one chunk at a time.
pub fn stream_object(state: &State, rec: ObjectRecord, start: u64, len: u64, rate: Option<u64>) -> Body {
    if len == 0 {
        return Body::Empty;
    }
    let engine = state.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut reader = engine.reader(&rec, start, len);
        let mut left = len;
        let started = std::time::Instant::now();
        let chunk = rate.map(|r| (r as usize / 4).clamp(4096, CHUNK)).unwrap_or(CHUNK);
        while left > 0 {
            if let Some(wait) = rate.and_then(|r| pace(started, len - left, r)) {
                std::thread::sleep(wait);
            }
            let mut buf = vec![0u8; chunk.min(left as usize)];
            let mut filled = 0;
            while filled < buf.len() {
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) => {
                        tracing::error!(bucket = %rec.bucket, key = %rec.key, error = %e, "read failed mid-stream");
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
            if filled == 0 {
                let _ =
                    tx.blocking_send(Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "object truncated")));
                return;
            }
            buf.truncate(filled);
            left -= filled as u64;
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return;
            }
        }
    });
    Body::Stream(rx)
}

pub async fn get_object(state: &Arc<State>, r: &Req, b: &BucketRecord, head: bool) -> Result<Response<Body>> {
    // A bad traffic limit is reported after a missing object, as before the prefetch existed.
    let rate = traffic_limit(r);
    let plain = !head && matches!(rate, Ok(None)) && r.q("x-oss-process").is_none();
    let (o, prefetched) = readable_prefetch(state, r, b, plain).await?;
    let rate = rate?;
    check_conditions(
        &o,
        r.h("if-match"),
        r.h("if-none-match"),
        r.h("if-modified-since"),
        r.h("if-unmodified-since"),
        Code::NotModified,
    )?;
    if !head && !ossd_engine::Engine::readable_now(&o) {
        return Err(Error::new(Code::InvalidObjectState).ctx("Key", o.key.clone()));
    }
    if let Some(spec) = r.q("x-oss-process").filter(|_| !head) {
        return super::image::process(state, o, spec).await;
    }
    let range = r.h("range").and_then(|v| parse_range(v, o.size));
    // S3 (and OSS when asked with x-oss-range-behavior: standard) refuses a range it cannot satisfy.
    let strict = r.dialect == ossd_errors::Dialect::S3 || r.h("x-oss-range-behavior") == Some("standard");
    if let (true, None, Some(v)) = (strict, range, r.h("range")) {
        if v.trim().starts_with("bytes=") && !v.contains(',') {
            return Err(Error::new(Code::InvalidRange)
                .ctx("RangeRequested", v)
                .ctx("ActualObjectSize", o.size.to_string())
                .header("content-range", format!("bytes */{}", o.size)));
        }
    }
    let (status, start, len) = match range {
        Some((s, l)) => (StatusCode::PARTIAL_CONTENT, s, l),
        None => (StatusCode::OK, 0, o.size),
    };
    let mut rb =
        object_headers(Response::builder().status(status), &o).header(http::header::CONTENT_LENGTH, len.to_string());
    if range.is_some() {
        rb = rb.header(http::header::CONTENT_RANGE, format!("bytes {}-{}/{}", start, start + len - 1, o.size));
    }
    check_overrides(&r.query)?;
    let override_of = |name: &str| r.q(&format!("response-{name}"));
    rb = rb.header(http::header::CONTENT_TYPE, override_of("content-type").unwrap_or(&o.attrs.content_type));
    for (h, v) in &o.attrs.headers {
        if override_of(h).is_none() {
            rb = rb.header(h.as_str(), v.as_str());
        }
    }
    for h in STANDARD_HEADERS {
        if let Some(v) = override_of(h) {
            rb = rb.header(*h, v);
        }
    }
    for (k, v) in &o.attrs.user_meta {
        rb = rb.header(format!("x-oss-meta-{k}"), v.as_str());
    }
    if !o.attrs.tags.is_empty() {
        rb = rb.header("x-oss-tagging-count", o.attrs.tags.len().to_string());
    }
    let body = if head {
        Body::Empty
    } else if let Some(all) = prefetched.filter(|all| len > 0 && start + len <= all.len() as u64) {
        Body::full(all.slice(start as usize..(start + len) as usize))
    } else if len > 0 && len <= SMALL_BODY && rate.is_none() {
        // A small body is read in one blocking call and sent in one write.
        let engine = state.engine.clone();
        let bytes = blocking(move || {
            let mut buf = vec![0u8; len as usize];
            engine.reader(&o, start, len).read_exact(&mut buf).map_err(io)?;
            Ok(Bytes::from(buf))
        })
        .await?;
        Body::full(bytes)
    } else {
        stream_object(state, o, start, len, rate)
    };
    rb.body(body).map_err(Error::internal)
}

/// The `response-*` overrides become response headers: a value that cannot be one is refused (found by the
/// fuzz front_end target: it was an InternalError).
fn check_overrides(query: &[(String, String)]) -> Result<()> {
    for (k, v) in query.iter().filter(|(k, _)| k.starts_with("response-")) {
        if http::HeaderValue::from_str(v).is_err() {
            return Err(Error::invalid_argument(k, v, "The response header override is not a valid header value."));
        }
    }
    Ok(())
}

pub async fn get_object_meta(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let o = readable(state, r, b).await?;
    Response::builder()
        .header(http::header::ETAG, format!("\"{}\"", o.etag))
        .header(http::header::CONTENT_LENGTH, o.size.to_string())
        .header(http::header::LAST_MODIFIED, util::http_date(o.mtime_ms))
        .header("x-oss-hash-crc64ecma", o.crc64.to_string())
        .body(Body::Empty)
        .map_err(Error::internal)
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
        return Err(Error::invalid_argument("encoding-type", e, "The encoding-type must be url."));
    }
    let md5 = r.h("content-md5").map(str::to_string);
    // S3 clients may send a checksum header instead of Content-MD5.
    let s3_checksum =
        r.dialect == ossd_errors::Dialect::S3 && r.headers.keys().any(|k| k.as_str().starts_with("x-oss-checksum-"));
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
    )?;
    Ok(o)
}

pub async fn copy_object(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let key = r.key()?.to_string();
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    check_access(r, b, None, true)?;
    let sse = check_sse(r)?;
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
        if !OBJECT_ACLS.contains(&acl) {
            return Err(Error::invalid_argument("x-oss-object-acl", acl, "no such object access control exists"));
        }
        attrs.acl = acl.to_string();
    }
    if let Some(c) = r.h("x-oss-storage-class") {
        if !STORAGE_CLASSES.contains(&c) {
            return Err(Error::invalid_argument("x-oss-storage-class", c, "Invalid storage class."));
        }
        attrs.storage_class = c.to_string();
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
    x.el("ETag", &format!("\"{}\"", rec.etag)).el("LastModified", &iso8601(rec.mtime_ms));
    Response::builder()
        .header(http::header::CONTENT_TYPE, "application/xml")
        .header(http::header::ETAG, format!("\"{}\"", rec.etag))
        .header("x-oss-hash-crc64ecma", rec.crc64.to_string())
        .body(Body::full(x.finish("CopyObjectResult")))
        .map_err(Error::internal)
}

pub async fn put_object_acl(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let key = r.key()?.to_string();
    let Some(acl) = r.h("x-oss-object-acl").map(str::to_string) else {
        return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "x-oss-object-acl"));
    };
    if !OBJECT_ACLS.contains(&acl.as_str()) {
        return Err(Error::invalid_argument("x-oss-object-acl", &acl, "no such object access control exists"));
    }
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
    let acl = if o.attrs.acl == "default" && r.dialect == ossd_errors::Dialect::S3 {
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
    Response::builder()
        .header(http::header::ETAG, format!("\"{}\"", rec.etag))
        .body(Body::Empty)
        .map_err(Error::internal)
}

pub async fn get_symlink(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let key = r.key()?.to_string();
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let o = blocking(move || engine.head_object(&bucket, &key)).await?;
    check_access(r, b, Some(&o.attrs.acl), false)?;
    let Some(target) = o.symlink_target.as_deref().filter(|_| o.otype == ObjectType::Symlink) else {
        return Err(Error::new(Code::NotSymlink).ctx("Key", o.key.clone()));
    };
    let mut rb = Response::builder()
        .header("x-oss-symlink-target", util::encode(target))
        .header(http::header::ETAG, format!("\"{}\"", o.etag))
        .header(http::header::LAST_MODIFIED, util::http_date(o.mtime_ms));
    for (k, v) in &o.attrs.user_meta {
        rb = rb.header(format!("x-oss-meta-{k}"), v.as_str());
    }
    rb.body(Body::Empty).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_meta_limit() {
        let meta = |n: usize| vec![("a".to_string(), "m".repeat(n))];
        assert!(check_user_meta(&meta(MAX_USER_META - "x-oss-meta-a".len())).is_ok());
        assert_eq!(check_user_meta(&meta(MAX_USER_META)).unwrap_err().code, Code::UserMetaTooLarge);
    }

    #[test]
    fn tagging_limits() {
        assert_eq!(parse_tagging_header("a=1&b&c=x%20y").unwrap().len(), 3);
        assert_eq!(parse_tagging_header("aa=bb=cc").unwrap_err().code, Code::InvalidTaggingHeader);
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_tagging_header(&eleven.join("&")).unwrap_err().code, Code::InvalidTag);
        assert!(parse_tagging_header(&eleven[..10].join("&")).is_ok());
        assert_eq!(parse_tagging_header("a=1&a=2").unwrap_err().code, Code::InvalidTag);
        assert_eq!(parse_tagging_header(&format!("{}=v", "k".repeat(129))).unwrap_err().code, Code::InvalidTag);
        assert_eq!(parse_tagging_header(&format!("k={}", "v".repeat(257))).unwrap_err().code, Code::InvalidTag);
        // Lengths are in characters: 128 three-byte characters are a valid key.
        assert!(parse_tagging_header(&format!("{}=v", util::encode(&"語".repeat(128)))).is_ok());
        assert_eq!(parse_tagging_header("=v").unwrap_err().code, Code::InvalidTag);
    }

    #[test]
    fn hostile_ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=0-18446744073709551615", 100), Some((0, 100)));
        for odd in [
            "bytes=",
            "bytes=abc",
            "bytes=5-1",
            "bytes=-0",
            "bytes=100-",
            "bytes=0-0,1-1",
            "items=0-1",
            "bytes=--1",
            "bytes=99999999999999999999-",
            "bytes=-18446744073709551616",
        ] {
            assert_eq!(parse_range(odd, 100), None, "{odd}");
        }
        assert_eq!(parse_range("bytes=0-0", 0), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=-200", 100), Some((0, 100)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 50)));
        for ignored in ["bytes=100-", "bytes=9-3", "bytes=a-b", "items=0-1", "bytes=0-1,3-4", "bytes=-0"] {
            assert_eq!(parse_range(ignored, 100), None, "{ignored}");
        }
        assert_eq!(parse_range("bytes=0-0", 0), None);
    }

    // Found by fuzzing (fuzz/, target front_end): `?response-content-type=text%1Fhtml` was a 500 InternalError.
    #[test]
    fn overrides_that_cannot_be_header_values_are_refused() {
        let q = |k: &str, v: &str| vec![("acl".to_string(), String::new()), (k.to_string(), v.to_string())];
        assert!(check_overrides(&q("response-content-type", "text/html")).is_ok());
        assert!(check_overrides(&q("other", "a\u{1f}b")).is_ok());
        for (k, v) in
            [("response-content-type", "text\u{1f}html"), ("response-expires", "a\nb"), ("response-x", "\u{7f}")]
        {
            let e = check_overrides(&q(k, v)).unwrap_err();
            assert_eq!((e.code, e.status()), (Code::InvalidArgument, 400), "{k}");
        }
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"ABC\"", "ABC"));
        assert!(etag_matches("abc", "ABC"));
        assert!(etag_matches("\"x\", \"ABC\"", "ABC"));
        assert!(etag_matches("*", "ABC"));
        assert!(!etag_matches("\"ABD\"", "ABC"));
    }

    #[test]
    fn lookup_on_the_worker_and_off_it_give_the_same_answers() {
        let dir = std::env::temp_dir().join(format!("ossd-lookup-{}", ossd_engine::model::random_u64()));
        let engine = ossd_engine::Engine::open(&dir, false, "cn-hangzhou").unwrap();
        engine.create_bucket("owner", "lookups", "private", "Standard").unwrap();
        let attrs = || ObjectAttrs { acl: "default".into(), ..Default::default() };
        for (key, body, sse) in [("plain", &b"small body"[..], false), ("sealed", b"encrypted at rest", true)] {
            let mut w = engine.new_blob(sse).unwrap();
            w.write(body).unwrap();
            let mut a = attrs();
            a.sse = sse.then(|| "AES256".to_string());
            engine.put_object("lookups", key, w.finish().unwrap(), a, false).unwrap();
        }
        let big = vec![7u8; SMALL_BODY as usize + 1];
        let mut w = engine.new_blob(false).unwrap();
        w.write(&big).unwrap();
        engine.put_object("lookups", "big", w.finish().unwrap(), attrs(), false).unwrap();
        for now in [false, true] {
            for (key, body) in [("plain", &b"small body"[..]), ("sealed", b"encrypted at rest")] {
                let (rec, bytes) = lookup(&engine, "lookups", key, true, now).unwrap().unwrap();
                assert_eq!(rec.key, key);
                assert_eq!(bytes.as_deref(), Some(body), "{key} now={now}");
                let (_, none) = lookup(&engine, "lookups", key, false, now).unwrap().unwrap();
                assert!(none.is_none(), "no prefetch asked, none done");
            }
            let (rec, bytes) = lookup(&engine, "lookups", "big", true, now).unwrap().unwrap();
            assert_eq!((rec.size, bytes), (big.len() as u64, None), "too big to prefetch");
            let e = lookup(&engine, "lookups", "missing", true, now).unwrap().unwrap_err();
            assert_eq!(e.code, Code::NoSuchKey);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
