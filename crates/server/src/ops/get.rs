//! Reading objects: GetObject, HeadObject, GetObjectMeta; conditional requests, ranges, response overrides,
//! symlink resolution and streaming the bytes out.

use super::validate::*;
use super::Answer;
use super::{blocking, check_access, io, object_headers, pace, SMALL_BODY};
use crate::dialect::vocab::Vocab;
use crate::http::body::Body;
use crate::http::req::Req;
use crate::http::util::{self};
use crate::State;
use bytes::Bytes;
use http::{Response, StatusCode};
use ossd_engine::model::{BucketRecord, ObjectRecord, ObjectType};
use ossd_errors::{Code, Error, Result};
use std::io::Read;
use std::sync::Arc;

const CHUNK: usize = 256 * 1024;

fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t.eq_ignore_ascii_case(etag))
}

/// If-Match and If-Unmodified-Since give 412; If-None-Match and If-Modified-Since give 304.
pub fn check_conditions(
    o: &ObjectRecord,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    if_unmodified_since: Option<&str>,
    failed_not_modified: Code,
    vocab: Vocab,
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
            .header("etag", vocab.etag(&o.etag))
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
    let vocab = Vocab::of(r.dialect);
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
        vocab,
    )?;
    if !head && !ossd_engine::Engine::readable_now(&o) {
        return Err(Error::new(Code::InvalidObjectState).ctx("Key", o.key.clone()));
    }
    if let Some(spec) = r.q("x-oss-process").filter(|_| !head) {
        return super::image::process(state, o, spec).await;
    }
    let range = r.h("range").and_then(|v| parse_range(v, o.size));
    let strict = vocab.strict_ranges() || r.h("x-oss-range-behavior") == Some("standard");
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
    let mut rb = object_headers(Response::builder().status(status), vocab, &o)
        .header(http::header::CONTENT_LENGTH, len.to_string());
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
        rb = rb.engine_header(vocab, &format!("meta-{k}"), v.as_str());
    }
    if !o.attrs.tags.is_empty() {
        rb = rb.engine_header(vocab, "tagging-count", o.attrs.tags.len().to_string());
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
    let vocab = Vocab::of(r.dialect);
    let o = readable(state, r, b).await?;
    Response::builder()
        .header(http::header::ETAG, vocab.etag(&o.etag))
        .header(http::header::CONTENT_LENGTH, o.size.to_string())
        .header(http::header::LAST_MODIFIED, util::http_date(o.mtime_ms))
        .engine_header(vocab, "hash-crc64ecma", o.crc64.to_string())
        .body(Body::Empty)
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ossd_engine::model::ObjectAttrs;

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
