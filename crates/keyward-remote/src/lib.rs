//! Keyward's HTTP adapters: PropelAuth, Clerk and FreeSewing as [`keyward_core::KeyBackend`]s.
//!
//! Each adapter follows the backend's contract as its real server behaves (`docs/backends/<backend>.md`), says what it
//! can do in its [`keyward_core::Capabilities`], and refuses what the backend cannot express
//! before sending anything. All of them share one HTTP layer ([`HttpOptions`]): rustls, connect
//! and request timeouts, retries with jittered backoff for requests that are safe to repeat, 429
//! handling, and error messages that never carry a credential, a secret or a query string.

mod clerk;
mod create_answer;
mod endpoint;
mod errors;
mod freesewing;
mod http;
mod listing;
mod propelauth;
mod time;

pub use clerk::{ClerkBackend, ClerkConfig, ClerkFrontendBackend, ClerkFrontendConfig, ClerkPath};
pub use endpoint::validate_base_url;
pub use freesewing::{FreeSewingAuth, FreeSewingBackend, FreeSewingConfig};
pub use http::{HttpOptions, RetryPolicy};
pub use listing::{list_all, SNAPSHOT_TTL};
pub use propelauth::{PropelAuthApi, PropelAuthBackend, PropelAuthConfig};
