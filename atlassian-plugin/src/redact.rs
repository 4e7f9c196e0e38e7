//! The redactor: every configured secret, and its Basic-auth encoding, removed from text that
//! leaves the connector, since server answers can echo what they received.

use connector_api::ConnectorError;
use serde_json::Value;

/// Removes every configured secret (and its Basic-auth encoding) from text that leaves the
/// connector: server answers can echo what they received.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A scrubber of these secrets; for a Basic pair, pass `email:token` too.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        use base64::Engine;
        let mut all = Vec::new();
        for s in secrets.into_iter().filter(|s| s.len() >= 4) {
            all.push(base64::engine::general_purpose::STANDARD.encode(&s));
            all.push(s);
        }
        // Longest first, so that a secret inside another is not half-replaced.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets: all }
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), connector_api::REDACTED);
            }
        }
        out
    }

    /// An error with every secret removed from its message and details.
    pub fn clean_error(&self, mut error: ConnectorError) -> ConnectorError {
        error.message = self.clean(&error.message);
        if !error.details.is_null() {
            let text = self.clean(&error.details.to_string());
            error.details = serde_json::from_str(&text).unwrap_or(Value::Null);
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_redactor_removes_secrets_and_their_encodings() {
        let r = Redactor::new([
            "tok3n-secret".to_owned(),
            "svc@x.io:tok3n-secret".to_owned(),
        ]);
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("svc@x.io:tok3n-secret");
        let text = format!("echo: Basic {basic} and Bearer tok3n-secret");
        let clean = r.clean(&text);
        assert!(
            !clean.contains("tok3n") && !clean.contains(&basic),
            "{clean}"
        );
        let err = r.clean_error(
            ConnectorError::internal("x tok3n-secret").with_details(json!({"d": "tok3n-secret"})),
        );
        assert!(!err.message.contains("tok3n") && !err.details.to_string().contains("tok3n"));
    }
}
