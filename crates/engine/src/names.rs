//! Bucket and object name rules.

use ossd_errors::{Code, Error, Result};

/// 3 to 63 characters of [a-z0-9-], starting and ending with a letter or a digit.
pub fn check_bucket_name(name: &str) -> Result<()> {
    if ossd_sign::valid_bucket_name(name) {
        Ok(())
    } else {
        Err(Error::new(Code::InvalidBucketName).ctx("BucketName", name))
    }
}

/// The longest object key OSS accepts, in bytes of UTF-8 ("1 to 1,023 bytes", OSS object naming conventions).
pub const OSS_MAX_KEY: usize = 1023;
/// The longest object key S3 accepts ("up to 1,024 bytes", S3 object key naming).
pub const S3_MAX_KEY: usize = 1024;

/// The rule every stored key meets, whatever dialect wrote it: 1 to 1024 bytes of UTF-8 (S3's limit, the loosest).
/// Each dialect's own rules are [`check_object_name_in`].
pub fn check_object_name(key: &str) -> Result<()> {
    check_len(key, S3_MAX_KEY)
}

fn check_len(key: &str, max: usize) -> Result<()> {
    if key.is_empty() {
        return Err(Error::new(Code::InvalidObjectNameEmpty));
    }
    if key.len() > max {
        let shown: String = key.chars().take(64).collect();
        return Err(Error::new(Code::InvalidObjectNameTooLong).ctx("ObjectName", shown));
    }
    Ok(())
}

/// A key as a dialect's documentation allows it. OSS: 1 to 1023 bytes of UTF-8, not starting with `/` or `\\`
/// (control characters are allowed; listings can URL-encode them). S3, COS and OBS: 1 to 1024 bytes of UTF-8.
pub fn check_object_name_in(key: &str, dialect: ossd_errors::Dialect) -> Result<()> {
    if dialect == ossd_errors::Dialect::Oss {
        check_len(key, OSS_MAX_KEY)?;
        if key.starts_with('/') || key.starts_with('\\') {
            let shown: String = key.chars().take(64).collect();
            return Err(Error::new(Code::InvalidObjectNameSlash).ctx("ObjectName", shown));
        }
        Ok(())
    } else {
        check_len(key, S3_MAX_KEY)
    }
}

/// Percent-decodes an object key from a request path; a key whose bytes are not UTF-8 is `InvalidObjectName`.
pub fn decode_object_name(raw: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'%' && i + 2 < raw.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::new(Code::InvalidObjectNameNotUtf8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for good in ["abc", "a-b", "0bucket9", &"a".repeat(63)] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "-abc", "abc-", "ABC", "a_b", "a.b", "", &"a".repeat(64), "ab c", "über"] {
            let e = check_bucket_name(bad).expect_err(bad);
            assert_eq!(e.code, Code::InvalidBucketName);
        }
    }

    #[test]
    fn object_names() {
        use ossd_errors::Dialect::{Oss, S3};
        assert!(check_object_name("../../x").is_ok());
        assert!(check_object_name_in("../../x", Oss).is_ok());
        assert!(check_object_name_in(&"k".repeat(1023), Oss).is_ok());
        assert!(check_object_name_in("日本語/キー", Oss).is_ok());
        assert!(check_object_name_in("a\u{1}b\tc", Oss).is_ok());
        assert_eq!(check_object_name_in("", Oss).unwrap_err().code, Code::InvalidObjectNameEmpty);
        assert_eq!(check_object_name_in(&"k".repeat(1024), Oss).unwrap_err().code, Code::InvalidObjectNameTooLong);
        // Counted in bytes, not characters: 342 three-byte characters are 1026 bytes.
        assert_eq!(check_object_name_in(&"語".repeat(342), Oss).unwrap_err().code, Code::InvalidObjectNameTooLong);
        for bad in ["/a", "\\a", "//", "\\"] {
            assert_eq!(check_object_name_in(bad, Oss).unwrap_err().code, Code::InvalidObjectNameSlash, "{bad}");
        }
        // S3: 1024 bytes, and a leading slash is an ordinary character.
        assert!(check_object_name_in(&"k".repeat(1024), S3).is_ok());
        assert!(check_object_name_in("/a", S3).is_ok());
        assert_eq!(check_object_name_in(&"k".repeat(1025), S3).unwrap_err().code, Code::InvalidObjectNameTooLong);
        assert_eq!(check_object_name_in("", S3).unwrap_err().code, Code::InvalidObjectNameEmpty);
    }

    #[test]
    fn decoding_keys() {
        assert_eq!(decode_object_name(b"a%2Fb%20c").unwrap(), "a/b c");
        assert_eq!(decode_object_name(b"%E8%AA%9E").unwrap(), "語");
        assert_eq!(decode_object_name(b"100%").unwrap(), "100%");
        assert_eq!(decode_object_name(b"%zz%4").unwrap(), "%zz%4");
        assert_eq!(decode_object_name(b"%00").unwrap(), "\0");
        for bad in [&b"%FF"[..], b"%C3", b"%ED%A0%80", b"\xff"] {
            assert_eq!(decode_object_name(bad).unwrap_err().code, Code::InvalidObjectNameNotUtf8);
        }
    }
}
