//! Entry points for the fuzz targets (the `fuzz/` crate, built by `cargo fuzz`): the OSS dialect's internal
//! parsers made reachable from outside the crate, and a harness that hands each dialect's authenticator a
//! request built the way the front end builds it. Not an API: nothing else may use it.

use crate::dialect;
use crate::http::req::{address, Req};
use crate::http::util;
use crate::ops::{callback, config, get, image, post, validate, worm};
use crate::{Config, State};
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use ossd_errors::{Dialect, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// The request-document roots the XML decoders are asked for.
pub const XML_ROOTS: &[&str] = &[
    "Delete",
    "CompleteMultipartUpload",
    "Tagging",
    "CreateBucketConfiguration",
    "Quota",
    "RestoreRequest",
    "InitiateWormConfiguration",
    "ExtendWormConfiguration",
    "CORSConfiguration",
    "LifecycleConfiguration",
    "WebsiteConfiguration",
    "BucketLoggingStatus",
];

/// Every bucket-configuration and retention decoder on one body. A document that decodes is rendered and
/// decoded again, and must come back the same.
pub fn xml_documents(body: &[u8]) {
    if let Ok(c) = config::parse_cors(body) {
        let again = config::parse_cors(config::render_cors(&c).as_bytes());
        assert_eq!(again.ok(), Some(c), "CORS rules survive a render");
    }
    if let Ok(r) = config::parse_lifecycle(body) {
        let again = config::parse_lifecycle(config::render_lifecycle(&r).as_bytes());
        assert_eq!(again.ok(), Some(r), "lifecycle rules survive a render");
    }
    if let Ok(w) = config::parse_website(body) {
        let again = config::parse_website(config::render_website(&w).as_bytes());
        assert_eq!(again.ok(), Some(w), "a website configuration survives a render");
    }
    let _ = config::parse_logging(body);
    let _ = worm::days_from(body, "InitiateWormConfiguration");
    let _ = worm::days_from(body, "ExtendWormConfiguration");
}

/// The `Range` header against an object of `size` bytes: what it selects lies inside the object.
pub fn range(header: &str, size: u64) {
    if let Some((start, len)) = get::parse_range(header, size) {
        assert!(len >= 1 && start.checked_add(len).is_some_and(|end| end <= size), "{header:?} on {size} bytes");
    }
}

/// The `x-oss-process` parameter.
pub fn process_params(spec: &str) {
    let _ = image::parse(spec);
}

/// The `x-oss-tagging` header.
pub fn tagging_header(v: &str) {
    let _ = validate::parse_tagging_header(v);
}

/// The `x-oss-callback` and `x-oss-callback-var` parameters, given their JSON (they travel base64-encoded).
pub fn callback_json(cb: &[u8], vars: Option<&[u8]>) {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let vars = vars.map(b64);
    let _ = callback::parse(&b64(cb), vars.as_deref());
}

/// A PostObject policy document (JSON) checked against form fields, for the bucket `bucket`.
pub fn post_policy(doc: &[u8], fields: &[(String, String)], bucket: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(doc);
    let _ = post::check_policy(&b64, &post::Fields(fields.to_vec()), bucket);
}

/// A store on a data dir and the state the server would run with, without a listener: enough to run the
/// authenticators, which look users up.
pub struct AuthHarness {
    rt: tokio::runtime::Runtime,
    state: Arc<State>,
}

impl AuthHarness {
    /// Opens (or creates) a store in `data_dir` whose root key pair is `access_key_id`/`secret`.
    pub fn new(data_dir: PathBuf, access_key_id: &str, secret: &str) -> Result<AuthHarness> {
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ossd_errors::Error::internal)?;
        let mut cfg = Config::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), data_dir);
        cfg.fsync = false;
        cfg.access_key_id = Some(access_key_id.to_string());
        cfg.access_key_secret = Some(secret.to_string());
        let bound = rt.block_on(crate::bind(cfg))?;
        Ok(AuthHarness { rt, state: bound.state })
    }

    /// Builds the request the front end would build from this method, Host, path-and-query and headers
    /// (skipping what hyper would have refused), and runs `dialect`'s authenticator over it. Returns whether
    /// the request was found signed by a known user (or why not), or None when the parts are not a request
    /// hyper would pass on.
    pub fn authenticate(
        &self,
        dialect: Dialect,
        method: &str,
        host: &str,
        path_and_query: &str,
        headers: &[(String, String)],
    ) -> Option<Result<bool>> {
        let method = Method::from_bytes(method.as_bytes()).ok()?;
        let pq = http::uri::PathAndQuery::try_from(path_and_query).ok()?;
        let mut hs = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                hs.append(k, v);
            }
        }
        if let Ok(h) = HeaderValue::from_str(host) {
            hs.insert(http::header::HOST, h);
        }
        let state = &self.state;
        let (bucket, key, virtual_hosted) = address(state, host, pq.path());
        let query = util::parse_query(pq.query().unwrap_or(""));
        let _ = dialect::detect(state, &hs, &query, host);
        let mut r = Req {
            id: "FUZZ".into(),
            method,
            headers: hs,
            host: host.to_string(),
            bucket,
            key,
            query,
            user: None,
            dialect,
            raw_path: pq.path().to_string(),
            virtual_hosted,
            s3: None,
        };
        let signed = self.rt.block_on(async { dialect::authenticate(state, &mut r).await.map(|u| u.is_some()) });
        Some(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found by fuzzing (fuzz/, target auth): an x-oss-expires near i64's limits overflowed the expiry sum and
    // panicked the request's task.
    #[test]
    fn presigned_v4_with_extreme_expires() {
        let dir = std::env::temp_dir().join(format!("ossd-auth-{}", ossd_engine::model::random_u64()));
        let h = AuthHarness::new(dir.clone(), "AK1", "secret").unwrap();
        for (expires, want) in [
            ("9223372036854775807", ossd_errors::Code::SignatureDoesNotMatch),
            ("-9223372036854775808", ossd_errors::Code::AccessDeniedExpired),
        ] {
            let url = format!(
                "/bk/k?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=AK1%2F20240101%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20240101T000000Z&x-oss-expires={expires}&x-oss-signature=00"
            );
            let got = h.authenticate(Dialect::Oss, "GET", "127.0.0.1", &url, &[]);
            assert_eq!(got.map(|r| r.map_err(|e| e.code)), Some(Err(want)), "{expires}");
        }
        drop(h);
        let _ = std::fs::remove_dir_all(dir);
    }
}
