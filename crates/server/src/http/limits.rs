//! Request-rate and bandwidth limits (all off by default): token buckets for total, meta-operation and
//! per-user QPS, and per-bucket upload and download bandwidth.

use ossd_errors::{Code, Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket holding up to one second of its rate. It may go into debt (bandwidth is charged
/// after the fact); a request is refused while it is below zero.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64) -> Self {
        TokenBucket { rate, tokens: rate, last: Instant::now() }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.rate);
        self.last = now;
    }

    /// Takes `n` tokens if at least that many are there.
    fn take(&mut self, n: f64) -> bool {
        self.refill();
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }

    /// Whether a transfer may start (the bucket is not in debt).
    fn open(&mut self) -> bool {
        self.refill();
        self.tokens >= 0.0
    }

    fn charge(&mut self, n: f64) {
        self.refill();
        self.tokens -= n;
    }
}

/// Buckets by name (user id, bucket name), created at first use.
#[derive(Debug)]
struct Keyed {
    rate: f64,
    map: Mutex<HashMap<String, TokenBucket>>,
}

impl Keyed {
    fn new(rate: u64) -> Option<Keyed> {
        (rate > 0).then(|| Keyed { rate: rate as f64, map: Mutex::new(HashMap::new()) })
    }

    fn with<T>(&self, key: &str, f: impl FnOnce(&mut TokenBucket) -> T) -> Option<T> {
        let mut m = self.map.lock().ok()?;
        let b = m.entry(key.to_string()).or_insert_with(|| TokenBucket::new(self.rate));
        Some(f(b))
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct LimitConfig {
    pub total_qps: u64,
    pub meta_qps: u64,
    pub user_qps: u64,
    pub download_bps: u64,
    pub upload_bps: u64,
}

#[derive(Debug, Default)]
pub struct Limits {
    total: Option<Mutex<TokenBucket>>,
    meta: Option<Mutex<TokenBucket>>,
    user: Option<Keyed>,
    download: Option<Keyed>,
    upload: Option<Keyed>,
}

impl Limits {
    pub fn new(c: LimitConfig) -> Limits {
        let one = |r: u64| (r > 0).then(|| Mutex::new(TokenBucket::new(r as f64)));
        Limits {
            total: one(c.total_qps),
            meta: one(c.meta_qps),
            user: Keyed::new(c.user_qps),
            download: Keyed::new(c.download_bps),
            upload: Keyed::new(c.upload_bps),
        }
    }

    /// Admits one request: total QPS, then meta-operation QPS (service and bucket operations), then the user's.
    pub fn admit(&self, is_meta: bool, user: Option<&str>) -> Result<()> {
        if let Some(t) = &self.total {
            if !t.lock().map(|mut b| b.take(1.0)).unwrap_or(true) {
                return Err(Error::new(Code::TotalQpsLimitExceeded));
            }
        }
        if is_meta {
            if let Some(m) = &self.meta {
                if !m.lock().map(|mut b| b.take(1.0)).unwrap_or(true) {
                    return Err(Error::new(Code::MetaOperationQpsLimitExceeded));
                }
            }
        }
        if let (Some(u), Some(id)) = (&self.user, user) {
            if !u.with(id, |b| b.take(1.0)).unwrap_or(true) {
                return Err(Error::new(Code::QpsLimitExceeded).ctx("User", id));
            }
        }
        Ok(())
    }

    /// Refuses a download from a bucket whose bandwidth is used up.
    pub fn check_download(&self, bucket: &str) -> Result<()> {
        match &self.download {
            Some(d) if !d.with(bucket, |b| b.open()).unwrap_or(true) => {
                Err(Error::new(Code::DownloadTrafficRateLimitExceeded).ctx("BucketName", bucket))
            }
            _ => Ok(()),
        }
    }

    pub fn charge_download(&self, bucket: &str, bytes: u64) {
        if let Some(d) = &self.download {
            d.with(bucket, |b| b.charge(bytes as f64));
        }
    }

    /// Admits an upload of `bytes` to a bucket, charging it, or refuses it while the bucket is in debt.
    pub fn admit_upload(&self, bucket: &str, bytes: u64) -> Result<()> {
        match &self.upload {
            Some(u) => {
                let ok = u
                    .with(bucket, |b| {
                        if b.open() {
                            b.charge(bytes as f64);
                            true
                        } else {
                            false
                        }
                    })
                    .unwrap_or(true);
                if ok {
                    Ok(())
                } else {
                    Err(Error::new(Code::UploadTrafficRateLimitExceeded).ctx("BucketName", bucket))
                }
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qps_limits_in_order() {
        let l = Limits::new(LimitConfig { total_qps: 100, meta_qps: 2, user_qps: 3, ..Default::default() });
        assert!(l.admit(true, Some("u")).is_ok());
        assert!(l.admit(true, Some("u")).is_ok());
        assert_eq!(l.admit(true, Some("u")).unwrap_err().code, Code::MetaOperationQpsLimitExceeded);
        assert!(l.admit(false, Some("u")).is_ok());
        assert_eq!(l.admit(false, Some("u")).unwrap_err().code, Code::QpsLimitExceeded);
        assert!(l.admit(false, Some("other")).is_ok());
        let t = Limits::new(LimitConfig { total_qps: 1, ..Default::default() });
        assert!(t.admit(false, None).is_ok());
        assert_eq!(t.admit(false, None).unwrap_err().code, Code::TotalQpsLimitExceeded);
    }

    #[test]
    fn bandwidth_goes_into_debt() {
        let l = Limits::new(LimitConfig { download_bps: 1000, upload_bps: 1000, ..Default::default() });
        assert!(l.check_download("b").is_ok());
        l.charge_download("b", 5000);
        assert_eq!(l.check_download("b").unwrap_err().code, Code::DownloadTrafficRateLimitExceeded);
        assert!(l.check_download("c").is_ok());
        assert!(l.admit_upload("b", 5000).is_ok());
        assert_eq!(l.admit_upload("b", 1).unwrap_err().code, Code::UploadTrafficRateLimitExceeded);
    }

    #[test]
    fn off_by_default() {
        let l = Limits::new(LimitConfig::default());
        for _ in 0..1000 {
            assert!(l.admit(true, Some("u")).is_ok());
        }
        l.charge_download("b", u64::MAX);
        assert!(l.check_download("b").is_ok());
    }
}
