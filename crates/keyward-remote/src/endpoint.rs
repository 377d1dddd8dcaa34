//! Base URLs: which ones we accept, how paths are joined, and how a URL is named in messages.

use keyward_core::{Error, Result};
use std::net::IpAddr;
use url::{Host, Url};

const FIELD: &str = "url";

/// Checks a backend's base URL. Only `https://` is accepted, except for loopback hosts
/// (127.0.0.0/8, ::1, `localhost`), where `http://` is fine for emulators and local proxies.
///
/// Error messages never echo the URL: it may carry a credential (`user:pass@`) or a query string.
pub fn validate_base_url(text: &str) -> Result<Url> {
    let url = Url::parse(text.trim()).map_err(|e| {
        Error::invalid(
            FIELD,
            format!("is not a valid URL ({e}); write it like https://api.example.com"),
        )
    })?;
    let host = url
        .host()
        .ok_or_else(|| Error::invalid(FIELD, "has no host name"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(Error::invalid(
                FIELD,
                format!(
                    "must use https:// (plain http:// is only allowed for this machine); got http://{host}"
                ),
            ))
        }
        other => {
            return Err(Error::invalid(
                FIELD,
                format!("must start with https://, not {other}://"),
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            FIELD,
            "must not contain a user name or password; the credential is stored separately",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(
            FIELD,
            "must not contain a query string or fragment",
        ));
    }
    Ok(url)
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// A validated base URL that API paths are appended to, segment by segment, so an id typed by a
/// user can never add path segments or a query string.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    base: Url,
}

impl Endpoint {
    pub(crate) fn new(base_url: &str) -> Result<Self> {
        let mut base = validate_base_url(base_url)?;
        // Drop a trailing empty segment so `https://h/proxy/` and `https://h/proxy` join alike.
        if let Ok(mut segments) = base.path_segments_mut() {
            segments.pop_if_empty();
        }
        Ok(Endpoint { base })
    }

    pub(crate) fn host(&self) -> &str {
        self.base.host_str().unwrap_or_default()
    }

    /// `base` + `/` + each segment, percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("validated base URLs have a host, so they can have segments")
            .extend(segments);
        url
    }
}

/// Checks a key id before it becomes a path segment: the one id check of every front end
/// (`keyward_core::model::check_key_id`), and, as segments are percent-encoded but `.` and `..`
/// would still be read as "this" and "parent" directory (turning a read into a listing), not those.
pub(crate) fn key_id(id: &str) -> Result<&str> {
    let id = keyward_core::model::check_key_id(id, "id")?;
    if id == "." || id == ".." {
        return Err(Error::invalid("id", "is not a key id"));
    }
    Ok(id)
}

/// `scheme://host[:port]`: how a server is named in an error message.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `scheme://host[:port]/path`, without the query string (which may carry search text or ids).
pub(crate) fn origin_and_path(url: &Url) -> String {
    format!("{}{}", origin(url), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://api.clerk.com",
            "https://auth.example.com/proxy/",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:3000",
            "http://LOCALHOST",
            "http://[::1]:9000",
        ] {
            assert!(validate_base_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn everything_else_is_refused_with_the_url_field() {
        for bad in [
            "http://api.clerk.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "ftp://example.com",
            "not a url",
            "https://",
            "https://user:hunter2@example.com",
            "https://example.com/?token=hunter2",
            "https://example.com/#hunter2",
        ] {
            let err = validate_base_url(bad).unwrap_err();
            assert_eq!(err.field(), Some("url"), "{bad}");
            assert!(!err.to_string().contains("hunter2"), "{bad}: {err}");
        }
    }

    #[test]
    fn key_ids_cannot_be_dot_segments() {
        assert_eq!(key_id(" ak_1 ").unwrap(), "ak_1");
        for bad in ["", " ", ".", "..", "a\nb"] {
            assert_eq!(key_id(bad).unwrap_err().field(), Some("id"), "{bad:?}");
        }
    }

    #[test]
    fn segments_are_encoded_and_prefixes_kept() {
        let endpoint = Endpoint::new("https://h.example/proxy/").unwrap();
        let url = endpoint.url(&["api_keys", "../x?y=1"]);
        assert_eq!(
            url.as_str(),
            "https://h.example/proxy/api_keys/..%2Fx%3Fy=1"
        );
        assert_eq!(
            origin_and_path(&url),
            "https://h.example/proxy/api_keys/..%2Fx%3Fy=1"
        );
        let mut with_query = endpoint.url(&["api_keys"]);
        with_query.set_query(Some("query=secret"));
        assert_eq!(
            origin_and_path(&with_query),
            "https://h.example/proxy/api_keys"
        );
        assert_eq!(origin(&with_query), "https://h.example");
    }
}
