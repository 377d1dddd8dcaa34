//! Names Keyward keeps for keys whose server keeps none (PropelAuth's released frontend API).
//!
//! A backend that declares [`Capabilities::names_kept_locally`](crate::Capabilities) asks a
//! [`KeyNames`] for the name of each key it lists, and tells it the name of each key it creates.
//! Only metadata lives here (key id → name), never a secret. One store serves one profile.

use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Key id → the name the user gave the key, for one profile.
pub trait KeyNames: Send + Sync + std::fmt::Debug {
    /// The name kept for `id`, if any. A store that cannot be read answers `None`: a listing
    /// then shows the key's id, which is better than failing the listing.
    fn name(&self, id: &str) -> Option<String>;

    /// Keeps `name` for `id`, replacing any name kept before.
    fn remember(&self, id: &str, name: &str) -> Result<()>;

    /// Drops the name kept for `id` (nothing kept is not an error).
    fn forget(&self, id: &str) -> Result<()>;

    /// Every name kept, by key id.
    fn all(&self) -> Result<BTreeMap<String, String>>;
}

/// Names kept in memory only, gone when dropped: what a backend uses when the front end gives it
/// no store, and a stand-in for tests.
#[derive(Debug, Default)]
pub struct MemoryKeyNames {
    names: Mutex<BTreeMap<String, String>>,
}

impl MemoryKeyNames {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl KeyNames for MemoryKeyNames {
    fn name(&self, id: &str) -> Option<String> {
        self.lock().get(id).cloned()
    }

    fn remember(&self, id: &str, name: &str) -> Result<()> {
        self.lock().insert(id.to_owned(), name.to_owned());
        Ok(())
    }

    fn forget(&self, id: &str) -> Result<()> {
        self.lock().remove(id);
        Ok(())
    }

    fn all(&self) -> Result<BTreeMap<String, String>> {
        Ok(self.lock().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_names_remember_replace_and_forget() {
        let names = MemoryKeyNames::default();
        assert_eq!(names.name("a"), None);
        names.remember("a", "laptop").unwrap();
        names.remember("a", "desktop").unwrap();
        names.remember("b", "ci").unwrap();
        assert_eq!(names.name("a").as_deref(), Some("desktop"));
        names.forget("a").unwrap();
        names.forget("never-kept").unwrap();
        assert_eq!(names.name("a"), None);
        assert_eq!(names.all().unwrap().len(), 1);
    }
}
