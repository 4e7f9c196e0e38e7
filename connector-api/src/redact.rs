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
    grams: Option<Grams>,
    count: usize,
}

/// Bytes in a gram of the prefilter.
const GRAM: usize = 4;

/// A prefilter that rules most text out before the automaton runs, at a quarter of the
/// lookups: any occurrence of a pattern of at least `2 * GRAM - 1` bytes covers a whole gram
/// at a position divisible by [`GRAM`], and that gram is one of the pattern's. So only those
/// positions are looked up, in a bitmap of every gram of every pattern, and a hit is confirmed
/// by the automaton on the bytes around it. Every reply and result batch is scanned: on
/// results this made the scan several times cheaper than the automaton alone.
#[derive(Clone)]
struct Grams {
    bits: Vec<u64>,
    /// `32 - log2(bits)`: a gram's bit is the top bits of its multiplicative hash.
    shift: u32,
    /// The longest pattern, in bytes: how far around a hit the automaton looks.
    longest: usize,
}

impl Grams {
    /// The prefilter of `patterns`, or `None` when one is too short for it.
    fn new(patterns: &[String]) -> Option<Grams> {
        let shortest = patterns.iter().map(String::len).min()?;
        if shortest < 2 * GRAM - 1 {
            return None;
        }
        let grams: std::collections::HashSet<u32> = patterns
            .iter()
            .flat_map(|p| p.as_bytes().windows(GRAM).map(gram))
            .collect();
        // About 64 bits per gram: a gram of ordinary text is a false hit once in 64 or so.
        let log2 = (grams.len() * 64)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 28);
        let mut filter = Grams {
            bits: vec![0; (1usize << log2) / 64],
            shift: 32 - log2,
            longest: patterns.iter().map(String::len).max().unwrap_or(0),
        };
        for g in grams {
            let at = filter.slot(g);
            filter.bits[at / 64] |= 1 << (at % 64);
        }
        Some(filter)
    }

    fn slot(&self, gram: u32) -> usize {
        (gram.wrapping_mul(0x9E37_79B1) >> self.shift) as usize
    }

    fn holds(&self, gram: u32) -> bool {
        let at = self.slot(gram);
        self.bits[at / 64] & (1 << (at % 64)) != 0
    }

    /// Whether `matcher` finds a pattern in `text`, looking only around the grams that hit.
    fn finds(&self, matcher: &AhoCorasick, text: &[u8]) -> bool {
        let reach = self.longest.saturating_sub(GRAM);
        (0..text.len() / GRAM).any(|block| {
            let at = block * GRAM;
            self.holds(gram(&text[at..at + GRAM])) && {
                let around = at.saturating_sub(reach)..(at + GRAM + reach).min(text.len());
                matcher.is_match(&text[around])
            }
        })
    }
}

fn gram(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
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
        let grams = matcher.as_ref().and_then(|_| Grams::new(&patterns));
        Redactor {
            matcher,
            grams,
            count,
        }
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
        let Some(matcher) = self.matcher.as_ref() else {
            return false;
        };
        match &self.grams {
            Some(grams) => grams.finds(matcher, text.as_bytes()),
            None => matcher.is_match(text),
        }
    }

    /// `text` with every occurrence replaced by [`REDACTED`] (overlapping ones merged).
    pub fn clean<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(matcher) = self.matcher.as_ref().filter(|_| self.finds(text)) else {
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

    /// The prefilter never misses: every fragment of every form, at every offset modulo the
    /// gram, amid ASCII and multi-byte text, is found exactly when the automaton alone finds
    /// something.
    #[test]
    fn the_prefilter_finds_what_the_automaton_finds_at_every_offset() {
        let r = redactor();
        assert!(r.grams.is_some(), "secrets this long are prefiltered");
        let matcher = r.matcher.as_ref().unwrap();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("svc@acme.com:{KEY}"));
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let filler = [
            "a", "Z", "0", "\"", ",", "é", "€", "𝄞", " ", "-", "ADV", "4f1c",
        ];
        let mut found = 0;
        for form in [KEY.to_owned(), basic, "q%22uo%5Cte-secret-99".to_owned()] {
            let chars: Vec<char> = form.chars().collect();
            for round in 0..400 {
                let len = FRAGMENT - 1 + (next() % 4) as usize;
                let from = (next() as usize) % (chars.len() - len + 1);
                let piece: String = chars[from..from + len].iter().collect();
                let before: String = (0..(next() % 9))
                    .map(|_| filler[(next() % filler.len() as u64) as usize])
                    .collect();
                let after: String = (0..(next() % 9))
                    .map(|_| filler[(next() % filler.len() as u64) as usize])
                    .collect();
                let text = format!("{before}{piece}{after}");
                let truth = matcher.is_match(&text);
                assert_eq!(r.finds(&text), truth, "round {round}: {text:?}");
                found += usize::from(truth);
            }
        }
        assert!(found > 600, "most pieces are fragments: {found}");
        // Ordinary text: no false finds.
        assert!(!r.finds(&"{\"userName\":\"jane.doe@acme.com\",\"active\":true}".repeat(50)));
    }

    #[test]
    fn short_secrets_go_without_the_prefilter() {
        let r = Redactor::new(&["pin42".to_owned()], &[]);
        assert!(r.grams.is_none());
        assert_eq!(r.clean("the pin42 here"), format!("the {REDACTED} here"));
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
