//! One module per command. Each parses and checks its arguments first and opens the backend only
//! then, so a bad argument never creates or touches a store.

mod create;
mod get;
mod list;
mod profiles;
mod revoke;
mod verify;

use crate::cli::{Cli, Command, KeysCommand, ProfilesCommand};
use crate::output::Exit;
use keyward_core::{Error, KeyBackend, Result};
use keyward_profiles::{Config, Paths, Profile};
use std::future::Future;
use std::sync::Arc;

pub fn run(cli: Cli) -> Result<Exit> {
    let paths = Paths::from_env()?;
    let config = Config::load(&paths)?;
    let json = cli.json;
    match cli.command {
        Command::Profiles(ProfilesCommand::List) => profiles::list(&config, &paths, json),
        Command::Keys(command) => {
            // An empty KEYWARD_PROFILE (as CI templates often leave it) means "the default".
            let name = cli.profile.as_deref().filter(|name| !name.is_empty());
            let session = Session {
                profile: config.profile(name)?,
                paths: &paths,
            };
            match command {
                KeysCommand::List(args) => list::run(&session, args, json),
                KeysCommand::Create(args) => create::run(&session, args, json),
                KeysCommand::Get(args) => get::run(&session, args, json),
                KeysCommand::Revoke(args) => revoke::run(&session, args, json),
                KeysCommand::Verify => verify::run(&session, json),
            }
        }
    }
}

/// The chosen profile, ready to open.
pub struct Session<'a> {
    profile: &'a Profile,
    paths: &'a Paths,
}

impl Session<'_> {
    /// Opens the backend. Blocking (the local store opens a file; a remote profile's credential
    /// may come from the OS keychain), so it runs before the runtime.
    fn open(&self) -> Result<Arc<dyn KeyBackend>> {
        self.profile
            .open_backend(self.paths, &keyward_vault::Keychain::new())
    }
}

/// Runs one backend call to completion. A command makes a handful of calls, so a current-thread
/// runtime is plenty and starts fastest.
fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Unexpected(format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}

/// A key id as typed: surrounding blanks are dropped, and an empty id is refused before any call.
fn key_id(text: &str) -> Result<&str> {
    let id = text.trim();
    if id.is_empty() {
        return Err(Error::invalid("id", "must not be empty"));
    }
    Ok(id)
}
