//! The operator's user management on a data dir (`ossd user …`), whether or not a server runs on it. It opens
//! only the metadata store and not the data dir's lock (a running server holds that): SQLite's own locking keeps
//! its writes and the server's apart, and the server reads users on every request, so a change takes effect at
//! once. The rules of users live here: what an access key id is made of, the shortest secret, that the root user
//! stays and that a user who owns buckets stays.

use crate::model::UserRecord;
use crate::stores::{sqlite::SqliteMeta, MetaStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a user operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("no ossd data in {} (start `ossd serve --data {}` once first)", .0.display(), .0.display())]
    NoData(PathBuf),
    #[error("cannot open the metadata store: {0}")]
    Open(ossd_errors::Error),
    #[error("{0:?}: an access key id is made of [0-9a-zA-Z._=]")]
    BadId(String),
    #[error("the secret must be at least 8 characters")]
    ShortSecret,
    #[error("user {0} exists already")]
    Exists(String),
    #[error("no user {0}")]
    NoSuchUser(String),
    #[error("{0} is the root user and cannot be removed")]
    Root(String),
    #[error("{0} still owns {1} bucket(s); delete them first")]
    OwnsBuckets(String, usize),
    #[error("{0}")]
    Store(#[from] ossd_errors::Error),
}

pub type Result<T> = std::result::Result<T, UserError>;

/// The users of one data dir.
pub struct Users {
    meta: Arc<dyn MetaStore>,
}

/// Whether `id` can be an access key id.
pub fn valid_access_key_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'='))
}

impl Users {
    /// Opens the users of an existing data dir (one a server has started on once).
    pub fn open(data_dir: &Path) -> Result<Users> {
        if !data_dir.join("meta.sqlite").exists() {
            return Err(UserError::NoData(data_dir.to_path_buf()));
        }
        let meta = SqliteMeta::open(data_dir, true).map_err(UserError::Open)?;
        Ok(Users { meta })
    }

    /// Every user, in access key id order.
    pub fn list(&self) -> Result<Vec<UserRecord>> {
        Ok(self.meta.list_users()?)
    }

    pub fn get(&self, id: &str) -> Result<UserRecord> {
        self.meta.get_user(id)?.ok_or_else(|| UserError::NoSuchUser(id.to_string()))
    }

    /// A new enabled user with its access key pair.
    pub fn add(&self, id: &str, secret: &str) -> Result<()> {
        if !valid_access_key_id(id) {
            return Err(UserError::BadId(id.to_string()));
        }
        if secret.len() < 8 {
            return Err(UserError::ShortSecret);
        }
        if self.meta.get_user(id)?.is_some() {
            return Err(UserError::Exists(id.to_string()));
        }
        let u = UserRecord {
            access_key_id: id.to_string(),
            secret: secret.to_string(),
            enabled: true,
            is_root: false,
            key_enabled: true,
        };
        Ok(self.meta.put_user(&u)?)
    }

    /// Enables or disables a user (a disabled one is refused with UserDisable).
    pub fn set_enabled(&self, id: &str, enabled: bool) -> Result<()> {
        let u = self.get(id)?;
        Ok(self.meta.put_user(&UserRecord { enabled, ..u })?)
    }

    /// Enables or disables a user's access key (the user stays as it is).
    pub fn set_key_enabled(&self, id: &str, key_enabled: bool) -> Result<()> {
        let u = self.get(id)?;
        Ok(self.meta.put_user(&UserRecord { key_enabled, ..u })?)
    }

    /// Removes a user that is not the root user and owns no buckets.
    pub fn remove(&self, id: &str) -> Result<()> {
        let u = self.get(id)?;
        if u.is_root {
            return Err(UserError::Root(id.to_string()));
        }
        let owned = self.meta.count_buckets(id)?;
        if owned > 0 {
            return Err(UserError::OwnsBuckets(id.to_string(), owned));
        }
        self.meta.delete_user(id)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;

    #[test]
    fn users_are_managed_beside_a_running_engine_under_their_rules() {
        let dir = std::env::temp_dir().join(format!("ossd-users-{}", crate::model::random_u64()));
        assert!(matches!(Users::open(&dir), Err(UserError::NoData(_))), "no data dir yet");
        // The engine holds the data dir's lock, as a running server does; the users open beside it.
        let e = Engine::open(&dir, false, "cn-hangzhou").unwrap();
        let users = Users::open(&dir).unwrap();
        users.add("bob", "bob-secret").unwrap();
        assert!(matches!(users.add("bob", "other-secret"), Err(UserError::Exists(_))));
        assert!(matches!(users.add("bad id!", "long-enough"), Err(UserError::BadId(_))));
        assert!(matches!(users.add("carol", "short"), Err(UserError::ShortSecret)));
        assert!(e.user("bob").unwrap().is_some_and(|u| u.enabled && u.key_enabled), "the engine sees it at once");
        users.set_enabled("bob", false).unwrap();
        users.set_key_enabled("bob", false).unwrap();
        assert!(e.user("bob").unwrap().is_some_and(|u| !u.enabled && !u.key_enabled));
        assert!(matches!(users.set_enabled("nobody", true), Err(UserError::NoSuchUser(_))));
        e.create_bucket("bob", "bobs", "private", "Standard").unwrap();
        let owns = users.remove("bob").unwrap_err();
        assert_eq!(owns.to_string(), "bob still owns 1 bucket(s); delete them first");
        e.delete_bucket("bobs", false).unwrap();
        users.remove("bob").unwrap();
        assert_eq!(e.user("bob").unwrap(), None);
        e.put_user(&UserRecord {
            access_key_id: "root".into(),
            secret: "root-secret".into(),
            enabled: true,
            is_root: true,
            key_enabled: true,
        })
        .unwrap();
        assert!(matches!(users.remove("root"), Err(UserError::Root(_))));
        assert_eq!(users.list().unwrap().iter().map(|u| u.access_key_id.as_str()).collect::<Vec<_>>(), ["root"]);
        drop((users, e));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
