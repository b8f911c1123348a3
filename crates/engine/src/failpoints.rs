//! Crash points for the crash tests: with the `failpoints` feature, each step of every write path has a named
//! point (the `fail` crate), armed from `OSSD_FAILPOINTS` once the engine is open. A point whose action is
//! `return` aborts the process right there; other `fail` actions (`panic`, `sleep(ms)`, `off`, counts such as
//! `2*off->return`) behave as the crate documents. Without the feature the points compile to nothing.
//!
//! The points, in the order a write meets them: `blob::write` (some bytes of a new blob in its file), `blob::fsync`
//! (before its data fsync), `blob::dir_fsync` (before its directory's fsync), `meta::commit` (an object or part change in
//! the open transaction, before COMMIT), `reclaim::old_blob` (committed; the replaced or deleted blob not yet
//! removed), `multipart::part` (a part's blob written, its record not yet committed), `multipart::complete` (before the completing transaction), `multipart::parts` (committed; unused
//! part blobs not yet removed), `append::commit` (appended blob written, record not yet extended), `copy::data`
//! (copied blob written, no record yet), `delete::commit` (before the delete's transaction), `lifecycle::expire`
//! (an expired object about to be deleted).

/// Every crash point, for tests and docs.
pub const POINTS: &[&str] = &[
    "blob::write",
    "blob::fsync",
    "blob::dir_fsync",
    "meta::commit",
    "reclaim::old_blob",
    "multipart::part",
    "multipart::complete",
    "multipart::parts",
    "append::commit",
    "copy::data",
    "delete::commit",
    "lifecycle::expire",
];

/// A crash point: aborts the process when armed with `return`.
#[macro_export]
macro_rules! crash_point {
    ($name:expr) => {
        #[cfg(feature = "failpoints")]
        $crate::failpoints::hit($name);
    };
}

#[cfg(feature = "failpoints")]
#[doc(hidden)]
pub fn hit(name: &str) {
    if fail::eval(name, |_| ()).is_some() {
        eprintln!("ossd: crash point {name} reached: aborting");
        std::process::abort();
    }
}

/// Arms the points named in `OSSD_FAILPOINTS` (`point=actions;point=actions`); a no-op without the feature.
pub fn arm_from_env() {
    #[cfg(feature = "failpoints")]
    if let Ok(spec) = std::env::var("OSSD_FAILPOINTS") {
        for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, actions) = item.split_once('=').unwrap_or((item, "return"));
            match fail::cfg(name.trim(), actions.trim()) {
                Ok(()) => tracing::warn!(point = name, actions, "crash point armed"),
                Err(e) => tracing::error!(point = name, error = %e, "bad crash point setting"),
            }
        }
    }
}
