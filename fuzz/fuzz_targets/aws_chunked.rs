//! The aws-chunked body decoder. Input: one flag byte (bit 0: check chunk signatures; the rest: how finely
//! the body arrives), then the encoded body. Decoding in pieces must give what decoding at once gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ossd_server::http::chunked::{ChunkCtx, ChunkDecoder};

fn ctx() -> ChunkCtx {
    ChunkCtx {
        key: ossd_sign::aws::v4_signing_key("SECRET", "20240101", "us-east-1", "s3"),
        datetime: "20240101T000000Z".into(),
        scope: "20240101/us-east-1/s3/aws4_request".into(),
        seed: "seed".into(),
    }
}

fn decode(body: &[u8], piece: usize, signed: bool) -> Option<Vec<u8>> {
    let mut d = ChunkDecoder::new(signed.then(ctx));
    let mut out = Vec::new();
    for p in body.chunks(piece.max(1)) {
        for b in d.push(p).ok()? {
            out.extend_from_slice(&b);
        }
    }
    d.finish().ok()?;
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else { return };
    let signed = flags & 1 == 1;
    let whole = decode(body, body.len(), signed);
    let pieces = decode(body, (flags >> 1) as usize + 1, signed);
    if let (Some(a), Some(b)) = (&whole, &pieces) {
        assert_eq!(a, b, "the same body decodes the same in pieces");
    }
});
