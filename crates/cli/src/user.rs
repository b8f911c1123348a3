//! `ossd user …`: the operator's user management. It works on the data dir's metadata store directly, so it
//! works whether or not the server runs; the server reads users on every request, so a change takes effect
//! at once.

use ossd_engine::model::UserRecord;
use ossd_engine::stores::{sqlite::SqliteMeta, MetaStore};
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum UserCmd {
    /// Add a user with its access key pair.
    Add { id: String, secret: String },
    /// List users: id, state, and whether it is the root user.
    List,
    /// Disable a user: its requests fail with 403 UserDisable.
    Disable { id: String },
    /// Enable a disabled user.
    Enable { id: String },
    /// Disable a user's access key (the user stays enabled): 403 InvalidAccessKeyId "…is disabled".
    DisableKey { id: String },
    /// Enable a disabled access key.
    EnableKey { id: String },
    /// Remove a user that owns no buckets.
    Remove { id: String },
}

fn fail(msg: String) -> ExitCode {
    eprintln!("ossd user: {msg}");
    ExitCode::from(2)
}

pub fn run(data: &Path, cmd: UserCmd) -> ExitCode {
    if !data.join("meta.sqlite").exists() {
        return fail(format!(
            "no ossd data in {} (start `ossd serve --data {}` once first)",
            data.display(),
            data.display()
        ));
    }
    let meta = match SqliteMeta::open(data, true) {
        Ok(m) => m,
        Err(e) => return fail(format!("cannot open the metadata store: {e}")),
    };
    match exec(&meta, cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => fail(msg),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'='))
}

fn exec(meta: &SqliteMeta, cmd: UserCmd) -> Result<(), String> {
    let get = |id: &str| -> Result<UserRecord, String> {
        meta.get_user(id).map_err(|e| e.to_string())?.ok_or_else(|| format!("no user {id}"))
    };
    match cmd {
        UserCmd::Add { id, secret } => {
            if !valid_id(&id) {
                return Err(format!("{id:?}: an access key id is made of [0-9a-zA-Z._=]"));
            }
            if secret.len() < 8 {
                return Err("the secret must be at least 8 characters".into());
            }
            if meta.get_user(&id).map_err(|e| e.to_string())?.is_some() {
                return Err(format!("user {id} exists already"));
            }
            meta.put_user(&UserRecord {
                access_key_id: id.clone(),
                secret,
                enabled: true,
                is_root: false,
                key_enabled: true,
            })
            .map_err(|e| e.to_string())?;
            println!("added {id}");
        }
        UserCmd::List => {
            for u in meta.list_users().map_err(|e| e.to_string())? {
                let state = if u.enabled { "enabled" } else { "disabled" };
                let key = if u.key_enabled { "" } else { "\tkey-disabled" };
                println!("{}\t{state}{}{key}", u.access_key_id, if u.is_root { "\troot" } else { "" });
            }
        }
        UserCmd::Disable { id } => {
            let u = get(&id)?;
            meta.put_user(&UserRecord { enabled: false, ..u }).map_err(|e| e.to_string())?;
            println!("disabled {id}");
        }
        UserCmd::Enable { id } => {
            let u = get(&id)?;
            meta.put_user(&UserRecord { enabled: true, ..u }).map_err(|e| e.to_string())?;
            println!("enabled {id}");
        }
        UserCmd::DisableKey { id } => {
            let u = get(&id)?;
            meta.put_user(&UserRecord { key_enabled: false, ..u }).map_err(|e| e.to_string())?;
            println!("disabled the access key of {id}");
        }
        UserCmd::EnableKey { id } => {
            let u = get(&id)?;
            meta.put_user(&UserRecord { key_enabled: true, ..u }).map_err(|e| e.to_string())?;
            println!("enabled the access key of {id}");
        }
        UserCmd::Remove { id } => {
            let u = get(&id)?;
            if u.is_root {
                return Err(format!("{id} is the root user and cannot be removed"));
            }
            let owned = meta.count_buckets(&id).map_err(|e| e.to_string())?;
            if owned > 0 {
                return Err(format!("{id} still owns {owned} bucket(s); delete them first"));
            }
            meta.delete_user(&id).map_err(|e| e.to_string())?;
            println!("removed {id}");
        }
    }
    Ok(())
}
