//! Small wire helpers shared by the dialects: dates, hex, query strings, percent-encoding.

pub use ossd_sign::{constant_time_eq, encode, encode_path, hex_lower};
use percent_encoding::percent_decode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2015-12-05T11:10:29.000Z`, the form OSS uses in XML. OSS always writes `.000`, and oss2 parses
/// exactly that, so milliseconds are dropped.
pub fn iso8601(ms: i64) -> String {
    Iso8601(ms).to_string()
}

/// `iso8601` as a Display, for writing a date into a buffer without a String of its own.
pub struct Iso8601(pub i64);

impl std::fmt::Display for Iso8601 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.div_euclid(1000);
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        write!(f, "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.000Z", s / 3600, s % 3600 / 60, s % 60)
    }
}

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

/// `[Wkd, ]DD Mon YYYY HH:MM:SS ZONE` with ZONE one of GMT, UTC, Z, +0000, -0000. The weekday is not checked
/// against the date (the clouds do not check it, and clients do send wrong ones).
fn parse_rfc1123(s: &str) -> Option<i64> {
    let s = s.split_once(", ").map_or(s, |(_, rest)| rest);
    let mut it = s.split_ascii_whitespace();
    let (d, mon, y, hms, zone) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || !matches!(zone, "GMT" | "UTC" | "Z" | "+0000" | "-0000") {
        return None;
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(mon))? as u32 + 1;
    let (d, y): (u32, i64) = (d.parse().ok()?, y.parse().ok()?);
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    if h < 0 || mi < 0 || se < 0 {
        return None;
    }
    if t.next().is_some() || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Parses `20231203T121212Z` to Unix seconds.
pub fn parse_basic_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d, h, mi, se) = (n(0..4)?, n(4..6)?, n(6..8)?, n(9..11)?, n(11..13)?, n(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se)
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
    fn hostile_dates_do_not_overflow() {
        for bad in [
            "Tue, 07 Jul 9223372036854775807 21:53:04 GMT",
            "Tue, 07 Jul 2010 -1:53:04 GMT",
            "Tue, 07 Jul 2010 21:-53:04 GMT",
            "Tue, 07 Jul 2010 9223372036854775807:00:00 GMT",
            "Tue, 99 Jul 2010 21:53:04 GMT",
            "",
            ", , , ,",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        for bad in ["+0000101T000000Z", "99999999T999999Z", "2024010１T00000Z", "20240101T000000", ""] {
            assert_eq!(parse_basic_iso(bad), None, "{bad}");
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
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_449_314_229_000), "2015-12-05T11:17:09.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn basic_iso_round_trip() {
        assert_eq!(parse_basic_iso("20151205T111709Z"), Some(1_449_314_229));
        assert_eq!(parse_basic_iso("20000229T000000Z"), Some(951_782_400));
        for bad in ["", "2015-12-05T11:17:09Z", "20151305T111709Z", "20151205T251709Z", "2015120xT111709Z"] {
            assert_eq!(parse_basic_iso(bad), None, "{bad}");
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
