//! aws-chunked request bodies: what a signature promised about the body, and the streaming decoder that
//! strips the chunk framing and checks each chunk's signature as the bytes arrive.

use crate::http::util;
use bytes::{Buf, Bytes, BytesMut};
use ossd_errors::{Code, Error, Result};
use ossd_sign::constant_time_eq;
use sha2::{Digest, Sha256};

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

/// What a request's signature said about its body (S3 SigV4 only, so far).
#[derive(Debug, Clone)]
pub struct S3Auth {
    pub payload: PayloadHash,
    pub chunk: Option<ChunkCtx>,
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
    use ossd_sign::aws;

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
    fn malformed_chunks() {
        assert!(ChunkDecoder::new(None).push(b"zz\r\n").is_err());
        assert!(ChunkDecoder::new(None).push(b"3\r\nabcXY").is_err());
        let mut d = ChunkDecoder::new(None);
        d.push(b"5\r\nhel").unwrap();
        assert!(d.finish().is_err());
    }
}
