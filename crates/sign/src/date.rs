//! Calendar dates in UTC (proleptic Gregorian) as the wire writes them: ISO 8601 in XML, the basic form
//! `20231203T121212Z` of V4 signing, RFC 1123 in headers. The one conversion between days and dates that
//! the server, the client and the engine share.

/// Days since 1970-01-01 to (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix milliseconds to (year, month, day, hour, minute, second).
pub fn civil(ms: i64) -> (i64, u32, u32, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    (y, m, d, s / 3600, s % 3600 / 60, s % 60)
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
        let (y, mo, d, h, mi, s) = civil(self.0);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
    }
}

/// Unix seconds to `20231203T121212Z`, the basic ISO 8601 form of V4 signing.
pub fn basic_iso(secs: i64) -> String {
    let (y, m, d, h, mi, s) = civil(secs.saturating_mul(1000));
    format!("{y:04}{m:02}{d:02}T{h:02}{mi:02}{s:02}Z")
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

/// Parses `2023-01-01T00:00:00.000Z` (or without milliseconds: what follows the seconds is not read) to
/// Unix milliseconds.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    let day = s.get(0..10)?;
    let compact = format!("{}T{}Z", day.replace('-', ""), s.get(11..19)?.replace(':', ""));
    parse_basic_iso(&compact).map(|t| t * 1000)
}

/// `[Wkd, ]DD Mon YYYY HH:MM:SS ZONE` with ZONE one of GMT, UTC, Z, +0000, -0000, to Unix seconds. The weekday
/// is not checked against the date (the clouds do not check it, and clients do send wrong ones).
pub fn parse_rfc1123(s: &str) -> Option<i64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400_000 + 3_723_000), (2000, 2, 29, 1, 2, 3));
        assert_eq!(civil(1_709_251_199_999), (2024, 2, 29, 23, 59, 59));
        assert_eq!(civil(-1000), (1969, 12, 31, 23, 59, 59));
        for days in [-800_000, -719_469, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days}");
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_449_314_229_000), "2015-12-05T11:17:09.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.000Z");
        assert_eq!(parse_iso8601("2020-01-02T00:00:00.000Z"), Some(1_577_923_200_000));
        assert_eq!(parse_iso8601(" 2015-12-05T11:17:09Z"), Some(1_449_314_229_000));
        assert_eq!(parse_iso8601(&iso8601(1_449_314_229_000)), Some(1_449_314_229_000));
        for bad in ["", "2015-12-05", "2015-13-05T11:17:09.000Z", "2015-12-05T11:17:0x.000Z"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn basic_iso_round_trip() {
        assert_eq!(parse_basic_iso("20151205T111709Z"), Some(1_449_314_229));
        assert_eq!(parse_basic_iso("20000229T000000Z"), Some(951_782_400));
        assert_eq!(basic_iso(1_449_314_229), "20151205T111709Z");
        assert_eq!(basic_iso(0), "19700101T000000Z");
        assert_eq!(parse_basic_iso(&basic_iso(951_782_400)), Some(951_782_400));
        for bad in ["", "2015-12-05T11:17:09Z", "20151305T111709Z", "20151205T251709Z", "2015120xT111709Z"] {
            assert_eq!(parse_basic_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn hostile_dates_do_not_overflow() {
        for bad in ["+0000101T000000Z", "99999999T999999Z", "2024010１T00000Z", "20240101T000000", ""] {
            assert_eq!(parse_basic_iso(bad), None, "{bad}");
        }
        for bad in [
            "Tue, 07 Jul 9223372036854775807 21:53:04 GMT",
            "Tue, 07 Jul 2010 -1:53:04 GMT",
            "Tue, 07 Jul 2010 21:-53:04 GMT",
            "Tue, 07 Jul 2010 9223372036854775807:00:00 GMT",
            "Tue, 99 Jul 2010 21:53:04 GMT",
            "",
            ", , , ,",
        ] {
            assert_eq!(parse_rfc1123(bad), None, "{bad}");
        }
        assert!(parse_rfc1123("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
    }

    #[test]
    fn rfc1123_dates() {
        // 07 Jul 2010 was a Wednesday: the wrong weekday is not a reason to refuse the date.
        assert_eq!(parse_rfc1123("Tue, 07 Jul 2010 21:53:04 GMT"), Some(1_278_539_584));
        assert_eq!(parse_rfc1123("Wed, 07 Jul 2010 21:53:04 -0000"), Some(1_278_539_584));
        assert_eq!(parse_rfc1123("07 Jul 2010 21:53:04 +0000"), Some(1_278_539_584));
        assert_eq!(parse_rfc1123("Sat, 05 Dec 2015 11:17:09 GMT"), Some(1_449_314_229));
        for bad in [
            "Tue, 07 Jul 2010 21:53:04 CET",
            "Tue, 32 Jul 2010 21:53:04 GMT",
            "Tue, 07 Jul 2010 24:00:00 GMT",
            "Tue, 07 Jul 2010 21:53:04 GMT extra",
            "Tue, 07 Jul 1969 21:53:04 GMT",
            "Tue, 07 Jul 10000 21:53:04 GMT",
        ] {
            assert_eq!(parse_rfc1123(bad), None, "{bad}");
        }
    }
}
