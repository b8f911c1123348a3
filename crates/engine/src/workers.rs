//! The engine's background work: the lifecycle worker (expiry, aborting stale uploads) and access-log delivery
//! (lines queued by the server are written as objects into each bucket's logging target). `start_workers` runs
//! them on threads of their own until the returned handle is stopped or dropped.

use crate::bucket::LIFECYCLE;
use crate::model::{civil, now_ms, random_u64, ObjectAttrs};
use crate::Engine;
use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Access-log lines waiting to be delivered, by source bucket.
#[derive(Default)]
pub(crate) struct AccessLogQueue {
    pending: Mutex<HashMap<String, Vec<String>>>,
}

impl AccessLogQueue {
    fn take(&self) -> HashMap<String, Vec<String>> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }
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

impl Engine {
    /// Queues one finished access-log line of `bucket` for delivery to its logging target (see
    /// `deliver_access_logs`). Lines of a bucket whose logging is off by then are dropped.
    pub fn queue_log_line(&self, bucket: &str, line: String) {
        let mut p = self.access_log.pending.lock().unwrap_or_else(|p| p.into_inner());
        match p.get_mut(bucket) {
            Some(lines) => lines.push(line),
            None => {
                p.insert(bucket.to_string(), vec![line]);
            }
        }
    }

    /// Writes every bucket's queued lines as one object `<prefix><bucket>YYYY-MM-DD-HH-MM-SS-XXXX` in its
    /// logging target; returns how many objects were written.
    pub fn deliver_access_logs(&self) -> usize {
        let mut written = 0;
        for (source, lines) in self.access_log.take() {
            let logging = match self.bucket_logging(&source) {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(bucket = %source, error = %e, "access log: cannot read the logging configuration");
                    continue;
                }
            };
            let (y, mo, d, h, mi, s) = civil(now_ms());
            let key = format!(
                "{}{source}{y:04}-{mo:02}-{d:02}-{h:02}-{mi:02}-{s:02}-{:04X}",
                logging.target_prefix,
                random_u64() & 0xFFFF
            );
            let mut body = lines.join("\n");
            body.push('\n');
            let write = || -> ossd_errors::Result<()> {
                let mut w = self.new_blob(false)?;
                w.write(body.as_bytes()).map_err(ossd_errors::Error::internal)?;
                let info = w.finish().map_err(ossd_errors::Error::internal)?;
                let attrs = ObjectAttrs {
                    content_type: "text/plain".into(),
                    acl: "default".into(),
                    storage_class: "Standard".into(),
                    ..Default::default()
                };
                self.put_object(&logging.target_bucket, &key, info, attrs, false).map(|_| ())
            };
            match write() {
                Ok(()) => written += 1,
                Err(e) => {
                    tracing::warn!(bucket = %source, target = %logging.target_bucket, error = %e,
                        "could not write the access log")
                }
            }
        }
        written
    }

    /// One lifecycle pass over every bucket whose rules have not changed since the previous pass (`seen`).
    pub fn lifecycle_pass(&self, seen: &mut HashMap<String, String>) {
        let configs = match self.meta.bucket_configs(LIFECYCLE) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "lifecycle: cannot read configurations");
                return;
            }
        };
        for (bucket, doc) in settled(seen, configs) {
            let rules = crate::bucket::decode_rules(&doc);
            match self.apply_lifecycle(&bucket, &rules) {
                Ok(r) if r.expired + r.aborted > 0 => {
                    tracing::info!(bucket = %bucket, expired = r.expired, aborted = r.aborted, "lifecycle applied")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(bucket = %bucket, error = %e, "lifecycle pass failed"),
            }
        }
    }

    /// Starts the lifecycle worker (a pass every tenth of a "day", between 200 ms and a minute) and access-log
    /// delivery (every `log_flush`). They hold the engine until the handle is stopped or dropped.
    pub fn start_workers(self: &Arc<Self>, log_flush: Duration) -> Workers {
        let day = Duration::from_millis(self.day_ms.max(1) as u64);
        let tick = (day / 10).clamp(Duration::from_millis(200), Duration::from_secs(60));
        let mut seen = HashMap::new();
        let lifecycle = every(self, "ossd-lifecycle", tick, move |e, stopping| {
            if !stopping {
                e.lifecycle_pass(&mut seen)
            }
        });
        // On stop, what is queued is delivered rather than lost.
        let logs = every(self, "ossd-access-log", log_flush, |e, _| {
            e.deliver_access_logs();
        });
        Workers { threads: [lifecycle, logs].into_iter().flatten().collect() }
    }
}

/// Runs `f` on a thread every `period` until the returned sender is dropped; then once more with `true`.
fn every(
    engine: &Arc<Engine>,
    name: &str,
    period: Duration,
    mut f: impl FnMut(&Engine, bool) + Send + 'static,
) -> Option<(mpsc::Sender<()>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<()>();
    let engine = engine.clone();
    let spawned = std::thread::Builder::new().name(name.into()).spawn(move || loop {
        match rx.recv_timeout(period) {
            Err(mpsc::RecvTimeoutError::Timeout) => f(&engine, false),
            _ => {
                f(&engine, true);
                break;
            }
        }
    });
    match spawned {
        Ok(h) => Some((tx, h)),
        Err(e) => {
            tracing::error!(worker = name, error = %e, "cannot start a worker thread");
            None
        }
    }
}

/// The running workers. Dropping the handle tells them to stop (they finish what they are doing, and access-log
/// delivery delivers what is queued); `stop` also waits for them.
pub struct Workers {
    threads: Vec<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Workers {
    /// Stops the workers and waits until they are done. Blocks: call it off async workers.
    pub fn stop(self) {
        let (senders, handles): (Vec<_>, Vec<_>) = self.threads.into_iter().unzip();
        drop(senders);
        for h in handles {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::Logging;
    use crate::lifecycle::{LifecycleRule, When};
    use std::io::Read;

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

    fn attrs() -> ObjectAttrs {
        ObjectAttrs { acl: "default".into(), storage_class: "Standard".into(), ..Default::default() }
    }

    fn put(e: &Engine, bucket: &str, key: &str, body: &[u8]) {
        let mut w = e.new_blob(false).unwrap();
        w.write(body).unwrap();
        e.put_object(bucket, key, w.finish().unwrap(), attrs(), false).unwrap();
    }

    #[test]
    fn the_workers_expire_by_lifecycle_and_deliver_queued_log_lines_on_stop() {
        let dir = std::env::temp_dir().join(format!("ossd-workers-{}", random_u64()));
        let mut e = Engine::open(&dir, false, "cn-hangzhou").unwrap();
        e.day_ms = 1000;
        let e = Arc::new(e);
        e.create_bucket("o", "src", "private", "Standard").unwrap();
        e.create_bucket("o", "logs", "private", "Standard").unwrap();
        put(&e, "src", "tmp/old", b"x");
        put(&e, "src", "keep", b"y");
        let rule = LifecycleRule {
            id: "r".into(),
            prefix: "tmp/".into(),
            enabled: true,
            tags: Vec::new(),
            expiration: Some(When::Before(now_ms() + 60_000)),
            abort_upload: None,
        };
        e.put_bucket_lifecycle("src", &[rule]).unwrap();
        let logging = Logging { target_bucket: "logs".into(), target_prefix: "access/".into() };
        e.put_bucket_logging("src", "o", &logging).unwrap();
        let workers = e.start_workers(Duration::from_secs(3600));
        e.queue_log_line("src", "first line".into());
        e.queue_log_line("src", "second line".into());
        e.queue_log_line("nologging", "dropped".into());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while e.head_object("src", "tmp/old").is_ok() {
            assert!(std::time::Instant::now() < deadline, "the lifecycle worker did not expire tmp/old");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(e.head_object("src", "keep").is_ok(), "outside the rule's prefix");
        assert!(e.list_objects("logs", "", "", "", 10).unwrap().objects.is_empty(), "delivered only every hour");
        workers.stop();
        let objs = e.list_objects("logs", "", "", "", 10).unwrap().objects;
        assert_eq!(objs.len(), 1, "stopping delivers what is queued, as one object");
        assert!(objs[0].key.starts_with("access/src20"), "{}", objs[0].key);
        let rec = e.head_object("logs", &objs[0].key).unwrap();
        let mut body = String::new();
        e.reader(&rec, 0, rec.size).read_to_string(&mut body).unwrap();
        assert_eq!(body, "first line\nsecond line\n");
        assert_eq!(Arc::strong_count(&e), 1, "the stopped workers let go of the engine");
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
