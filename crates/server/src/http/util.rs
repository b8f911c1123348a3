//! Small wire helpers shared by the dialects: dates, hex, query strings, percent-encoding.

use ossd_sign::date::parse_rfc1123;
pub use ossd_sign::date::{iso8601, parse_basic_iso, Iso8601};
pub use ossd_sign::{constant_time_eq, encode, encode_path, hex_lower};
use percent_encoding::percent_decode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// RFC 1123 date, as in Last-Modified.
pub fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

/// Parses an RFC 1123 (or other HTTP) date to Unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(t) = parse_rfc1123(s) {
        return Some(t);
    }
    let t = httpdate::parse_http_date(s).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64)
}

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Decodes `%XX` and (in query strings) `+`. Invalid UTF-8 is kept lossily.
pub fn decode(s: &str, plus_is_space: bool) -> String {
    if plus_is_space && s.contains('+') {
        let t = s.replace('+', " ");
        return percent_decode(t.as_bytes()).decode_utf8_lossy().into_owned();
    }
    percent_decode(s.as_bytes()).decode_utf8_lossy().into_owned()
}

/// Splits a raw query string into decoded pairs, in order.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_http_dates_do_not_overflow() {
        for bad in ["Tue, 07 Jul 9223372036854775807 21:53:04 GMT", "Tue, 07 Jul 2010 -1:53:04 GMT", "", ", , , ,"] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        assert!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
    }

    #[test]
    fn lenient_http_dates() {
        // 07 Jul 2010 was a Wednesday: the wrong weekday is not a reason to refuse the date.
        assert_eq!(parse_http_date("Tue, 07 Jul 2010 21:53:04 GMT"), Some(1_278_539_584));
        assert_eq!(parse_http_date("Wed, 07 Jul 2010 21:53:04 -0000"), Some(1_278_539_584));
        assert_eq!(parse_http_date("07 Jul 2010 21:53:04 +0000"), Some(1_278_539_584));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        for bad in [
            "",
            "Tue, 07 Jul 2010 21:53:04 CET",
            "Tue, 32 Jul 2010 21:53:04 GMT",
            "Tue, 07 Foo 2010 1:2 GMT",
            "Tue, 07 Jul 2010 24:00:00 GMT",
            "Tue, 07 Jul 2010 21:53:04 GMT extra",
            "Tue, 07 Jul 1969 21:53:04 GMT",
            // Found by fuzzing (fuzz/, target auth): a year this large overflowed the day count and panicked.
            "Tue, 07 Jul 9223372036854775807 21:53:04 GMT",
            "Tue, 07 Jul 10000 21:53:04 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(1_449_314_229_000), "Sat, 05 Dec 2015 11:17:09 GMT");
        assert_eq!(parse_http_date("Sat, 05 Dec 2015 11:17:09 GMT"), Some(1_449_314_229));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date("Sat, 05 Dec 2015 11:17:09 +0000"), Some(1_449_314_229));
    }

    #[test]
    fn queries_and_encoding() {
        let q = parse_query("acl&a=b%2Fc&x=1+2&empty=");
        assert_eq!(q[0], ("acl".into(), "".into()));
        assert_eq!(q[1], ("a".into(), "b/c".into()));
        assert_eq!(q[2], ("x".into(), "1 2".into()));
        assert_eq!(encode("a b/c~é"), "a%20b%2Fc~%C3%A9");
        assert_eq!(encode_path("/b/a b/c"), "/b/a%20b/c");
    }
}
