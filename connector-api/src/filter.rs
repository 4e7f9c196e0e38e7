//! Search filters, and their evaluation against an object for connectors that filter client-side.
//!
//! Attributes are schema names, or [`crate::model::special`] names for uid, name and enabled.
//! A connector translates what its target supports and either evaluates the rest with
//! [`Filter::matches`] or refuses it with [`crate::ErrorKind::InvalidFilter`]; it never answers
//! a filter it did not apply.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{ConnectorObject, special};

/// A search filter.
///
/// In JSON: `{"eq": {"attribute": "__name__", "value": "ada"}}`,
/// `{"and": [ ... ]}`, `{"or": [ ... ]}`, `{"not": { ... }}`,
/// `{"starts_with": {"attribute": "title", "value": "Dr"}}`,
/// `{"contains": {"attribute": "emails", "value": "@example.com"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// The attribute equals the value (for a multi-valued attribute: one of its values does).
    Eq(AttributeValue),
    /// A string value starts with the value.
    StartsWith(AttributeValue),
    /// A string value contains the value.
    Contains(AttributeValue),
    /// Every filter matches.
    And(Vec<Filter>),
    /// At least one filter matches.
    Or(Vec<Filter>),
    /// The filter does not match.
    Not(Box<Filter>),
}

/// An attribute name and a value to compare it with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AttributeValue {
    /// The attribute's schema name, or a [`special`] name.
    pub attribute: String,
    /// The value to compare with.
    pub value: Value,
}

impl Filter {
    /// `attribute` equals `value`.
    pub fn eq(attribute: &str, value: impl Into<Value>) -> Filter {
        Filter::Eq(AttributeValue {
            attribute: attribute.into(),
            value: value.into(),
        })
    }

    /// The uid equals `uid`.
    pub fn uid(uid: &str) -> Filter {
        Filter::eq(special::UID, uid)
    }

    /// The name equals `name`.
    pub fn name(name: &str) -> Filter {
        Filter::eq(special::NAME, name)
    }

    /// Every filter of `filters` matches.
    pub fn and(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::And(filters.into_iter().collect())
    }

    /// Whether `object` matches, comparing JSON values exactly.
    pub fn matches(&self, object: &ConnectorObject) -> bool {
        match self {
            Filter::Eq(av) => any_value(object, &av.attribute, |v| v == &av.value),
            Filter::StartsWith(av) => string_test(object, av, |s, p| s.starts_with(p)),
            Filter::Contains(av) => string_test(object, av, |s, p| s.contains(p)),
            Filter::And(fs) => fs.iter().all(|f| f.matches(object)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(object)),
            Filter::Not(f) => !f.matches(object),
        }
    }

    /// Every attribute the filter reads.
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_attributes(&mut out);
        out
    }

    fn collect_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::Eq(av) | Filter::StartsWith(av) | Filter::Contains(av) => {
                out.push(&av.attribute)
            }
            Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| f.collect_attributes(out)),
            Filter::Not(f) => f.collect_attributes(out),
        }
    }

    /// The value that an `eq` on `attribute` at the top level (alone or inside an `and`)
    /// requires, if any: the part of a filter most targets can answer server-side.
    pub fn required_eq(&self, attribute: &str) -> Option<&Value> {
        match self {
            Filter::Eq(av) if av.attribute == attribute => Some(&av.value),
            Filter::And(fs) => fs.iter().find_map(|f| f.required_eq(attribute)),
            _ => None,
        }
    }
}

fn any_value(object: &ConnectorObject, attribute: &str, test: impl Fn(&Value) -> bool) -> bool {
    match object.value(attribute) {
        Some(Value::Array(values)) => values.iter().any(test),
        Some(value) => test(&value),
        None => false,
    }
}

fn string_test(
    object: &ConnectorObject,
    av: &AttributeValue,
    test: fn(&str, &str) -> bool,
) -> bool {
    let Some(pattern) = av.value.as_str() else {
        return false;
    };
    any_value(object, &av.attribute, |v| {
        v.as_str().is_some_and(|s| test(s, pattern))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ada() -> ConnectorObject {
        ConnectorObject::new("u1", "ada")
            .with_enabled(true)
            .with_attr("emails", json!(["ada@example.com", "a@x.org"]))
            .with_attr("title", "Countess")
    }

    #[test]
    fn evaluates_every_operator() {
        let o = ada();
        assert!(Filter::uid("u1").matches(&o));
        assert!(Filter::name("ada").matches(&o));
        assert!(!Filter::name("Ada").matches(&o));
        assert!(Filter::eq("emails", "a@x.org").matches(&o));
        assert!(Filter::eq(special::ENABLED, true).matches(&o));
        assert!(Filter::and([Filter::name("ada"), Filter::eq("title", "Countess")]).matches(&o));
        assert!(!Filter::and([Filter::name("ada"), Filter::eq("title", "x")]).matches(&o));
        assert!(Filter::Or(vec![Filter::name("x"), Filter::uid("u1")]).matches(&o));
        assert!(Filter::Not(Box::new(Filter::name("x"))).matches(&o));
        let sw: Filter = serde_json::from_value(
            json!({"starts_with": {"attribute": "title", "value": "Count"}}),
        )
        .unwrap();
        assert!(sw.matches(&o));
        let c: Filter =
            serde_json::from_value(json!({"contains": {"attribute": "emails", "value": "x.org"}}))
                .unwrap();
        assert!(c.matches(&o));
        assert!(!Filter::eq("missing", "x").matches(&o));
    }

    #[test]
    fn json_shape_and_required_eq() {
        let f = Filter::and([Filter::name("ada"), Filter::eq("title", "x")]);
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(
            j,
            json!({"and": [{"eq": {"attribute": "__name__", "value": "ada"}},
                           {"eq": {"attribute": "title", "value": "x"}}]})
        );
        assert_eq!(f.required_eq(special::NAME), Some(&json!("ada")));
        assert_eq!(f.attributes(), vec!["__name__", "title"]);
    }
}
