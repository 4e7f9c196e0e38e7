//! Secrets kept out of everything that leaves a connector: each secret of the configuration, its
//! common encodings, and any fragment of them of [`FRAGMENT`] characters or more.
//!
//! The SDK knows the secrets from the configuration's schema (fields marked `writeOnly`, as
//! [`crate::Secret`] is). Every reply and event a connector sends through the ABI (errors,
//! log lines, test reports, results) passes [`Redactor::json`] on its way out, so an author gets
//! this without writing a line, and a server that echoes a credential (whole, cut, JSON- or
//! percent-encoded, or as the `Basic` form `base64(user:secret)`) cannot make it leak. Hosts
//! use the same matcher to look for leaks ([`Redactor::finds`]).

use std::borrow::Cow;

use aho_corasick::AhoCorasick;
use serde_json::Value;

use crate::REDACTED;

/// The shortest fragment of a secret that is redacted on its own: longer secrets are redacted
/// wherever 8 of their characters in a row appear, so a secret cut anywhere still goes.
pub const FRAGMENT: usize = 8;

/// Secrets shorter than this are not secrets (and scrubbing them would blank ordinary words).
pub const MIN_SECRET: usize = 4;

/// Companion values (e.g. the user of a `Basic` pair) considered at most.
const MAX_COMPANIONS: usize = 32;

/// Finds and removes secrets, their encodings and their fragments.
#[derive(Clone, Default)]
pub struct Redactor {
    matcher: Option<AhoCorasick>,
    count: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.count)
    }
}

/// The forms a secret takes in text: itself, JSON-escaped, percent-encoded, base64, and the
/// `Basic` credential with each companion as the user.
fn encodings(secret: &str, companions: &[String]) -> Vec<String> {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json[1..json.len().saturating_sub(1).max(1)].to_owned();
    let percent: String = secret
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut forms = vec![secret.to_owned(), json, percent, b64(secret)];
    for user in companions.iter().take(MAX_COMPANIONS) {
        forms.push(b64(&format!("{user}:{secret}")));
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The patterns of one form: every window of [`FRAGMENT`] characters, or the whole form
/// when it is shorter.
fn windows(form: &str, out: &mut Vec<String>) {
    let chars: Vec<(usize, char)> = form.char_indices().collect();
    if chars.len() <= FRAGMENT {
        out.push(form.to_owned());
        return;
    }
    for i in 0..=chars.len() - FRAGMENT {
        let start = chars[i].0;
        let end = chars.get(i + FRAGMENT).map_or(form.len(), |(at, _)| *at);
        out.push(form[start..end].to_owned());
    }
}

impl Redactor {
    /// A redactor of `secrets` (those shorter than [`MIN_SECRET`] are ignored; those shorter
    /// than [`FRAGMENT`] are redacted whole), with `companions` as the possible users
    /// of a `Basic` credential (the configuration's other short strings).
    pub fn new(secrets: &[String], companions: &[String]) -> Self {
        // Only what could be the user of a `Basic` pair: a URL or a sentence never is, and each
        // companion multiplies the patterns every reply is scanned for.
        let companions: Vec<String> = companions
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| {
                !c.is_empty()
                    && c.len() <= 256
                    && !c.contains("://")
                    && !c.chars().any(char::is_whitespace)
            })
            .collect();
        let mut patterns = Vec::new();
        let mut count = 0;
        for secret in secrets.iter().filter(|s| s.chars().count() >= MIN_SECRET) {
            count += 1;
            for form in encodings(secret, &companions) {
                windows(&form, &mut patterns);
            }
        }
        patterns.sort();
        patterns.dedup();
        // A DFA: every reply and every batch of results is scanned, so throughput is what
        // counts; the patterns are few and short, so its memory is small.
        let matcher = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Redactor { matcher, count }
    }

    /// The secrets of a configuration: the values of the fields its JSON Schema marks
    /// `writeOnly` (strings, or numbers given where a string is expected), at any depth; the
    /// other short strings of the configuration are the companions.
    pub fn for_config(config: &Value, schema: &Value) -> Self {
        let (mut secrets, mut companions) = (Vec::new(), Vec::new());
        collect(config, schema, schema, false, &mut secrets, &mut companions);
        Redactor::new(&secrets, &companions)
    }

    /// Whether any secret, encoding or fragment occurs in `text`.
    pub fn finds(&self, text: &str) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(text))
    }

    /// `text` with every occurrence replaced by [`REDACTED`] (overlapping ones merged).
    pub fn clean<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(matcher) = self.matcher.as_ref().filter(|m| m.is_match(text)) else {
            return Cow::Borrowed(text);
        };
        let mut spans: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let (mut at, mut open): (usize, Option<(usize, usize)>) = (0, None);
        for (start, end) in spans {
            match &mut open {
                Some((_, e)) if start <= *e => *e = (*e).max(end),
                _ => {
                    if let Some((s, e)) = open.take() {
                        out.push_str(&text[at..s]);
                        out.push_str(REDACTED);
                        at = e;
                    }
                    open = Some((start, end));
                }
            }
        }
        if let Some((s, e)) = open {
            out.push_str(&text[at..s]);
            out.push_str(REDACTED);
            at = e;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// A JSON document with every string (keys too) cleaned; the document stays valid JSON.
    /// The common case, nothing found, costs one scan.
    pub fn json<'t>(&self, json: &'t str) -> Cow<'t, str> {
        if !self.finds(json) {
            return Cow::Borrowed(json);
        }
        match serde_json::from_str::<Value>(json) {
            Ok(mut value) => {
                self.value(&mut value);
                Cow::Owned(value.to_string())
            }
            // Not JSON after all: cleaned as text, then as a JSON string, so it stays readable.
            Err(_) => Cow::Owned(Value::String(self.clean(json).into_owned()).to_string()),
        }
    }

    /// Cleans every string of `value` in place.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Cow::Owned(clean) = self.clean(s) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.value(&mut v);
                    map.insert(self.clean(&key).into_owned(), v);
                }
            }
            _ => {}
        }
    }
}

/// The schema `schema` refers to, following one local `$ref`.
pub(crate) fn resolve<'s>(schema: &'s Value, root: &'s Value) -> &'s Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(pointer) => pointer
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .unwrap_or(schema),
        None => schema,
    }
}

pub(crate) fn is_secret(schema: &Value, root: &Value) -> bool {
    let schema = resolve(schema, root);
    schema.get("writeOnly").and_then(Value::as_bool) == Some(true)
        || ["anyOf", "oneOf", "allOf"].iter().any(|k| {
            schema
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|alts| alts.iter().any(|a| is_secret(a, root)))
        })
}

fn collect(
    value: &Value,
    schema: &Value,
    root: &Value,
    secret: bool,
    secrets: &mut Vec<String>,
    companions: &mut Vec<String>,
) {
    let schema = resolve(schema, root);
    let secret = secret || is_secret(schema, root);
    match value {
        Value::String(s) if secret => secrets.push(s.clone()),
        Value::Number(n) if secret => secrets.push(n.to_string()),
        Value::String(s) => companions.push(s.clone()),
        Value::Object(map) => {
            for (key, v) in map {
                let sub = schema
                    .get("properties")
                    .and_then(|p| p.get(key))
                    .unwrap_or(&Value::Null);
                collect(v, sub, root, secret, secrets, companions);
            }
        }
        Value::Array(items) => {
            let sub = schema.get("items").unwrap_or(&Value::Null);
            for v in items {
                collect(v, sub, root, secret, secrets, companions);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    const KEY: &str = "ADV-DIRKEY-4f1c9a7e2b6d8035e1f7";

    fn redactor() -> Redactor {
        Redactor::new(
            &[KEY.to_owned(), "q\"uo\\te-secret-99".to_owned()],
            &["svc@acme.com".to_owned()],
        )
    }

    #[test]
    fn every_form_and_fragment_goes() {
        let r = redactor();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("svc@acme.com:{KEY}"));
        for text in [
            format!("key {KEY} here"),
            format!("cut at the end: {}", &KEY[..12]),
            format!("cut at the start: {}", &KEY[KEY.len() - 9..]),
            format!("Authorization: Basic {basic}"),
            "percent q%22uo%5Cte-secret-99".to_owned(),
            serde_json::to_string("q\"uo\\te-secret-99").unwrap(),
        ] {
            let clean = r.clean(&text);
            assert!(clean.contains(REDACTED), "{text} -> {clean}");
            assert!(!r.finds(&clean), "{text} -> {clean}");
        }
        assert_eq!(r.clean("nothing to see"), "nothing to see");
        assert_eq!(
            r.clean("ADV-DIRK"),
            REDACTED,
            "eight characters are a fragment"
        );
        assert_eq!(r.clean("ADV-DIR"), "ADV-DIR", "seven are not");
    }

    #[test]
    fn json_stays_json() {
        let r = redactor();
        let doc = json!({"message": format!("echo {KEY}"), "details": {KEY: [format!("x{}", &KEY[3..20])]}})
            .to_string();
        let clean = r.json(&doc);
        let value: Value = serde_json::from_str(&clean).unwrap();
        assert!(!r.finds(&clean), "{clean}");
        assert_eq!(value["message"], format!("echo {REDACTED}"));
        let escaped = json!({"m": "q\"uo\\te-secret-99"}).to_string();
        assert!(!r.finds(&r.json(&escaped)));
    }

    #[test]
    fn secrets_come_from_the_schema() {
        let schema = json!({
            "properties": {
                "token": {"$ref": "#/$defs/Secret"},
                "user": {"type": "string"},
                "nested": {"properties": {"pin": {"writeOnly": true}}}
            },
            "$defs": {"Secret": {"type": "string", "writeOnly": true}}
        });
        let config =
            json!({"token": "t0ken-value-123", "user": "me@x.io", "nested": {"pin": 12345678}});
        let r = Redactor::for_config(&config, &schema);
        assert!(r.finds("t0ken-va") && r.finds("12345678") && !r.finds("me@x.io"));
        let basic = base64::engine::general_purpose::STANDARD.encode("me@x.io:t0ken-value-123");
        assert!(r.finds(&basic));
    }
}
