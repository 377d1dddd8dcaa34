//! Where Keyward keeps and hands out secrets, outside its own files: the OS keychain
//! ([`Keychain`], with the [`SavedSecretIndex`] of which keys have a saved secret) and the safe,
//! self-clearing clipboard ([`SafeClipboard`]). Tauri-free: the app and the CLI both use it.

mod clipboard;
mod index;
mod keychain;

pub use clipboard::{ClearResult, ClipboardState, CopyTicket, SafeClipboard, DEFAULT_CLEAR_AFTER};
pub use index::{SavedSecretIndex, INDEX_FILE_NAME, INDEX_LOCK_FILE_NAME};
pub use keychain::{Keychain, DEFAULT_SERVICE, DEFAULT_TIMEOUT};

#[cfg(test)]
mod tests {
    /// Both live in the app's shared state and are used from async commands.
    #[test]
    fn shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Keychain>();
        assert_send_sync::<super::SafeClipboard>();
        assert_send_sync::<super::SavedSecretIndex>();
    }
}
