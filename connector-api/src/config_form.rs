//! The configuration's JSON Schema as stock form libraries read it, and the JSON Forms UI schema.
//!
//! An admin UI renders the set-up form of a connector from [`Manifest::config_schema`]; stock
//! libraries (react-jsonschema-form, JSON Forms) and Ajv's strict mode fail on several things
//! schemars writes by default, so the schema is generated once, here, without them:
//!
//! - **no `$ref`**: definitions are inlined, so a field's `title`, `description` and `default`
//!   sit on the field itself (libraries drop them beside a `$ref`). Only a recursive type keeps a
//!   `$ref`, moved into `allOf` so nothing sits beside it;
//! - **standard formats only** (plus `password`, which marks a [`crate::Secret`]): Rust's
//!   `uint32`/`int64`… become the range they stand for (`minimum`, and `maximum` where a JSON
//!   number holds it exactly);
//! - **typed, titled enums**: a `oneOf` of constants (a unit enum with doc comments) gets their
//!   `type`, and each branch a `title` (the variant's `#[schemars(title)]`, else its value in
//!   words: `revoke_access` → "Revoke access");
//! - **`Option<T>` is just `T`, not required**: no `"type": [T, "null"]`, which forms render
//!   badly; a form leaves an optional field out rather than sending `null`.
//!
//! [`ui_schema`] derives a JSON Forms UI schema from it: the fields in declaration order,
//! secrets as password inputs, descriptions always shown.
//!
//! [`Manifest::config_schema`]: crate::Manifest::config_schema

use schemars::generate::SchemaSettings;
use schemars::transform::{RemoveRefSiblings, RestrictFormats, Transform, transform_subschemas};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

/// The JSON Schema (draft 2020-12) of a configuration type, as the manifest publishes it.
pub fn config_schema<T: JsonSchema>() -> Value {
    let mut formats = RestrictFormats::default();
    formats.allowed_formats.insert("password".into());
    let generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        .with_transform(IntegerRanges)
        .with_transform(formats)
        .with_transform(TypedEnums)
        .with_transform(OptionalNotNull)
        .with_transform(RemoveRefSiblings::default())
        .into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// A JSON Forms UI schema for `schema` (as [`config_schema`] makes it): a vertical layout of
/// one control per top-level field, in the schema's order; a `writeOnly` field (a secret) is a
/// password input; every description is shown, not only on focus.
pub fn ui_schema(schema: &Value) -> Value {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Value::Null;
    };
    let elements: Vec<Value> = properties
        .iter()
        .map(|(name, field)| {
            let mut options = Map::new();
            options.insert("showUnfocusedDescription".into(), true.into());
            if field.get("writeOnly") == Some(&Value::Bool(true)) {
                options.insert("format".into(), "password".into());
            }
            json!({
                "type": "Control",
                "scope": format!("#/properties/{}", pointer_escape(name)),
                "options": options,
            })
        })
        .collect();
    json!({ "type": "VerticalLayout", "elements": elements })
}

/// `name` as one JSON Pointer segment (RFC 6901).
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Rust's integer formats (`uint32`, `int8`…) as the ranges they stand for. Runs before the
/// formats are restricted, which removes them.
#[derive(Debug, Clone)]
struct IntegerRanges;

impl Transform for IntegerRanges {
    fn transform(&mut self, schema: &mut Schema) {
        let range = schema.get("format").and_then(Value::as_str).and_then(|f| {
            Some(match f {
                "int8" => (Some(i8::MIN as i64), Some(i8::MAX as u64)),
                "int16" => (Some(i16::MIN as i64), Some(i16::MAX as u64)),
                "int32" => (Some(i32::MIN as i64), Some(i32::MAX as u64)),
                "uint8" => (Some(0), Some(u8::MAX as u64)),
                "uint16" => (Some(0), Some(u16::MAX as u64)),
                "uint32" => (Some(0), Some(u32::MAX as u64)),
                // 64-bit bounds are beyond what a JSON number (an f64) holds exactly.
                "uint" | "uint64" | "uint128" => (Some(0), None),
                _ => return None,
            })
        });
        if let Some((minimum, maximum)) = range {
            if let Some(minimum) = minimum {
                schema
                    .ensure_object()
                    .entry("minimum")
                    .or_insert(minimum.into());
            }
            if let Some(maximum) = maximum {
                schema
                    .ensure_object()
                    .entry("maximum")
                    .or_insert(maximum.into());
            }
        }
        transform_subschemas(self, schema);
    }
}

/// A `oneOf` whose branches are all constants of one type: that type on the whole, and a
/// `title` on each branch, so a form shows a select of titled options.
#[derive(Debug, Clone)]
struct TypedEnums;

impl Transform for TypedEnums {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(branches) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
            let constants: Option<Vec<&Value>> = branches.iter().map(|b| b.get("const")).collect();
            let kind = constants.as_deref().and_then(common_type);
            if let Some(kind) = kind {
                for branch in branches.iter_mut().filter_map(Value::as_object_mut) {
                    if !branch.contains_key("title") {
                        let title = words(&branch["const"]);
                        branch.insert("title".into(), title.into());
                    }
                }
                schema.ensure_object().entry("type").or_insert(kind.into());
            }
        }
        transform_subschemas(self, schema);
    }
}

/// The JSON type all `constants` share, if they share one.
fn common_type(constants: &[&Value]) -> Option<&'static str> {
    let kind = |v: &Value| match v {
        Value::String(_) => Some("string"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        Value::Bool(_) => Some("boolean"),
        _ => None,
    };
    let first = kind(constants.first()?)?;
    constants
        .iter()
        .all(|c| kind(c) == Some(first))
        .then_some(first)
}

/// A constant as words: `revoke_access` and `revoke-access` → "Revoke access".
fn words(constant: &Value) -> String {
    let text = match constant {
        Value::String(s) => s.replace(['_', '-'], " "),
        other => other.to_string(),
    };
    let mut chars = text.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// `"type": ["string", "null"]` (an `Option<String>`) → `"type": "string"`: the field is
/// already optional by not being `required`.
#[derive(Debug, Clone)]
struct OptionalNotNull;

impl Transform for OptionalNotNull {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                schema.insert("type".into(), only);
            }
        }
        if let Some(branches) = schema.get_mut("anyOf").and_then(Value::as_array_mut) {
            branches.retain(|b| b.get("type") != Some(&Value::from("null")));
            if branches.len() == 1 {
                let only = branches.remove(0);
                let object = schema.ensure_object();
                object.remove("anyOf");
                if let Value::Object(inner) = only {
                    for (key, value) in inner {
                        object.entry(key).or_insert(value);
                    }
                }
            }
        }
        transform_subschemas(self, schema);
    }
}

#[cfg(test)]
mod tests;
