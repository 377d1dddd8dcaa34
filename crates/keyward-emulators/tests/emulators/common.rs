//! Helpers: start an emulator in-process and talk raw HTTP to it.

use keyward_emulators::{Emulator, Flavor, Options};
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder};
use serde_json::Value;

pub struct Harness {
    pub emulator: Emulator,
    pub http: Client,
}

impl Harness {
    pub async fn start(flavor: Flavor) -> Self {
        Self::start_with(flavor, Options::default()).await
    }

    pub async fn start_with(flavor: Flavor, options: Options) -> Self {
        let emulator = Emulator::start_with(flavor, options)
            .await
            .expect("emulator starts");
        Self {
            emulator,
            http: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }
}

pub fn client() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client builds")
}

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("request succeeds");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body reads");
    Reply {
        status,
        headers,
        text,
    }
}

/// Secret-once: `secret` must not appear anywhere in `text`.
pub fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "secret leaked into {text}");
}

pub fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
