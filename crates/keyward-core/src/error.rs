//! One error type for every layer, with stable codes.
//!
//! The code is the contract: the UI, the CLI's exit status and `--json` output, and scripts all key
//! off [`ErrorCode`], never off message text. Messages are for people and never contain a secret,
//! a credential or a URL query string.

use serde::Serialize;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable, machine-readable error codes. Their string forms cross IPC and appear in CLI JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    Unauthorized,
    PermissionDenied,
    NotFound,
    Conflict,
    RateLimited,
    Network,
    Backend,
    KeychainUnavailable,
    Store,
    Unexpected,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::InvalidInput,
        ErrorCode::Unauthorized,
        ErrorCode::PermissionDenied,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::Network,
        ErrorCode::Backend,
        ErrorCode::KeychainUnavailable,
        ErrorCode::Store,
        ErrorCode::Unexpected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Network => "network",
            ErrorCode::Backend => "backend",
            ErrorCode::KeychainUnavailable => "keychain_unavailable",
            ErrorCode::Store => "store",
            ErrorCode::Unexpected => "unexpected",
        }
    }

    /// The CLI's documented exit status for this code (0 is success, 10 is "secret not valid").
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Unexpected => 1,
            ErrorCode::InvalidInput => 2,
            ErrorCode::Unauthorized => 3,
            ErrorCode::PermissionDenied => 4,
            ErrorCode::NotFound => 5,
            ErrorCode::Conflict => 6,
            ErrorCode::RateLimited => 7,
            ErrorCode::Network | ErrorCode::Backend => 8,
            ErrorCode::KeychainUnavailable => 9,
            ErrorCode::Store => 11,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Bad input from the user; `field` names what to fix (e.g. `name`, `expires`, `owner`).
    #[error("{field}: {message}")]
    InvalidInput { field: String, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{0}")]
    Network(String),
    #[error("{0}")]
    Backend(String),
    #[error("{0}")]
    KeychainUnavailable(String),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Unexpected(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput { .. } => ErrorCode::InvalidInput,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Network(_) => ErrorCode::Network,
            Error::Backend(_) => ErrorCode::Backend,
            Error::KeychainUnavailable(_) => ErrorCode::KeychainUnavailable,
            Error::Store(_) => ErrorCode::Store,
            Error::Unexpected(_) => ErrorCode::Unexpected,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message without the field prefix (the field travels separately on the wire).
    pub fn message(&self) -> String {
        match self {
            Error::InvalidInput { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The wire form: `{code, message, field?, retry_after?}`.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.message(),
            field: self.field().map(str::to_owned),
            retry_after: self.retry_after().map(|d| d.as_secs_f64()),
        }
    }
}

/// How an error crosses IPC and appears in CLI `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before retrying, for `rate_limited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_body().serialize(serializer)
    }
}

/// A field's own parser refusing its value inside a serde deserialisation (serde would otherwise
/// name only the whole argument): written as the error's text by the field's deserializer
/// ([`field_refusal`]) and read back, field and message, by whoever turns serde's error into an
/// [`Error`] ([`read_field_refusal`]). One shape, owned here.
pub fn field_refusal(field: &str, message: &str) -> String {
    format!("invalid field `{field}`: {message}")
}

/// The field and message of a [`field_refusal`] text (serde may append a position).
pub fn read_field_refusal(text: &str) -> Option<(&str, &str)> {
    text.strip_prefix("invalid field `")?.split_once("`: ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_stable_strings() {
        let names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "invalid_input",
                "unauthorized",
                "permission_denied",
                "not_found",
                "conflict",
                "rate_limited",
                "network",
                "backend",
                "keychain_unavailable",
                "store",
                "unexpected"
            ]
        );
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }

    #[test]
    fn exit_codes_are_distinct_except_network_and_backend() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let exit = code.exit_code();
            assert_ne!(exit, 0, "{code} must not exit 0");
            if code != ErrorCode::Backend {
                assert!(seen.insert(exit), "{code} reuses exit code {exit}");
            }
        }
        assert_eq!(
            ErrorCode::Backend.exit_code(),
            ErrorCode::Network.exit_code()
        );
    }

    #[test]
    fn wire_form_carries_field_and_retry_after() {
        let e = Error::invalid("name", "must not be empty");
        assert_eq!(e.to_string(), "name: must not be empty");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "invalid_input", "message": "must not be empty", "field": "name"})
        );
        let e = Error::RateLimited {
            message: "slow down".into(),
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "rate_limited", "message": "slow down", "retry_after": 1.5})
        );
    }
}
