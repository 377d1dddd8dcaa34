//! Keyward's local offline key store: a real [`KeyBackend`](keyward_core::KeyBackend) on SQLite.
//!
//! Keys are generated here ([`keyward_core::key_format`]); the file keeps only each secret's
//! SHA-256 and a display stub, never the secret. Every create, update and revoke is recorded in the
//! store's trail ([`TrailEntry`]) in the same transaction as the change, and so is every failed
//! verification. Search, filters, sorting and paging all run in SQL, with an FTS5 trigram index
//! for name search.
//!
//! The [`activity`] log lives here too, in its own file: what was created and revoked through any
//! backend, shown by the app's "Audit log" and `keyward audit`.

pub mod activity;
mod backend;
mod errors;
mod key_names;
mod last_used;
mod list;
mod row;
pub mod scheduled;
mod schema;
mod sqlite;
mod store;
mod time;
mod trail;

pub use activity::{
    ActivityAction, ActivityEntry, ActivityLog, ActivityPage, ActivityQuery, ExportFormat,
    NewActivity,
};
pub use key_names::LocalKeyNames;
pub use scheduled::{NewScheduledRevoke, ScheduledRevoke, ScheduledRevokes};
pub use store::LocalStore;
pub use trail::{TrailAction, TrailEntry};
