//! Background work: the lifecycle worker, and the access-log buffer with its flusher (OSS bucket logging).

use crate::ops::config::{parse_lifecycle, parse_logging, LIFECYCLE, LOGGING};
use crate::State;
use ossd_engine::model::{now_ms, ObjectAttrs};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Access-log lines waiting to be written, by source bucket.
#[derive(Default)]
pub struct AccessLog {
    pending: Mutex<HashMap<String, Vec<String>>>,
}

impl AccessLog {
    pub fn record(&self, bucket: &str, line: String) {
        if let Ok(mut p) = self.pending.lock() {
            p.entry(bucket.to_string()).or_default().push(line);
        }
    }

    /// Writes every bucket's pending lines as one object in its logging target bucket.
    pub fn flush(&self, state: &State) {
        let pending = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return,
        };
        for (source, lines) in pending {
            let doc = match state.engine.meta.get_bucket_config(&source, LOGGING) {
                Ok(Some(d)) => d,
                _ => continue,
            };
            let Ok(Some((target, prefix))) = parse_logging(doc.as_bytes()) else { continue };
            let (y, mo, d, h, mi, s) = civil(now_ms());
            let key = format!(
                "{prefix}{source}{y:04}-{mo:02}-{d:02}-{h:02}-{mi:02}-{s:02}-{:04X}",
                ossd_engine::model::random_u64() & 0xFFFF
            );
            let mut body = lines.join("\n");
            body.push('\n');
            let write = || -> ossd_errors::Result<()> {
                let mut w = state.engine.new_blob(false)?;
                w.write(body.as_bytes()).map_err(ossd_errors::Error::internal)?;
                let info = w.finish().map_err(ossd_errors::Error::internal)?;
                let attrs = ObjectAttrs {
                    content_type: "text/plain".into(),
                    acl: "default".into(),
                    storage_class: "Standard".into(),
                    ..Default::default()
                };
                state.engine.put_object(&target, &key, info, attrs, false).map(|_| ())
            };
            if let Err(e) = write() {
                tracing::warn!(bucket = %source, target = %target, error = %e, "could not write the access log");
            }
        }
    }
}

fn civil(ms: i64) -> (i64, u32, u32, i64, i64, i64) {
    let iso = crate::http::util::iso8601(ms);
    let n = |r: std::ops::Range<usize>| iso.get(r).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    (n(0..4), n(5..7) as u32, n(8..10) as u32, n(11..13), n(14..16), n(17..19))
}

/// The configurations that are the same as in the previous pass (`seen`, which is updated): a rule is loaded in
/// one pass and applied from the next, as OSS loads a new rule before it runs it. So a rule whose date is
/// already past does not expire objects in the instant after it is set, before a client can look.
fn settled(seen: &mut HashMap<String, String>, configs: Vec<(String, String)>) -> Vec<(String, String)> {
    let previous = std::mem::take(seen);
    let mut out = Vec::new();
    for (bucket, doc) in configs {
        if previous.get(&bucket) == Some(&doc) {
            out.push((bucket.clone(), doc.clone()));
        }
        seen.insert(bucket, doc);
    }
    out
}

/// One lifecycle pass over every bucket that has rules (that have not changed since the previous pass).
pub fn lifecycle_pass(state: &State, seen: &mut HashMap<String, String>) {
    let configs = match state.engine.meta.bucket_configs(LIFECYCLE) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "lifecycle: cannot read configurations");
            return;
        }
    };
    for (bucket, doc) in settled(seen, configs) {
        let Ok(rules) = parse_lifecycle(doc.as_bytes()) else { continue };
        match state.engine.apply_lifecycle(&bucket, &rules) {
            Ok(r) if r.expired + r.aborted > 0 => {
                tracing::info!(bucket = %bucket, expired = r.expired, aborted = r.aborted, "lifecycle applied")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(bucket = %bucket, error = %e, "lifecycle pass failed"),
        }
    }
}

/// Starts the workers; they run until the runtime stops.
pub fn spawn(state: &Arc<State>) {
    let day = Duration::from_millis(state.engine.day_ms.max(1) as u64);
    let tick = (day / 10).clamp(Duration::from_millis(200), Duration::from_secs(60));
    let s = state.clone();
    tokio::spawn(async move {
        let seen = Arc::new(Mutex::new(HashMap::new()));
        loop {
            tokio::time::sleep(tick).await;
            let (s2, seen) = (s.clone(), seen.clone());
            let _ = tokio::task::spawn_blocking(move || {
                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                lifecycle_pass(&s2, &mut seen)
            })
            .await;
        }
    });
    let s = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(s.log_flush).await;
            let s2 = s.clone();
            let _ = tokio::task::spawn_blocking(move || s2.access_log.flush(&s2)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifecycle_rule_is_applied_from_the_pass_after_the_one_that_first_sees_it() {
        let cfg = |v: &[(&str, &str)]| v.iter().map(|(b, d)| (b.to_string(), d.to_string())).collect::<Vec<_>>();
        let mut seen = HashMap::new();
        assert!(settled(&mut seen, cfg(&[("a", "r1")])).is_empty(), "new: loaded, not applied");
        assert_eq!(settled(&mut seen, cfg(&[("a", "r1"), ("b", "r1")])), cfg(&[("a", "r1")]));
        // A changed rule waits again; an unchanged one runs; a removed one is forgotten.
        assert_eq!(settled(&mut seen, cfg(&[("a", "r2"), ("b", "r1")])), cfg(&[("b", "r1")]));
        assert_eq!(settled(&mut seen, cfg(&[("b", "r1")])), cfg(&[("b", "r1")]));
        assert!(settled(&mut seen, cfg(&[("a", "r2")])).is_empty(), "re-added after a gap: new again");
    }
}
