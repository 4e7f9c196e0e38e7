//! What Atlassian's SCIM service accepts of a user's attributes, and how it reads them.

use serde_json::{Map, Value};

use crate::sim::error::SimError;

pub(super) fn display_name_of(attrs: &Map<String, Value>) -> String {
    attrs
        .get("displayName")
        .and_then(Value::as_str)
        .or_else(|| {
            attrs
                .get("name")
                .and_then(|n| n.get("formatted"))
                .and_then(Value::as_str)
        })
        .or_else(|| attrs.get("userName").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

/// Enforces what Atlassian requires of a user: a userName, at least one email with one primary,
/// a boolean `active` (IdPs send "True"/"False" strings; they are accepted).
pub fn normalise_user_attrs(attrs: &mut Map<String, Value>) -> Result<(), SimError> {
    match attrs.get("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        _ => {
            return Err(SimError::bad_request(
                "invalidValue",
                "userName is required",
            ));
        }
    }
    let Some(Value::Array(emails)) = attrs.get("emails") else {
        return Err(SimError::bad_request("invalidValue", "emails is required"));
    };
    if emails.is_empty() {
        return Err(SimError::bad_request("invalidValue", "emails is required"));
    }
    for e in emails {
        match e.get("value").and_then(Value::as_str) {
            Some(v) if v.contains('@') && !v.contains(char::is_whitespace) => {}
            _ => {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!(
                        "invalid email value: {}",
                        e.get("value").unwrap_or(&Value::Null)
                    ),
                ));
            }
        }
    }
    let primaries = emails
        .iter()
        .filter(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .count();
    if primaries > 1 || (primaries == 0 && emails.len() > 1) {
        return Err(SimError::bad_request(
            "invalidValue",
            "One value of emails must be marked as primary",
        ));
    }
    if let Some(active) = attrs.get("active") {
        let value = coerce_bool(active).ok_or_else(|| {
            SimError::bad_request(
                "invalidValue",
                format!("active must be a boolean, got {active}"),
            )
        })?;
        attrs.insert("active".into(), Value::Bool(value));
    }
    for key in [
        "externalId",
        "displayName",
        "nickName",
        "title",
        "preferredLanguage",
        "timezone",
        "department",
        "organization",
    ] {
        if let Some(v) = attrs.get(key) {
            if !v.is_string() {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!("{key} must be a string"),
                ));
            }
        }
    }
    Ok(())
}

/// `true`, `false`, or the strings IdPs send for them.
pub fn coerce_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
