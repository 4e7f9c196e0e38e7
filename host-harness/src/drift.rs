//! What IDHub expects of a target, compared with what a reconciliation reads: each object in
//! sync, differing, unmatched (in the target only) or missing (expected, absent).
//!
//! The expected objects are JSON Lines of connector objects, as `recon` writes them; `uid` may
//! be empty for objects IDHub has not linked yet. An object read from the target is correlated
//! by uid first, then by name, case-insensitively (Atlassian's userName is). Only what the
//! expectation states is compared: its `enabled` flag when given, and each of its attributes;
//! multi-valued attributes compare as sets.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use connector_api::ConnectorObject;
use serde::Serialize;
use serde_json::Value;

use crate::cli::CliError;

/// One finding of a comparison; objects in sync give none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "situation", rename_all = "snake_case")]
pub enum Finding {
    /// Correlated, but some stated value differs.
    Differs {
        /// The target's uid.
        uid: String,
        /// The object's name.
        name: String,
        /// Each differing value: `__enabled__` or an attribute name.
        differences: BTreeMap<String, Difference>,
    },
    /// In the target, unknown to IDHub: an orphan account, or one IDHub never linked.
    Unmatched {
        /// The target's uid.
        uid: String,
        /// The object's name.
        name: String,
    },
    /// Expected, but not in the target.
    Missing {
        /// The uid IDHub knew, if any.
        #[serde(skip_serializing_if = "String::is_empty")]
        uid: String,
        /// The object's name.
        name: String,
    },
}

/// A value as expected and as found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// What IDHub expects.
    pub expected: Value,
    /// What the target holds (`null` when absent).
    pub actual: Value,
}

/// The counts of a comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DriftCounts {
    /// Correlated and equal in everything stated.
    pub in_sync: u64,
    /// Correlated with differences.
    pub differs: u64,
    /// In the target only.
    pub unmatched: u64,
    /// Expected only.
    pub missing: u64,
}

/// The expected objects, indexed for correlation, and which of them the target has shown.
#[derive(Debug)]
pub struct Expected {
    objects: Vec<ConnectorObject>,
    seen: Vec<bool>,
    by_uid: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    counts: DriftCounts,
}

impl Expected {
    /// Reads JSON Lines of connector objects; a bad line is an error naming its number.
    pub fn read(path: &Path) -> Result<Expected, CliError> {
        let cannot = |e: &dyn std::fmt::Display| {
            CliError::Usage(format!("{}: cannot read: {e}", path.display()))
        };
        let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
        let mut objects = Vec::new();
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| cannot(&e))?;
            if line.trim().is_empty() {
                continue;
            }
            let object: ConnectorObject = serde_json::from_str(&line).map_err(|e| {
                CliError::Usage(format!(
                    "{} line {}: not a connector object: {e}",
                    path.display(),
                    n + 1
                ))
            })?;
            objects.push(object);
        }
        Ok(Expected::new(objects))
    }

    /// Indexes `objects`; a later duplicate uid or name is shadowed by the first.
    pub fn new(objects: Vec<ConnectorObject>) -> Expected {
        let mut by_uid = HashMap::new();
        let mut by_name = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            if !o.uid.as_str().is_empty() {
                by_uid.entry(o.uid.0.clone()).or_insert(i);
            }
            by_name.entry(o.name.to_lowercase()).or_insert(i);
        }
        Expected {
            seen: vec![false; objects.len()],
            objects,
            by_uid,
            by_name,
            counts: DriftCounts::default(),
        }
    }

    /// Compares one object read from the target.
    pub fn observe(&mut self, actual: &ConnectorObject) -> Option<Finding> {
        let found = self
            .by_uid
            .get(actual.uid.as_str())
            .or_else(|| self.by_name.get(&actual.name.to_lowercase()))
            .copied();
        let Some(i) = found else {
            self.counts.unmatched += 1;
            return Some(Finding::Unmatched {
                uid: actual.uid.0.clone(),
                name: actual.name.clone(),
            });
        };
        self.seen[i] = true;
        let differences = differences(&self.objects[i], actual);
        if differences.is_empty() {
            self.counts.in_sync += 1;
            None
        } else {
            self.counts.differs += 1;
            Some(Finding::Differs {
                uid: actual.uid.0.clone(),
                name: actual.name.clone(),
                differences,
            })
        }
    }

    /// The expected objects the target never showed; call once the search is complete.
    pub fn missing(&mut self) -> Vec<Finding> {
        let missing: Vec<Finding> = self
            .objects
            .iter()
            .zip(&self.seen)
            .filter(|(_, seen)| !**seen)
            .map(|(o, _)| Finding::Missing {
                uid: o.uid.0.clone(),
                name: o.name.clone(),
            })
            .collect();
        self.counts.missing = missing.len() as u64;
        missing
    }

    /// The counts so far.
    pub fn counts(&self) -> DriftCounts {
        self.counts
    }
}

fn differences(
    expected: &ConnectorObject,
    actual: &ConnectorObject,
) -> BTreeMap<String, Difference> {
    let mut out = BTreeMap::new();
    if let Some(enabled) = expected.enabled {
        if actual.enabled != Some(enabled) {
            out.insert(
                connector_api::special::ENABLED.to_owned(),
                Difference {
                    expected: Value::Bool(enabled),
                    actual: actual.enabled.map_or(Value::Null, Value::Bool),
                },
            );
        }
    }
    for (name, want) in &expected.attributes {
        let have = actual.attributes.get(name).unwrap_or(&Value::Null);
        if !same(want, have) {
            out.insert(
                name.clone(),
                Difference {
                    expected: want.clone(),
                    actual: have.clone(),
                },
            );
        }
    }
    out
}

/// Equal, with arrays compared as sets and an empty array equal to an absent value.
fn same(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Array(w), Value::Array(h)) => {
            w.iter().all(|v| h.contains(v)) && h.iter().all(|v| w.contains(v))
        }
        (Value::Array(w), Value::Null) | (Value::Null, Value::Array(w)) => w.is_empty(),
        _ => want == have,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(uid: &str, name: &str, attributes: Value) -> ConnectorObject {
        let mut o = ConnectorObject::new(uid, name);
        o.attributes = serde_json::from_value(attributes).unwrap();
        o
    }

    #[test]
    fn every_situation_is_found_and_counted() {
        let mut expected = Expected::new(vec![
            object("u1", "ada@acme.com", json!({"title": "Analyst"})),
            object("", "Grace@acme.com", json!({"product_access": ["b", "a"]})),
            object("u3", "linus@acme.com", json!({})).with_enabled(true),
            object("", "gone@acme.com", json!({})),
        ]);
        // By uid, although renamed: the title differs.
        let f = expected.observe(&object(
            "u1",
            "ada.l@acme.com",
            json!({"title": "Engineer"}),
        ));
        assert_eq!(
            f,
            Some(Finding::Differs {
                uid: "u1".into(),
                name: "ada.l@acme.com".into(),
                differences: [(
                    "title".to_owned(),
                    Difference {
                        expected: json!("Analyst"),
                        actual: json!("Engineer"),
                    }
                )]
                .into(),
            })
        );
        // By name, case-insensitively; sets in another order, extra attributes ignored.
        let grace = object(
            "u2",
            "grace@acme.com",
            json!({"product_access": ["a", "b"], "x": 1}),
        );
        assert_eq!(expected.observe(&grace), None);
        // Disabled in the target, enabled in IDHub.
        let linus = object("u3", "linus@acme.com", json!({})).with_enabled(false);
        let Some(Finding::Differs { differences, .. }) = expected.observe(&linus) else {
            panic!("the enabled flag differs");
        };
        assert_eq!(differences["__enabled__"].actual, json!(false));
        // Unknown to IDHub.
        assert!(matches!(
            expected.observe(&object("u9", "orphan@acme.com", json!({}))),
            Some(Finding::Unmatched { .. })
        ));
        assert_eq!(
            expected.missing(),
            vec![Finding::Missing {
                uid: String::new(),
                name: "gone@acme.com".into()
            }]
        );
        assert_eq!(
            expected.counts(),
            DriftCounts {
                in_sync: 1,
                differs: 2,
                unmatched: 1,
                missing: 1
            }
        );
    }

    #[test]
    fn an_empty_list_equals_an_absent_attribute() {
        assert!(same(&json!([]), &Value::Null));
        assert!(!same(&json!(["a"]), &Value::Null));
        assert!(!same(&json!("a"), &Value::Null));
    }
}
