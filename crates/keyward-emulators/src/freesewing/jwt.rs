//! Just enough HS256 JWT for FreeSewing's `/…/jwt` routes: sign, and check the signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length")
}

pub(super) fn sign(claims: &Value, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "typ": "JWT" }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The claims of `token` if it is an HS256 JWT signed with `key`. Claims are not checked here.
pub(super) fn verify(token: &str, key: &[u8]) -> Option<Value> {
    let mut parts = token.split('.');
    let (encoded_header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded_header).ok()?).ok()?;
    // Only HS256: never `none`, never an algorithm the token picks for itself.
    if header.get("alg")? != "HS256" {
        return None;
    }
    let mut mac = mac(key);
    mac.update(format!("{encoded_header}.{payload}").as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?)
        .ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let token = sign(&json!({ "_id": 1, "role": "user" }), b"key");
        assert_eq!(verify(&token, b"key").unwrap()["_id"], 1);
        assert!(verify(&token, b"other key").is_none());
        let forged = format!("{}x", token);
        assert!(verify(&forged, b"key").is_none());
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert!(verify(&none_alg, b"key").is_none());
    }
}
