//! The S3 dialect's authentication: SigV4 (header, presigned, and aws-chunked bodies with per-chunk
//! signatures) and SigV2 (header and presigned); plus the aws-chunked body decoder.

use crate::oss::{auth, Req};
use crate::util;
use crate::State;
use bytes::{Buf, Bytes, BytesMut};
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Error, Result};
use ossd_sign::aws;
use ossd_sign::constant_time_eq;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What the request's x-amz-content-sha256 promises about its body.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadHash {
    Unsigned,
    /// The hex SHA-256 of the whole body.
    Sha256(String),
    /// aws-chunked with a signature per chunk.
    StreamingSigned,
    /// aws-chunked without signatures (checksums in trailers).
    StreamingUnsigned,
}

/// What is needed to check chunk signatures.
#[derive(Debug, Clone)]
pub struct ChunkCtx {
    pub key: [u8; 32],
    pub datetime: String,
    pub scope: String,
    pub seed: String,
}

#[derive(Debug, Clone)]
pub struct S3Auth {
    pub payload: PayloadHash,
    pub chunk: Option<ChunkCtx>,
}

fn headers(r: &Req) -> Vec<(String, String)> {
    r.headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect()
}

fn mismatch(sts: &str, provided: &str, ak: &str, canonical: Option<String>) -> Error {
    let mut e = Error::new(Code::SignatureDoesNotMatch)
        .ctx("AWSAccessKeyId", ak)
        .ctx("StringToSign", sts)
        .ctx("SignatureProvided", provided);
    if let Some(c) = canonical {
        e = e.ctx("CanonicalRequest", c);
    }
    e
}

fn payload_of(v: Option<&str>) -> PayloadHash {
    match v {
        Some("UNSIGNED-PAYLOAD") | None => PayloadHash::Unsigned,
        Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") | Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") => {
            PayloadHash::StreamingSigned
        }
        Some(s) if s.starts_with("STREAMING-") => PayloadHash::StreamingUnsigned,
        Some(h) => PayloadHash::Sha256(h.to_ascii_lowercase()),
    }
}

fn check_region(state: &State, region: &str) -> Result<()> {
    if region == state.region || region == "us-east-1" {
        Ok(())
    } else {
        Err(Error::new(Code::InvalidArgument)
            .msg(format!(
                "The authorization header is malformed; the region '{region}' is wrong; expecting '{}'",
                state.region
            ))
            .ctx("ArgumentName", "Authorization")
            .ctx("ArgumentValue", region))
    }
}

fn skew(t: Option<i64>, raw: &str) -> Result<()> {
    auth::skew_check(t, raw, "AWS authentication requires a valid Date or x-amz-date header")
}

/// The path as SigV4 signs it (decoded), and as SigV2 signs it (the bucket, then the path as sent).
fn paths(r: &Req) -> (String, String) {
    let decoded = util::decode(&r.raw_path, false);
    let v2 = if r.virtual_hosted {
        format!("/{}{}", r.bucket.as_deref().unwrap_or(""), r.raw_path)
    } else {
        r.raw_path.clone()
    };
    (decoded, v2)
}

/// Checks a SigV2 signature. A bucket-level resource is signed as `/bucket/` by most clients and as
/// `/bucket` by some; either is accepted.
fn v2_verify(
    r: &Req,
    user: &UserRecord,
    resource: &str,
    hs: &[(String, String)],
    dates: &[&str],
    ak: &str,
    sig: &str,
) -> Result<()> {
    let mut candidates = vec![resource.to_string()];
    if r.key.is_none() && r.bucket.is_some() {
        let alt =
            if resource.ends_with('/') { resource.trim_end_matches('/').to_string() } else { format!("{resource}/") };
        candidates.insert(0, alt);
    }
    let mut first = None;
    // The OBS SDK signs AWS V2 requests with OBS's list of sub-resources.
    for subs in [aws::S3_V2_SUBRESOURCES, aws::OBS_SUBRESOURCES] {
        for (res, date) in candidates.iter().flat_map(|res| dates.iter().map(move |d| (res, *d))) {
            let sts = aws::v2_string_to_sign(r.method.as_str(), res, &r.query, hs, date, "x-amz-", subs);
            if constant_time_eq(aws::v2_sign(&user.secret, &sts).as_bytes(), sig.as_bytes()) {
                return Ok(());
            }
            first.get_or_insert(sts);
        }
    }
    Err(mismatch(&first.unwrap_or_default(), sig, ak, None))
}

/// Checks a SigV4 signature over `canonical` for the credential `cred` (ak/date/region/service/aws4_request,
/// already split); returns the signing key and scope, from which aws-chunked bodies chain their chunk signatures.
fn v4_check(
    user: &UserRecord,
    cred: &[&str],
    datetime: &str,
    canonical: String,
    sig: &str,
) -> Result<([u8; 32], String)> {
    let [ak, date, region, service, _] = cred else {
        return Err(Error::new(Code::AccessDenied).msg("The credential is malformed."));
    };
    let want = aws::v4_sign(&user.secret, date, datetime, region, service, &canonical);
    if !constant_time_eq(want.signature.as_bytes(), sig.as_bytes()) {
        return Err(mismatch(&want.string_to_sign, sig, ak, Some(canonical)));
    }
    Ok((want.key, want.scope))
}

/// Parses what follows `AWS4-HMAC-SHA256 ` in an Authorization header: the five credential scope parts
/// (key id, date, region, service, `aws4_request`), SignedHeaders and Signature.
pub fn parse_v4_header(rest: &str) -> Result<(Vec<&str>, &str, &str)> {
    let (mut cred, mut signed, mut sig) = ("", "", "");
    for item in rest.split(',').map(str::trim) {
        if let Some(v) = item.strip_prefix("Credential=") {
            cred = v;
        } else if let Some(v) = item.strip_prefix("SignedHeaders=") {
            signed = v;
        } else if let Some(v) = item.strip_prefix("Signature=") {
            sig = v;
        }
    }
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() != 5 || signed.is_empty() || sig.is_empty() {
        return Err(Error::new(Code::AccessDenied).msg("The authorization header is malformed."));
    }
    Ok((parts, signed, sig))
}

/// Authenticates an S3 request; Ok(None) for an anonymous one.
pub async fn authenticate(state: &Arc<State>, r: &Req) -> Result<Option<(UserRecord, S3Auth)>> {
    let hs = headers(r);
    let (v4_path, v2_resource) = paths(r);
    if let Some(a) = r.h("authorization") {
        if let Some(rest) = a.strip_prefix("AWS4-HMAC-SHA256 ") {
            let (parts, signed, sig) = parse_v4_header(rest)?;
            let user = auth::user(state, parts[0]).await?;
            check_region(state, parts[2])?;
            // The request time is x-amz-date, or else the Date header (which SigV4 then signs in basic ISO form).
            let (datetime, t) = match r.h("x-amz-date") {
                Some(d) => (d.to_string(), util::parse_basic_iso(d)),
                None => {
                    let t = r.h("date").and_then(util::parse_http_date);
                    (
                        t.map(|t| util::iso8601(t * 1000).replace(['-', ':'], "").replace(".000", ""))
                            .unwrap_or_default(),
                        t,
                    )
                }
            };
            let datetime = datetime.as_str();
            skew(t, r.h("x-amz-date").or(r.h("date")).unwrap_or(""))?;
            let payload_raw = r.h("x-amz-content-sha256").unwrap_or("UNSIGNED-PAYLOAD").to_string();
            let signed: Vec<String> = signed.split(';').map(str::to_string).collect();
            let p = aws::V4Parts { method: r.method.as_str(), path: &v4_path, query: &r.query, headers: &hs };
            let canonical = aws::v4_canonical_request(&p, &signed, &payload_raw, false);
            let (key, scope) = v4_check(&user, &parts, datetime, canonical, sig)?;
            let payload = payload_of(Some(&payload_raw));
            let chunk = (payload == PayloadHash::StreamingSigned).then(|| ChunkCtx {
                key,
                datetime: datetime.to_string(),
                scope,
                seed: sig.to_string(),
            });
            return Ok(Some((user, S3Auth { payload, chunk })));
        }
        if let Some(rest) = a.strip_prefix("AWS ") {
            let (ak, sig) = rest
                .trim()
                .rsplit_once(':')
                .ok_or_else(|| Error::new(Code::AccessDenied).msg("The authorization header is malformed."))?;
            let user = auth::user(state, ak).await?;
            // With x-amz-date the Date line of the string to sign is empty (AWS's rule); botocore writes the Date
            // header there anyway, so that is accepted too.
            let date = r.h("date").unwrap_or("");
            let (dates, t) = match r.h("x-amz-date") {
                Some(d) => (vec!["", date], util::parse_http_date(d).or_else(|| util::parse_basic_iso(d))),
                None => (vec![date], r.h("date").and_then(util::parse_http_date)),
            };
            skew(t, r.h("x-amz-date").or(r.h("date")).unwrap_or(""))?;
            v2_verify(r, &user, &v2_resource, &hs, &dates, ak, sig)?;
            let payload = payload_of(r.h("x-amz-content-sha256"));
            return Ok(Some((user, S3Auth { payload, chunk: None })));
        }
        return Err(Error::new(Code::AccessDenied).msg("Unsupported Authorization Type"));
    }
    if r.q("X-Amz-Algorithm").is_some() {
        let need = |k: &'static str| {
            r.q(k)
                .ok_or_else(|| Error::new(Code::AccessDenied).msg(format!("Query-string authentication requires {k}")))
        };
        let cred = need("X-Amz-Credential")?;
        let datetime = need("X-Amz-Date")?;
        let expires: i64 = need("X-Amz-Expires")?
            .parse()
            .map_err(|_| Error::new(Code::AccessDenied).msg("X-Amz-Expires must be a number"))?;
        let signed: Vec<String> = need("X-Amz-SignedHeaders")?.split(';').map(str::to_string).collect();
        let sig = need("X-Amz-Signature")?;
        let parts: Vec<&str> = cred.split('/').collect();
        if parts.len() != 5 {
            return Err(Error::new(Code::AccessDenied).msg("X-Amz-Credential is malformed"));
        }
        let user = auth::user(state, parts[0]).await?;
        check_region(state, parts[2])?;
        let t = util::parse_basic_iso(datetime)
            .ok_or_else(|| Error::new(Code::AccessDenied).msg("X-Amz-Date is malformed"))?;
        if expires > 604_800 {
            return Err(Error::new(Code::AuthorizationQueryParametersError).ctx("X-Amz-Expires", expires.to_string()));
        }
        // A URL presigned for 0 seconds (or fewer) is already expired.
        if expires <= 0 || util::now_secs() > t + expires {
            return Err(Error::new(Code::AccessDeniedExpired));
        }
        let p = aws::V4Parts { method: r.method.as_str(), path: &v4_path, query: &r.query, headers: &hs };
        let canonical = aws::v4_canonical_request(&p, &signed, "UNSIGNED-PAYLOAD", true);
        v4_check(&user, &parts, datetime, canonical, sig)?;
        return Ok(Some((user, S3Auth { payload: PayloadHash::Unsigned, chunk: None })));
    }
    if let Some(ak) = r.q("AWSAccessKeyId") {
        let (Some(expires), Some(sig)) = (r.q("Expires"), r.q("Signature")) else {
            return Err(Error::new(Code::AccessDenied)
                .msg("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"));
        };
        let user = auth::user(state, ak).await?;
        let exp: i64 = expires.parse().map_err(|_| Error::new(Code::AccessDenied).msg("Expires must be a number"))?;
        if util::now_secs() > exp {
            return Err(Error::new(Code::AccessDeniedExpired));
        }
        v2_verify(r, &user, &v2_resource, &hs, &[expires], ak, sig)?;
        return Ok(Some((user, S3Auth { payload: PayloadHash::Unsigned, chunk: None })));
    }
    Ok(None)
}

#[derive(Debug, PartialEq)]
enum St {
    Header,
    Data { left: usize, sig: Option<String> },
    DataEnd,
    Trailer,
    Done,
}

/// Decodes an aws-chunked body, checking chunk signatures when they are there.
pub struct ChunkDecoder {
    buf: BytesMut,
    st: St,
    ctx: Option<ChunkCtx>,
    prev: String,
    /// The SHA-256 of the chunk being read, fed as it arrives: a chunk is never held whole, whatever size it declares.
    chunk: Sha256,
}

/// The longest chunk-header or trailer line accepted.
pub const MAX_CHUNK_LINE: usize = 4096;

fn bad_chunk(why: &str) -> Error {
    Error::new(Code::InvalidArgument)
        .msg(format!("Invalid aws-chunked body: {why}."))
        .ctx("ArgumentName", "x-amz-content-sha256")
}

impl ChunkDecoder {
    pub fn new(ctx: Option<ChunkCtx>) -> ChunkDecoder {
        let prev = ctx.as_ref().map(|c| c.seed.clone()).unwrap_or_default();
        ChunkDecoder { buf: BytesMut::new(), st: St::Header, ctx, prev, chunk: Sha256::new() }
    }

    fn line(&mut self) -> Option<String> {
        // Only the first MAX_CHUNK_LINE bytes can hold the line: never scan a large buffered frame.
        let head = &self.buf[..self.buf.len().min(MAX_CHUNK_LINE + 2)];
        let i = head.windows(2).position(|w| w == b"\r\n")?;
        let l = String::from_utf8_lossy(&self.buf[..i]).into_owned();
        self.buf.advance(i + 2);
        Some(l)
    }

    fn verify(&mut self, sig: Option<&str>) -> Result<()> {
        if let Some(ctx) = &self.ctx {
            let digest = std::mem::take(&mut self.chunk).finalize();
            let empty = util::hex_lower(&Sha256::digest(b""));
            let sts = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{empty}\n{}",
                ctx.datetime,
                ctx.scope,
                self.prev,
                util::hex_lower(&digest)
            );
            let want = util::hex_lower(&ossd_sign::hmac256(&ctx.key, sts.as_bytes()));
            let got = sig.unwrap_or("");
            if !constant_time_eq(want.as_bytes(), got.as_bytes()) {
                return Err(Error::new(Code::SignatureDoesNotMatch)
                    .msg("The chunk signature does not match.")
                    .ctx("SignatureProvided", got));
            }
            self.prev = want;
        }
        self.chunk = Sha256::new();
        Ok(())
    }

    /// Feeds encoded bytes; returns the decoded bytes they complete.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Bytes>> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            match &mut self.st {
                St::Header => {
                    let Some(l) = self.line() else {
                        if self.buf.len() > MAX_CHUNK_LINE {
                            return Err(bad_chunk("a chunk header is too long"));
                        }
                        return Ok(out);
                    };
                    let (size, ext) = l.split_once(';').unwrap_or((&l, ""));
                    let size =
                        usize::from_str_radix(size.trim(), 16).map_err(|_| bad_chunk("a chunk size is not hex"))?;
                    let sig = ext.trim().strip_prefix("chunk-signature=").map(str::to_string);
                    if size == 0 {
                        self.verify(sig.as_deref())?;
                        self.st = St::Trailer;
                    } else {
                        self.st = St::Data { left: size, sig };
                    }
                }
                St::Data { left, sig } => {
                    if self.buf.is_empty() {
                        return Ok(out);
                    }
                    let n = (*left).min(self.buf.len());
                    let piece = self.buf.split_to(n).freeze();
                    *left -= n;
                    if self.ctx.is_some() {
                        self.chunk.update(&piece);
                    }
                    out.push(piece);
                    if *left == 0 {
                        let sig = sig.take();
                        self.verify(sig.as_deref())?;
                        self.st = St::DataEnd;
                    }
                }
                St::DataEnd => {
                    if self.buf.len() < 2 {
                        return Ok(out);
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(bad_chunk("a chunk does not end with CRLF"));
                    }
                    self.buf.advance(2);
                    self.st = St::Header;
                }
                St::Trailer => {
                    let Some(l) = self.line() else {
                        if self.buf.len() > MAX_CHUNK_LINE {
                            return Err(bad_chunk("a trailer line is too long"));
                        }
                        return Ok(out);
                    };
                    if l.is_empty() {
                        self.st = St::Done;
                    }
                }
                St::Done => return Ok(out),
            }
        }
    }

    pub fn finish(&self) -> Result<()> {
        match self.st {
            St::Done | St::Trailer => Ok(()),
            _ => Err(bad_chunk("the body ends inside a chunk")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_chunks_with_trailer_in_any_split() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for split in 1..body.len() {
            let mut d = ChunkDecoder::new(None);
            let mut out = Vec::new();
            for part in [&body[..split], &body[split..]] {
                for b in d.push(part).unwrap() {
                    out.extend_from_slice(&b);
                }
            }
            d.finish().unwrap();
            assert_eq!(out, b"hello world", "split {split}");
        }
    }

    #[test]
    fn signed_chunks_are_checked() {
        let key = aws::v4_signing_key("SECRET", "20240101", "us-east-1", "s3");
        let ctx = ChunkCtx {
            key,
            datetime: "20240101T000000Z".into(),
            scope: "20240101/us-east-1/s3/aws4_request".into(),
            seed: "seed".into(),
        };
        let s1 = aws::v4_chunk_signature(&key, &ctx.datetime, &ctx.scope, "seed", b"abc");
        let s2 = aws::v4_chunk_signature(&key, &ctx.datetime, &ctx.scope, &s1, b"");
        let body = format!("3;chunk-signature={s1}\r\nabc\r\n0;chunk-signature={s2}\r\n\r\n");
        let mut d = ChunkDecoder::new(Some(ctx.clone()));
        let out: Vec<u8> = d.push(body.as_bytes()).unwrap().concat();
        assert_eq!(out, b"abc");
        d.finish().unwrap();
        let forged = body.replace("abc\r\n", "abd\r\n");
        let mut d = ChunkDecoder::new(Some(ctx));
        assert_eq!(d.push(forged.as_bytes()).unwrap_err().code, Code::SignatureDoesNotMatch);
    }

    #[test]
    fn huge_declared_chunks_and_long_lines() {
        // A chunk that declares 2^64-1 bytes is read as it comes and never held whole.
        let mut d = ChunkDecoder::new(None);
        let out: Vec<u8> = d.push(b"ffffffffffffffff\r\nabc").unwrap().concat();
        assert_eq!(out, b"abc");
        assert!(d.finish().is_err());
        // Past usize: not a size.
        assert!(ChunkDecoder::new(None).push(b"1ffffffffffffffffff\r\n").is_err());
        assert!(ChunkDecoder::new(None).push(&[b'1'; 5000]).is_err());
        assert!(ChunkDecoder::new(None).push(b"-1\r\n").is_err());
        let mut d = ChunkDecoder::new(None);
        d.push(b"0\r\n").unwrap();
        assert!(d.push(&[b'x'; 5000]).is_err(), "an endless trailer line");
    }

    #[test]
    fn v4_headers() {
        let (parts, signed, sig) = parse_v4_header(
            "Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab",
        )
        .unwrap();
        assert_eq!(
            (parts, signed, sig),
            (vec!["AK", "20240101", "us-east-1", "s3", "aws4_request"], "host;x-amz-date", "ab")
        );
        for bad in
            ["", ",,,", "Credential=a/b", "Credential=a/b/c/d/e, SignedHeaders=host", "Credential=////, Signature=x"]
        {
            assert_eq!(parse_v4_header(bad).unwrap_err().code, Code::AccessDenied, "{bad}");
        }
    }

    #[test]
    fn malformed_chunks() {
        assert!(ChunkDecoder::new(None).push(b"zz\r\n").is_err());
        assert!(ChunkDecoder::new(None).push(b"3\r\nabcXY").is_err());
        let mut d = ChunkDecoder::new(None);
        d.push(b"5\r\nhel").unwrap();
        assert!(d.finish().is_err());
    }
}
