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

/// Object keys are 1 to 1023 bytes of UTF-8.
pub fn check_object_name(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::new(Code::InvalidObjectNameEmpty));
    }
    if key.len() >= 1024 {
        return Err(Error::new(Code::InvalidObjectNameTooLong).ctx("ObjectName", key));
    }
    Ok(())
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
        assert!(check_object_name("../../x").is_ok());
        assert!(check_object_name(&"k".repeat(1023)).is_ok());
        assert!(check_object_name("日本語/キー").is_ok());
        assert_eq!(check_object_name("").unwrap_err().code, Code::InvalidObjectNameEmpty);
        assert_eq!(check_object_name(&"k".repeat(1024)).unwrap_err().code, Code::InvalidObjectNameTooLong);
        // 1024 bytes made of 342 three-byte characters minus… counted in bytes, not characters.
        assert_eq!(check_object_name(&"語".repeat(342)).unwrap_err().code, Code::InvalidObjectNameTooLong);
    }
}
