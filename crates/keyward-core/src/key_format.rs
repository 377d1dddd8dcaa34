//! The format of secrets that Keyward itself issues (the local store).
//!
//! `kw_` + 32 base62 characters from the OS CSPRNG (~190 bits) + a 6-character base62 CRC32 of
//! everything before it. Like GitHub's tokens, the fixed prefix and checksum let a secret scanner
//! (or `verify`) recognise a Keyward key offline and reject typos without touching the store.

use crate::error::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub const PREFIX: &str = "kw_";
pub const RANDOM_LEN: usize = 32;
pub const CHECKSUM_LEN: usize = 6;
pub const SECRET_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A SHA-256 digest of a secret: what the store keeps instead of the secret.
pub type SecretHash = [u8; 32];

/// Makes a new secret from the OS CSPRNG. Rejection sampling keeps every character uniform.
pub fn generate() -> Result<SecretString> {
    let mut secret = Zeroizing::new(String::with_capacity(SECRET_LEN));
    secret.push_str(PREFIX);
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut used = pool.len();
    while secret.len() < PREFIX.len() + RANDOM_LEN {
        if used == pool.len() {
            getrandom::fill(pool.as_mut())
                .map_err(|e| Error::Unexpected(format!("the OS random generator failed: {e}")))?;
            used = 0;
        }
        let byte = pool[used];
        used += 1;
        // 248 = 4 * 62: bytes at or above it would bias the first characters.
        if byte < 248 {
            secret.push(BASE62[(byte % 62) as usize] as char);
        }
    }
    let checksum = checksum(&secret);
    secret.push_str(&checksum);
    Ok(SecretString::from(secret.as_str()))
}

/// The 6-character base62 CRC32 of `body` (prefix + random part).
fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 is ASCII")
}

/// Checks that `text` is shaped like a Keyward secret with a valid checksum. The error names the
/// field `secret` and never echoes the text back.
pub fn check(text: &str) -> Result<()> {
    let field = "secret";
    if !text.starts_with(PREFIX) {
        return Err(Error::invalid(
            field,
            "is not a Keyward key: it should start with kw_",
        ));
    }
    // Counted in characters, as the message says: a non-ASCII character is refused below for
    // what it is, not for a length that reads "41, not 41".
    let length = text.chars().count();
    if length != SECRET_LEN {
        return Err(Error::invalid(
            field,
            format!(
                "is not a Keyward key: it should be {SECRET_LEN} characters long, not {length}"
            ),
        ));
    }
    if !text[PREFIX.len()..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::invalid(
            field,
            "is not a Keyward key: after kw_ it should hold only letters and digits",
        ));
    }
    let (body, sum) = text.split_at(SECRET_LEN - CHECKSUM_LEN);
    if checksum(body) != sum {
        return Err(Error::invalid(
            field,
            "has a wrong checksum: it was probably mistyped or cut short",
        ));
    }
    Ok(())
}

pub fn hash(secret: &SecretString) -> SecretHash {
    Sha256::digest(secret.expose_secret().as_bytes()).into()
}

/// Compares two digests in constant time.
pub fn hashes_match(a: &SecretHash, b: &SecretHash) -> bool {
    a.ct_eq(b).into()
}

/// The non-secret display stub: prefix + last 4 characters, e.g. `kw_…9fQz`.
pub fn stub(secret: &SecretString) -> String {
    let s = secret.expose_secret();
    let tail = &s[s.len().saturating_sub(4)..];
    format!("{PREFIX}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_secrets_have_the_documented_shape() {
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let secret = generate().unwrap();
            let s = secret.expose_secret();
            assert_eq!(s.len(), SECRET_LEN);
            assert!(s.starts_with("kw_"));
            check(s).unwrap();
            assert!(seen.insert(s.to_owned()), "duplicate secret");
        }
    }

    #[test]
    fn random_part_is_roughly_uniform() {
        // 2000 secrets * 32 chars = 64,000 draws over 62 symbols: ~1032 each.
        let mut counts = [0u32; 128];
        for _ in 0..2000 {
            let secret = generate().unwrap();
            for b in secret.expose_secret()[3..35].bytes() {
                counts[b as usize] += 1;
            }
        }
        for &c in BASE62 {
            let n = counts[c as usize];
            assert!((800..1300).contains(&n), "{} drawn {n} times", c as char);
        }
    }

    #[test]
    fn a_single_typo_fails_the_checksum() {
        let secret = generate().unwrap();
        let s = secret.expose_secret();
        let mut typo = s.as_bytes().to_vec();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let err = check(std::str::from_utf8(&typo).unwrap()).unwrap_err();
        assert_eq!(err.field(), Some("secret"));
        assert!(err.to_string().contains("checksum"));
    }

    #[test]
    fn malformed_secrets_are_refused_without_echo() {
        for text in [
            "",
            "sk_live_abc",
            "kw_short",
            "kw_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            let err = check(text).unwrap_err();
            assert_eq!(err.field(), Some("secret"));
            if text.len() > 4 {
                assert!(!err.to_string().contains(&text[3..]), "echoed {text}");
            }
        }
    }

    #[test]
    fn checksum_is_known_for_a_fixed_body() {
        // A fixed vector so the format cannot drift silently: base62(crc32(body)) padded to 6.
        let body = "kw_00000000000000000000000000000000";
        let crc = crc32fast::hash(body.as_bytes());
        let mut n = crc as u64;
        let mut expect = String::new();
        for _ in 0..6 {
            expect.insert(0, BASE62[(n % 62) as usize] as char);
            n /= 62;
        }
        assert_eq!(checksum(body), expect);
        check(&format!("{body}{expect}")).unwrap();
    }

    #[test]
    fn stub_shows_only_prefix_and_last_four() {
        let secret = SecretString::from("kw_abcdefghijklmnopqrstuvwxyz012345WXYZ12");
        assert_eq!(stub(&secret), "kw_…YZ12");
    }

    #[test]
    fn hashes_compare() {
        let a = hash(&SecretString::from("kw_a"));
        let b = hash(&SecretString::from("kw_b"));
        assert!(hashes_match(&a, &a));
        assert!(!hashes_match(&a, &b));
    }
}
