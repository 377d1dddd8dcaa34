//! The command line as clap sees it. Values with domain rules (expiry, owner, status, sort, page)
//! are taken as text here and parsed by keyward-core, so a bad value is an `invalid_input` error
//! that names its field, in human and `--json` form alike.

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  keyward keys create --name ci-deploy --expires 90d
  keyward keys list --status active --sort expires --asc
  keyward --profile work keys list --search deploy --json
  keyward keys revoke key_1 key_2 --reason \"laptop lost\"
  printf '%s\\n' \"$KEY\" | keyward keys verify

Exit status:
  0 ok, 1 unexpected, 2 invalid input, 3 unauthorized, 4 permission denied, 5 not found,
  6 conflict, 7 rate limited, 8 network or backend, 9 keychain unavailable,
  10 the secret is not valid (keys verify), 11 store error";

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
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
    /// Create, list, inspect, revoke and verify keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Show the configured profiles.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List keys, one page at a time (times are UTC).
    #[command(
        after_help = "Examples:\n  keyward keys list --status active --owner org:acme\n  keyward keys list --sort name --asc --limit 20 --page 2 --json"
    )]
    List(ListArgs),
    /// Create a key and print its secret, once.
    #[command(
        after_help = "The secret is printed once, on stdout; nothing can show it again.\n\nExamples:\n  keyward keys create --name laptop\n  keyward keys create --name ci --expires 2w --owner org:acme --json\n  keyward keys create --name nightly --expires 2027-06-30"
    )]
    Create(CreateArgs),
    /// Show one key.
    Get(GetArgs),
    /// Revoke one or more keys.
    #[command(
        after_help = "Exits 0 when every key was revoked (or already was); otherwise with the exit status of the first failure.\n\nExample:\n  keyward keys revoke key_1 key_2 --reason \"rotated\""
    )]
    Revoke(RevokeArgs),
    /// Check a secret read from standard input (first line). Exits 10 if it is not valid.
    #[command(
        after_help = "The secret is read from standard input, never from the command line, so it stays out of\nshell history and process lists. At a terminal it is read without echo.\n\nExit status: 0 valid, 10 the secret is not valid (revoked, expired or unknown), 2 malformed.\n\nExample:\n  printf '%s\\n' \"$KEY\" | keyward keys verify --json"
    )]
    Verify,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only keys whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// active, expired, revoked or all.
    #[arg(long, value_name = "STATUS", default_value = "all")]
    pub status: String,
    /// Only keys of this owner: user:ID or org:ID.
    #[arg(long, value_name = "user:ID|org:ID")]
    pub owner: Option<String>,
    /// created, expires, name or last-used.
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
    /// Free text kept with the key (up to 255 characters).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key's id.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Ids of the keys to revoke.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Why, kept with the key where the backend supports it.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List profiles; * marks the default.
    List,
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
