//! One module per command. Each parses and checks its arguments first and opens the backend (or
//! the keychain) only then, so a bad argument never creates or touches a store.

mod audit;
mod clipboard;
mod create;
mod doctor;
mod expiring;
mod filter;
mod generate;
mod get;
mod list;
mod profiles;
mod revoke;
mod rotate;
mod secret;
mod settings;
mod update;
mod verify;

use crate::cli::{Cli, Command, KeysCommand};
use crate::host::CliHost;
use crate::output::Exit;
use keyward_core::{Error, KeyBackend, Result};
use keyward_profiles::{Config, Paths, Profile};
use keyward_remote::HttpOptions;
use keyward_vault::{Keychain, SavedSecretIndex};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub fn run(cli: Cli) -> Result<Exit> {
    // These two run before the paths are read: doctor reports a bad environment rather than
    // failing on it, and the generated completions and man page depend on nothing.
    let command = match cli.command {
        Command::Doctor(args) => return doctor::run(&args, cli.json),
        Command::Generate(what) => return generate::run(what),
        command => command,
    };
    let paths = Paths::from_env()?;
    let json = cli.json;
    match command {
        Command::Profiles(command) => profiles::run(command, &paths, json),
        Command::Audit(args) => audit::run(args, &paths, json),
        Command::Settings(args) => settings::run(args, &paths, json),
        Command::Keys(command) => {
            let config = Config::load(&paths)?;
            // An empty KEYWARD_PROFILE (as CI templates often leave it) means "the default".
            let name = cli.profile.as_deref().filter(|name| !name.is_empty());
            let session = Session {
                profile: config.profile(name)?,
                paths: &paths,
                clipboard_clear_after: config.clipboard_clear_after(),
            };
            match command {
                KeysCommand::Expiring(args) => expiring::run(&config, &session, args, json),
                KeysCommand::List(args) => list::run(&session, args, json),
                KeysCommand::Create(args) => create::run(&session, args, json),
                KeysCommand::Update(args) => update::run(&session, args, json),
                KeysCommand::Get(args) => get::run(&session, args, json),
                KeysCommand::Owners => get::owners(&session, json),
                KeysCommand::Revoke(args) => revoke::run(&session, args, json),
                KeysCommand::Rotate(args) => rotate::run(&session, args, json),
                KeysCommand::Scheduled(args) => rotate::scheduled(&session, args, json),
                KeysCommand::Verify => verify::run(&session, json),
                KeysCommand::Copy(args) => secret::copy(&session, args, json),
                KeysCommand::Secret(args) => secret::print(&session, args, json),
            }
        }
        Command::Doctor(_) | Command::Generate(_) => unreachable!("handled above"),
    }
}

/// The chosen profile, ready to open.
pub struct Session<'a> {
    profile: &'a Profile,
    paths: &'a Paths,
    /// The config file's `clipboard_clear_seconds`, below `--clear-after` and the env var.
    clipboard_clear_after: Option<Duration>,
}

impl Session<'_> {
    /// Opens the backend. Blocking (the local store opens a file; a remote profile's credential
    /// may come from the OS keychain), so it runs before the runtime.
    fn open(&self) -> Result<Arc<dyn KeyBackend>> {
        self.open_with(http_options()?)
    }

    /// [`open`](Self::open) with these HTTP options (remote profiles).
    fn open_with(&self, http: HttpOptions) -> Result<Arc<dyn KeyBackend>> {
        self.profile
            .open_backend_with(self.paths, &Keychain::new(), http)
    }

    fn profile_name(&self) -> &str {
        &self.profile.name
    }

    /// The operations' host: this profile, the data dir's activity log and saved-secret index.
    fn host(&self) -> CliHost {
        CliHost::new(self.profile_name(), self.paths.data_dir.clone())
    }

    /// The keychain for key secrets, recording saves and forgets in the data dir's index.
    fn keychain(&self) -> Result<Keychain> {
        Ok(Keychain::new().with_index(SavedSecretIndex::open(&self.paths.data_dir)?))
    }
}

/// A log that cannot be written is a warning on stderr, never a failure: the keys were changed.
fn warn_not_recorded(error: &Error) {
    crate::output::note(&format!(
        "warning: not recorded in the activity log: {}",
        crate::output::clean(&error.to_string())
    ));
}

/// The HTTP options of remote backends: the defaults, with `KEYWARD_HTTP_TIMEOUT_MS` if set (the
/// app reads it too: `keyward_ops::settings::http_options`).
pub fn http_options() -> Result<HttpOptions> {
    keyward_ops::settings::http_options()
}

/// Runs one backend call to completion. A command makes a handful of calls, so a current-thread
/// runtime is plenty and starts fastest.
fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    runtime()?.block_on(future)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Unexpected(format!("cannot start the async runtime: {e}")))
}

/// A key id as typed: surrounding blanks are dropped, and an empty (or unprintable) id is refused
/// before any call (`keyward_core::model::check_key_id`).
fn key_id(text: &str) -> Result<&str> {
    keyward_core::model::check_key_id(text, "id")
}
