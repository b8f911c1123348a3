//! A dialect's response vocabulary: the names and forms in which the operations write what they answer with —
//! its header prefix and which of the engine's headers it carries, its storage-class names, its ETag form, and
//! its request-id headers. The operations write through it, so every dialect's answer is produced directly.

use crate::http::xml::XmlOut;
use http::header::HeaderName;
use http::HeaderValue;
use ossd_errors::Dialect;
use std::borrow::Cow;

/// The engine's object headers (without the `x-oss-` prefix) that S3, COS and OBS carry too, under their own
/// prefix; besides these only user metadata (`meta-*`) is carried. OSS carries every one.
const SHARED_HEADERS: &[&str] =
    &["server-side-encryption", "restore", "tagging-count", "storage-class", "hash-crc64ecma"];

/// How one dialect writes an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocab(pub Dialect);

impl Vocab {
    pub fn of(d: Dialect) -> Vocab {
        Vocab(d)
    }

    /// An ETag's text as the dialect writes it: OSS keeps the engine's uppercase hex; the others write it in
    /// lowercase, as S3 does.
    pub fn etag_text(self, etag: &str) -> Cow<'_, str> {
        match self.0 {
            Dialect::Oss => Cow::Borrowed(etag),
            _ => Cow::Owned(etag.to_ascii_lowercase()),
        }
    }

    /// An ETag as a header value or element text: quoted, in the dialect's case.
    pub fn etag(self, etag: &str) -> String {
        format!("\"{}\"", self.etag_text(etag))
    }

    /// A storage class (the engine's name) in the dialect's names.
    pub fn storage_class(self, class: &str) -> &str {
        match (self.0, class) {
            (Dialect::Oss, c) => c,
            (_, "Standard") => "STANDARD",
            (Dialect::Obs, "IA") => "WARM",
            (_, "IA") => "STANDARD_IA",
            (Dialect::S3, "Archive") => "GLACIER",
            (Dialect::Cos, "Archive") => "ARCHIVE",
            (Dialect::Obs, "Archive") => "COLD",
            (_, "ColdArchive" | "DeepColdArchive") => "DEEP_ARCHIVE",
            (_, other) => other,
        }
    }

    /// The name of one of the engine's headers (`name` without a prefix: `hash-crc64ecma`, `meta-color`) in
    /// this dialect; None when the dialect does not carry it.
    pub fn header(self, name: &str) -> Option<HeaderName> {
        if self.0 != Dialect::Oss && !name.starts_with("meta-") && !SHARED_HEADERS.contains(&name) {
            return None;
        }
        HeaderName::from_bytes(format!("{}{name}", self.0.prefix()).as_bytes()).ok()
    }

    /// The storage-class header of an object, when the dialect writes one (S3 leaves out STANDARD).
    pub fn storage_class_header(self, class: &str) -> Option<(HeaderName, HeaderValue)> {
        let c = self.storage_class(class);
        if self.0 == Dialect::S3 && c == "STANDARD" {
            return None;
        }
        Some((self.header("storage-class")?, HeaderValue::from_str(c).ok()?))
    }

    /// ListObjects' page size when max-keys is not given: OSS lists 100 keys, S3, COS and OBS 1000.
    pub fn default_max_keys(self) -> usize {
        if self.0 == Dialect::Oss {
            100
        } else {
            1000
        }
    }

    /// Whether the object listing is written S3's way (S3, COS, OBS): ListObjects (V1) answers the prefix as
    /// sent even with encoding-type=url, V2 answers an empty continuation-token, and an empty delimiter is left
    /// out. OSS encodes the prefix, skips an empty token and always writes the delimiter.
    pub fn s3_listing(self) -> bool {
        self.0 != Dialect::Oss
    }

    /// Whether creating a bucket one already owns is BucketAlreadyOwnedByYou (S3, COS, OBS); OSS answers 200.
    pub fn recreate_is_error(self) -> bool {
        self.0 != Dialect::Oss
    }

    /// Whether deleting a bucket removes its unfinished multipart uploads with it (S3); OSS, COS and OBS count
    /// them as content.
    pub fn bucket_delete_drops_uploads(self) -> bool {
        self.0 == Dialect::S3
    }

    /// Whether a range that cannot be satisfied is refused (InvalidRange) rather than answered with the whole
    /// object: S3 always, OSS when asked (`x-oss-range-behavior: standard`).
    pub fn strict_ranges(self) -> bool {
        self.0 == Dialect::S3
    }

    /// Whether DeleteMultipleObjects may carry a checksum header (`x-amz-checksum-*`) instead of Content-MD5.
    pub fn checksum_for_md5(self) -> bool {
        self.0 == Dialect::S3
    }

    /// Whether an object whose ACL is `default` shows its bucket's ACL (S3, which has no `default`).
    pub fn object_acl_shows_bucket_acl(self) -> bool {
        self.0 == Dialect::S3
    }

    /// An AccessControlList's grants for a canned ACL: OSS's one-word `<Grant>`, or S3's list of grants.
    pub fn write_grants(self, x: &mut XmlOut, owner_id: &str, acl: &str) {
        if self.0 != Dialect::S3 {
            x.el("Grant", acl);
            return;
        }
        let grant = |x: &mut XmlOut, grantee: &str, who: &str, perm: &str| {
            x.open("Grant");
            x.raw(&format!("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"{grantee}\">"));
            if grantee == "Group" {
                x.el("URI", who);
            } else {
                x.el("ID", who).el("DisplayName", who);
            }
            x.close("Grantee").el("Permission", perm).close("Grant");
        };
        grant(x, "CanonicalUser", owner_id, "FULL_CONTROL");
        let all = "http://acs.amazonaws.com/groups/global/AllUsers";
        if acl == "public-read" || acl == "public-read-write" {
            grant(x, "Group", all, "READ");
        }
        if acl == "public-read-write" {
            grant(x, "Group", all, "WRITE");
        }
    }

    /// The GetBucketLocation document for a bucket in `region`.
    pub fn location_constraint(self, region: &str) -> String {
        if self.0 == Dialect::S3 {
            let region = if region == "us-east-1" { "" } else { region };
            return format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{region}</LocationConstraint>"
            );
        }
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint>oss-{region}</LocationConstraint>")
    }

    /// The headers that carry the request id (and the second id).
    pub fn id_headers(self) -> (&'static str, &'static str) {
        match self.0 {
            Dialect::Oss => ("x-oss-request-id", "x-oss-request-id"),
            Dialect::S3 => ("x-amz-request-id", "x-amz-id-2"),
            Dialect::Cos => ("x-cos-request-id", "x-cos-trace-id"),
            Dialect::Obs => ("x-obs-request-id", "x-obs-id-2"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_writes_its_own_words() {
        let (oss, s3, cos, obs) = (Vocab(Dialect::Oss), Vocab(Dialect::S3), Vocab(Dialect::Cos), Vocab(Dialect::Obs));
        assert_eq!(oss.etag("ABCDEF-2"), "\"ABCDEF-2\"");
        assert_eq!(s3.etag("ABCDEF-2"), "\"abcdef-2\"");
        assert_eq!([oss, s3, cos, obs].map(|v| v.storage_class("IA")), ["IA", "STANDARD_IA", "STANDARD_IA", "WARM"]);
        assert_eq!([s3, cos, obs].map(|v| v.storage_class("Archive")), ["GLACIER", "ARCHIVE", "COLD"]);
        assert_eq!(s3.storage_class("ColdArchive"), "DEEP_ARCHIVE");
        assert_eq!(oss.header("object-type").unwrap(), "x-oss-object-type");
        assert!(s3.header("object-type").is_none());
        assert_eq!(cos.header("meta-who").unwrap(), "x-cos-meta-who");
        assert_eq!(obs.header("hash-crc64ecma").unwrap(), "x-obs-hash-crc64ecma");
        assert!(s3.storage_class_header("Standard").is_none());
        assert_eq!(cos.storage_class_header("Standard").unwrap().1, "STANDARD");
        assert_eq!(oss.storage_class_header("Standard").unwrap().0, "x-oss-storage-class");
    }
}
