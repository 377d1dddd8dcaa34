//! Keyward's domain model, shared by every backend, the CLI and the desktop app.
//!
//! Nothing here knows about Tauri, HTTP or SQLite: backends implement [`KeyBackend`], front ends
//! speak [`ListQuery`], [`NewKey`] and [`Error`], and the only value that carries a secret out of a
//! backend is [`CreatedKey`].

pub mod backend;
pub mod bulk;
pub mod error;
pub mod expiration;
pub mod filter;
pub mod free_text;
pub mod key_format;
pub mod model;
pub mod names;
pub mod private_fs;
pub mod update;

pub use backend::{Capabilities, KeyBackend, RevokeKind};
pub use bulk::{
    revoke_bulk, revoke_many, BulkOptions, BulkProgress, CancelFlag, RevokeOutcome, RevokeStatus,
};
pub use error::{Error, ErrorBody, ErrorCode, Result};
pub use expiration::{Expiration, ExpiryPreset};
pub use filter::{list_all, page_locally, revocable_matching, sort_keys};
pub use free_text::{TextField, TextLimits};
pub use model::{
    ApiKey, CreatedKey, KeyStatus, ListQuery, NewKey, Page, SortField, StatusFilter, Subject,
    Verification,
};
pub use names::{KeyNames, MemoryKeyNames};
pub use update::{KeyUpdate, NewExpiry, UpdateFields};
