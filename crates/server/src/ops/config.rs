//! Bucket configurations kept as documents: CORS, lifecycle, static website and access logging.
//! Each is parsed and validated on Put, stored in a canonical form, and returned by Get.

use super::{blocking, empty, ok_xml, require_owner};
use crate::http::body::{read_small_body, Body};
use crate::http::req::Req;
use crate::http::util::{self};
use crate::http::xml::{parse, Node, XmlOut};
use crate::State;
use http::{Method, Response, StatusCode};
use hyper::body::Incoming;
use ossd_engine::model::BucketRecord;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

pub const CORS: &str = "cors";
/// Lifecycle rules and access logging are kept by the engine as typed values (its workers apply them).
pub use ossd_engine::bucket::{Logging, LIFECYCLE, LOGGING};
pub const WEBSITE: &str = "website";

fn malformed(why: &str) -> Error {
    Error::new(Code::MalformedXML).ctx("Detail", why)
}

// ---- CORS ----

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorsRule {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose: Vec<String>,
    pub max_age: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cors {
    pub rules: Vec<CorsRule>,
    pub vary: bool,
}

fn texts(n: &Node, name: &str) -> Vec<String> {
    n.all(name).map(|c| c.text.trim().to_string()).collect()
}

pub fn parse_cors(raw: &[u8]) -> Result<Cors> {
    let doc = parse(raw, "CORSConfiguration")?;
    let mut cors =
        Cors { vary: doc.text_of("ResponseVary").map(|v| v.trim() == "true").unwrap_or(false), ..Default::default() };
    for r in doc.all("CORSRule") {
        let rule = CorsRule {
            origins: texts(r, "AllowedOrigin"),
            methods: texts(r, "AllowedMethod"),
            headers: texts(r, "AllowedHeader"),
            expose: texts(r, "ExposeHeader"),
            max_age: match r.text_of("MaxAgeSeconds") {
                None => None,
                Some(v) => Some(v.trim().parse().map_err(|_| malformed("MaxAgeSeconds is not a number"))?),
            },
        };
        if rule.origins.is_empty() || rule.methods.is_empty() {
            return Err(malformed("a CORSRule needs AllowedOrigin and AllowedMethod"));
        }
        for m in &rule.methods {
            if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m.as_str()) {
                return Err(Error::invalid_argument(
                    "AllowedMethod",
                    m,
                    "AllowedMethod must be GET, PUT, POST, DELETE or HEAD.",
                ));
            }
        }
        for o in &rule.origins {
            if o.matches('*').count() > 1 {
                return Err(Error::invalid_argument(
                    "AllowedOrigin",
                    o,
                    "AllowedOrigin may contain at most one wildcard.",
                ));
            }
        }
        cors.rules.push(rule);
    }
    if cors.rules.is_empty() || cors.rules.len() > 10 {
        return Err(malformed("a CORS configuration has 1 to 10 rules"));
    }
    Ok(cors)
}

pub fn render_cors(c: &Cors) -> String {
    let mut x = XmlOut::new("CORSConfiguration");
    for r in &c.rules {
        x.open("CORSRule");
        for (tag, list) in [
            ("AllowedOrigin", &r.origins),
            ("AllowedMethod", &r.methods),
            ("AllowedHeader", &r.headers),
            ("ExposeHeader", &r.expose),
        ] {
            for v in list {
                x.el(tag, v);
            }
        }
        if let Some(a) = r.max_age {
            x.el("MaxAgeSeconds", &a.to_string());
        }
        x.close("CORSRule");
    }
    x.el("ResponseVary", if c.vary { "true" } else { "false" });
    x.finish("CORSConfiguration")
}

/// Matches `value` against a pattern with at most one `*` (case-insensitive when `fold`).
pub fn wildcard(pattern: &str, value: &str, fold: bool) -> bool {
    let (p, v) =
        if fold { (pattern.to_ascii_lowercase(), value.to_ascii_lowercase()) } else { (pattern.into(), value.into()) };
    match p.split_once('*') {
        None => p == v,
        Some((a, b)) => v.len() >= a.len() + b.len() && v.starts_with(a) && v.ends_with(b),
    }
}

impl Cors {
    /// The first rule allowing this origin, method and request headers.
    pub fn matching(&self, origin: &str, method: &str, headers: &[&str]) -> Option<&CorsRule> {
        self.rules.iter().find(|r| {
            r.origins.iter().any(|o| wildcard(o, origin, false))
                && r.methods.iter().any(|m| m == method)
                && headers.iter().all(|h| r.headers.iter().any(|p| wildcard(p, h, true)))
        })
    }
}

// ---- static website ----

#[derive(Debug, Clone, PartialEq)]
pub struct Website {
    pub index: String,
    pub error: Option<String>,
}

pub fn parse_website(raw: &[u8]) -> Result<Website> {
    let doc = parse(raw, "WebsiteConfiguration")?;
    let index = doc
        .child("IndexDocument")
        .and_then(|n| n.text_of("Suffix"))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| malformed("IndexDocument/Suffix is required"))?;
    if index.is_empty() || index.contains('/') {
        return Err(Error::invalid_argument(
            "IndexDocument",
            &index,
            "The index document suffix must be a name without '/'.",
        ));
    }
    let error = doc.child("ErrorDocument").and_then(|n| n.text_of("Key")).map(|s| s.trim().to_string());
    if let Some(e) = &error {
        ossd_engine::names::check_object_name_in(e, ossd_errors::Dialect::Oss)?;
    }
    Ok(Website { index, error })
}

pub fn render_website(w: &Website) -> String {
    let mut x = XmlOut::new("WebsiteConfiguration");
    x.open("IndexDocument").el("Suffix", &w.index).close("IndexDocument");
    if let Some(e) = &w.error {
        x.open("ErrorDocument").el("Key", e).close("ErrorDocument");
    }
    x.finish("WebsiteConfiguration")
}

// ---- lifecycle ----

pub use ossd_engine::lifecycle::{LifecycleRule, When};

/// Parses `2023-01-01T00:00:00.000Z` (or without milliseconds) to ms.
fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let day = s.get(0..10)?;
    let compact = format!("{}T{}Z", day.replace('-', ""), s.get(11..19)?.replace(':', ""));
    util::parse_basic_iso(&compact).map(|t| t * 1000)
}

fn when(n: &Node) -> Result<Option<When>> {
    if let Some(d) = n.text_of("Days") {
        let days: u32 = d.trim().parse().map_err(|_| malformed("Days is not a positive integer"))?;
        if days == 0 {
            return Err(Error::invalid_argument("Days", d, "Days must be a positive integer."));
        }
        return Ok(Some(When::Days(days)));
    }
    for tag in ["Date", "CreatedBeforeDate"] {
        if let Some(d) = n.text_of(tag) {
            return parse_iso(d).map(|t| Some(When::Before(t))).ok_or_else(|| malformed("a date is not ISO 8601"));
        }
    }
    Ok(None)
}

pub fn parse_lifecycle(raw: &[u8]) -> Result<Vec<LifecycleRule>> {
    let doc = parse(raw, "LifecycleConfiguration")?;
    let mut rules = Vec::new();
    for r in doc.all("Rule") {
        let status = r.text_of("Status").map(str::trim).ok_or_else(|| malformed("Rule/Status is required"))?;
        if status != "Enabled" && status != "Disabled" {
            return Err(malformed("Status must be Enabled or Disabled"));
        }
        let tags = r
            .all("Tag")
            .chain(r.child("Filter").into_iter().flat_map(|f| f.all("Tag")))
            .map(|t| (t.text_of("Key").unwrap_or("").to_string(), t.text_of("Value").unwrap_or("").to_string()))
            .collect();
        let rule = LifecycleRule {
            id: r.text_of("ID").unwrap_or("").to_string(),
            prefix: r.text_of("Prefix").unwrap_or("").to_string(),
            enabled: status == "Enabled",
            tags,
            expiration: match r.child("Expiration") {
                Some(e) => when(e)?,
                None => None,
            },
            abort_upload: match r.child("AbortMultipartUpload") {
                Some(e) => when(e)?,
                None => None,
            },
        };
        if rule.expiration.is_none() && rule.abort_upload.is_none() {
            return Err(malformed("a Rule needs an Expiration or AbortMultipartUpload action"));
        }
        rules.push(rule);
    }
    if rules.is_empty() || rules.len() > 1000 {
        return Err(malformed("a lifecycle configuration has 1 to 1000 rules"));
    }
    Ok(rules)
}

fn render_when(x: &mut XmlOut, tag: &str, w: &When) {
    x.open(tag);
    match w {
        When::Days(d) => x.el("Days", &d.to_string()),
        When::Before(t) => x.el("CreatedBeforeDate", &util::iso8601(*t)),
    };
    x.close(tag);
}

pub fn render_lifecycle(rules: &[LifecycleRule]) -> String {
    let mut x = XmlOut::new("LifecycleConfiguration");
    for r in rules {
        x.open("Rule")
            .el("ID", &r.id)
            .el("Prefix", &r.prefix)
            .el("Status", if r.enabled { "Enabled" } else { "Disabled" });
        for (k, v) in &r.tags {
            x.open("Tag").el("Key", k).el("Value", v).close("Tag");
        }
        if let Some(w) = &r.expiration {
            render_when(&mut x, "Expiration", w);
        }
        if let Some(w) = &r.abort_upload {
            render_when(&mut x, "AbortMultipartUpload", w);
        }
        x.close("Rule");
    }
    x.finish("LifecycleConfiguration")
}

// ---- logging ----

pub fn parse_logging(raw: &[u8]) -> Result<Option<(String, String)>> {
    let doc = parse(raw, "BucketLoggingStatus")?;
    match doc.child("LoggingEnabled") {
        None => Ok(None),
        Some(l) => {
            let target = l.text_of("TargetBucket").map(|s| s.trim().to_string()).unwrap_or_default();
            Ok(Some((target, l.text_of("TargetPrefix").unwrap_or("").to_string())))
        }
    }
}

pub fn render_logging(target: Option<(&str, &str)>) -> String {
    let mut x = XmlOut::new("BucketLoggingStatus");
    if let Some((b, p)) = target {
        x.open("LoggingEnabled").el("TargetBucket", b).el("TargetPrefix", p).close("LoggingEnabled");
    }
    x.finish("BucketLoggingStatus")
}

// ---- the handlers ----

fn missing(kind: &str) -> Error {
    match kind {
        CORS => Error::new(Code::NoSuchCORSConfiguration),
        LIFECYCLE => Error::new(Code::NoSuchLifecycle),
        _ => Error::new(Code::NoSuchWebsiteConfiguration),
    }
}

/// Put, Get and Delete of one configuration kind on a bucket (owner only).
pub async fn handle(
    state: &Arc<State>,
    r: &Req,
    b: &BucketRecord,
    kind: &'static str,
    body: Incoming,
) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    // The store keeps its cached configurations in step with the change; the bucket's record is not touched.
    change(state, r, b, kind, body, engine, bucket).await
}

async fn change(
    state: &Arc<State>,
    r: &Req,
    b: &BucketRecord,
    kind: &'static str,
    body: Incoming,
    engine: Arc<ossd_engine::Engine>,
    bucket: String,
) -> Result<Response<Body>> {
    match r.method {
        Method::PUT => {
            let raw = read_small_body(state, body, 1024 * 1024).await?;
            let doc = match kind {
                CORS => render_cors(&parse_cors(&raw)?),
                WEBSITE => render_website(&parse_website(&raw)?),
                LIFECYCLE => {
                    let rules = parse_lifecycle(&raw)?;
                    blocking(move || engine.put_bucket_lifecycle(&bucket, &rules)).await?;
                    return empty(StatusCode::OK);
                }
                _ => {
                    match parse_logging(&raw)? {
                        None => blocking(move || engine.delete_bucket_config(&bucket, kind).map(|_| ())).await?,
                        Some((target_bucket, target_prefix)) => {
                            let owner = r.owner_id().to_string();
                            let logging = Logging { target_bucket, target_prefix };
                            blocking(move || engine.put_bucket_logging(&bucket, &owner, &logging)).await?
                        }
                    }
                    return empty(StatusCode::OK);
                }
            };
            blocking(move || engine.put_bucket_config(&bucket, kind, &doc)).await?;
            empty(StatusCode::OK)
        }
        Method::GET => {
            let doc = match kind {
                LIFECYCLE => blocking(move || engine.bucket_lifecycle(&bucket)).await?.map(|r| render_lifecycle(&r)),
                LOGGING => {
                    let l = blocking(move || engine.bucket_logging(&bucket)).await?;
                    Some(render_logging(l.as_ref().map(|l| (l.target_bucket.as_str(), l.target_prefix.as_str()))))
                }
                _ => blocking(move || engine.bucket_config(&bucket, kind)).await?,
            };
            match doc {
                Some(d) => ok_xml(d),
                None => Err(missing(kind).ctx("BucketName", b.name.clone())),
            }
        }
        Method::DELETE => {
            blocking(move || engine.delete_bucket_config(&bucket, kind)).await?;
            empty(StatusCode::NO_CONTENT)
        }
        _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", r.method.as_str()).ctx("ResourceType", kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_round_trip_and_matching() {
        let c = parse_cors(
            b"<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
              <AllowedHeader>x-oss-*</AllowedHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        )
        .unwrap();
        assert_eq!(parse_cors(render_cors(&c).as_bytes()).unwrap(), c);
        assert!(c.matching("https://a.example.com", "GET", &["X-OSS-Meta-A"]).is_some());
        assert!(c.matching("https://a.example.com", "PUT", &[]).is_none());
        assert!(c.matching("http://a.example.com", "GET", &[]).is_none());
        assert!(c.matching("https://a.example.com", "GET", &["authorization"]).is_none());
    }

    #[test]
    fn cors_rejects_bad_rules() {
        for bad in [
            &b"<CORSConfiguration/>"[..],
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
        ] {
            assert!(parse_cors(bad).is_err());
        }
    }

    #[test]
    fn lifecycle_rules() {
        let r = parse_lifecycle(
            b"<LifecycleConfiguration><Rule><ID>r</ID><Prefix>logs/</Prefix><Status>Enabled</Status>\
              <Tag><Key>k</Key><Value>v</Value></Tag><Expiration><Days>3</Days></Expiration>\
              <AbortMultipartUpload><CreatedBeforeDate>2020-01-02T00:00:00.000Z</CreatedBeforeDate></AbortMultipartUpload>\
              </Rule></LifecycleConfiguration>",
        )
        .unwrap();
        assert_eq!(r[0].expiration, Some(When::Days(3)));
        assert_eq!(r[0].abort_upload, Some(When::Before(1_577_923_200_000)));
        assert_eq!(r[0].tags, vec![("k".to_string(), "v".to_string())]);
        assert_eq!(parse_lifecycle(render_lifecycle(&r).as_bytes()).unwrap(), r);
        for bad in [
            &b"<LifecycleConfiguration><Rule><Prefix/><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"[..],
            b"<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>x</Days></Expiration></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule>",
        ] {
            assert_eq!(parse_lifecycle(bad).unwrap_err().code, Code::MalformedXML);
        }
    }

    #[test]
    fn website_documents() {
        let w = parse_website(b"<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key>404.html</Key></ErrorDocument></WebsiteConfiguration>").unwrap();
        assert_eq!(w, Website { index: "index.html".into(), error: Some("404.html".into()) });
        assert_eq!(parse_website(render_website(&w).as_bytes()).unwrap(), w);
        assert!(parse_website(b"<WebsiteConfiguration/>").is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*", "anything", false));
        assert!(wildcard("http://*.a.com", "http://x.a.com", false));
        assert!(!wildcard("http://*.a.com", "http://a.com", false));
        assert!(wildcard("X-Oss-*", "x-oss-meta", true));
    }
}
