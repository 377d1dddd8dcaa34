//! "Ask the keychain once": the one caching credential store of both front ends.

use keyward_core::{Error, ErrorCode, Result};
use keyward_profiles::CredentialStore;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Mutex;

/// A credential store that asks `inner` at most once per profile, and not at all after it first
/// failed with `keychain_unavailable` (a dismissed unlock prompt, a timed-out keychain): from then
/// on it answers that failure without asking. One scan, one `profiles list`, one profile opened
/// for two uses never stacks up unlock prompts.
pub struct AskOnce<'a> {
    inner: &'a dyn CredentialStore,
    state: Mutex<Asked>,
}

#[derive(Default)]
struct Asked {
    answers: HashMap<String, Option<SecretString>>,
    failed: Option<Error>,
}

impl<'a> AskOnce<'a> {
    pub fn new(inner: &'a dyn CredentialStore) -> Self {
        Self {
            inner,
            state: Mutex::new(Asked::default()),
        }
    }

    /// A store that already failed: it never asks `inner`.
    pub fn failed(inner: &'a dyn CredentialStore, error: Error) -> Self {
        Self {
            inner,
            state: Mutex::new(Asked {
                failed: Some(error),
                ..Asked::default()
            }),
        }
    }

    /// The keychain failure met, if any.
    pub fn failure(&self) -> Option<Error> {
        self.lock().failed.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Asked> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CredentialStore for AskOnce<'_> {
    fn credential(&self, profile: &str) -> Result<Option<SecretString>> {
        let mut state = self.lock();
        if let Some(error) = &state.failed {
            return Err(error.clone());
        }
        if let Some(answer) = state.answers.get(profile) {
            return Ok(answer.clone());
        }
        match self.inner.credential(profile) {
            Ok(answer) => {
                state.answers.insert(profile.to_owned(), answer.clone());
                Ok(answer)
            }
            Err(e) => {
                if e.code() == ErrorCode::KeychainUnavailable {
                    state.failed = Some(e.clone());
                }
                Err(e)
            }
        }
    }

    /// Passed through (a credential saved before binding is re-saved bound on its first use).
    fn save_credential(&self, profile: &str, value: &SecretString) -> Result<()> {
        self.inner.save_credential(profile, value)?;
        self.lock()
            .answers
            .insert(profile.to_owned(), Some(value.clone()));
        Ok(())
    }

    fn forget_credential(&self, profile: &str) -> Result<bool> {
        let existed = self.inner.forget_credential(profile)?;
        self.lock().answers.insert(profile.to_owned(), None);
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) struct Counting {
        pub asked: AtomicUsize,
        pub answer: Result<Option<SecretString>>,
    }

    impl CredentialStore for Counting {
        fn credential(&self, _profile: &str) -> Result<Option<SecretString>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            self.answer.clone()
        }
    }

    #[test]
    fn a_keychain_failure_is_asked_once() {
        let locked = Counting {
            asked: AtomicUsize::new(0),
            answer: Err(Error::KeychainUnavailable(
                "the unlock prompt was dismissed".into(),
            )),
        };
        let once = AskOnce::new(&locked);
        for profile in ["a", "b", "c"] {
            let error = once.credential(profile).unwrap_err();
            assert_eq!(error.code(), ErrorCode::KeychainUnavailable);
        }
        assert_eq!(locked.asked.load(Ordering::SeqCst), 1);
        assert!(once.failure().is_some());

        let already = AskOnce::failed(&locked, Error::KeychainUnavailable("earlier".into()));
        assert!(already.credential("d").is_err());
        assert_eq!(locked.asked.load(Ordering::SeqCst), 1, "never asked again");
    }

    #[test]
    fn each_profile_is_asked_once_and_other_errors_are_not_kept() {
        let saved = Counting {
            asked: AtomicUsize::new(0),
            answer: Ok(Some(SecretString::from("cred"))),
        };
        let once = AskOnce::new(&saved);
        for _ in 0..3 {
            let answer = once.credential("a").unwrap().unwrap();
            assert_eq!(answer.expose_secret(), "cred");
        }
        assert!(once.credential("b").unwrap().is_some());
        assert_eq!(saved.asked.load(Ordering::SeqCst), 2, "once per profile");

        let broken = Counting {
            asked: AtomicUsize::new(0),
            answer: Err(Error::Store("index unreadable".into())),
        };
        let once = AskOnce::new(&broken);
        assert!(once.credential("a").is_err());
        assert!(once.credential("a").is_err());
        assert_eq!(broken.asked.load(Ordering::SeqCst), 2, "asked again");
        assert!(once.failure().is_none());
    }
}
