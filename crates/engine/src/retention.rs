//! Bucket retention (WORM) and archive restore: the rules that keep data from changing, or from being read.

use crate::model::*;
use crate::stores::Change;
use crate::Engine;
use ossd_errors::{Code, Error, Result};

/// A bucket's WORM retention policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worm {
    pub id: String,
    /// InProgress (for 24 hours after InitiateBucketWorm) or Locked.
    pub state: String,
    pub days: u32,
    pub created_ms: i64,
}

pub(crate) const WORM: &str = "worm";
pub const MAX_RETENTION_DAYS: u32 = 25_550;

/// What RestoreObject did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// A restore started (202).
    Started,
    /// The object was already restored; its readable period was extended (200).
    Extended,
}

fn encode(w: &Worm) -> String {
    encode_pairs(&[
        ("id".into(), w.id.clone()),
        ("state".into(), w.state.clone()),
        ("days".into(), w.days.to_string()),
        ("created".into(), w.created_ms.to_string()),
    ])
}

fn decode(s: &str) -> Option<Worm> {
    let p = decode_pairs(s);
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some(Worm {
        id: get("id")?,
        state: get("state")?,
        days: get("days")?.parse().ok()?,
        created_ms: get("created")?.parse().ok()?,
    })
}

fn check_days(days: u32) -> Result<()> {
    if (1..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(Error::new(Code::InvalidWORMConfigurationDays).ctx("RetentionPeriodInDays", days.to_string()))
    }
}

pub fn is_archive(class: &str) -> bool {
    matches!(class, "Archive" | "ColdArchive" | "DeepColdArchive")
}

impl Engine {
    /// The bucket's policy in force: a Locked one, or an InProgress one less than a day old.
    pub fn worm(&self, bucket: &str) -> Result<Option<Worm>> {
        let Some(w) = self.meta.get_bucket_config(bucket, WORM)?.as_deref().and_then(decode) else {
            return Ok(None);
        };
        if w.state == "InProgress" && now_ms() > w.created_ms + self.day_ms {
            self.meta.delete_bucket_config(bucket, WORM)?;
            return Ok(None);
        }
        Ok(Some(w))
    }

    pub fn init_worm(&self, bucket: &str, days: u32) -> Result<Worm> {
        check_days(days)?;
        if let Some(w) = self.worm(bucket)? {
            if w.state == "Locked" {
                return Err(Error::new(Code::WORMConfigurationLocked).ctx("WormId", w.id));
            }
        }
        let w = Worm {
            id: format!("{:016X}{:016X}", random_u64(), random_u64()),
            state: "InProgress".into(),
            days,
            created_ms: now_ms(),
        };
        self.meta.put_bucket_config(bucket, WORM, &encode(&w))?;
        Ok(w)
    }

    fn worm_with_id(&self, bucket: &str, id: &str) -> Result<Worm> {
        match self.worm(bucket)? {
            None => Err(Error::new(Code::NoSuchWORMConfiguration).ctx("BucketName", bucket)),
            Some(w) if w.id != id => Err(Error::new(Code::InvalidWORMConfiguration).ctx("WormId", id)),
            Some(w) => Ok(w),
        }
    }

    pub fn complete_worm(&self, bucket: &str, id: &str) -> Result<()> {
        let mut w = self.worm_with_id(bucket, id)?;
        w.state = "Locked".into();
        self.meta.put_bucket_config(bucket, WORM, &encode(&w))
    }

    pub fn extend_worm(&self, bucket: &str, id: &str, days: u32) -> Result<()> {
        check_days(days)?;
        let mut w = self.worm_with_id(bucket, id)?;
        if w.state != "Locked" || days <= w.days {
            return Err(Error::new(Code::InvalidWORMConfiguration)
                .msg("Only a locked WORM configuration can be extended, and only to more days.")
                .ctx("RetentionPeriodInDays", days.to_string()));
        }
        w.days = days;
        self.meta.put_bucket_config(bucket, WORM, &encode(&w))
    }

    pub fn abort_worm(&self, bucket: &str) -> Result<()> {
        match self.worm(bucket)? {
            None => Err(Error::new(Code::NoSuchWORMConfiguration).ctx("BucketName", bucket)),
            Some(w) if w.state == "Locked" => Err(Error::new(Code::WORMConfigurationLocked).ctx("WormId", w.id)),
            Some(_) => self.meta.delete_bucket_config(bucket, WORM).map(|_| ()),
        }
    }

    /// How long objects of the bucket are protected, in ms (0 without a policy).
    pub(crate) fn retention_ms(&self, bucket: &str) -> Result<i64> {
        Ok(self.worm(bucket)?.map(|w| w.days as i64 * self.day_ms).unwrap_or(0))
    }

    /// FileImmutable if `old` is still inside the retention period.
    pub(crate) fn check_mutable(retention_ms: i64, old: Option<&ObjectRecord>) -> Result<()> {
        match old {
            Some(o) if retention_ms > 0 && o.mtime_ms + retention_ms > now_ms() => {
                Err(Error::new(Code::FileImmutable).ctx("Key", o.key.clone()))
            }
            _ => Ok(()),
        }
    }

    /// Whether the object's bytes may be read now (archive objects only while restored).
    pub fn readable_now(o: &ObjectRecord) -> bool {
        if !is_archive(&o.attrs.storage_class) {
            return true;
        }
        let now = now_ms();
        matches!(o.restore, Some(r) if r.ready_ms <= now && now < r.expiry_ms)
    }

    /// RestoreObject: starts a restore, or extends a finished one; RestoreAlreadyInProgress while one runs.
    pub fn restore_object(&self, bucket: &str, key: &str, days: u32) -> Result<RestoreOutcome> {
        let (restore_ms, day_ms) = (self.restore_ms, self.day_ms);
        let mut outcome = RestoreOutcome::Started;
        let mut missing = false;
        self.meta.modify_object(bucket, key, &mut |old| {
            let Some(o) = old else {
                missing = true;
                return Ok(Change::Keep);
            };
            if !is_archive(&o.attrs.storage_class) {
                return Err(Error::new(Code::OperationNotSupported).ctx("Key", key));
            }
            let now = now_ms();
            let mut r = o.clone();
            match o.restore {
                Some(x) if now < x.ready_ms => {
                    return Err(Error::new(Code::RestoreAlreadyInProgress).ctx("Key", key));
                }
                Some(x) if now < x.expiry_ms => {
                    outcome = RestoreOutcome::Extended;
                    r.restore = Some(Restore { ready_ms: x.ready_ms, expiry_ms: now + days as i64 * day_ms });
                }
                _ => {
                    outcome = RestoreOutcome::Started;
                    let ready = now + restore_ms;
                    r.restore = Some(Restore { ready_ms: ready, expiry_ms: ready + days as i64 * day_ms });
                }
            }
            Ok(Change::Put(Box::new(r)))
        })?;
        if missing {
            return Err(Error::new(Code::NoSuchKey).ctx("Key", key));
        }
        Ok(outcome)
    }
}
