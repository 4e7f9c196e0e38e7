//! `Secret`: a configuration value (API key, token, password) that redacts itself everywhere.
//!
//! Debug and Display print `[REDACTED]`, Serialize writes `[REDACTED]`, the memory is wiped on
//! drop (by `secrecy`), and the JSON Schema marks the field `writeOnly` with `format: password`,
//! so a host renders a password input and never echoes the value back; `minLength` and a
//! non-blank `pattern` let a form refuse an empty key before the connector sees it.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The text every redacted secret prints as.
pub const REDACTED: &str = "[REDACTED]";

/// A secret string. Read it only where it is sent, with [`Secret::expose`].
#[derive(Clone, Default)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The secret itself. Call it only to put the value on the wire.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.expose().trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "password",
            "writeOnly": true,
            "minLength": 1,
            // Something other than whitespace (`is_blank` refuses the rest).
            "pattern": "\\S"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(
            format!("{s:?} {s} {s:#?}"),
            "[REDACTED] [REDACTED] [REDACTED]"
        );
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[REDACTED]\"");
    }

    #[test]
    fn schema_marks_write_only_password() {
        let schema = schemars::schema_for!(Secret);
        assert_eq!(
            schema.get("writeOnly"),
            Some(&serde_json::Value::Bool(true))
        );
        assert_eq!(
            schema.get("format").and_then(|v| v.as_str()),
            Some("password")
        );
    }
}
