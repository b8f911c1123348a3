//! Listings: ListBuckets (GetService), ListObjects and ListObjectsV2, ListObjectVersions; and the paging
//! parameters (max-keys style limits, continuation tokens) they share with the multipart listings.

use super::bucket::{anonymous_denied, owner};
use super::{blocking, check_access, ok_xml};
use crate::dialect::vocab::Vocab;
use crate::http::body::Body;
use crate::http::req::Req;
use crate::http::util::{self, iso8601, Iso8601};
use crate::http::xml::XmlOut;
use crate::State;
use base64::Engine as _;
use http::Response;
use ossd_engine::model::BucketRecord;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

/// Parses max-keys style parameters: an integer from 0 to `max`.
pub fn limit_param(r: &Req, name: &str, default: usize, max: usize) -> Result<usize> {
    match r.q(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(Error::invalid_argument(
                name,
                v,
                format!("Argument {name} must be an integer between 0 and {max}."),
            )),
        },
    }
}

pub async fn list_buckets(state: &Arc<State>, r: &Req) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let Some(user) = r.user.clone() else {
        return Err(anonymous_denied());
    };
    let prefix = r.q("prefix").unwrap_or("").to_string();
    let marker = r.q("marker").unwrap_or("").to_string();
    let max = limit_param(r, "max-keys", 100, 1000)?;
    let engine = state.engine.clone();
    let (p, m, ak) = (prefix.clone(), marker.clone(), user.access_key_id.clone());
    let mut list = blocking(move || engine.list_buckets(&ak, &p, &m, max + 1)).await?;
    let truncated = list.len() > max;
    list.truncate(max);
    let mut x = XmlOut::new("ListAllMyBucketsResult");
    x.el("Prefix", &prefix).el("Marker", &marker).el("MaxKeys", &max.to_string());
    x.el("IsTruncated", if truncated { "true" } else { "false" });
    if truncated {
        x.el("NextMarker", list.last().map(|b| b.name.as_str()).unwrap_or(""));
    }
    owner(&mut x, &user.access_key_id);
    x.open("Buckets");
    for b in &list {
        x.open("Bucket")
            .el("CreationDate", &iso8601(b.created_ms))
            .el("ExtranetEndpoint", &state.public_endpoint)
            .el("IntranetEndpoint", &state.public_endpoint)
            .el("Location", &format!("oss-{}", b.region))
            .el("Name", &b.name)
            .el("Region", &b.region)
            .el("StorageClass", vocab.storage_class(&b.storage_class))
            .close("Bucket");
    }
    x.close("Buckets");
    ok_xml(x.finish("ListAllMyBucketsResult"))
}

fn token_encode(marker: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(marker.as_bytes())
}

fn token_decode(token: &str) -> Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::invalid_argument("continuation-token", token, "The continuation token provided is incorrect.")
        })
}

/// ListObjectVersions: buckets are unversioned, so every object is its only, latest version `null`.
pub async fn list_object_versions(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    check_access(r, b, None, false)?;
    let prefix = r.q("prefix").unwrap_or("").to_string();
    let delimiter = r.q("delimiter").unwrap_or("").to_string();
    let marker = r.q("key-marker").unwrap_or("").to_string();
    let max = limit_param(r, "max-keys", 1000, 1000)?;
    let engine = state.engine.clone();
    let (bn, p, d, m) = (b.name.clone(), prefix.clone(), delimiter.clone(), marker.clone());
    let l = blocking(move || engine.list_objects(&bn, &p, &d, &m, max)).await?;
    let enc = r.url_encoding();
    let e = |s: &str| if enc { util::encode(s) } else { s.to_string() };
    let root = "ListVersionsResult";
    let mut x = XmlOut::new(root);
    x.el("Name", &b.name)
        .el("Prefix", &e(&prefix))
        .el("KeyMarker", &e(&marker))
        .el("VersionIdMarker", "")
        .el("MaxKeys", &max.to_string())
        .el("Delimiter", &e(&delimiter))
        .el("IsTruncated", if l.truncated { "true" } else { "false" });
    if l.truncated {
        x.el("NextKeyMarker", &e(&l.next_marker)).el("NextVersionIdMarker", "null");
    }
    if enc {
        x.el("EncodingType", "url");
    }
    for o in &l.objects {
        x.open("Version")
            .el("Key", &e(&o.key))
            .el("VersionId", "null")
            .el("IsLatest", "true")
            .el_markup("LastModified", Iso8601(o.mtime_ms))
            .el_markup("ETag", format_args!("&quot;{}&quot;", vocab.etag_text(&o.etag)))
            .el_markup("Size", o.size)
            .el("StorageClass", vocab.storage_class(&o.attrs.storage_class));
        owner(&mut x, &b.owner);
        x.close("Version");
    }
    for p in &l.prefixes {
        x.open("CommonPrefixes").el("Prefix", &e(p)).close("CommonPrefixes");
    }
    ok_xml(x.finish(root))
}

/// ListObjects (V1) and ListObjectsV2 (`list-type=2`).
pub async fn list_objects(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    check_access(r, b, None, false)?;
    let v2 = match r.q("list-type") {
        None => false,
        Some("2") => true,
        Some(v) => return Err(Error::argument(Code::InvalidListType, "list-type", v)),
    };
    if let Some(e) = r.q("encoding-type").filter(|e| *e != "url") {
        return Err(Error::argument(Code::InvalidEncodingType, "encoding-type", e));
    }
    let prefix = r.q("prefix").unwrap_or("").to_string();
    let delimiter = r.q("delimiter").unwrap_or("").to_string();
    let vocab = Vocab::of(r.dialect);
    let s3_like = vocab.s3_listing();
    let max = limit_param(r, "max-keys", vocab.default_max_keys(), 1000)?;
    let marker = if v2 {
        match r.q("continuation-token").filter(|t| !t.is_empty()) {
            Some(t) => token_decode(t)?,
            None => r.q("start-after").unwrap_or("").to_string(),
        }
    } else {
        r.q("marker").unwrap_or("").to_string()
    };
    let engine = state.engine.clone();
    let (bn, p, d, m) = (b.name.clone(), prefix.clone(), delimiter.clone(), marker.clone());
    let l = blocking(move || engine.list_objects(&bn, &p, &d, &m, max)).await?;
    let enc = r.url_encoding();
    let e = |s: &str| if enc { util::encode(s) } else { s.to_string() };
    let root = "ListBucketResult";
    // About 400 bytes an entry: one buffer for the page instead of a dozen doublings.
    let mut x = XmlOut::with_capacity(root, 1024 + 400 * (l.objects.len() + l.prefixes.len()));
    // S3's ListObjects (V1) answers the prefix as sent, even with encoding-type=url (its SDKs decode
    // only Marker, NextMarker, Delimiter, keys and common prefixes there).
    x.el("Name", &b.name).el("Prefix", &if s3_like && !v2 { prefix.clone() } else { e(&prefix) });
    if v2 {
        if let Some(sa) = r.q("start-after").filter(|s| !s.is_empty()) {
            x.el("StartAfter", &e(sa));
        }
        if let Some(t) = r.q("continuation-token").filter(|t| s3_like || !t.is_empty()) {
            x.el("ContinuationToken", t);
        }
    } else {
        x.el("Marker", &e(&marker));
    }
    x.el("MaxKeys", &max.to_string());
    // S3 leaves out an empty delimiter; OSS always writes the element.
    if !(s3_like && delimiter.is_empty()) {
        x.el("Delimiter", &e(&delimiter));
    }
    if enc {
        x.el("EncodingType", "url");
    }
    x.el("IsTruncated", if l.truncated { "true" } else { "false" });
    if l.truncated {
        if v2 {
            x.el("NextContinuationToken", &token_encode(&l.next_marker));
        } else {
            x.el("NextMarker", &e(&l.next_marker));
        }
    }
    if v2 {
        x.el("KeyCount", &(l.objects.len() + l.prefixes.len()).to_string());
    }
    let with_owner = !v2 || r.q("fetch-owner") == Some("true");
    for o in &l.objects {
        x.open("Contents")
            .el("Key", &e(&o.key))
            .el_markup("LastModified", Iso8601(o.mtime_ms))
            .el_markup("ETag", format_args!("&quot;{}&quot;", vocab.etag_text(&o.etag)))
            .el("Type", o.otype.as_str())
            .el_markup("Size", o.size)
            .el("StorageClass", vocab.storage_class(&o.attrs.storage_class));
        if with_owner {
            owner(&mut x, &b.owner);
        }
        x.close("Contents");
    }
    for p in &l.prefixes {
        x.open("CommonPrefixes").el("Prefix", &e(p)).close("CommonPrefixes");
    }
    ok_xml(x.finish(root))
}
