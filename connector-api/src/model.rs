//! The data model: object classes, uids, connector objects and attribute deltas.
//!
//! It follows ConnId's model with Rust idioms: an object has an immutable `uid` given by the
//! target, a human `name` (a user's login, a group's display name), an `enabled` flag where the
//! class has one, and a map of attributes whose values are JSON. Multi-valued attributes are JSON
//! arrays.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The name of an object class, as declared by the connector's schema (`user`, `group`, ...).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct ObjectClass(pub String);

impl ObjectClass {
    /// The conventional class of accounts.
    pub fn user() -> Self {
        ObjectClass("user".into())
    }

    /// The conventional class of groups.
    pub fn group() -> Self {
        ObjectClass("group".into())
    }

    /// The class name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ObjectClass {
    fn from(s: &str) -> Self {
        ObjectClass(s.to_owned())
    }
}

impl PartialEq<str> for ObjectClass {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ObjectClass {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The target's immutable identifier of an object.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Uid(pub String);

impl Uid {
    /// The uid as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Uid {
    fn from(s: &str) -> Self {
        Uid(s.to_owned())
    }
}

impl From<String> for Uid {
    fn from(s: String) -> Self {
        Uid(s)
    }
}

/// Names that filters and `attributes_to_get` use for the built-in parts of an object.
pub mod special {
    /// The object's uid.
    pub const UID: &str = "__uid__";
    /// The object's name.
    pub const NAME: &str = "__name__";
    /// The object's enabled flag.
    pub const ENABLED: &str = "__enabled__";
}

/// One object of the target, as a connector reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ConnectorObject {
    /// The target's immutable identifier.
    pub uid: Uid,
    /// The human identifier (a user's login name, a group's display name).
    pub name: String,
    /// Whether the object is enabled; `None` for classes without the notion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The other attributes, by schema name. Multi-valued attributes are arrays.
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

impl ConnectorObject {
    /// An object with no attributes.
    pub fn new(uid: impl Into<Uid>, name: impl Into<String>) -> Self {
        ConnectorObject {
            uid: uid.into(),
            name: name.into(),
            enabled: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Sets the enabled flag.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets an attribute.
    pub fn with_attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.to_owned(), value.into());
        self
    }

    /// The value of `attribute`, including the special names of [`special`].
    pub fn value(&self, attribute: &str) -> Option<Value> {
        match attribute {
            special::UID => Some(Value::String(self.uid.0.clone())),
            special::NAME => Some(Value::String(self.name.clone())),
            special::ENABLED => self.enabled.map(Value::Bool),
            other => self.attributes.get(other).cloned(),
        }
    }

    /// Keeps only the attributes in `names` (uid, name and enabled are always kept).
    pub fn retain_attributes(&mut self, names: &[String]) {
        self.attributes.retain(|k, _| names.iter().any(|n| n == k));
    }
}

/// A change to one attribute, as ConnId's `AttributeDelta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AttributeDelta {
    /// The attribute's schema name.
    pub attribute: String,
    /// What to do with the values.
    #[serde(flatten)]
    pub change: DeltaChange,
}

/// The change an [`AttributeDelta`] makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeltaChange {
    /// Replace every value; an empty list (or `null`) clears the attribute.
    Replace(Vec<Value>),
    /// Add these values to a multi-valued attribute; values already present are kept once.
    Add(Vec<Value>),
    /// Remove these values; removing an absent value succeeds.
    Remove(Vec<Value>),
}

impl AttributeDelta {
    /// Replace every value of `attribute` with `values`.
    pub fn replace(attribute: &str, values: impl IntoIterator<Item = Value>) -> Self {
        AttributeDelta {
            attribute: attribute.into(),
            change: DeltaChange::Replace(values.into_iter().collect()),
        }
    }

    /// Add `values` to `attribute`.
    pub fn add(attribute: &str, values: impl IntoIterator<Item = Value>) -> Self {
        AttributeDelta {
            attribute: attribute.into(),
            change: DeltaChange::Add(values.into_iter().collect()),
        }
    }

    /// Remove `values` from `attribute`.
    pub fn remove(attribute: &str, values: impl IntoIterator<Item = Value>) -> Self {
        AttributeDelta {
            attribute: attribute.into(),
            change: DeltaChange::Remove(values.into_iter().collect()),
        }
    }

    /// Applies the delta to a JSON value in place, as a simple target would: single-valued
    /// attributes take the first replaced value; add and remove treat the value as a set.
    /// Answers the new value, or `None` when no value is left: clear the attribute then.
    pub fn apply_to(&self, current: Option<&Value>, multi_valued: bool) -> Option<Value> {
        let mut values: Vec<Value> = match current {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(v) => vec![v.clone()],
        };
        match &self.change {
            DeltaChange::Replace(new) => values = new.clone(),
            DeltaChange::Add(new) => {
                for v in new {
                    if !values.contains(v) {
                        values.push(v.clone());
                    }
                }
            }
            DeltaChange::Remove(old) => values.retain(|v| !old.contains(v)),
        }
        values.retain(|v| !v.is_null());
        if multi_valued {
            (!values.is_empty()).then_some(Value::Array(values))
        } else {
            values.into_iter().next()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delta_json_shape_is_flat() {
        let d = AttributeDelta::add("emails", [json!("a@x")]);
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"attribute": "emails", "add": ["a@x"]})
        );
        let back: AttributeDelta =
            serde_json::from_value(json!({"attribute": "title", "replace": ["Dr"]})).unwrap();
        assert_eq!(back, AttributeDelta::replace("title", [json!("Dr")]));
    }

    #[test]
    fn delta_applies_as_set_operations() {
        let cur = json!(["a", "b"]);
        let add = AttributeDelta::add("x", [json!("b"), json!("c")]);
        assert_eq!(add.apply_to(Some(&cur), true), Some(json!(["a", "b", "c"])));
        let rm = AttributeDelta::remove("x", [json!("zz")]);
        assert_eq!(rm.apply_to(Some(&cur), true), Some(cur.clone()));
        let clear = AttributeDelta::replace("x", []);
        assert_eq!(clear.apply_to(Some(&cur), true), None);
        let single = AttributeDelta::replace("t", [json!("Dr")]);
        assert_eq!(single.apply_to(None, false), Some(json!("Dr")));
    }
}
