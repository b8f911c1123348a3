//! `ossd user …`: the operator's user management, through the engine's `Users` (which works on the data dir
//! whether or not the server runs; the server reads users on every request, so a change takes effect at once).

use ossd_engine::users::{UserError, Users};
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

pub fn run(data: &Path, cmd: UserCmd) -> ExitCode {
    match Users::open(data).and_then(|users| exec(&users, cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ossd user: {e}");
            ExitCode::from(2)
        }
    }
}

fn exec(users: &Users, cmd: UserCmd) -> Result<(), UserError> {
    match cmd {
        UserCmd::Add { id, secret } => {
            users.add(&id, &secret)?;
            println!("added {id}");
        }
        UserCmd::List => {
            for u in users.list()? {
                let state = if u.enabled { "enabled" } else { "disabled" };
                let key = if u.key_enabled { "" } else { "\tkey-disabled" };
                println!("{}\t{state}{}{key}", u.access_key_id, if u.is_root { "\troot" } else { "" });
            }
        }
        UserCmd::Disable { id } => {
            users.set_enabled(&id, false)?;
            println!("disabled {id}");
        }
        UserCmd::Enable { id } => {
            users.set_enabled(&id, true)?;
            println!("enabled {id}");
        }
        UserCmd::DisableKey { id } => {
            users.set_key_enabled(&id, false)?;
            println!("disabled the access key of {id}");
        }
        UserCmd::EnableKey { id } => {
            users.set_key_enabled(&id, true)?;
            println!("enabled the access key of {id}");
        }
        UserCmd::Remove { id } => {
            users.remove(&id)?;
            println!("removed {id}");
        }
    }
    Ok(())
}
