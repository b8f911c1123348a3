//! The ossd error catalog: every error code, once, as one row of data, plus the OSS error-body writer.
//! The server renders from it, tests enumerate it, and `ossd explain` prints from it.

use std::borrow::Cow;
use std::fmt;

mod catalog;
mod render;
pub mod xml;

pub use catalog::{Code, CATALOG, DIALECT_OVERRIDES};
pub use render::{oss_error_xml, s3_error_xml, xml_escape};

/// The vendor API a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Oss,
    S3,
    Cos,
    Obs,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Oss => "oss",
            Dialect::S3 => "s3",
            Dialect::Cos => "cos",
            Dialect::Obs => "obs",
        }
    }

    pub fn parse(s: &str) -> Option<Dialect> {
        match s.to_ascii_lowercase().as_str() {
            "oss" => Some(Dialect::Oss),
            "s3" => Some(Dialect::S3),
            "cos" => Some(Dialect::Cos),
            "obs" => Some(Dialect::Obs),
            _ => None,
        }
    }

    /// The vendor's header prefix: `x-oss-`, `x-amz-`, `x-cos-`, `x-obs-`.
    pub fn prefix(self) -> &'static str {
        match self {
            Dialect::Oss => "x-oss-",
            Dialect::S3 => "x-amz-",
            Dialect::Cos => "x-cos-",
            Dialect::Obs => "x-obs-",
        }
    }
}

/// How a client should treat an error when deciding whether to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retrying the same request gives the same answer.
    Never,
    /// A transient server-side condition: retry with backoff.
    Transient,
    /// Throttling: retry with a longer backoff.
    Throttle,
    /// The request clock is off: correct the offset from `Date`, then retry once.
    ClockSkew,
}

impl Retry {
    pub fn as_str(self) -> &'static str {
        match self {
            Retry::Never => "never",
            Retry::Transient => "transient",
            Retry::Throttle => "throttle",
            Retry::ClockSkew => "clock-skew",
        }
    }
}

/// One row of the catalog.
#[derive(Debug)]
pub struct ErrorDef {
    /// The row's own name, unique (a code may have several rows, one per cause).
    pub name: &'static str,
    /// The vendor code sent in `<Code>`.
    pub code: &'static str,
    pub status: u16,
    /// The fine-grained code, `NNNN-NNNNNNNN`.
    pub ec: &'static str,
    pub retry: Retry,
    /// The default message, as the OSS documentation gives it.
    pub message: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
}

impl ErrorDef {
    /// The troubleshooting link OSS sends in `<RecommendDoc>`.
    pub fn recommend_doc(&self) -> String {
        format!("https://api.aliyun.com/troubleshoot?q={}", self.ec)
    }
}

/// An error raised anywhere in ossd: a catalog row plus the context of this occurrence.
#[derive(Debug, Clone)]
pub struct Error {
    pub code: Code,
    /// Replaces the row's default message when set.
    pub message: Option<Cow<'static, str>>,
    /// Extra XML elements, in order (BucketName, Key, ArgumentName, Header, StringToSign, …).
    pub context: Vec<(&'static str, String)>,
    /// Extra response headers (for example `x-oss-next-append-position`).
    pub headers: Vec<(&'static str, String)>,
}

impl Error {
    pub fn new(code: Code) -> Self {
        Error { code, message: None, context: Vec::new(), headers: Vec::new() }
    }

    pub fn msg(mut self, m: impl Into<Cow<'static, str>>) -> Self {
        self.message = Some(m.into());
        self
    }

    pub fn ctx(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.context.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn def(&self) -> &'static ErrorDef {
        self.code.def()
    }

    pub fn status(&self) -> u16 {
        self.def().status
    }

    pub fn message(&self) -> &str {
        match &self.message {
            Some(m) => m,
            None => self.def().message,
        }
    }

    /// An InvalidArgument naming the argument and its value.
    pub fn invalid_argument(name: &str, value: &str, message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(Code::InvalidArgument).msg(message).ctx("ArgumentName", name).ctx("ArgumentValue", value)
    }

    /// A row of its own for one argument (OSS gives many arguments their own EC), naming the argument and value.
    pub fn argument(code: Code, name: &str, value: &str) -> Self {
        Error::new(code).ctx("ArgumentName", name).ctx("ArgumentValue", value)
    }

    /// A storage failure: always a 500 InternalError, with the detail kept out of the response body.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Error::new(Code::InternalError).ctx("Detail", detail.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.def();
        write!(f, "{} {} ({}): {}", d.status, d.code, d.ec, self.message())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_code_ec_pairs_are_unique() {
        // An EC may serve rows of different codes where OSS uses it so (0017-00001001 for 304 and 412), and two
        // rows of different codes (0006-00000004); a code and an EC together name one row.
        let mut names = HashSet::new();
        let mut pairs = HashSet::new();
        for d in CATALOG {
            assert!(names.insert(d.name), "duplicate row name {}", d.name);
            assert!(pairs.insert((d.code, d.ec)), "duplicate code and EC {} {}", d.code, d.ec);
        }
    }

    #[test]
    fn an_ec_of_several_rows_finds_them_all() {
        let rows: Vec<_> = Code::all_with_ec("0017-00001001").collect();
        assert_eq!(rows, [Code::NotModified, Code::PreconditionFailed]);
        assert_eq!(Code::from_ec("0017-00001001"), Some(Code::NotModified));
        assert_eq!(Code::all_with_ec("0006-00000004").count(), 2);
        assert_eq!(Code::all_with_ec("0000-00000000").count(), 0);
    }

    #[test]
    fn ecs_have_the_documented_shape() {
        for d in CATALOG {
            let (a, b) = d.ec.split_once('-').expect("EC has a dash");
            assert_eq!(a.len(), 4, "{}", d.ec);
            assert_eq!(b.len(), 8, "{}", d.ec);
            assert!(a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()), "{}", d.ec);
        }
    }

    #[test]
    fn published_ecs_are_used() {
        let want = [
            (Code::NoSuchKey, "0026-00000001"),
            (Code::NoSuchBucket, "0015-00000101"),
            (Code::BucketNotEmpty, "0015-00000301"),
            (Code::BucketAlreadyExists, "0015-00000104"),
            (Code::RequestTimeTooSkewed, "0002-00000504"),
            (Code::InvalidAccessKeyId, "0002-00000902"),
            (Code::SignatureDoesNotMatch, "0002-00000040"),
            (Code::PositionNotEqualToLength, "0026-00000016"),
            (Code::MissingArgument, "0016-00000502"),
            (Code::MalformedXML, "0031-00000001"),
            (Code::AccessDenied, "0003-00000001"),
            (Code::NoSuchUpload, "0017-00000244"),
            (Code::InvalidBucketName, "0015-00000001"),
            (Code::InvalidDigest, "0017-00000502"),
            (Code::InvalidDigestMismatch, "0017-00000503"),
            (Code::FileAlreadyExists, "0026-00000002"),
            (Code::FileAlreadyExistsMultipart, "0042-00000214"),
            (Code::AccessDeniedExpired, "0002-00000069"),
            (Code::PreconditionFailed, "0017-00001001"),
        ];
        for (c, ec) in want {
            assert_eq!(c.def().ec, ec, "{:?}", c);
        }
    }

    #[test]
    fn lookups_by_code_and_ec() {
        assert_eq!(Code::from_ec("0026-00000001"), Some(Code::NoSuchKey));
        assert_eq!(Code::from_code("NoSuchKey"), Some(Code::NoSuchKey));
        // A code with several rows resolves to its first row.
        assert_eq!(Code::from_code("InvalidObjectName"), Some(Code::InvalidObjectNameEmpty));
        assert_eq!(Code::from_code("NoSuchThing"), None);
        assert_eq!(Code::from_name("InvalidPartNumber"), Some(Code::InvalidPartNumber));
    }

    #[test]
    fn seed_statuses_and_messages() {
        assert_eq!(Code::CallbackFailed.def().status, 203);
        assert_eq!(Code::MissingContentLength.def().status, 411);
        assert_eq!(Code::InvalidObjectNameTooLong.def().message, "The Length of Object name must be less than 1024.");
        assert_eq!(Code::EntityTooLargeCopySource.def().code, "EntityTooLarge");
        assert_eq!(Code::QpsLimitExceeded.def().status, 429);
    }

    #[test]
    fn display_is_one_readable_line() {
        let e = Error::new(Code::NoSuchKey).ctx("Key", "a");
        let s = e.to_string();
        assert!(s.contains("404") && s.contains("NoSuchKey") && s.contains("0026-00000001"), "{s}");
        assert!(!s.contains('\n'));
    }
}
