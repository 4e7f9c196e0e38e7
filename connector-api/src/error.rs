//! `ConnectorError`: the one error type of every operation, with stable kind codes.
//!
//! Kinds follow ConnId's hard-won list. Each carries a message for people, a `retryable` flag for
//! machines, and optional JSON details (the existing uid on [`ErrorKind::AlreadyExists`], the
//! attribute on [`ErrorKind::InvalidAttributeValue`], what was done on
//! [`ErrorKind::PartialSuccess`]). Messages and details must never contain a secret.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::abi::{AbiError, ErrorCode};

/// What went wrong, as a stable code shared by every connector and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is malformed or inconsistent; `details.field` names the field.
    InvalidConfiguration,
    /// The target rejected a credential (HTTP 401).
    InvalidCredentials,
    /// The credential is valid but lacks a permission (HTTP 403).
    PermissionDenied,
    /// The target could not be reached.
    ConnectionFailed,
    /// The deadline passed; the outcome of a write is unknown.
    Timeout,
    /// The target refused the request for its rate limit; retry later.
    RateLimited,
    /// The object already exists; `details.uid` carries its uid when known.
    AlreadyExists,
    /// No object has this uid.
    UnknownUid,
    /// An attribute value was refused; `details.attribute` names the attribute.
    InvalidAttributeValue,
    /// The filter cannot be evaluated.
    InvalidFilter,
    /// The connector does not support this operation, class or option.
    Unsupported,
    /// Part of the operation was done; `details` says what was done and what is missing.
    PartialSuccess,
    /// The host cancelled the call.
    Cancelled,
    /// A bug: a panic, a broken invariant, a reply that could not be decoded.
    Internal,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::InvalidConfiguration,
        ErrorKind::InvalidCredentials,
        ErrorKind::PermissionDenied,
        ErrorKind::ConnectionFailed,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::AlreadyExists,
        ErrorKind::UnknownUid,
        ErrorKind::InvalidAttributeValue,
        ErrorKind::InvalidFilter,
        ErrorKind::Unsupported,
        ErrorKind::PartialSuccess,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The stable code that crosses the ABI. Codes are never reused.
    pub const fn code(self) -> u16 {
        match self {
            ErrorKind::InvalidConfiguration => 1,
            ErrorKind::InvalidCredentials => 2,
            ErrorKind::PermissionDenied => 3,
            ErrorKind::ConnectionFailed => 4,
            ErrorKind::Timeout => 5,
            ErrorKind::RateLimited => 6,
            ErrorKind::AlreadyExists => 7,
            ErrorKind::UnknownUid => 8,
            ErrorKind::InvalidAttributeValue => 9,
            ErrorKind::InvalidFilter => 10,
            ErrorKind::Unsupported => 11,
            ErrorKind::PartialSuccess => 12,
            ErrorKind::Cancelled => 13,
            ErrorKind::Internal => 14,
        }
    }

    /// The kind of a code, if this version knows it.
    pub fn from_code(code: u16) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The snake_case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfiguration => "invalid_configuration",
            ErrorKind::InvalidCredentials => "invalid_credentials",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::ConnectionFailed => "connection_failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::UnknownUid => "unknown_uid",
            ErrorKind::InvalidAttributeValue => "invalid_attribute_value",
            ErrorKind::InvalidFilter => "invalid_filter",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::PartialSuccess => "partial_success",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether errors of this kind are worth retrying by default.
    pub const fn retryable_by_default(self) -> bool {
        matches!(
            self,
            ErrorKind::ConnectionFailed | ErrorKind::RateLimited | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every connector operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ConnectorError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// For people: what happened and, where known, how to fix it.
    pub message: String,
    /// Whether the same request may succeed if retried later.
    pub retryable: bool,
    /// Structured details, e.g. `{"uid": ...}` or `{"attribute": ...}`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

/// The result of every connector operation.
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

impl ConnectorError {
    /// An error of `kind` with `message`, retryable as the kind is by default, with no details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            message: message.into(),
            retryable: kind.retryable_by_default(),
            details: Value::Null,
        }
    }

    /// Sets the details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Sets the retryable flag.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The configuration field `field` is wrong; `message` says why and how to fix it.
    pub fn invalid_config(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            ErrorKind::InvalidConfiguration,
            format!("configuration field `{field}`: {message}"),
        )
        .with_details(
            json!({ "field": field, "problems": [{ "field": field, "message": message }] }),
        )
    }

    /// The operation is not supported for this object class (or at all, when `class` is `None`).
    pub fn unsupported(operation: &str, class: Option<&str>) -> Self {
        let message = match class {
            Some(class) => format!("operation `{operation}` is not supported for class `{class}`"),
            None => format!("operation `{operation}` is not supported by this connector"),
        };
        Self::new(ErrorKind::Unsupported, message)
            .with_details(json!({ "operation": operation, "class": class }))
    }

    /// An object with this identity already exists, with uid `existing_uid` when known.
    pub fn already_exists(message: impl Into<String>, existing_uid: Option<&str>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message).with_details(json!({ "uid": existing_uid }))
    }

    /// No object of `class` has uid `uid`.
    pub fn unknown_uid(class: &str, uid: &str) -> Self {
        Self::new(ErrorKind::UnknownUid, format!("no {class} has uid `{uid}`"))
            .with_details(json!({ "class": class, "uid": uid }))
    }

    /// The value of `attribute` was refused.
    pub fn invalid_value(attribute: &str, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::InvalidAttributeValue,
            format!("attribute `{attribute}`: {}", message.into()),
        )
        .with_details(json!({ "attribute": attribute }))
    }

    /// The filter cannot be evaluated.
    pub fn invalid_filter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidFilter, message)
    }

    /// Part of the work was done: `done` says what was, `missing` what still is to do.
    pub fn partial_success(message: impl Into<String>, done: Value, missing: Value) -> Self {
        Self::new(ErrorKind::PartialSuccess, message)
            .with_details(json!({ "done": done, "missing": missing }))
            .with_retryable(true)
    }

    /// A bug or broken invariant.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The existing uid carried by an [`ErrorKind::AlreadyExists`] error, if any.
    pub fn existing_uid(&self) -> Option<&str> {
        self.details.get("uid").and_then(Value::as_str)
    }

    /// The attribute named by an [`ErrorKind::InvalidAttributeValue`] error, if any.
    pub fn attribute(&self) -> Option<&str> {
        self.details.get("attribute").and_then(Value::as_str)
    }

    /// The configuration field named by an [`ErrorKind::InvalidConfiguration`] error, if any.
    pub fn field(&self) -> Option<&str> {
        self.details.get("field").and_then(Value::as_str)
    }

    /// Converts to the `#[repr(C)]` form that crosses the ABI.
    #[doc(hidden)]
    pub fn into_abi(self) -> AbiError {
        AbiError {
            code: ErrorCode(self.kind.code()),
            retryable: self.retryable,
            message: self.message.into(),
            details_json: if self.details.is_null() {
                "".into()
            } else {
                self.details.to_string().into()
            },
        }
    }

    #[doc(hidden)]
    /// Converts from the ABI form. An unknown code (a newer peer) becomes
    /// [`ErrorKind::Internal`] with the code kept in `details.code`.
    pub fn from_abi(error: AbiError) -> Self {
        let mut details = if error.details_json.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(error.details_json.as_str())
                .unwrap_or_else(|_| Value::String(error.details_json.to_string()))
        };
        let kind = match ErrorKind::from_code(error.code.0) {
            Some(kind) => kind,
            None => {
                details = json!({ "code": error.code.0, "details": details });
                ErrorKind::Internal
            }
        };
        ConnectorError {
            kind,
            message: error.message.into_string(),
            retryable: error.retryable,
            details,
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ConnectorError {}

/// Collects configuration problems so that `validate` can report all of them at once.
///
/// ```
/// use connector_api::ConfigProblems;
/// let mut problems = ConfigProblems::default();
/// problems.check(false, "site_url", "must start with https://");
/// let err = problems.into_result().unwrap_err();
/// assert_eq!(err.field(), Some("site_url"));
/// ```
#[derive(Debug, Default)]
pub struct ConfigProblems {
    problems: Vec<(String, String)>,
}

impl ConfigProblems {
    /// Records a problem with `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.push(field, message);
        }
    }

    /// Records a problem with `field`.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push((field.to_owned(), message.into()));
    }

    /// Whether no problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// `Ok` when no problem was recorded, else one [`ErrorKind::InvalidConfiguration`] error
    /// naming the first field in `details.field` and listing all problems in `details.problems`.
    pub fn into_result(self) -> Result<()> {
        let Some((first_field, _)) = self.problems.first() else {
            return Ok(());
        };
        let message = self
            .problems
            .iter()
            .map(|(field, message)| format!("configuration field `{field}`: {message}"))
            .collect::<Vec<_>>()
            .join("; ");
        let problems: Vec<Value> = self
            .problems
            .iter()
            .map(|(field, message)| json!({ "field": field, "message": message }))
            .collect();
        Err(
            ConnectorError::new(ErrorKind::InvalidConfiguration, message)
                .with_details(json!({ "field": first_field, "problems": problems })),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut codes: Vec<u16> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, Value::String(kind.as_str().into()));
        }
    }

    #[test]
    fn abi_round_trip_keeps_everything() {
        let err = ConnectorError::already_exists("taken", Some("u-1")).with_retryable(false);
        let back = ConnectorError::from_abi(err.clone().into_abi());
        assert_eq!(back, err);
        assert_eq!(back.existing_uid(), Some("u-1"));
    }

    #[test]
    fn unknown_code_from_newer_peer_is_kept() {
        let abi = AbiError {
            code: ErrorCode(999),
            retryable: false,
            message: "new kind".into(),
            details_json: "{\"x\":1}".into(),
        };
        let err = ConnectorError::from_abi(abi);
        assert_eq!(err.kind, ErrorKind::Internal);
        assert_eq!(err.details["code"], 999);
        assert_eq!(err.details["details"]["x"], 1);
    }

    #[test]
    fn config_problems_name_every_field() {
        let mut p = ConfigProblems::default();
        p.push("a", "bad");
        p.push("b", "worse");
        let err = p.into_result().unwrap_err();
        assert_eq!(err.field(), Some("a"));
        assert_eq!(err.details["problems"].as_array().unwrap().len(), 2);
        assert!(err.message.contains("`b`: worse"));
    }
}
