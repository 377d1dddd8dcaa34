//! Keyward's operations, written once for both front ends: the desktop app (`src-tauri`) and the
//! `keyward` CLI. A front end parses and presents; an operation decides.
//!
//! Each operation is a function over a backend (`keyward_core::KeyBackend`) and, where it needs
//! what differs per front end, a [`Host`]: which profile it acts on, where the activity log lives,
//! how the keychain is reached, how progress is shown and how a run is stopped. Nothing here knows
//! about Tauri or a terminal, so every rule is tested here without either.
//!
//! | operation | function |
//! | --- | --- |
//! | open a backend | [`capabilities::learn`] (asks the server once what the account may do) |
//! | create | [`create::new_key`], [`create::fits`], [`create::create`] |
//! | list, get | [`list::list`], [`list::get`] (with the saved-in-keychain marks) |
//! | update (name, description, expiry, scopes) | [`update::checked`], [`update::update`] |
//! | revoke one, many, by filter | [`selection`], [`revoke::revoke`], [`revoke::bulk_http`] |
//! | rotate, pending revokes | [`rotate::rotate`], [`rotate::run_due`], [`rotate::cancel`] |
//! | verify | [`verify::verify`] |
//! | expiring soon, across profiles | [`expiry`] |
//! | audit export | [`export`] |
//! | profile credential | [`profiles::save_credential`] |
//! | clipboard countdown setting | [`settings`] |
//! | strict arguments (unknown fields named) | [`args::refused`] |

pub mod args;
pub mod ask_once;
pub mod capabilities;
pub mod create;
pub mod expiry;
pub mod export;
pub mod host;
pub mod list;
pub mod profiles;
pub mod records;
pub mod revoke;
pub mod rotate;
pub mod selection;
pub mod settings;
#[cfg(test)]
mod test_support;
pub mod update;
pub mod verify;

pub use ask_once::AskOnce;
pub use host::{Host, SecretKeeper};
