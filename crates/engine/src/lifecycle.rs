//! Lifecycle rules and their application: expiring objects and aborting stale multipart uploads,
//! per prefix and tags. A background worker calls `apply_lifecycle` for each bucket with rules.

use crate::model::now_ms;
use crate::stores::Fields;
use crate::Engine;
use ossd_errors::{Code, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// This many days after the object's last modification (or the upload's start).
    Days(u32),
    /// Everything last modified (or started) before this instant, in ms.
    Before(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRule {
    pub id: String,
    pub prefix: String,
    pub enabled: bool,
    pub tags: Vec<(String, String)>,
    pub expiration: Option<When>,
    pub abort_upload: Option<When>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleReport {
    pub expired: usize,
    pub aborted: usize,
}

impl When {
    fn due(&self, t_ms: i64, day_ms: i64, now: i64) -> bool {
        match self {
            When::Days(d) => t_ms + *d as i64 * day_ms <= now,
            When::Before(b) => t_ms < *b,
        }
    }
}

impl Engine {
    /// Applies the enabled rules to the bucket once. Objects under WORM retention are left alone.
    pub fn apply_lifecycle(&self, bucket: &str, rules: &[LifecycleRule]) -> Result<LifecycleReport> {
        let mut report = LifecycleReport::default();
        let now = now_ms();
        for rule in rules.iter().filter(|r| r.enabled) {
            if let Some(exp) = &rule.expiration {
                let mut marker = rule.prefix.clone();
                let mut first = true;
                loop {
                    let end = crate::list::successor(rule.prefix.as_bytes());
                    let from = if first { rule.prefix.as_bytes() } else { marker.as_bytes() };
                    let batch = self.meta.scan_objects(bucket, from, first, end.as_deref(), 1000, Fields::All)?;
                    first = false;
                    let Some(last) = batch.last() else { break };
                    marker = last.key.clone();
                    let n = batch.len();
                    for o in batch {
                        let tagged = rule.tags.iter().all(|t| o.attrs.tags.contains(t));
                        if tagged && exp.due(o.mtime_ms, self.day_ms, now) {
                            crate::crash_point!("lifecycle::expire");
                            match self.delete_object(bucket, &o.key) {
                                Ok(_) => report.expired += 1,
                                Err(e) if e.code == Code::FileImmutable => {}
                                Err(e) => return Err(e),
                            }
                        }
                    }
                    if n < 1000 {
                        break;
                    }
                }
            }
            if let Some(abort) = &rule.abort_upload {
                let (mut key_marker, mut id_marker) = (String::new(), String::new());
                loop {
                    let ups = self.meta.list_uploads(bucket, &rule.prefix, &key_marker, &id_marker, 1000)?;
                    let Some(last) = ups.last() else { break };
                    (key_marker, id_marker) = (last.key.clone(), last.upload_id.clone());
                    let n = ups.len();
                    for u in ups {
                        if abort.due(u.initiated_ms, self.day_ms, now) {
                            self.abort_upload(bucket, &u.upload_id)?;
                            report.aborted += 1;
                        }
                    }
                    if n < 1000 {
                        break;
                    }
                }
            }
        }
        Ok(report)
    }
}
