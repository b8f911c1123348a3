//! One parsed request: method, headers, addressing (bucket and key from Host and path, path-style or
//! virtual-hosted), decoded query, and what authentication found out about the requester and the body.

use super::chunked::S3Auth;
use super::util;
use crate::State;
use http::{HeaderMap, Method};
use ossd_engine::model::UserRecord;
use ossd_errors::{Code, Dialect, Error, Result};

/// One parsed request.
pub struct Req {
    pub id: String,
    pub method: Method,
    pub headers: HeaderMap,
    pub host: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Authenticated user; None for anonymous requests.
    pub user: Option<UserRecord>,
    pub dialect: Dialect,
    /// The path exactly as sent (still percent-encoded).
    pub raw_path: String,
    pub virtual_hosted: bool,
    /// What an S3 signature said about the body.
    pub s3: Option<S3Auth>,
}

impl Req {
    /// An anonymous GET of `key` in this request's bucket, with `headers`: how a website bucket serves its index
    /// and error documents through the ordinary GetObject path.
    pub fn anonymous_get(&self, key: String, headers: HeaderMap) -> Req {
        Req {
            id: self.id.clone(),
            method: Method::GET,
            headers,
            host: self.host.clone(),
            bucket: self.bucket.clone(),
            key: Some(key),
            query: Vec::new(),
            user: None,
            dialect: self.dialect,
            raw_path: self.raw_path.clone(),
            virtual_hosted: self.virtual_hosted,
            s3: None,
        }
    }

    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, k: &str) -> bool {
        self.query.iter().any(|(n, _)| n == k)
    }

    pub fn h(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn bucket(&self) -> Result<&str> {
        self.bucket.as_deref().ok_or_else(|| Error::new(Code::InvalidBucketName))
    }

    pub fn key(&self) -> Result<&str> {
        self.key.as_deref().ok_or_else(|| Error::new(Code::InvalidObjectNameEmpty))
    }

    pub fn owner_id(&self) -> &str {
        self.user.as_ref().map(|u| u.access_key_id.as_str()).unwrap_or("")
    }

    /// `encoding-type=url` was asked for.
    pub fn url_encoding(&self) -> bool {
        self.q("encoding-type") == Some("url")
    }

    /// A bool header such as x-oss-forbid-overwrite.
    pub fn flag(&self, name: &str) -> bool {
        self.h(name).map(|v| v.trim().eq_ignore_ascii_case("true")).unwrap_or(false)
    }
}

/// The Host without its port, lowercase.
fn host_only(host: &str) -> String {
    match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
    }
    .to_ascii_lowercase()
}

/// OSS's own endpoint names (`oss-<region>.aliyuncs.com`, `oss-<region>-internal.aliyuncs.com`,
/// `oss-accelerate.aliyuncs.com`, `oss-accelerate-overseas.aliyuncs.com`), bare or under a bucket label.
pub fn is_oss_host(host: &str) -> bool {
    let h = host_only(host);
    let labels: Vec<&str> = h.split('.').collect();
    match labels.as_slice() {
        [endpoint, "aliyuncs", "com"] | [_, endpoint, "aliyuncs", "com"] => endpoint.starts_with("oss-"),
        _ => false,
    }
}

/// The bucket that a cloud's own virtual-hosted name carries: `<bucket>.cos.<region>.myqcloud.com` (COS),
/// `<bucket>.oss-<region>[-internal].aliyuncs.com` and `<bucket>.oss-accelerate[-overseas].aliyuncs.com`
/// (OSS). Clients send these names even when they connect to an IP address.
fn vendor_bucket(host_only: &str) -> Option<&str> {
    if host_only.ends_with(".myqcloud.com") {
        return host_only.find(".cos.").map(|i| &host_only[..i]);
    }
    match host_only.split('.').collect::<Vec<_>>().as_slice() {
        [bucket, endpoint, "aliyuncs", "com"] if endpoint.starts_with("oss-") && !bucket.is_empty() => Some(bucket),
        _ => None,
    }
}

/// Splits Host and path into bucket and key: virtual-hosted for the clouds' own names and for
/// `bucket.<public host>`; path-style for IP addresses, localhost and any other name.
pub fn address(state: &State, host: &str, path: &str) -> (Option<String>, Option<String>, bool) {
    let host_only = host_only(host);
    if let Some(bucket) = vendor_bucket(&host_only) {
        let decoded = util::decode(path, false);
        let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
        let key = if rest.is_empty() { None } else { Some(rest.to_string()) };
        return (Some(bucket.to_string()), key, true);
    }
    let path_style = host_only.is_empty()
        || host_only == "localhost"
        || host_only.parse::<std::net::IpAddr>().is_ok()
        || !host_only.ends_with(&format!(".{}", state.public_host));
    let decoded = util::decode(path, false);
    let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
    let nonempty = |s: &str| {
        if s.is_empty() {
            None
        } else {
            Some(s.to_string())
        }
    };
    if path_style {
        match rest.split_once('/') {
            Some((b, k)) => (nonempty(b), nonempty(k), false),
            None => (nonempty(rest), None, false),
        }
    } else {
        let b = &host_only[..host_only.len() - state.public_host.len() - 1];
        (nonempty(b), nonempty(rest), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn state(public: &str) -> State {
        let dir = std::env::temp_dir().join(format!("ossd-addr-{}", ossd_engine::model::random_u64()));
        let engine = ossd_engine::Engine::open(&dir, false, "cn-hangzhou").unwrap();
        State {
            engine: Arc::new(engine),
            region: "cn-hangzhou".into(),
            public_endpoint: public.into(),
            public_host: public.split(':').next().unwrap().into(),
            idle_timeout: std::time::Duration::from_secs(1),
            copy_limit: 1 << 30,
            log_flush: std::time::Duration::from_secs(1),
            limits: Default::default(),
            default_dialect: ossd_errors::Dialect::Oss,
            pinned_dialect: None,
            users: Default::default(),
            buckets: Default::default(),
            id_base: 0,
            id_counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    #[test]
    fn path_style_and_virtual_hosted() {
        let s = state("oss.example.com:9000");
        let some = |x: &str| Some(x.to_string());
        assert_eq!(address(&s, "127.0.0.1:9000", "/b/k/x"), (some("b"), some("k/x"), false));
        assert_eq!(address(&s, "localhost", "/b/a//b"), (some("b"), some("a//b"), false));
        assert_eq!(address(&s, "[::1]:9000", "/b"), (some("b"), None, false));
        assert_eq!(address(&s, "127.0.0.1", "/"), (None, None, false));
        assert_eq!(address(&s, "bkt.oss.example.com:9000", "/k%2Fy"), (some("bkt"), some("k/y"), true));
        assert_eq!(address(&s, "bkt.oss.example.com", "/"), (some("bkt"), None, true));
        assert_eq!(address(&s, "oss.example.com", "/b/k"), (some("b"), some("k"), false));
        assert_eq!(address(&s, "127.0.0.1", "/b/%2e%2e/x"), (some("b"), some("../x"), false));
    }

    #[test]
    fn the_clouds_own_host_names() {
        let s = state("oss.example.com:9000");
        let some = |x: &str| Some(x.to_string());
        for host in [
            "bkt.oss-cn-hangzhou.aliyuncs.com",
            "bkt.oss-cn-hangzhou-internal.aliyuncs.com:80",
            "bkt.oss-accelerate.aliyuncs.com",
            "BKT.oss-accelerate-overseas.aliyuncs.com",
        ] {
            assert_eq!(address(&s, host, "/a/b"), (some("bkt"), some("a/b"), true), "{host}");
            assert!(is_oss_host(host), "{host}");
        }
        assert_eq!(address(&s, "bkt.oss-cn-hangzhou.aliyuncs.com", "/"), (some("bkt"), None, true));
        // The bare endpoint addresses the service (and path-style buckets).
        assert_eq!(address(&s, "oss-cn-hangzhou.aliyuncs.com", "/"), (None, None, false));
        assert_eq!(address(&s, "oss-cn-hangzhou-internal.aliyuncs.com", "/b/k"), (some("b"), some("k"), false));
        assert!(is_oss_host("oss-cn-hangzhou.aliyuncs.com:443"));
        // Other aliyuncs.com names are not OSS's.
        assert_eq!(address(&s, "bkt.ecs-cn-hangzhou.aliyuncs.com", "/b/k"), (some("b"), some("k"), false));
        assert!(!is_oss_host("ecs.aliyuncs.com") && !is_oss_host("a.b.oss-cn-hangzhou.aliyuncs.com"));
        assert_eq!(address(&s, "bkt.cos.ap-guangzhou.myqcloud.com", "/k"), (some("bkt"), some("k"), true));
    }
}
