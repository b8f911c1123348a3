//! PostObject: browser form uploads (multipart/form-data) with a policy and a V1 or V4 signature.
//! Form fields are bounded; the file part streams into a blob as it arrives.

use super::validate::object_attrs;
use super::Answer;
use super::{blocking, check_access};
use crate::dialect::sign;
use crate::dialect::vocab::Vocab;
use crate::http::body::Body;
use crate::http::json::{self, Json};
use crate::http::req::Req;
use crate::http::util::{self};
use crate::http::util::{constant_time_eq, hex_lower};
use crate::http::xml::XmlOut;
use crate::State;
use base64::Engine as _;
use bytes::Bytes;
use bytes::{Buf, BytesMut};
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use ossd_engine::model::{BucketRecord, ObjectAttrs};
use ossd_engine::{BlobInfo, BlobWriter};
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

/// A form field (other than the file) may be this long.
pub const MAX_FIELD: usize = 4096;
/// All form fields before the file together may be this long.
pub const MAX_PRE_DATA: usize = 64 * 1024;
const MAX_FILE: u64 = 5 << 30;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn malformed(why: &str) -> Error {
    Error::new(Code::MalformedPOSTRequest).ctx("Detail", why)
}

/// Where a form's bytes come from: a request body as it arrives, or bytes already in hand (tests, fuzzing).
enum Source {
    Body(Incoming),
    Bytes(Option<Bytes>),
}

struct Form {
    source: Source,
    buf: BytesMut,
    idle: std::time::Duration,
}

impl Form {
    /// Reads more of the body; false at its end.
    async fn more(&mut self) -> Result<bool> {
        let body = match &mut self.source {
            Source::Body(b) => b,
            Source::Bytes(b) => {
                return Ok(match b.take() {
                    Some(d) => {
                        self.buf.extend_from_slice(&d);
                        true
                    }
                    None => false,
                })
            }
        };
        loop {
            match tokio::time::timeout(self.idle, body.frame()).await {
                Err(_) => return Err(Error::new(Code::RequestTimeout)),
                Ok(None) => return Ok(false),
                Ok(Some(Err(e))) => return Err(Error::new(Code::RequestTimeout).ctx("Detail", e.to_string())),
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// Waits until `needle` is in the buffer (no further than `limit` bytes in), returning its position.
    async fn until(&mut self, needle: &[u8], limit: usize, too_long: impl Fn() -> Error) -> Result<usize> {
        loop {
            if let Some(i) = find(&self.buf, needle) {
                if i > limit {
                    return Err(too_long());
                }
                return Ok(i);
            }
            if self.buf.len() > limit + needle.len() {
                return Err(too_long());
            }
            if !self.more().await? {
                return Err(malformed("the form ends before its closing boundary"));
            }
        }
    }
}

struct PartHead {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
}

fn part_head(raw: &[u8]) -> Result<PartHead> {
    let text = std::str::from_utf8(raw).map_err(|_| malformed("part headers are not UTF-8"))?;
    let mut head = PartHead { name: String::new(), filename: None, content_type: None };
    for line in text.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else { continue };
        if k.trim().eq_ignore_ascii_case("content-disposition") {
            for item in v.split(';').map(str::trim) {
                if let Some(n) = item.strip_prefix("name=") {
                    head.name = n.trim_matches('"').to_string();
                } else if let Some(f) = item.strip_prefix("filename=") {
                    head.filename = Some(f.trim_matches('"').to_string());
                }
            }
        } else if k.trim().eq_ignore_ascii_case("content-type") {
            head.content_type = Some(v.trim().to_string());
        }
    }
    if head.name.is_empty() {
        return Err(malformed("a part has no name"));
    }
    Ok(head)
}

pub(crate) struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn policy_failed(cond: &Json) -> Error {
    Error::new(Code::AccessDenied).msg(format!("Invalid according to Policy: Policy Condition failed: {cond:?}"))
}

fn bad_policy(why: &str) -> Error {
    Error::new(Code::InvalidPolicyDocument).ctx("Detail", why)
}

/// [`check_policy`] over plain (lowercased name, value) pairs: the entry point for fuzzing the policy reader.
pub fn check_policy_fields(
    policy_b64: &str,
    fields: Vec<(String, String)>,
    bucket: &str,
) -> Result<Option<(u64, u64)>> {
    check_policy(policy_b64, &Fields(fields), bucket)
}

/// Checks the policy's expiration and field conditions; returns its content-length-range.
pub(crate) fn check_policy(policy_b64: &str, fields: &Fields, bucket: &str) -> Result<Option<(u64, u64)>> {
    let raw =
        base64::engine::general_purpose::STANDARD.decode(policy_b64.trim()).map_err(|_| bad_policy("not base64"))?;
    let doc = json::parse(&raw).map_err(|e| bad_policy(&e))?;
    let exp = doc.get("expiration").and_then(Json::as_str).ok_or_else(|| bad_policy("no expiration"))?;
    let exp_s = exp
        .get(0..19)
        .and_then(|s| Some(format!("{}T{}Z", s.get(0..10)?.replace('-', ""), s.get(11..19)?.replace(':', ""))))
        .and_then(|s| util::parse_basic_iso(&s))
        .ok_or_else(|| bad_policy("expiration is not ISO 8601"))?;
    let Some(Json::Array(conds)) = doc.get("conditions") else { return Err(bad_policy("no conditions")) };
    if util::now_secs() > exp_s {
        return Err(Error::new(Code::AccessDenied).msg("Invalid according to Policy: Policy expired."));
    }
    let value_of = |name: &str| -> Option<String> {
        let n = name.trim_start_matches('$').to_ascii_lowercase();
        if n == "bucket" {
            Some(bucket.to_string())
        } else {
            fields.get(&n).map(str::to_string)
        }
    };
    let mut range = None;
    for c in conds {
        match c {
            Json::Object(m) => {
                for (k, v) in m {
                    if value_of(k).as_deref() != v.as_str() {
                        return Err(policy_failed(c));
                    }
                }
            }
            Json::Array(a) => {
                let op = a.first().and_then(Json::as_str).unwrap_or("").to_ascii_lowercase();
                match op.as_str() {
                    "content-length-range" => {
                        let lo =
                            a.get(1).and_then(json::number).ok_or_else(|| bad_policy("bad content-length-range"))?;
                        let hi =
                            a.get(2).and_then(json::number).ok_or_else(|| bad_policy("bad content-length-range"))?;
                        range = Some((lo.max(0.0) as u64, hi.max(0.0) as u64));
                    }
                    "eq" | "starts-with" | "in" | "not-in" => {
                        let field =
                            a.get(1).and_then(Json::as_str).ok_or_else(|| bad_policy("a condition names no field"))?;
                        let have = value_of(field).unwrap_or_default();
                        let ok = match (op.as_str(), a.get(2)) {
                            ("eq", Some(Json::String(v))) => &have == v,
                            ("starts-with", Some(Json::String(v))) => have.starts_with(v.as_str()),
                            ("in", Some(Json::Array(vs))) => vs.iter().any(|v| v.as_str() == Some(have.as_str())),
                            ("not-in", Some(Json::Array(vs))) => !vs.iter().any(|v| v.as_str() == Some(have.as_str())),
                            _ => return Err(bad_policy("a condition has no value of the right kind")),
                        };
                        if !ok {
                            return Err(policy_failed(c));
                        }
                    }
                    _ => return Err(bad_policy("unknown condition")),
                }
            }
            _ => return Err(bad_policy("a condition is neither an object nor an array")),
        }
    }
    Ok(range)
}

/// Who signed the form (None for an anonymous form), checked against its policy.
async fn signer(state: &Arc<State>, fields: &Fields) -> Result<Option<(ossd_engine::model::UserRecord, String)>> {
    let policy = fields.get("policy");
    if let Some(ak) = fields.get("ossaccesskeyid") {
        let (Some(policy), Some(sig)) = (policy, fields.get("signature")) else {
            return Err(Error::new(Code::AccessDenied).msg("Form upload requires the policy and Signature fields."));
        };
        let user = sign::user(state, ak).await?;
        let want = ossd_sign::v1_sign(&user.secret, policy);
        if !constant_time_eq(want.as_bytes(), sig.trim().as_bytes()) {
            return Err(Error::new(Code::SignatureDoesNotMatch)
                .ctx("StringToSign", policy)
                .ctx("SignatureProvided", sig)
                .ctx("OSSAccessKeyId", ak));
        }
        return Ok(Some((user, policy.to_string())));
    }
    if fields.get("x-oss-signature-version").is_some() {
        let need =
            |k: &'static str| fields.get(k).ok_or_else(|| Error::new(Code::MissingArgument).ctx("ArgumentName", k));
        let cred = need("x-oss-credential")?;
        let sig = need("x-oss-signature")?;
        let policy = policy.ok_or_else(|| Error::new(Code::MissingArgument).ctx("ArgumentName", "policy"))?;
        let parts: Vec<&str> = cred.split('/').collect();
        if parts.len() != 5 {
            return Err(Error::invalid_argument("x-oss-credential", cred, "Invalid x-oss-credential."));
        }
        if parts[2] != state.region {
            return Err(Error::new(Code::InvalidArgument)
                .msg("Invalid signing region in Authorization header.")
                .ctx("ArgumentName", "x-oss-credential")
                .ctx("ArgumentValue", parts[2]));
        }
        let user = sign::user(state, parts[0]).await?;
        let key = ossd_sign::v4_signing_key(&user.secret, parts[1], parts[2], parts[3]);
        let want = hex_lower(&ossd_sign::hmac256(&key, policy.as_bytes()));
        if !constant_time_eq(want.as_bytes(), sig.trim().as_bytes()) {
            return Err(Error::new(Code::SignatureDoesNotMatch)
                .ctx("StringToSign", policy)
                .ctx("SignatureProvided", sig)
                .ctx("OSSAccessKeyId", parts[0]));
        }
        return Ok(Some((user, policy.to_string())));
    }
    Ok(None)
}

fn attrs_from_fields(f: &Fields, file_type: Option<&str>, b: &BucketRecord) -> Result<ObjectAttrs> {
    let user_meta =
        f.0.iter().filter_map(|(k, v)| Some((k.strip_prefix("x-oss-meta-")?.to_string(), v.clone()))).collect();
    let content_type = f.get("content-type").or(file_type).unwrap_or("application/octet-stream");
    let a = object_attrs(&|name| f.get(name), content_type, user_meta, b)?;
    // These are answered as headers of every GET of the object: a field that cannot be one is refused (found
    // by the fuzz front_end target: such an object was stored, and every GET of it was an InternalError).
    let bad = |name: &str, v: &str| Error::invalid_argument(name, v, "The form field is not a valid header value.");
    if http::HeaderValue::from_str(&a.content_type).is_err() {
        return Err(bad("content-type", &a.content_type));
    }
    for (h, v) in &a.headers {
        if http::HeaderValue::from_str(v).is_err() {
            return Err(bad(h, v));
        }
    }
    for (n, v) in &a.user_meta {
        let name = format!("x-oss-meta-{n}");
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() || http::HeaderValue::from_str(v).is_err() {
            return Err(bad(&name, v));
        }
    }
    Ok(a)
}

/// The longest boundary RFC 2046 allows.
pub const MAX_BOUNDARY: usize = 70;

/// The boundary of a `multipart/form-data` Content-Type; RequestIsNotMultiPartContent for anything else, and
/// MalformedPOSTRequest for a boundary longer than RFC 2046's 70 characters.
pub fn form_boundary(content_type: &str) -> Result<&str> {
    let is_form = content_type.trim().to_ascii_lowercase().starts_with("multipart/form-data");
    let boundary =
        content_type.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")).map(|b| b.trim_matches('"'));
    let (true, Some(boundary)) = (is_form, boundary.filter(|b| !b.is_empty())) else {
        return Err(Error::new(Code::RequestIsNotMultiPartContent));
    };
    if boundary.len() > MAX_BOUNDARY {
        return Err(malformed("the boundary is longer than 70 characters"));
    }
    Ok(boundary)
}

/// The fields before the file part, and the file part's headers; the form is left at the file's first byte.
async fn read_fields(form: &mut Form, delim: &[u8]) -> Result<(Fields, PartHead)> {
    let mut crlf_delim = b"\r\n".to_vec();
    crlf_delim.extend_from_slice(delim);
    // The form's first boundary.
    let i = form.until(delim, MAX_PRE_DATA, || malformed("no boundary")).await?;
    form.buf.advance(i + delim.len());
    let mut fields = Fields(Vec::new());
    let mut pre = 0usize;
    let file_head = loop {
        while form.buf.len() < 2 {
            if !form.more().await? {
                return Err(malformed("the form ends after a boundary"));
            }
        }
        if form.buf.starts_with(b"--") {
            return Err(Error::new(Code::IncorrectNumberOfFilesInPOSTRequest));
        }
        if !form.buf.starts_with(b"\r\n") {
            return Err(malformed("a boundary is not followed by CRLF"));
        }
        form.buf.advance(2);
        let h = form.until(b"\r\n\r\n", 16 * 1024, || malformed("part headers are too long")).await?;
        let head = part_head(&form.buf[..h])?;
        form.buf.advance(h + 4);
        if head.filename.is_some() || head.name.eq_ignore_ascii_case("file") {
            break head;
        }
        let v = form
            .until(&crlf_delim, MAX_FIELD, || Error::new(Code::FieldItemTooLong).ctx("FieldName", head.name.clone()))
            .await?;
        let value = String::from_utf8_lossy(&form.buf[..v]).into_owned();
        form.buf.advance(v + crlf_delim.len());
        pre += head.name.len() + value.len();
        if pre > MAX_PRE_DATA {
            return Err(Error::new(Code::MaxPOSTPreDataLengthExceededError));
        }
        fields.0.push((head.name.to_ascii_lowercase(), value));
    };
    Ok((fields, file_head))
}

/// Reads a whole form from bytes, as PostObject reads one from a request body: its fields (names lowercased) and
/// the file part's field name, filename and content type. The entry point for fuzzing the form reader.
pub async fn parse_form(content_type: &str, body: Bytes) -> Result<(Vec<(String, String)>, (String, Option<String>))> {
    let delim = format!("--{}", form_boundary(content_type)?).into_bytes();
    let mut form = Form { source: Source::Bytes(Some(body)), buf: BytesMut::new(), idle: std::time::Duration::MAX };
    let (fields, head) = read_fields(&mut form, &delim).await?;
    Ok((fields.0, (head.name, head.filename)))
}

pub async fn post_object(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    let boundary = form_boundary(r.h("content-type").unwrap_or(""))?;
    let delim = format!("--{boundary}").into_bytes();
    let mut crlf_delim = b"\r\n".to_vec();
    crlf_delim.extend_from_slice(&delim);
    let mut form = Form { source: Source::Body(body), buf: BytesMut::new(), idle: state.idle_timeout };
    let (fields, file_head) = read_fields(&mut form, &delim).await?;

    // Authorization and the policy, before any byte of the file is stored.
    let signed = signer(state, &fields).await?;
    // The form's signer (or nobody) must be allowed to write the bucket.
    let requester = Req {
        id: r.id.clone(),
        method: r.method.clone(),
        headers: http::HeaderMap::new(),
        host: r.host.clone(),
        bucket: r.bucket.clone(),
        key: None,
        query: Vec::new(),
        user: signed.as_ref().map(|(u, _)| u.clone()),
        dialect: r.dialect,
        raw_path: r.raw_path.clone(),
        virtual_hosted: r.virtual_hosted,
        s3: None,
    };
    check_access(&requester, b, None, true)?;
    let range = match &signed {
        Some((_, policy)) => check_policy(policy, &fields, &b.name)?,
        None => None,
    };
    let Some(key_field) = fields.get("key") else {
        return Err(Error::new(Code::InvalidArgument)
            .msg("Bucket POST must contain a field named 'key'.")
            .ctx("ArgumentName", "key"));
    };
    let key = key_field.replace("${filename}", head_filename(&file_head));
    ossd_engine::names::check_object_name_in(&key, r.dialect)?;
    let attrs = attrs_from_fields(&fields, file_head.content_type.as_deref(), b)?;
    let cb = match fields.get("callback") {
        Some(c) => {
            let vars = fields.0.iter().filter(|(k, _)| k.starts_with("x:")).map(|(k, v)| (k.clone(), v.clone()));
            let mut cb = super::callback::parse(c, None)?;
            cb.vars.extend(vars);
            Some(cb)
        }
        None => None,
    };

    // The file: stream until the closing delimiter.
    let info = receive_file(state, &mut form, &crlf_delim, attrs.sse.is_some()).await?;
    let remove = |state: &Arc<State>, info: BlobInfo| {
        let engine = state.engine.clone();
        blocking(move || {
            engine.discard_blob(info);
            Ok(())
        })
    };
    if let Some((lo, hi)) = range {
        if info.size < lo {
            remove(state, info).await?;
            return Err(Error::new(Code::EntityTooSmallPostPolicy)
                .ctx("MinSizeAllowed", lo.to_string())
                .ctx("ProposedSize", info.size.to_string()));
        }
        if info.size > hi {
            remove(state, info).await?;
            return Err(Error::new(Code::EntityTooLargePostPolicy)
                .ctx("MaxSizeAllowed", hi.to_string())
                .ctx("ProposedSize", info.size.to_string()));
        }
    }
    // A second file after the first is refused; other trailing fields are ignored.
    let mut tail = Vec::new();
    while tail.len() < MAX_PRE_DATA {
        tail.extend_from_slice(&form.buf);
        form.buf.clear();
        if !form.more().await? {
            tail.extend_from_slice(&form.buf);
            break;
        }
    }
    if find(&tail, b"filename=").is_some() {
        remove(state, info).await?;
        return Err(Error::new(Code::IncorrectNumberOfFilesInPOSTRequest));
    }
    let forbid = fields.get("x-oss-forbid-overwrite").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false);
    let engine = state.engine.clone();
    let (bucket, k) = (b.name.clone(), key.clone());
    let rec = blocking(move || engine.put_object(&bucket, &k, info, attrs, forbid)).await?;
    if let Some(cb) = cb {
        return super::callback::call(&cb, &rec, vocab).await;
    }
    let etag = vocab.etag(&rec.etag);
    let base = Response::builder().header(http::header::ETAG, etag.as_str()).engine_header(
        vocab,
        "hash-crc64ecma",
        rec.crc64.to_string(),
    );
    if let Some(url) = fields.get("success_action_redirect").filter(|u| !u.is_empty()) {
        let sep = if url.contains('?') { '&' } else { '?' };
        let loc = format!(
            "{url}{sep}bucket={}&key={}&etag={}",
            util::encode(&b.name),
            util::encode(&key),
            // The redirect carries the engine's ETag as it is, in every dialect.
            util::encode(&format!("\"{}\"", rec.etag))
        );
        return base
            .status(StatusCode::SEE_OTHER)
            .header(http::header::LOCATION, loc)
            .body(Body::Empty)
            .map_err(Error::internal);
    }
    match fields.get("success_action_status") {
        Some("200") => base.status(StatusCode::OK).body(Body::Empty).map_err(Error::internal),
        Some("201") => {
            let mut x = XmlOut::new("PostResponse");
            x.el("Bucket", &b.name)
                .el("Location", &format!("http://{}/{}/{}", state.public_endpoint, b.name, util::encode_path(&key)))
                .el("Key", &key)
                .el("ETag", &etag);
            base.status(StatusCode::CREATED).xml_body(x.finish("PostResponse"))
        }
        _ => base.status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(Error::internal),
    }
}

fn head_filename(h: &PartHead) -> &str {
    h.filename.as_deref().unwrap_or("")
}

/// Streams the file part into a blob; leaves the form positioned after the file's closing delimiter.
async fn receive_file(state: &Arc<State>, form: &mut Form, crlf_delim: &[u8], encrypt: bool) -> Result<BlobInfo> {
    let engine = state.engine.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let writer = tokio::task::spawn_blocking(move || -> Result<BlobWriter> {
        let mut w = engine.new_blob(encrypt)?;
        while let Some(chunk) = rx.blocking_recv() {
            w.write(&chunk).map_err(Error::internal)?;
        }
        Ok(w)
    });
    let mut sent = 0u64;
    let result: Result<()> = async {
        loop {
            if let Some(i) = find(&form.buf, crlf_delim) {
                let data = form.buf.split_to(i).freeze();
                form.buf.advance(crlf_delim.len());
                sent += data.len() as u64;
                if !data.is_empty() && tx.send(data).await.is_err() {
                    return Err(Error::internal("blob writer stopped"));
                }
                return Ok(());
            }
            let keep = crlf_delim.len();
            if form.buf.len() > keep {
                let n = form.buf.len() - keep;
                let data = form.buf.split_to(n).freeze();
                sent += data.len() as u64;
                if sent > MAX_FILE {
                    return Err(Error::new(Code::EntityTooLarge));
                }
                if tx.send(data).await.is_err() {
                    return Err(Error::internal("blob writer stopped"));
                }
            }
            if !form.more().await? {
                return Err(malformed("the file part has no closing boundary"));
            }
        }
    }
    .await;
    drop(tx);
    let w = writer.await.map_err(Error::internal)??;
    match result {
        Ok(()) => blocking(move || w.finish().map_err(Error::internal)).await,
        Err(e) => {
            blocking(move || {
                drop(w);
                Ok(())
            })
            .await?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn policy_conditions() {
        let p = b64(
            r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[{"bucket":"bk"},["starts-with","$key","user/"],["content-length-range",1,100],["in","$x-oss-object-acl",["private","default"]]]}"#,
        );
        let f = fields(&[("key", "user/a"), ("x-oss-object-acl", "private")]);
        assert_eq!(check_policy(&p, &f, "bk").unwrap(), Some((1, 100)));
        assert_eq!(check_policy(&p, &f, "other").unwrap_err().code, Code::AccessDenied);
        let f = fields(&[("key", "admin/a"), ("x-oss-object-acl", "private")]);
        assert_eq!(check_policy(&p, &f, "bk").unwrap_err().code, Code::AccessDenied);
        let expired = b64(r#"{"expiration":"2001-01-01T00:00:00.000Z","conditions":[]}"#);
        let e = check_policy(&expired, &f, "bk").unwrap_err();
        assert_eq!((e.code, e.message()), (Code::AccessDenied, "Invalid according to Policy: Policy expired."));
        for bad in [
            "%%%",
            &b64("{"),
            &b64(r#"{"conditions":[]}"#),
            &b64(r#"{"expiration":"x","conditions":[]}"#),
            &b64(r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[["bogus","$key","x"]]}"#),
        ] {
            assert_eq!(check_policy(bad, &f, "bk").unwrap_err().code, Code::InvalidPolicyDocument, "{bad}");
        }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn forms_from_bytes() {
        let ct = "multipart/form-data; boundary=XyZ";
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"Key\"\r\n\r\nk1\r\n--XyZ\r\n\
                    Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\ndata\r\n--XyZ--\r\n";
        let (fields, (name, filename)) = run(parse_form(ct, Bytes::from(body))).unwrap();
        assert_eq!(fields, vec![("key".to_string(), "k1".to_string())]);
        assert_eq!((name.as_str(), filename.as_deref()), ("file", Some("a.txt")));
        let code = |ct: &str, body: &'static [u8]| run(parse_form(ct, Bytes::from_static(body))).unwrap_err().code;
        assert_eq!(code("text/plain", b""), Code::RequestIsNotMultiPartContent);
        assert_eq!(code("multipart/form-data; boundary=", b""), Code::RequestIsNotMultiPartContent);
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert_eq!(code(&long, b""), Code::MalformedPOSTRequest);
        assert_eq!(code(ct, b"--XyZ"), Code::MalformedPOSTRequest);
        assert_eq!(code(ct, b"--XyZ--\r\n"), Code::IncorrectNumberOfFilesInPOSTRequest);
        assert_eq!(
            code(ct, b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue-without-end"),
            Code::MalformedPOSTRequest
        );
        let big: &'static [u8] = Box::leak(
            format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n{}\r\n--XyZ",
                "v".repeat(MAX_FIELD + 10)
            )
            .into_bytes()
            .into_boxed_slice(),
        );
        assert_eq!(code(ct, big), Code::FieldItemTooLong);
    }

    #[test]
    fn policy_expiration_is_sliced_safely() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for exp in [
            "2030-01-01\u{e9}0:00:00.000Z",
            "2030-01-0\u{e9}T00:00:00Z",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        ] {
            let p = b64(&format!(r#"{{"expiration":"{exp}","conditions":[]}}"#));
            assert_eq!(check_policy_fields(&p, vec![], "b").unwrap_err().code, Code::InvalidPolicyDocument, "{exp}");
        }
    }

    // Found by fuzzing (fuzz/, target json): a multi-byte character in the expiration's date part was sliced
    // through, and the slice panicked.
    #[test]
    fn expiration_with_multibyte_characters_is_refused() {
        let f = fields(&[("key", "a")]);
        for exp in ["2099-01-0\u{3e8}00:00:00.000Z", "2099-01-01T00:00:\u{e9}0.000Z", &"\u{e9}".repeat(10)] {
            let p = b64(&format!(r#"{{"expiration":"{exp}","conditions":[]}}"#));
            assert_eq!(check_policy(&p, &f, "bk").unwrap_err().code, Code::InvalidPolicyDocument, "{exp}");
        }
    }

    fn bucket() -> BucketRecord {
        BucketRecord {
            name: "bk".into(),
            owner: "o".into(),
            created_ms: 0,
            acl: "private".into(),
            storage_class: "Standard".into(),
            region: "cn-hangzhou".into(),
        }
    }

    #[test]
    fn fields_that_cannot_be_headers_are_refused() {
        let b = bucket();
        let ok = fields(&[("x-oss-meta-a", "b c"), ("content-type", "text/plain"), ("cache-control", "no-cache")]);
        assert!(attrs_from_fields(&ok, None, &b).is_ok());
        for (k, v) in [
            ("x-oss-meta-a", "b\u{1}c"),
            ("x-oss-meta-a b", "c"),
            ("x-oss-meta-a", "b\r\nc"),
            ("content-type", "text\u{7f}"),
            ("cache-control", "a\nb"),
        ] {
            let e = attrs_from_fields(&fields(&[(k, v)]), None, &b).unwrap_err();
            assert_eq!(e.code, Code::InvalidArgument, "{k}: {v:?}");
        }
        let e = attrs_from_fields(&fields(&[]), Some("image/\u{1}png"), &b).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
    }

    #[test]
    fn form_fields_and_headers_are_validated_alike() {
        let b = bucket();
        // The form path answers as the header path (validate::sse, object_acl, storage_class) does.
        for (k, v, want) in [
            ("x-oss-server-side-encryption", "SM4", Code::NotImplemented),
            ("x-oss-server-side-encryption", "KMS", Code::KmsServiceNotEnabled),
            ("x-oss-server-side-encryption", "DES", Code::InvalidEncryptionAlgorithmError),
            ("x-oss-object-acl", "open", Code::InvalidObjectAcl),
            ("x-oss-storage-class", "GLACIER", Code::InvalidStorageClass),
        ] {
            let form = attrs_from_fields(&fields(&[(k, v)]), None, &b).unwrap_err();
            let header =
                crate::ops::validate::object_attrs(&|n| (n == k).then_some(v), "text/plain", vec![], &b).unwrap_err();
            assert_eq!((form.code, header.code), (want, want), "{k}: {v}");
            assert_eq!(form.message(), header.message(), "{k}: {v}");
        }
        let a = attrs_from_fields(&fields(&[("x-oss-server-side-encryption", "AES256")]), None, &b).unwrap();
        assert_eq!(a.sse.as_deref(), Some("AES256"));
    }

    #[test]
    fn part_headers() {
        let h =
            part_head(b"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain")
                .unwrap();
        assert_eq!(
            (h.name.as_str(), h.filename.as_deref(), h.content_type.as_deref()),
            ("file", Some("a.txt"), Some("text/plain"))
        );
        assert!(part_head(b"Content-Type: text/plain").is_err());
    }
}
