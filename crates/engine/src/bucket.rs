//! Buckets: creating one (name, ownership and the per-user bucket limit), listing them, their ACL, and the
//! configurations kept with them: lifecycle rules and access logging as typed values (upgraded from the XML
//! documents earlier releases stored), other kinds as documents the caller owns the format of.

use crate::lifecycle::{LifecycleRule, When};
use crate::model::*;
use crate::Engine;
use ossd_errors::{Code, Error, Result};

/// The configuration kind of lifecycle rules (encoded by the engine).
pub const LIFECYCLE: &str = "lifecycle";
/// The configuration kind of access logging (encoded by the engine).
pub const LOGGING: &str = "logging";

/// Where a bucket's access log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    pub target_bucket: String,
    pub target_prefix: String,
}

/// A lifecycle or logging configuration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored<T> {
    Typed(T),
    /// An XML document stored by a release before the engine typed these configurations that this engine
    /// cannot read. It is kept as it was (GET answers it, as that release did) and not applied.
    Unreadable(String),
}

/// Whether a stored configuration is an XML document of an earlier release (typed ones never start with `<`).
fn is_legacy(doc: &str) -> bool {
    doc.trim_start().starts_with('<')
}

/// Lifecycle rules as stored, whatever release stored them.
pub(crate) fn decode_lifecycle(doc: &str) -> Stored<Vec<LifecycleRule>> {
    if !is_legacy(doc) {
        return Stored::Typed(decode_rules(doc));
    }
    match crate::config_xml::parse_lifecycle(doc.as_bytes()) {
        Ok(rules) => Stored::Typed(rules),
        Err(_) => Stored::Unreadable(doc.to_string()),
    }
}

/// Access logging as stored, whatever release stored it: None when it is off.
fn decode_logging_doc(doc: &str) -> Option<Stored<Logging>> {
    if !is_legacy(doc) {
        return decode_logging(doc).map(Stored::Typed);
    }
    match crate::config_xml::parse_logging(doc.as_bytes()) {
        Ok(l) => l.map(Stored::Typed),
        Err(_) => Some(Stored::Unreadable(doc.to_string())),
    }
}

impl Engine {
    /// PutBucket: BucketAlreadyOwnedByYou when `owner` has it already (a dialect may answer that with
    /// success, as OSS does), BucketAlreadyExists when another user has it, TooManyBuckets when `owner` has
    /// `max_buckets` already.
    pub fn create_bucket(&self, owner: &str, name: &str, acl: &str, storage_class: &str) -> Result<BucketRecord> {
        crate::names::check_bucket_name(name)?;
        let taken = |existing: &BucketRecord| {
            let code = if existing.owner == owner { Code::BucketAlreadyOwnedByYou } else { Code::BucketAlreadyExists };
            Error::new(code).ctx("BucketName", name)
        };
        if let Some(existing) = self.meta.get_bucket(name)? {
            return Err(taken(&existing));
        }
        if self.meta.count_buckets(owner)? >= self.max_buckets {
            return Err(Error::new(Code::TooManyBuckets).ctx("MaxBuckets", self.max_buckets.to_string()));
        }
        let rec = BucketRecord {
            name: name.to_string(),
            owner: owner.to_string(),
            created_ms: now_ms(),
            acl: acl.to_string(),
            storage_class: storage_class.to_string(),
            region: self.region.clone(),
        };
        match self.meta.create_bucket(&rec)? {
            (true, created) => Ok(created),
            // Created by a concurrent request in the meantime.
            (false, existing) => Err(taken(&existing)),
        }
    }

    /// ListBuckets: the buckets of `owner` named after `marker` and starting with `prefix`, in name order.
    pub fn list_buckets(&self, owner: &str, prefix: &str, marker: &str, limit: usize) -> Result<Vec<BucketRecord>> {
        self.meta.list_buckets(owner, prefix, marker, limit)
    }

    /// PutBucketAcl.
    pub fn put_bucket_acl(&self, bucket: &str, acl: &str) -> Result<()> {
        self.meta.set_bucket_acl(bucket, acl)
    }

    // ---- configurations ----

    /// A bucket's configuration document of one kind (CORS, website, …).
    pub fn bucket_config(&self, bucket: &str, kind: &str) -> Result<Option<String>> {
        self.meta.get_bucket_config(bucket, kind)
    }

    /// As `bucket_config` when it is known without a query (`None`: it is not). Never blocks.
    pub fn cached_bucket_config(&self, bucket: &str, kind: &str) -> Option<Option<String>> {
        self.meta.cached_bucket_config(bucket, kind)
    }

    pub fn put_bucket_config(&self, bucket: &str, kind: &str, doc: &str) -> Result<()> {
        self.meta.put_bucket_config(bucket, kind, doc)
    }

    /// Removes a configuration; Ok(false) when there was none.
    pub fn delete_bucket_config(&self, bucket: &str, kind: &str) -> Result<bool> {
        self.meta.delete_bucket_config(bucket, kind)
    }

    /// PutBucketLifecycle: the lifecycle worker applies the rules from its next pass but one.
    pub fn put_bucket_lifecycle(&self, bucket: &str, rules: &[LifecycleRule]) -> Result<()> {
        self.meta.put_bucket_config(bucket, LIFECYCLE, &encode_rules(rules))
    }

    /// GetBucketLifecycle: None when the bucket has no rules.
    pub fn bucket_lifecycle(&self, bucket: &str) -> Result<Option<Stored<Vec<LifecycleRule>>>> {
        Ok(self.meta.get_bucket_config(bucket, LIFECYCLE)?.map(|s| decode_lifecycle(&s)))
    }

    /// PutBucketLogging: the target must be a bucket of the same owner (InvalidTargetBucketForLogging, one EC for
    /// a target that does not exist and another for one of another owner).
    pub fn put_bucket_logging(&self, bucket: &str, owner: &str, logging: &Logging) -> Result<()> {
        let code = match self.meta.get_bucket(&logging.target_bucket)? {
            Some(t) if t.owner == owner => None,
            Some(_) => Some(Code::InvalidTargetBucketForLoggingNotOwner),
            None => Some(Code::InvalidTargetBucketForLogging),
        };
        if let Some(code) = code {
            return Err(Error::new(code).ctx("TargetBucket", logging.target_bucket.clone()));
        }
        self.meta.put_bucket_config(bucket, LOGGING, &encode_logging(logging))
    }

    /// GetBucketLogging: None when logging is off.
    pub fn bucket_logging(&self, bucket: &str) -> Result<Option<Stored<Logging>>> {
        Ok(self.meta.get_bucket_config(bucket, LOGGING)?.as_deref().and_then(decode_logging_doc))
    }

    /// Rewrites every lifecycle and logging configuration an earlier release stored as an XML document in
    /// the typed form, in one transaction (run once by `open`; a data dir already upgraded has none). A
    /// document this engine cannot read is kept as it is, with a warning: nothing an operator configured is
    /// dropped. Returns how many were rewritten.
    pub fn upgrade_configs(&self) -> Result<usize> {
        let mut changes: Vec<(String, &str, Option<String>)> = Vec::new();
        for kind in [LIFECYCLE, LOGGING] {
            for (bucket, doc) in self.meta.bucket_configs(kind)? {
                if !is_legacy(&doc) {
                    continue;
                }
                let typed = match kind {
                    LIFECYCLE => match decode_lifecycle(&doc) {
                        Stored::Typed(rules) => Some(Some(encode_rules(&rules))),
                        Stored::Unreadable(_) => None,
                    },
                    _ => match decode_logging_doc(&doc) {
                        Some(Stored::Typed(l)) => Some(Some(encode_logging(&l))),
                        Some(Stored::Unreadable(_)) => None,
                        // A document with logging off: stored as no configuration, which reads the same.
                        None => Some(None),
                    },
                };
                match typed {
                    Some(new) => changes.push((bucket, kind, new)),
                    None => tracing::warn!(bucket = %bucket, kind, document = %doc,
                        "a configuration stored by an earlier release cannot be read; it is kept as it is and not applied (put it again to replace it)"),
                }
            }
        }
        if !changes.is_empty() {
            self.meta.replace_bucket_configs(&changes)?;
            tracing::info!(
                configurations = changes.len(),
                "upgraded lifecycle and logging configurations to the typed form"
            );
        }
        Ok(changes.len())
    }

    // ---- users ----

    /// A user by access key id.
    pub fn user(&self, access_key_id: &str) -> Result<Option<UserRecord>> {
        self.meta.get_user(access_key_id)
    }

    pub fn root_user(&self) -> Result<Option<UserRecord>> {
        self.meta.root_user()
    }

    /// Stores a user (a new one, or a changed one in place of the old).
    pub fn put_user(&self, u: &UserRecord) -> Result<()> {
        self.meta.put_user(u)
    }
}

fn encode_when(w: &When) -> String {
    match w {
        When::Days(d) => format!("d{d}"),
        When::Before(t) => format!("b{t}"),
    }
}

fn decode_when(s: &str) -> Option<When> {
    match s.split_at_checked(1)? {
        ("d", d) => d.parse().ok().map(When::Days),
        ("b", t) => t.parse().ok().map(When::Before),
        _ => None,
    }
}

/// One rule a line, each line `k=v&…` (see `encode_pairs`), tags nested as encoded pairs.
fn encode_rules(rules: &[LifecycleRule]) -> String {
    let lines: Vec<String> = rules
        .iter()
        .map(|r| {
            let mut p = vec![
                ("id".to_string(), r.id.clone()),
                ("prefix".to_string(), r.prefix.clone()),
                ("enabled".to_string(), if r.enabled { "1" } else { "0" }.to_string()),
            ];
            if let Some(w) = &r.expiration {
                p.push(("expiration".into(), encode_when(w)));
            }
            if let Some(w) = &r.abort_upload {
                p.push(("abort".into(), encode_when(w)));
            }
            for t in &r.tags {
                p.push(("tag".into(), encode_pairs(std::slice::from_ref(t))));
            }
            encode_pairs(&p)
        })
        .collect();
    lines.join("\n")
}

/// The rules of `encode_rules`; a rule that does not decode is left out (it could not be applied).
fn decode_rules(s: &str) -> Vec<LifecycleRule> {
    s.lines()
        .filter_map(|line| {
            let mut r = LifecycleRule {
                id: String::new(),
                prefix: String::new(),
                enabled: false,
                tags: Vec::new(),
                expiration: None,
                abort_upload: None,
            };
            for (k, v) in decode_pairs(line) {
                match k.as_str() {
                    "id" => r.id = v,
                    "prefix" => r.prefix = v,
                    "enabled" => r.enabled = v == "1",
                    "expiration" => r.expiration = Some(decode_when(&v)?),
                    "abort" => r.abort_upload = Some(decode_when(&v)?),
                    "tag" => r.tags.extend(decode_pairs(&v)),
                    _ => return None,
                }
            }
            Some(r)
        })
        .collect()
}

fn encode_logging(l: &Logging) -> String {
    encode_pairs(&[("target".into(), l.target_bucket.clone()), ("prefix".into(), l.target_prefix.clone())])
}

fn decode_logging(s: &str) -> Option<Logging> {
    let p = decode_pairs(s);
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some(Logging { target_bucket: get("target")?, target_prefix: get("prefix").unwrap_or_default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_engine() -> (Engine, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ossd-bucket-{}", random_u64()));
        (Engine::open(&dir, false, "cn-hangzhou").unwrap(), dir)
    }

    #[test]
    fn create_bucket_decides_ownership_and_the_bucket_limit() {
        let (mut e, dir) = temp_engine();
        e.max_buckets = 2;
        e.create_bucket("alice", "a-one", "private", "Standard").unwrap();
        let again = e.create_bucket("alice", "a-one", "private", "Standard").unwrap_err();
        assert_eq!(again.code, Code::BucketAlreadyOwnedByYou);
        let other = e.create_bucket("bob", "a-one", "private", "Standard").unwrap_err();
        assert_eq!(other.code, Code::BucketAlreadyExists);
        e.create_bucket("alice", "a-two", "private", "Standard").unwrap();
        let third = e.create_bucket("alice", "a-three", "private", "Standard").unwrap_err();
        assert_eq!(third.code, Code::TooManyBuckets);
        // The limit is per owner; a name is checked before anything is looked up.
        e.create_bucket("bob", "b-one", "private", "Standard").unwrap();
        assert_eq!(e.create_bucket("bob", "B!", "private", "Standard").unwrap_err().code, Code::InvalidBucketName);
        let names: Vec<String> = e.list_buckets("alice", "", "", 10).unwrap().into_iter().map(|b| b.name).collect();
        assert_eq!(names, ["a-one", "a-two"]);
        e.put_bucket_acl("a-one", "public-read").unwrap();
        assert_eq!(e.bucket("a-one").unwrap().acl, "public-read");
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn lifecycle_and_logging_round_trip_and_logging_needs_a_target_of_the_same_owner() {
        let (e, dir) = temp_engine();
        e.create_bucket("alice", "src", "private", "Standard").unwrap();
        e.create_bucket("alice", "logs", "private", "Standard").unwrap();
        e.create_bucket("bob", "bobs", "private", "Standard").unwrap();
        assert_eq!(e.bucket_lifecycle("src").unwrap(), None);
        let rules = vec![
            LifecycleRule {
                id: "r&1=\n".into(),
                prefix: "logs/ä".into(),
                enabled: true,
                tags: vec![("k=&".into(), "v\n".into()), ("a".into(), "".into())],
                expiration: Some(When::Days(3)),
                abort_upload: Some(When::Before(1_577_923_200_000)),
            },
            LifecycleRule {
                id: String::new(),
                prefix: String::new(),
                enabled: false,
                tags: Vec::new(),
                expiration: None,
                abort_upload: Some(When::Days(1)),
            },
        ];
        e.put_bucket_lifecycle("src", &rules).unwrap();
        assert_eq!(e.bucket_lifecycle("src").unwrap(), Some(Stored::Typed(rules)));
        assert!(e.delete_bucket_config("src", LIFECYCLE).unwrap());
        assert_eq!(e.bucket_lifecycle("src").unwrap(), None);

        let to = |b: &str| Logging { target_bucket: b.into(), target_prefix: "p/".into() };
        for (bad, code) in
            [("bobs", Code::InvalidTargetBucketForLoggingNotOwner), ("missing", Code::InvalidTargetBucketForLogging)]
        {
            let err = e.put_bucket_logging("src", "alice", &to(bad)).unwrap_err();
            assert_eq!(err.code, code, "{bad}");
        }
        assert_eq!(e.bucket_logging("src").unwrap(), None);
        e.put_bucket_logging("src", "alice", &to("logs")).unwrap();
        assert_eq!(e.bucket_logging("src").unwrap(), Some(Stored::Typed(to("logs"))));
        assert!(e.bucket_config("src", LOGGING).unwrap().is_some());
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// What a release before typed configurations stored: the canonical documents its PUT handlers rendered.
    const OLD_LIFECYCLE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration><Rule><ID>r1</ID>\
        <Prefix>tmp/</Prefix><Status>Enabled</Status><Tag><Key>k</Key><Value>v</Value></Tag><Expiration><Days>3</Days>\
        </Expiration><AbortMultipartUpload><CreatedBeforeDate>2020-01-02T00:00:00.000Z</CreatedBeforeDate>\
        </AbortMultipartUpload></Rule><Rule><ID></ID><Prefix></Prefix><Status>Disabled</Status><Expiration>\
        <Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
    const OLD_LOGGING: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BucketLoggingStatus><LoggingEnabled>\
        <TargetBucket>logs</TargetBucket><TargetPrefix>access/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>";

    #[test]
    fn configurations_stored_as_xml_by_an_earlier_release_are_read_and_upgraded_on_open() {
        let (e, dir) = temp_engine();
        for b in ["src", "logs", "off", "broken"] {
            e.create_bucket("alice", b, "private", "Standard").unwrap();
        }
        // Written as the earlier release did: straight into the store, in its form.
        e.meta.put_bucket_config("src", LIFECYCLE, OLD_LIFECYCLE).unwrap();
        e.meta.put_bucket_config("src", LOGGING, OLD_LOGGING).unwrap();
        e.meta.put_bucket_config("off", LOGGING, "<BucketLoggingStatus></BucketLoggingStatus>").unwrap();
        let unreadable = "<LifecycleConfiguration><Rule><Status>Sometimes</Status></Rule></LifecycleConfiguration>";
        e.meta.put_bucket_config("broken", LIFECYCLE, unreadable).unwrap();
        let rules = vec![
            LifecycleRule {
                id: "r1".into(),
                prefix: "tmp/".into(),
                enabled: true,
                tags: vec![("k".into(), "v".into())],
                expiration: Some(When::Days(3)),
                abort_upload: Some(When::Before(1_577_923_200_000)),
            },
            LifecycleRule {
                id: String::new(),
                prefix: String::new(),
                enabled: false,
                tags: Vec::new(),
                expiration: Some(When::Days(1)),
                abort_upload: None,
            },
        ];
        let logging = Logging { target_bucket: "logs".into(), target_prefix: "access/".into() };
        // Read right even before the upgrade has run.
        assert_eq!(e.bucket_lifecycle("src").unwrap(), Some(Stored::Typed(rules.clone())));
        assert_eq!(e.bucket_logging("src").unwrap(), Some(Stored::Typed(logging.clone())));
        drop(e);

        let e = Engine::open(&dir, false, "cn-hangzhou").unwrap();
        assert_eq!(e.bucket_lifecycle("src").unwrap(), Some(Stored::Typed(rules.clone())));
        assert_eq!(e.bucket_logging("src").unwrap(), Some(Stored::Typed(logging)));
        assert_eq!(e.bucket_logging("off").unwrap(), None);
        // Rewritten in the typed form; a document logging nothing is no configuration.
        let stored = e.meta.get_bucket_config("src", LIFECYCLE).unwrap().unwrap();
        assert_eq!(stored, encode_rules(&rules));
        assert!(!e.meta.get_bucket_config("src", LOGGING).unwrap().unwrap().starts_with('<'));
        assert_eq!(e.meta.get_bucket_config("off", LOGGING).unwrap(), None);
        // The unreadable one is kept as it was, and is no "no rules".
        assert_eq!(e.meta.get_bucket_config("broken", LIFECYCLE).unwrap().as_deref(), Some(unreadable));
        assert_eq!(e.bucket_lifecycle("broken").unwrap(), Some(Stored::Unreadable(unreadable.into())));
        // Nothing left to upgrade: the pass runs once.
        assert_eq!(e.upgrade_configs().unwrap(), 0);
        drop(e);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
