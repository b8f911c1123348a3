//! JSON documents from clients (POST policies, callback parameters, callback answers), read with serde_json
//! within a size bound, and JSON string literals for the few documents ossd writes (image/info).

pub use serde_json::Value as Json;

/// The largest JSON document read: a callback server's answer, which OSS caps at 1 MB, is the largest; POST
/// policies and callback parameters are a few KB.
pub const MAX_JSON: usize = 1 << 20;

/// Parses one JSON document of at most [`MAX_JSON`] bytes. serde_json also bounds nesting (128 levels), so no
/// input can exhaust the stack.
pub fn parse(s: &[u8]) -> Result<Json, String> {
    if s.len() > MAX_JSON {
        return Err(format!("the document is larger than {MAX_JSON} bytes"));
    }
    serde_json::from_slice(s).map_err(|e| e.to_string())
}

/// A number, or a string holding one (POST policies write `content-length-range` bounds either way).
pub fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Writes a JSON string literal.
pub fn quote(s: &str) -> String {
    Json::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents() {
        let j = parse(br#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},["starts-with","$key","u/"],["content-length-range",1,"10.5"]],"t":true,"n":null,"u":"\u00e9\ud83d\ude00\n"}"#).unwrap();
        assert_eq!(j.get("expiration").and_then(Json::as_str), Some("2030-01-01T00:00:00.000Z"));
        let Some(Json::Array(c)) = j.get("conditions") else { panic!() };
        assert_eq!(c.len(), 3);
        assert_eq!(c[2].get(1).and_then(number), Some(1.0));
        assert_eq!(c[2].get(2).and_then(number), Some(10.5));
        assert_eq!(j.get("u").and_then(Json::as_str), Some("é😀\n"));
        assert_eq!(j.get("t"), Some(&Json::Bool(true)));
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [&b""[..], b"{", b"{\"a\"}", b"[1,]", b"\"x", b"{} extra", b"nul", b"{\"a\":1,}", b"\xff"] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bounds_size_and_depth() {
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
        let deep_obj = "{\"a\":".repeat(50_000);
        assert!(parse(deep_obj.as_bytes()).is_err());
        let mut big = b"\"".to_vec();
        big.resize(MAX_JSON + 1, b'a');
        big.push(b'"');
        assert!(parse(&big).unwrap_err().contains("larger than"));
    }

    #[test]
    fn quotes() {
        assert_eq!(quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(parse(quote("x\"y\u{2}").as_bytes()).unwrap(), Json::String("x\"y\u{2}".into()));
    }
}
