//! The command line as clap sees it. Values with domain rules (expiry, owner, status, sort, page)
//! are taken as text here and parsed by keyward-core, so a bad value is an `invalid_input` error
//! that names its field, in human and `--json` form alike.

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  keyward keys create --name ci-deploy --expires 90d --save-to-keychain
  keyward keys create --name laptop --copy --clear-after 15
  keyward keys list --status active --sort expires --asc
  keyward --profile work keys list --search deploy --json
  keyward keys revoke key_1 key_2 --reason \"laptop lost\" --forget
  keyward keys update key_1 --expires OneYear --description \"CI deploy\"
  keyward keys revoke --owner user:u_9 --never-used --yes
  keyward keys list --expiring-within 14 --sort expires --asc
  keyward keys expiring --within 30 --all-profiles
  keyward audit export --format csv --output audit.csv
  printf '%s\\n' \"$KEY\" | keyward keys verify
  keyward profiles add acme --backend clerk --url https://api.clerk.com --subject user:user_2x...
  keyward profiles set-credential acme    (reads the credential from standard input)

Environment:
  KEYWARD_CONFIG, KEYWARD_DATA_DIR   where the config file and the data live
  KEYWARD_PROFILE                    the profile to use (like --profile)
  KEYWARD_CREDENTIAL_<PROFILE>       a remote profile's credential (overrides the keychain)
  KEYWARD_CLEAR_AFTER                default seconds before a copied secret is cleared (over
                                     the config's clipboard_clear_seconds; else 20)
  KEYWARD_HTTP_TIMEOUT_MS            how long one HTTP attempt may take (default 20000)

Exit status:
  0 ok, 1 unexpected, 2 invalid input, 3 unauthorized, 4 permission denied, 5 not found,
  6 conflict, 7 rate limited, 8 network or backend, 9 keychain unavailable,
  10 the secret is not valid (keys verify), 11 store error, 130 stopped by Ctrl-C (keys revoke)";

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    // The commit comes from build.rs (git, or KEYWARD_COMMIT for builds outside a clone).
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("KEYWARD_COMMIT"), ")"),
    about = "Manage API keys from the terminal, scripts and CI",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Profile to use (see `keyward profiles list`); defaults to the config's default_profile.
    #[arg(long, global = true, env = "KEYWARD_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Print JSON on stdout, and errors as {"error":{...}} on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, inspect, revoke, verify and copy keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Add, edit, remove and choose profiles, and keep their credentials in the keychain.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Show or export the activity log: every key created or revoked, across profiles.
    #[command(
        after_help = "The activity log lives in the data dir (activity.db) and records keys created and revoked by\nthe CLI and the app, with the profile, backend, reason and, for failures, the error. Newest first.\n\nExamples:\n  keyward audit --search rotated --limit 20\n  keyward audit export --format csv --output audit.csv\n  keyward audit export --format json --search org:acme"
    )]
    Audit(AuditArgs),
    /// Show or change the settings the app's Settings dialog shows (the clipboard countdown).
    #[command(
        after_help = "The countdown is kept in the config file as clipboard_clear_seconds (1 to 3600) and used by the\napp and by `keys copy` / `keys create --copy` (KEYWARD_CLEAR_AFTER and --clear-after win over it).\n\nExamples:\n  keyward settings\n  keyward settings --clipboard-clear-seconds 45 --json"
    )]
    Settings(SettingsArgs),
    /// Check what Keyward needs on this machine: keychain, display, config, data dir, backends.
    #[command(
        after_help = "One line per check: ok, warning (works with a limit) or problem, and what to do. Checks that\ntalk to something (keychain, clipboard, each profile's backend: one page of one key) give up\nafter --timeout seconds. Nothing is created or changed.\n\nExit status: 0 when there is no problem (warnings allowed); otherwise that of the first\nproblem (2 config, 4 data dir permissions, 9 keychain, 3 or 8 a profile's backend, ...).\n\nExamples:\n  keyward doctor\n  keyward doctor --json --timeout 10"
    )]
    Doctor(DoctorArgs),
    /// Print shell completions or the man page (used to build the packages).
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Seconds each check that talks to something may take (1 to 120; default 5).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Completions for SHELL (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on stdout.
    Man,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Seconds before a copied secret is cleared (1 to 3600), saved in the config file.
    #[arg(long, value_name = "SECS")]
    pub clipboard_clear_seconds: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// Only entries whose profile, key id, key name, reason or action contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Entries to show, newest first (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write every matching entry as CSV or JSON, to stdout or a file.
    Export(AuditExportArgs),
}

#[derive(Debug, Args)]
pub struct AuditExportArgs {
    /// csv (RFC 4180, with a header row) or json (an array).
    #[arg(long, value_name = "csv|json")]
    pub format: String,
    /// The file to write (replaced if it exists); default: standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Only entries whose profile, key id, key name, reason or action contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List keys, one page at a time (times are UTC).
    #[command(
        after_help = "KEYCHAIN shows `saved` for keys whose secret is saved in the OS keychain.\n\nExamples:\n  keyward keys list --status active --owner org:acme\n  keyward keys list --sort name --asc --limit 20 --page 2 --json"
    )]
    List(ListArgs),
    /// Create a key and print its secret, once.
    #[command(
        after_help = "The secret is printed once, on stdout; nothing can show it again, unless it was saved with\n--save-to-keychain. With --copy it goes to the clipboard instead of stdout, and the command waits\nuntil the clipboard is cleared (Ctrl-C clears it at once).\n\nExamples:\n  keyward keys create --name laptop\n  keyward keys create --name ci --expires 2w --owner org:acme --json\n  keyward keys create --name nightly --expires 2027-06-30 --save-to-keychain\n  keyward keys create --name deploy --scope read --scope write --description \"CI\"   (Clerk)\n  keyward keys create --name sewing --level 2 --expires 90d                        (FreeSewing)"
    )]
    Create(CreateArgs),
    /// Change a key's name, description, expiry or scopes, where the backend allows it.
    #[command(
        after_help = "Only the flags given are changed. A field the profile's backend cannot change is refused by name\n(exit 2) before anything is sent. The change is recorded in the activity log (`keyward audit`).\n\nExamples:\n  keyward keys update key_1 --expires OneYear\n  keyward keys update key_1 --expires never --description \"\"      (clears the description)\n  keyward keys update key_1 --name \"CI deploy\" --json"
    )]
    Update(UpdateArgs),
    /// Show one key.
    Get(GetArgs),
    /// List the distinct owners of the profile's keys (user:ID, org:ID), as the app's owner filter
    /// suggests them.
    Owners,
    /// Revoke one or more keys (on some backends: archive or delete).
    #[command(
        after_help = "Give key ids, or filter flags (the same as `keys list`) to revoke every key they match. A filter\nonly counts the matching keys unless --yes is given (exit 2); revoked keys are never selected.\nWith --expect N (the count it printed), a filter that matches another number by then revokes\nnothing (exit 6).\nA rate limit pauses the run until the backend allows more; Ctrl-C stops it (keys not started are\nleft untouched). Progress goes to stderr at a terminal. Every revoke is recorded in the activity\nlog (`keyward audit`).\n\nExits 0 when every key was revoked (or already was); otherwise with the exit status of the first failure.\nWith --forget, the secrets saved in the keychain for the revoked keys are deleted too.\n\nExamples:\n  keyward keys revoke key_1 key_2 --reason \"rotated\" --forget\n  keyward keys revoke --owner user:u_9 --status active --reason \"left the company\"          (counts)\n  keyward keys revoke --unused-for 180 --yes --json\n  keyward keys revoke --owner user:u_9 --yes --expect 12"
    )]
    Revoke(RevokeArgs),
    /// Replace a key with a new one like it, then revoke the old one (now, or after --grace).
    #[command(
        after_help = "The replacement keeps the old key's name, owner, level, scopes, description and expiry length (as\nnear as the backend can express it; Clerk keeps one valid key per name, so there it is named\n\"NAME (rotated DATE)\"). Its secret is printed once, like `keys create`; when the old secret was\nsaved in the keychain (or with --save-to-keychain) the new one is saved there too, and the old\nentry is deleted once the old key is revoked.\n\n--grace now (the default) revokes the old key at once; 1h to 30d keeps it working that long so\nconsumers can move, then it is revoked by the app (on start and every minute), or by\n`keyward keys scheduled --run-due`, or at the start of the next `keys rotate`. See and cancel\npending revokes with `keyward keys scheduled`.\n\nWith filter flags (as `keys list`) instead of an id, every matching working key is rotated, with --yes.\n\nExamples:\n  keyward keys rotate key_1\n  keyward keys rotate key_1 --grace 24h --json\n  keyward keys rotate --expiring-within 14 --owner org:acme --grace 7d --yes"
    )]
    Rotate(RotateArgs),
    /// Revokes waiting for their grace period to end (after `keys rotate --grace`).
    #[command(
        after_help = "Examples:\n  keyward keys scheduled\n  keyward keys scheduled --run-due      (revoke those that are due; e.g. from cron)\n  keyward keys scheduled cancel key_1   (the old key keeps working)"
    )]
    Scheduled(ScheduledArgs),
    /// Active keys expiring soon (default: within 14 days), soonest first; --all-profiles for
    /// every profile.
    #[command(
        after_help = "Like the app's \"Expiring\" view. With --all-profiles every profile is opened (its credential from\nthe environment, else the keychain, asked at most once) and listed; a profile that cannot be\nopened or listed gets its own error line (on stderr, and under \"error\" in --json) and the\ncommand exits with that error's status after showing the others.\n\nExamples:\n  keyward keys expiring\n  keyward keys expiring --within 30 --all-profiles --json"
    )]
    Expiring(ExpiringArgs),
    /// Check a secret read from standard input (first line). Exits 10 if it is not valid.
    #[command(
        after_help = "This is the check a service makes of a key a client presented: it counts as a use, so\nbackends that track last use record it (the window's Verify box checks without recording).\n\nThe secret is read from standard input, never from the command line, so it stays out of\nshell history and process lists. At a terminal it is read without echo.\n\nFreeSewing secrets are checked as KEY_ID:SECRET (the key's id, a colon, the secret).\n\nExit status: 0 valid, 10 the secret is not valid (revoked, expired or unknown), 2 malformed.\n\nExample:\n  printf '%s\\n' \"$KEY\" | keyward keys verify --json"
    )]
    Verify,
    /// Copy a key's secret saved in the keychain to the clipboard, then clear it.
    #[command(
        after_help = "Only keys whose secret was saved at creation (--save-to-keychain, or \"Save to keychain\" in the\napp) can be copied later. Clipboard managers are told not to keep the secret; the command waits\nuntil the clipboard is cleared (only if it still holds the secret), and Ctrl-C clears it at once.\n\nExample:\n  keyward keys copy key_1 --clear-after 10"
    )]
    Copy(CopyArgs),
    /// Print a key's secret saved in the keychain (needs --print-secret).
    #[command(
        after_help = "For scripts that must hand the secret on. Printing a secret leaves it in terminal scrollback\nand logs, so the command refuses unless --print-secret is given; `keyward keys copy` is safer.\n\nExample:\n  keyward keys secret key_1 --print-secret | some-tool --read-key-from-stdin"
    )]
    Secret(SecretArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// created, expires, name, last-used, owner or status.
    #[arg(long, value_name = "FIELD", default_value = "created")]
    pub sort: String,
    /// Sort ascending (the default is descending).
    #[arg(long)]
    pub asc: bool,
    /// Keys per page (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// Page number, starting at 1.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub page: u32,
}

/// Which keys: shared by `keys list` and `keys revoke`.
#[derive(Debug, Args, Default, Clone)]
pub struct FilterArgs {
    /// Only keys whose name or id contains TEXT (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// active, expiring, expired, revoked or all (default). `expiring` = active keys expiring
    /// within --expiring-within days (default 7).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Only keys of this owner: user:ID or org:ID.
    #[arg(long, value_name = "user:ID|org:ID")]
    pub owner: Option<String>,
    /// Only active keys that expire within DAYS days (1 to 3650); never-expiring keys never match.
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<String>,
    /// Only keys that were never used.
    #[arg(long)]
    pub never_used: bool,
    /// Only keys not used in DAYS days (1 to 3650), never-used keys included.
    #[arg(long, value_name = "DAYS")]
    pub unused_for: Option<String>,
}

impl FilterArgs {
    /// Whether no filter flag was given.
    pub fn is_empty(&self) -> bool {
        self.search.is_none()
            && self.status.is_none()
            && self.owner.is_none()
            && self.expiring_within.is_none()
            && !self.never_used
            && self.unused_for.is_none()
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Display name (1 to 100 characters).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// A preset (TwoWeeks, OneMonth, ThreeMonths, SixMonths, OneYear, Never), a duration (12h, 90d,
    /// 2w) or a date (2027-01-31, RFC 3339). Default: OneMonth.
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Owner: user:ID or org:ID.
    #[arg(long, value_name = "user:ID|org:ID")]
    pub owner: Option<String>,
    /// Free text kept with the key (up to 255 characters), where the backend keeps one.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Privilege level, on backends with levels (FreeSewing: 1 to 8).
    #[arg(long, value_name = "N")]
    pub level: Option<String>,
    /// A scope to grant, on backends with scopes (Clerk); repeat for several.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Also save the secret in the OS keychain (service `keyward`, account `<profile>/<key id>`).
    #[arg(long)]
    pub save_to_keychain: bool,
    /// Copy the secret to the clipboard instead of printing it, and wait until it is cleared.
    #[arg(long)]
    pub copy: bool,
    /// Seconds before the clipboard is cleared (default: KEYWARD_CLEAR_AFTER, else the config
    /// file's clipboard_clear_seconds, else 20); 0 leaves it.
    #[arg(long, value_name = "SECS", requires = "copy")]
    pub clear_after: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The key's id.
    pub id: String,
    /// A new display name (1 to 100 characters).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A new expiry, counted from now: a preset (TwoWeeks, OneMonth, ThreeMonths, SixMonths,
    /// OneYear, Never), a duration (12h, 90d, 2w) or a date (2027-01-31, RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// A new description; "" clears it.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The key's scopes, replacing the old ones; repeat for several.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Remove every scope.
    #[arg(long, conflicts_with = "scopes")]
    pub no_scopes: bool,
}

#[derive(Debug, Args)]
pub struct ExpiringArgs {
    /// The window in days (1 to 3650, default 14).
    #[arg(long, value_name = "DAYS")]
    pub within: Option<String>,
    /// Every profile of the config file, not just the chosen one.
    #[arg(long)]
    pub all_profiles: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key's id.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Ids of the keys to revoke (or filter flags instead, with --yes).
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Why, kept with the key where the backend supports it.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Also delete the secrets saved in the keychain for the keys that were revoked.
    #[arg(long)]
    pub forget: bool,
    /// Revoke every key the filter flags match. Without it, a filter only counts the keys.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --yes: the number of keys the filter matched when you looked (the count it printed);
    /// if it matches another number by the time it runs, nothing is revoked (exit 6, conflict).
    #[arg(long, value_name = "N")]
    pub expect: Option<String>,
    /// Revoke calls in flight at once (1 to 64, default 16).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The key to rotate (or filter flags instead, with --yes).
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How long the old key keeps working: now, or 1h to 30d (24h, 7d, ...).
    #[arg(long, value_name = "WHEN", default_value = "now")]
    pub grace: String,
    /// Save the new secret in the OS keychain (done anyway when the old one was saved there).
    #[arg(long)]
    pub save_to_keychain: bool,
    /// Rotate every key the filter flags match. Without it, a filter only lists the keys.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ScheduledArgs {
    #[command(subcommand)]
    pub command: Option<ScheduledCommand>,
    /// Carry out the revokes that are due, then list those still pending.
    #[arg(long)]
    pub run_due: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScheduledCommand {
    /// Cancel a key's pending revoke: it keeps working.
    Cancel {
        /// The old key's id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The key's id.
    pub id: String,
    /// Seconds before the clipboard is cleared (default: KEYWARD_CLEAR_AFTER, else the config
    /// file's clipboard_clear_seconds, else 20); 0 leaves it.
    #[arg(long, value_name = "SECS")]
    pub clear_after: Option<String>,
}

#[derive(Debug, Args)]
pub struct SecretArgs {
    /// The key's id.
    pub id: String,
    /// Confirms that the secret may be printed on standard output.
    #[arg(long)]
    pub print_secret: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List profiles: * marks the default; CREDENTIAL says where a remote profile's comes from.
    List,
    /// Add a profile.
    #[command(
        after_help = "Which flags a backend takes:\n  local        [--data-dir DIR]\n  propelauth   --url URL [--api backend|frontend] [--auth-url URL] [--subject user:ID|org:ID]\n  clerk        --url URL [--api backend|frontend] [--api-path /api_keys|/v1/api_keys] [--subject user:ID|org:ID]\n               (--api frontend: user mode, --url is the application's Clerk Frontend API; no --api-path)\n  freesewing   --url URL [--auth key|jwt]\nURLs must use https://, except loopback addresses (http://127.0.0.1:8787 for an emulator).\nThe credential is not a flag: save it with `keyward profiles set-credential NAME`.\n\nExamples:\n  keyward profiles add acme --backend clerk --url https://api.clerk.com --subject user:user_2x...\n  keyward profiles add propel --backend propelauth --url https://auth.acme.com\n  keyward profiles add sewing --backend freesewing --url https://backend.freesewing.org --auth key"
    )]
    Add(ProfileArgs),
    /// Change a profile: the flags given replace those settings, the others are kept.
    #[command(
        after_help = "An empty value removes an optional setting (--subject ''). Changing --backend starts the\nprofile afresh from the flags given.\n\nExample:\n  keyward profiles edit acme --subject org:org_2y..."
    )]
    Edit(ProfileEditArgs),
    /// Remove a profile and forget its credential in the keychain.
    #[command(
        after_help = "Keys on the backend are not touched, nor the local store's file, nor key secrets saved in the\nkeychain. The default profile can only be removed once another one is the default."
    )]
    Remove(NameArg),
    /// Make a profile the default.
    Use(NameArg),
    /// Save a remote profile's credential in the OS keychain, read from standard input.
    #[command(
        after_help = "The credential is read from the first line of standard input, never from the command line; at a\nterminal it is read without echo. It is then checked by listing one page of keys, and kept\neither way.\n  propelauth   the integration API key (api = backend), or the session cookie (api = frontend)\n  clerk        the instance secret key (sk_...) (api = backend), or in user mode (api = frontend)\n               the value of the __client cookie of a signed-in session; or Sign in in the app, whose\n               saved session the CLI then uses for the same profile\n  freesewing   KEY:SECRET of an API key (auth = key), or a JWT (auth = jwt)\n\nExample:\n  printf '%s\\n' \"$CLERK_SECRET_KEY\" | keyward profiles set-credential acme"
    )]
    SetCredential(NameArg),
    /// Delete a profile's credential from the OS keychain.
    ForgetCredential(NameArg),
}

#[derive(Debug, Args)]
pub struct NameArg {
    /// The profile's name.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The profile's name: letters, digits, - and _.
    pub name: String,
    /// local, propelauth, clerk or freesewing.
    #[arg(long, value_name = "BACKEND")]
    pub backend: String,
    #[command(flatten)]
    pub settings: ProfileSettings,
}

#[derive(Debug, Args)]
pub struct ProfileEditArgs {
    /// The profile's name.
    pub name: String,
    /// local, propelauth, clerk or freesewing.
    #[arg(long, value_name = "BACKEND")]
    pub backend: Option<String>,
    #[command(flatten)]
    pub settings: ProfileSettings,
}

#[derive(Debug, Args)]
pub struct ProfileSettings {
    /// The backend's base URL (remote backends).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Default owner of new keys and listings: user:ID or org:ID (PropelAuth, Clerk).
    #[arg(long, value_name = "user:ID|org:ID")]
    pub subject: Option<String>,
    /// PropelAuth: backend (integration key) or frontend (a signed-in session). Clerk: backend
    /// (the instance secret key, the default) or frontend (user mode: signed in as yourself to
    /// the application's Frontend API).
    #[arg(long, value_name = "backend|frontend")]
    pub api: Option<String>,
    /// FreeSewing: key (KEY:SECRET, HTTP Basic) or jwt.
    #[arg(long, value_name = "key|jwt")]
    pub auth: Option<String>,
    /// Clerk: /api_keys (the default) or /v1/api_keys.
    #[arg(long, value_name = "PATH")]
    pub api_path: Option<String>,
    /// PropelAuth backend API through https://propelauth-api.com: the project's Auth URL.
    #[arg(long, value_name = "URL")]
    pub auth_url: Option<String>,
    /// Local store: its folder (default: the data dir).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
