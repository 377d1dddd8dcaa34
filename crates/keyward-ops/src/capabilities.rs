//! What a profile's backend can do, learned once after it is opened.

use keyward_core::{Capabilities, KeyBackend};

/// Asks the backend once what this account may do (`KeyBackend::refresh_capabilities`: FreeSewing
/// learns the account's level cap) and answers the declared capabilities when that fails. Both
/// front ends call this right after opening a backend and use the answer for the create check and
/// for what they show.
pub async fn learn(backend: &dyn KeyBackend) -> Capabilities {
    match backend.refresh_capabilities().await {
        Ok(capabilities) => capabilities,
        Err(_) => backend.capabilities(),
    }
}
