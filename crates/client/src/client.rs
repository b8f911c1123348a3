//! The client and its operations: buckets, objects, listing, append, symlinks, tagging and presigning.

use crate::error::{ClientErrorKind, Error, RequestErrorKind, Result, TimeoutPhase};
use crate::retry::{Budget, RetryPolicy};
use crate::transport::{header_str, Answer, AnswerBody, Credentials, Op, Payload, SignVersion, Transport};
use bytes::Bytes;
use http::Method;
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use ossd_errors::xml::{parse, Node};
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

/// How to reach the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// `http://host:port` (ossd) or `https://oss-cn-hangzhou.aliyuncs.com`.
    pub endpoint: String,
    pub region: String,
    pub credentials: Option<Credentials>,
    /// How requests and presigned URLs are signed: OSS V4 by default, or V1 or V2 (or another cloud's scheme).
    pub sign: SignVersion,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// For the response head, and for each chunk of a body.
    pub response_timeout: Duration,
    /// Path-style addressing; by default for IP addresses and localhost, virtual-hosted otherwise.
    pub path_style: Option<bool>,
    /// A PEM file of CA certificates trusted for `https://` endpoints besides the system's roots (a private CA,
    /// or the certificate of a self-signed ossd).
    pub ca_file: Option<std::path::PathBuf>,
}

impl Config {
    pub fn new(endpoint: &str, access_key_id: &str, secret: &str) -> Config {
        Config {
            endpoint: endpoint.to_string(),
            region: "cn-hangzhou".into(),
            credentials: Some(Credentials { access_key_id: access_key_id.into(), secret: secret.into() }),
            sign: SignVersion::V4,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            path_style: None,
            ca_file: None,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    pub(crate) t: Arc<Transport>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BucketInfo {
    pub name: String,
    pub location: String,
    pub storage_class: String,
    pub creation_date: String,
    pub acl: Option<String>,
}

/// What HEAD tells of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub size: u64,
    pub etag: String,
    pub crc64: Option<u64>,
    pub object_type: String,
    pub storage_class: String,
    pub content_type: String,
    pub last_modified: String,
    pub meta: Vec<(String, String)>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PutResult {
    pub etag: String,
    pub crc64: Option<u64>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppendResult {
    pub next_position: u64,
    pub crc64: Option<u64>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified: String,
    pub storage_class: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListEntry {
    Object(ObjectSummary),
    Prefix(String),
}

/// Options for uploads.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    pub content_type: Option<String>,
    pub meta: Vec<(String, String)>,
    /// Any other headers (x-oss-object-acl, x-oss-storage-class, x-oss-forbid-overwrite, …).
    pub headers: Vec<(String, String)>,
}

/// Options for downloads.
#[derive(Debug, Clone, Default)]
pub struct GetOptions {
    /// Inclusive byte range.
    pub range: Option<(u64, Option<u64>)>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub if_unmodified_since: Option<String>,
}

/// A streamed object body.
pub struct ObjectBody {
    op_name: &'static str,
    body: Option<hyper::body::Incoming>,
    read: Option<Bytes>,
    timeout: Duration,
    pub meta: ObjectMeta,
    pub status: u16,
    pub content_range: Option<String>,
    crc: crc64fast::Digest,
    check_crc: bool,
}

impl ObjectBody {
    /// The next chunk, or None at the end. At the end of a whole-object read the CRC-64 is checked.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if let Some(b) = self.read.take() {
            self.crc.write(&b);
            return Ok(Some(b));
        }
        let Some(body) = self.body.as_mut() else { return Ok(None) };
        loop {
            match tokio::time::timeout(self.timeout, body.frame()).await {
                Err(_) => {
                    return Err(req_err(self.op_name, RequestErrorKind::Timeout(TimeoutPhase::Body), "body stalled"))
                }
                Ok(None) => {
                    self.body = None;
                    if let (true, Some(want)) = (self.check_crc, self.meta.crc64) {
                        let got = self.crc.sum64();
                        if got != want {
                            return Err(Error::client(
                                ClientErrorKind::Inconsistent,
                                format!("CRC-64 of the data read is {got}, the server said {want}"),
                            ));
                        }
                    }
                    return Ok(None);
                }
                Ok(Some(Err(e))) => {
                    return Err(req_err(self.op_name, crate::transport::body_error_kind(&e), &e.to_string()))
                }
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        self.crc.write(&d);
                        return Ok(Some(d));
                    }
                }
            }
        }
    }

    /// The whole body in memory.
    pub async fn bytes(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.meta.size as usize);
        while let Some(c) = self.chunk().await? {
            out.extend_from_slice(&c);
        }
        Ok(out)
    }
}

fn req_err(op: &str, kind: RequestErrorKind, msg: &str) -> Error {
    Error::Request(crate::error::RequestError {
        kind,
        maybe_sent: true,
        operation: op.to_string(),
        message: msg.to_string(),
    })
}

/// Pages through a listing by itself.
pub struct Lister {
    client: Client,
    bucket: String,
    prefix: String,
    delimiter: String,
    token: Option<String>,
    page: std::collections::VecDeque<ListEntry>,
    done: bool,
    pub page_size: usize,
}

impl Lister {
    /// The next entry, fetching the next page when needed.
    pub async fn next(&mut self) -> Option<Result<ListEntry>> {
        loop {
            if let Some(e) = self.page.pop_front() {
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fetch().await {
                self.done = true;
                return Some(Err(e));
            }
        }
    }

    /// Every remaining entry.
    pub async fn collect(mut self) -> Result<Vec<ListEntry>> {
        let mut v = Vec::new();
        while let Some(e) = self.next().await {
            v.push(e?);
        }
        Ok(v)
    }

    async fn fetch(&mut self) -> Result<()> {
        let mut op = Op::new("ListObjectsV2", Method::GET, Some(&self.bucket), None)
            .q("list-type", "2")
            .q("max-keys", self.page_size.to_string())
            .q("encoding-type", "url");
        if !self.prefix.is_empty() {
            op = op.q("prefix", self.prefix.clone());
        }
        if !self.delimiter.is_empty() {
            op = op.q("delimiter", self.delimiter.clone());
        }
        if let Some(t) = &self.token {
            op = op.q("continuation-token", t.clone());
        }
        let doc = self.client.xml(&op, "ListBucketResult").await?;
        let dec = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        for c in doc.all("Contents") {
            self.page.push_back(ListEntry::Object(ObjectSummary {
                key: dec(c.text_of("Key").unwrap_or("")),
                size: c.text_of("Size").and_then(|s| s.parse().ok()).unwrap_or(0),
                etag: c.text_of("ETag").unwrap_or("").trim_matches('"').to_string(),
                last_modified: c.text_of("LastModified").unwrap_or("").to_string(),
                storage_class: c.text_of("StorageClass").unwrap_or("").to_string(),
            }));
        }
        for p in doc.all("CommonPrefixes") {
            self.page.push_back(ListEntry::Prefix(dec(p.text_of("Prefix").unwrap_or(""))));
        }
        match (doc.text_of("IsTruncated"), doc.text_of("NextContinuationToken")) {
            (Some("true"), Some(t)) if !t.is_empty() => self.token = Some(t.to_string()),
            _ => self.done = true,
        }
        Ok(())
    }
}

pub fn check_bucket_name(name: &str) -> Result<()> {
    if ossd_sign::valid_bucket_name(name) {
        Ok(())
    } else {
        Err(Error::client(ClientErrorKind::InvalidBucketName, format!("{name:?} is not a valid bucket name")))
    }
}

pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() >= 1024 {
        return Err(Error::client(ClientErrorKind::InvalidObjectName, "an object key is 1 to 1023 bytes of UTF-8"));
    }
    Ok(())
}

fn meta_of(a: &Answer) -> ObjectMeta {
    let h = &a.head.headers;
    ObjectMeta {
        size: header_str(h, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0),
        etag: header_str(h, "etag").unwrap_or("").trim_matches('"').to_string(),
        crc64: header_str(h, "x-oss-hash-crc64ecma").and_then(|v| v.parse().ok()),
        object_type: header_str(h, "x-oss-object-type").unwrap_or("").to_string(),
        storage_class: header_str(h, "x-oss-storage-class").unwrap_or("").to_string(),
        content_type: header_str(h, "content-type").unwrap_or("").to_string(),
        last_modified: header_str(h, "last-modified").unwrap_or("").to_string(),
        meta: h
            .iter()
            .filter_map(|(k, v)| {
                let k = k.as_str();
                ["x-oss-meta-", "x-amz-meta-", "x-cos-meta-", "x-obs-meta-"]
                    .iter()
                    .find_map(|p| k.strip_prefix(p))
                    .map(|n| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            })
            .collect(),
        request_id: header_str(h, "x-oss-request-id").map(str::to_string),
    }
}

impl Client {
    pub fn new(cfg: Config) -> Result<Client> {
        let (scheme, rest) = cfg.endpoint.split_once("://").ok_or_else(|| {
            Error::client(ClientErrorKind::InvalidEndpoint, format!("{:?} has no scheme", cfg.endpoint))
        })?;
        let tls = match scheme {
            "http" => None,
            "https" => Some(crate::tls::client_config(cfg.ca_file.as_deref())?),
            other => {
                return Err(Error::client(
                    ClientErrorKind::InvalidEndpoint,
                    format!("{other}:// is not a scheme the client speaks (http:// or https://)"),
                ))
            }
        };
        let host = rest.trim_end_matches('/').to_string();
        if host.is_empty() {
            return Err(Error::client(ClientErrorKind::InvalidEndpoint, "the endpoint has no host"));
        }
        let bare = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(&host).trim_matches(['[', ']']);
        let path_style = cfg.path_style.unwrap_or(bare == "localhost" || bare.parse::<std::net::IpAddr>().is_ok());
        let conn = crate::tls::Connector::new(cfg.connect_timeout, tls);
        let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(conn);
        Ok(Client {
            t: Arc::new(Transport {
                endpoint_scheme: scheme.to_string(),
                endpoint_host: host,
                path_style,
                region: cfg.region,
                credentials: cfg.credentials,
                sign: cfg.sign,
                retry: cfg.retry,
                response_timeout: cfg.response_timeout,
                http,
                clock_offset_ms: AtomicI64::new(0),
                budget: Budget::new(500),
            }),
        })
    }

    /// Sends an operation whose answer is an XML document with root `root`.
    pub(crate) async fn xml(&self, op: &Op<'_>, root: &str) -> Result<Node> {
        let a = self.t.send(op).await?;
        let body = a.bytes(op, self.t.response_timeout).await?;
        parse(&body, root).map_err(|_| {
            req_err(op.name, RequestErrorKind::ResponseDecode, &format!("the answer is not a {root} document"))
        })
    }

    async fn done(&self, op: &Op<'_>) -> Result<Answer> {
        let a = self.t.send(op).await?;
        let (head, body) = (a.head, a.body);
        let body = match body {
            AnswerBody::Stream(s) => {
                AnswerBody::Read(crate::transport::read_body(op, s, self.t.response_timeout).await?)
            }
            r => r,
        };
        Ok(Answer { head, body })
    }

    // ---- buckets ----

    pub async fn create_bucket(
        &self,
        bucket: &str,
        acl: Option<&str>,
        storage_class: Option<&str>,
    ) -> Result<Option<String>> {
        check_bucket_name(bucket)?;
        let mut op = Op::new("PutBucket", Method::PUT, Some(bucket), None);
        if let Some(a) = acl {
            op = op.h("x-oss-acl", a);
        }
        if let Some(c) = storage_class {
            let xml =
                format!("<CreateBucketConfiguration><StorageClass>{c}</StorageClass></CreateBucketConfiguration>");
            op = op.body(Payload::Bytes(Bytes::from(xml)));
        }
        Ok(self.done(&op).await?.header("x-oss-request-id").map(str::to_string))
    }

    pub async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        check_bucket_name(bucket)?;
        self.done(&Op::new("DeleteBucket", Method::DELETE, Some(bucket), None)).await.map(|_| ())
    }

    pub async fn list_buckets(&self, prefix: &str) -> Result<Vec<BucketInfo>> {
        let mut out = Vec::new();
        let mut marker = String::new();
        loop {
            let mut op = Op::new("ListBuckets", Method::GET, None, None).q("max-keys", "1000");
            if !prefix.is_empty() {
                op = op.q("prefix", prefix);
            }
            if !marker.is_empty() {
                op = op.q("marker", marker.clone());
            }
            let doc = self.xml(&op, "ListAllMyBucketsResult").await?;
            if let Some(bs) = doc.child("Buckets") {
                for b in bs.all("Bucket") {
                    out.push(BucketInfo {
                        name: b.text_of("Name").unwrap_or("").into(),
                        location: b.text_of("Location").unwrap_or("").into(),
                        storage_class: b.text_of("StorageClass").unwrap_or("").into(),
                        creation_date: b.text_of("CreationDate").unwrap_or("").into(),
                        acl: None,
                    });
                }
            }
            match (doc.text_of("IsTruncated"), doc.text_of("NextMarker")) {
                (Some("true"), Some(m)) if !m.is_empty() => marker = m.to_string(),
                _ => return Ok(out),
            }
        }
    }

    pub async fn bucket_info(&self, bucket: &str) -> Result<BucketInfo> {
        check_bucket_name(bucket)?;
        let doc = self
            .xml(&Op::new("GetBucketInfo", Method::GET, Some(bucket), None).q("bucketInfo", ""), "BucketInfo")
            .await?;
        let b = doc
            .child("Bucket")
            .ok_or_else(|| req_err("GetBucketInfo", RequestErrorKind::ResponseDecode, "no Bucket"))?;
        Ok(BucketInfo {
            name: b.text_of("Name").unwrap_or("").into(),
            location: b.text_of("Location").unwrap_or("").into(),
            storage_class: b.text_of("StorageClass").unwrap_or("").into(),
            creation_date: b.text_of("CreationDate").unwrap_or("").into(),
            acl: b.child("AccessControlList").and_then(|a| a.text_of("Grant")).map(str::to_string),
        })
    }

    pub async fn put_bucket_acl(&self, bucket: &str, acl: &str) -> Result<()> {
        check_bucket_name(bucket)?;
        self.done(&Op::new("PutBucketAcl", Method::PUT, Some(bucket), None).q("acl", "").h("x-oss-acl", acl))
            .await
            .map(|_| ())
    }

    pub async fn get_bucket_acl(&self, bucket: &str) -> Result<String> {
        check_bucket_name(bucket)?;
        let doc = self
            .xml(&Op::new("GetBucketAcl", Method::GET, Some(bucket), None).q("acl", ""), "AccessControlPolicy")
            .await?;
        Ok(doc.child("AccessControlList").and_then(|a| a.text_of("Grant")).unwrap_or("").to_string())
    }

    // ---- objects ----

    pub(crate) fn put_op<'a>(
        name: &'static str,
        method: Method,
        bucket: &'a str,
        key: &'a str,
        payload: Payload,
        o: &PutOptions,
    ) -> Op<'a> {
        let mut op = Op::new(name, method, Some(bucket), Some(key)).body(payload);
        if let Some(ct) = &o.content_type {
            op = op.h("content-type", ct.clone());
        }
        for (k, v) in &o.meta {
            op = op.h(&format!("x-oss-meta-{k}"), v.clone());
        }
        for (k, v) in &o.headers {
            op = op.h(k, v.clone());
        }
        op
    }

    fn put_result(a: &Answer) -> PutResult {
        PutResult {
            etag: a.header("etag").unwrap_or("").trim_matches('"').to_string(),
            crc64: a.header("x-oss-hash-crc64ecma").and_then(|v| v.parse().ok()),
            request_id: a.header("x-oss-request-id").map(str::to_string),
        }
    }

    /// Uploads `payload` (bytes, a file range, or a stream sent once). For bytes, the CRC-64 the server
    /// computed is checked against the local one.
    pub async fn put_object(&self, bucket: &str, key: &str, payload: Payload, o: &PutOptions) -> Result<PutResult> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let local = match &payload {
            Payload::Bytes(b) => Some(crate::crc64(b)),
            _ => None,
        };
        let op = Self::put_op("PutObject", Method::PUT, bucket, key, payload, o);
        let r = Self::put_result(&self.done(&op).await?);
        if let (Some(l), Some(s)) = (local, r.crc64) {
            if l != s {
                return Err(Error::client(
                    ClientErrorKind::Inconsistent,
                    format!("uploaded CRC-64 {l}, the server stored {s}"),
                ));
            }
        }
        Ok(r)
    }

    pub async fn put_file(&self, bucket: &str, key: &str, path: &std::path::Path, o: &PutOptions) -> Result<PutResult> {
        let len = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::client(ClientErrorKind::Io, format!("{}: {e}", path.display())))?
            .len();
        self.put_object(bucket, key, Payload::File { path: path.to_path_buf(), offset: 0, len }, o).await
    }

    /// Appends at `position`. Never retried: a repeated append could write twice.
    pub async fn append_object(
        &self,
        bucket: &str,
        key: &str,
        position: u64,
        data: Bytes,
        o: &PutOptions,
    ) -> Result<AppendResult> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let op = Self::put_op("AppendObject", Method::POST, bucket, key, Payload::Bytes(data), o)
            .q("append", "")
            .q("position", position.to_string());
        let a = self.done(&op).await?;
        Ok(AppendResult {
            next_position: a.header("x-oss-next-append-position").and_then(|v| v.parse().ok()).unwrap_or(0),
            crc64: a.header("x-oss-hash-crc64ecma").and_then(|v| v.parse().ok()),
            request_id: a.header("x-oss-request-id").map(str::to_string),
        })
    }

    pub async fn get_object(&self, bucket: &str, key: &str, o: &GetOptions) -> Result<ObjectBody> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let mut op = Op::new("GetObject", Method::GET, Some(bucket), Some(key));
        if let Some((a, b)) = o.range {
            op = op.h("range", format!("bytes={a}-{}", b.map(|b| b.to_string()).unwrap_or_default()));
        }
        for (h, v) in [
            ("if-match", &o.if_match),
            ("if-none-match", &o.if_none_match),
            ("if-modified-since", &o.if_modified_since),
            ("if-unmodified-since", &o.if_unmodified_since),
        ] {
            if let Some(v) = v {
                op = op.h(h, v.clone());
            }
        }
        let a = self.t.send(&op).await?;
        let meta = meta_of(&a);
        let status = a.status();
        let content_range = a.header("content-range").map(str::to_string);
        let (body, read) = match a.body {
            AnswerBody::Stream(s) => (Some(s), None),
            AnswerBody::Read(b) => (None, Some(b)),
        };
        Ok(ObjectBody {
            op_name: "GetObject",
            body,
            read,
            timeout: self.t.response_timeout,
            meta,
            status,
            content_range,
            crc: crc64fast::Digest::new(),
            check_crc: status == 200,
        })
    }

    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        Ok(meta_of(&self.done(&Op::new("HeadObject", Method::HEAD, Some(bucket), Some(key))).await?))
    }

    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        self.done(&Op::new("DeleteObject", Method::DELETE, Some(bucket), Some(key))).await.map(|_| ())
    }

    /// Deletes up to 1000 keys in one request; returns the keys the server reports deleted.
    pub async fn delete_objects(&self, bucket: &str, keys: &[String]) -> Result<Vec<String>> {
        check_bucket_name(bucket)?;
        if keys.is_empty() {
            return Err(Error::client(ClientErrorKind::EmptyDeleteList, "the list of keys to delete is empty"));
        }
        if keys.len() > 1000 {
            return Err(Error::client(
                ClientErrorKind::TooManyKeys,
                format!("{} keys: one request deletes at most 1000", keys.len()),
            ));
        }
        let mut xml = String::from("<Delete><Quiet>false</Quiet>");
        for k in keys {
            check_key(k)?;
            xml.push_str(&format!("<Object><Key>{}</Key></Object>", ossd_errors::xml_escape(k)));
        }
        xml.push_str("</Delete>");
        let md5 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, Md5::digest(xml.as_bytes()));
        let op = Op::new("DeleteMultipleObjects", Method::POST, Some(bucket), None)
            .q("delete", "")
            .q("encoding-type", "url")
            .h("content-md5", md5)
            .h("content-type", "application/xml")
            .body(Payload::Bytes(Bytes::from(xml)));
        let op = Op { idempotent: true, ..op };
        let doc = self.xml(&op, "DeleteResult").await?;
        Ok(doc
            .all("Deleted")
            .filter_map(|d| d.text_of("Key"))
            .map(|k| percent_encoding::percent_decode_str(k).decode_utf8_lossy().into_owned())
            .collect())
    }

    pub async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        bucket: &str,
        key: &str,
        o: &PutOptions,
    ) -> Result<PutResult> {
        check_bucket_name(src_bucket)?;
        check_key(src_key)?;
        check_bucket_name(bucket)?;
        check_key(key)?;
        let src = format!("/{src_bucket}/{}", ossd_sign::encode(src_key));
        let mut op =
            Self::put_op("CopyObject", Method::PUT, bucket, key, Payload::Empty, o).h("x-oss-copy-source", src);
        if !o.meta.is_empty() || o.content_type.is_some() {
            op = op.h("x-oss-metadata-directive", "REPLACE");
        }
        op.error_in_200 = true;
        Ok(Self::put_result(&self.done(&op).await?))
    }

    /// A listing that pages by itself.
    pub fn list_objects(&self, bucket: &str, prefix: &str, delimiter: &str) -> Lister {
        Lister {
            client: self.clone(),
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            delimiter: delimiter.to_string(),
            token: None,
            page: Default::default(),
            done: false,
            page_size: 1000,
        }
    }

    pub async fn put_symlink(&self, bucket: &str, key: &str, target: &str) -> Result<()> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        check_key(target)?;
        let op = Op::new("PutSymlink", Method::PUT, Some(bucket), Some(key))
            .q("symlink", "")
            .h("x-oss-symlink-target", ossd_sign::encode(target));
        self.done(&op).await.map(|_| ())
    }

    pub async fn get_symlink(&self, bucket: &str, key: &str) -> Result<String> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let a = self.done(&Op::new("GetSymlink", Method::GET, Some(bucket), Some(key)).q("symlink", "")).await?;
        let t = a.header("x-oss-symlink-target").unwrap_or("");
        Ok(percent_encoding::percent_decode_str(t).decode_utf8_lossy().into_owned())
    }

    pub async fn put_tagging(&self, bucket: &str, key: &str, tags: &[(String, String)]) -> Result<()> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let mut xml = String::from("<Tagging><TagSet>");
        for (k, v) in tags {
            xml.push_str(&format!(
                "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                ossd_errors::xml_escape(k),
                ossd_errors::xml_escape(v)
            ));
        }
        xml.push_str("</TagSet></Tagging>");
        let op = Op::new("PutObjectTagging", Method::PUT, Some(bucket), Some(key))
            .q("tagging", "")
            .body(Payload::Bytes(Bytes::from(xml)));
        self.done(&op).await.map(|_| ())
    }

    pub async fn get_tagging(&self, bucket: &str, key: &str) -> Result<Vec<(String, String)>> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let doc = self
            .xml(&Op::new("GetObjectTagging", Method::GET, Some(bucket), Some(key)).q("tagging", ""), "Tagging")
            .await?;
        Ok(doc
            .child("TagSet")
            .map(|s| {
                s.all("Tag")
                    .map(|t| (t.text_of("Key").unwrap_or("").into(), t.text_of("Value").unwrap_or("").into()))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn delete_tagging(&self, bucket: &str, key: &str) -> Result<()> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        self.done(&Op::new("DeleteObjectTagging", Method::DELETE, Some(bucket), Some(key)).q("tagging", ""))
            .await
            .map(|_| ())
    }

    /// A URL that grants `method` on the object for `expires`, signed with this client's version.
    pub fn presign(&self, method: Method, bucket: &str, key: &str, expires: Duration) -> Result<String> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        self.t.presign(&Op::new("Presign", method, Some(bucket), Some(key)), expires)
    }
}
