//! How HTTP failures become connector errors: statuses, transport failures, server details.

use connector_api::{ConnectorError, ErrorKind};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Reply, Request};
use connector_api::redact::Redactor;

/// The typed error of a response that is not a success.
pub(crate) fn status_error(api: &Api, redactor: &Redactor, reply: &Reply) -> ConnectorError {
    // Cleaned whole, then cut: a secret straddling the cut would otherwise survive in part.
    let body = redactor
        .clean(&String::from_utf8_lossy(&reply.body))
        .into_owned();
    let detail = server_detail(body.as_bytes());
    let status = reply.status.as_u16();
    let scim_type = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("scimType").and_then(Value::as_str).map(str::to_owned));
    let details =
        json!({ "api": api.name, "status": status, "detail": detail, "scim_type": scim_type });
    let (kind, message) = match status {
        400 if scim_type.as_deref() == Some("invalidFilter") => (
            ErrorKind::InvalidFilter,
            format!("{} refused the filter: {detail}", api.name),
        ),
        400 => (
            ErrorKind::InvalidAttributeValue,
            format!("{} refused the request: {detail}", api.name),
        ),
        401 => (
            ErrorKind::InvalidCredentials,
            format!(
                "{} rejected the {} ({detail}); {}",
                api.name,
                api.credential.fields(),
                api.credential.renew()
            ),
        ),
        403 => (
            ErrorKind::PermissionDenied,
            format!(
                "{} denied the request to the {} ({detail})",
                api.name,
                api.credential.fields()
            ),
        ),
        404 => (
            ErrorKind::UnknownUid,
            format!("{} found no such object: {detail}", api.name),
        ),
        409 => (
            ErrorKind::AlreadyExists,
            format!("{} reports a conflict: {detail}", api.name),
        ),
        429 => (
            ErrorKind::RateLimited,
            format!(
                "{} is rate limiting the connector and the retry budget or deadline ran out",
                api.name
            ),
        ),
        500..=599 => (
            ErrorKind::ConnectionFailed,
            format!(
                "{} failed with HTTP {status} after retries: {detail}",
                api.name
            ),
        ),
        _ => (
            ErrorKind::Internal,
            format!(
                "{} answered an unexpected HTTP {status}: {detail}",
                api.name
            ),
        ),
    };
    ConnectorError::new(kind, message).with_details(details)
}

/// A request that got no usable response.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    /// Whether the request may have reached the server.
    pub(crate) maybe_sent: bool,
    /// Whether the failure is a transport one (connection, timeout, broken body).
    pub(crate) transport: bool,
    /// Whether the request ran out of time.
    pub(crate) timed_out: bool,
    /// Whether the response body was larger than the request accepts.
    pub(crate) too_large: bool,
}

impl Failure {
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Failure {
        let maybe_sent = !e.is_connect();
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the response broke off"
        } else {
            "the connection failed"
        };
        // reqwest's own text carries the URL, never a header.
        let mut message = format!("{kind}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Failure {
            message,
            maybe_sent,
            transport: true,
            timed_out: e.is_timeout(),
            too_large: false,
        }
    }

    pub(crate) fn resendable(&self, request: &Request<'_>) -> bool {
        self.transport && (request.resend_safe || !self.maybe_sent)
    }

    pub(crate) fn to_error(
        &self,
        api: &Api,
        request: &Request<'_>,
        redactor: &Redactor,
    ) -> ConnectorError {
        let message = redactor
            .clean(&format!("{}: {}", request.label(api), self.message))
            .into_owned();
        if self.timed_out && request.method == Method::GET {
            ConnectorError::new(ErrorKind::Timeout, message).with_details(
                json!({ "api": api.name, "maybe_applied": false, "request_timed_out": true }),
            )
        } else if self.transport && self.maybe_sent && request.method != Method::GET {
            ConnectorError::new(
                ErrorKind::Timeout,
                format!("{message}; the outcome is unknown"),
            )
            .with_details(json!({ "api": api.name, "maybe_applied": true }))
        } else {
            ConnectorError::new(ErrorKind::ConnectionFailed, message)
                .with_details(json!({ "api": api.name, "too_large": self.too_large }))
        }
    }
}

/// The human part of an error body: SCIM `detail`, the `{error}` failure body, Jira
/// `errorMessages`/`errors`, Confluence `message`; else the start of the body.
pub fn server_detail(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return if text.is_empty() {
            "no details".into()
        } else {
            text.chars().take(200).collect()
        };
    };
    let mut parts: Vec<String> = Vec::new();
    for key in ["detail", "error", "message"] {
        if let Some(s) = value.get(key).and_then(Value::as_str) {
            parts.push(s.to_owned());
        }
    }
    if let Some(messages) = value.get("errorMessages").and_then(Value::as_array) {
        parts.extend(messages.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if let Some(errors) = value.get("errors").and_then(Value::as_object) {
        parts.extend(
            errors
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string()))),
        );
    }
    if parts.is_empty() {
        value.to_string().chars().take(200).collect()
    } else {
        parts.join("; ").chars().take(500).collect()
    }
}
