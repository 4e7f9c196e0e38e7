//! SCIM PATCH for users, in every form real identity providers send.
//!
//! `Operations` or `operations`; op names in any case; path-less `replace`/`add` with an object
//! (keys may be enterprise URNs); dotted sub-attributes (`name.givenName`); value-filter paths
//! (`emails[type eq "work"].value`), which create the element when none matches; enterprise
//! extension URN paths; `"True"`/`"False"` strings for booleans.

use serde_json::{Map, Value};

use crate::sim::error::SimError;
use crate::sim::store::{ENTERPRISE, USER_ATTRIBUTES, coerce_bool};

/// One PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

/// One operation of a PatchOp body: its op, path and value.
pub type Operation = (PatchOp, Option<String>, Option<Value>);

/// The operations of a PatchOp body.
pub fn operations(body: &Value) -> Result<Vec<Operation>, SimError> {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| SimError::bad_request("invalidSyntax", "PatchOp body has no Operations"))?;
    ops.iter()
        .map(|op| {
            let name = op.get("op").and_then(Value::as_str).unwrap_or("");
            let kind = match name.to_ascii_lowercase().as_str() {
                "add" => PatchOp::Add,
                "replace" => PatchOp::Replace,
                "remove" => PatchOp::Remove,
                _ => {
                    return Err(SimError::bad_request(
                        "invalidSyntax",
                        format!("Unsupported patch operation: {name}"),
                    ));
                }
            };
            let path = op.get("path").and_then(Value::as_str).map(str::to_owned);
            let value = op.get("value").cloned();
            if kind != PatchOp::Remove && value.is_none() {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!("{name} requires a value"),
                ));
            }
            if kind == PatchOp::Remove && path.is_none() {
                return Err(SimError::bad_request("noTarget", "remove requires a path"));
            }
            Ok((kind, path, value))
        })
        .collect()
}

/// A parsed attribute path.
#[derive(Debug, PartialEq)]
struct Path {
    attribute: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

fn canonical(name: &str) -> Result<String, SimError> {
    if ["id", "meta", "groups", "schemas"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(SimError::bad_request(
            "mutability",
            format!("Attribute {name} is read-only"),
        ));
    }
    USER_ATTRIBUTES
        .iter()
        .find(|a| a.eq_ignore_ascii_case(name))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            SimError::bad_request("invalidPath", format!("Attribute {name} is not supported"))
        })
}

fn parse_path(path: &str) -> Result<Path, SimError> {
    let path = path.trim();
    if path.len() >= ENTERPRISE.len() && path[..ENTERPRISE.len()].eq_ignore_ascii_case(ENTERPRISE) {
        let rest = &path[ENTERPRISE.len()..];
        let sub = rest.strip_prefix(':').map(str::to_owned);
        return Ok(Path {
            attribute: ENTERPRISE.to_owned(),
            filter: None,
            sub,
        });
    }
    if path.starts_with("urn:") {
        return Err(SimError::bad_request(
            "invalidPath",
            format!("Unsupported schema in path {path}"),
        ));
    }
    let (head, filter, tail) = match path.find('[') {
        Some(open) => {
            let close = path.rfind(']').ok_or_else(|| {
                SimError::bad_request("invalidPath", format!("Unclosed filter in {path}"))
            })?;
            (
                &path[..open],
                Some(&path[open + 1..close]),
                &path[close + 1..],
            )
        }
        None => match path.split_once('.') {
            Some((head, _)) => (head, None, &path[head.len()..]),
            None => (path, None, ""),
        },
    };
    let filter = filter
        .map(|f| {
            let mut parts = f.trim().splitn(3, char::is_whitespace);
            let (field, op, value) = (parts.next(), parts.next(), parts.next());
            match (field, op, value) {
                (Some(field), Some(op), Some(value)) if op.eq_ignore_ascii_case("eq") => {
                    Ok((field.to_owned(), value.trim().trim_matches('"').to_owned()))
                }
                _ => Err(SimError::bad_request(
                    "invalidFilter",
                    format!("Unsupported value filter: {f}"),
                )),
            }
        })
        .transpose()?;
    let sub = tail
        .strip_prefix('.')
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(Path {
        attribute: canonical(head)?,
        filter,
        sub,
    })
}

fn is_multi(attribute: &str) -> bool {
    attribute == "emails" || attribute == "phoneNumbers"
}

fn is_complex(attribute: &str) -> bool {
    attribute == "name" || attribute == ENTERPRISE
}

fn as_items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn element_matches(element: &Value, (field, expected): &(String, String)) -> bool {
    element
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)))
        .is_some_and(|(_, v)| match v {
            Value::String(s) => s.eq_ignore_ascii_case(expected),
            other => expected.parse::<Value>().is_ok_and(|e| &e == other),
        })
}

/// When a new element becomes primary, the others stop being primary.
fn keep_one_primary(items: &mut [Value], new_primary: usize) {
    for (i, item) in items.iter_mut().enumerate() {
        if i != new_primary {
            if let Some(o) = item.as_object_mut() {
                if o.get("primary") == Some(&Value::Bool(true)) {
                    o.insert("primary".into(), Value::Bool(false));
                }
            }
        }
    }
}

/// Applies a PatchOp body to a user's attributes.
/// What a strict RFC 7644 server refuses before applying a user PATCH: a `replace` on a
/// value-filter path that matches nothing (400 `noTarget`, RFC 7644 §3.5.2.3), and a `remove` of
/// a single-valued attribute without a value (refused by servers that do not implement remove).
pub fn strict_user_check(attrs: &Map<String, Value>, body: &Value) -> Result<(), SimError> {
    for (op, path, value) in operations(body)? {
        let Some(path) = path else { continue };
        let path = parse_path(&path)?;
        match (op, &path.filter) {
            (PatchOp::Remove, None) if value.is_none() && !is_multi(&path.attribute) => {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!(
                        "remove of {} is not supported; replace it instead",
                        path.attribute
                    ),
                ));
            }
            (PatchOp::Replace, Some(filter)) => {
                let matched = attrs
                    .get(&path.attribute)
                    .and_then(Value::as_array)
                    .is_some_and(|items| items.iter().any(|i| element_matches(i, filter)));
                if !matched {
                    return Err(SimError::bad_request(
                        "noTarget",
                        format!("no {} matches the filter", path.attribute),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn apply_user_patch(attrs: &mut Map<String, Value>, body: &Value) -> Result<(), SimError> {
    for (op, path, value) in operations(body)? {
        match path {
            None => {
                let Some(Value::Object(fields)) = value else {
                    return Err(SimError::bad_request(
                        "invalidValue",
                        "a path-less operation needs an object value",
                    ));
                };
                for (key, v) in fields {
                    if key == "schemas" {
                        continue;
                    }
                    if key.eq_ignore_ascii_case(ENTERPRISE) {
                        let Value::Object(subs) = v else {
                            return Err(SimError::bad_request(
                                "invalidValue",
                                "the enterprise extension must be an object",
                            ));
                        };
                        for (sub, sv) in subs {
                            apply(
                                attrs,
                                op,
                                &Path {
                                    attribute: ENTERPRISE.into(),
                                    filter: None,
                                    sub: Some(sub),
                                },
                                Some(sv),
                            )?;
                        }
                    } else {
                        apply(attrs, op, &parse_path(&key)?, Some(v))?;
                    }
                }
            }
            Some(path) => apply(attrs, op, &parse_path(&path)?, value)?,
        }
    }
    Ok(())
}

fn apply(
    attrs: &mut Map<String, Value>,
    op: PatchOp,
    path: &Path,
    value: Option<Value>,
) -> Result<(), SimError> {
    let attribute = path.attribute.as_str();
    let value = match (attribute, value) {
        ("active", Some(v)) => Some(Value::Bool(coerce_bool(&v).ok_or_else(|| {
            SimError::bad_request("invalidValue", format!("active must be a boolean, got {v}"))
        })?)),
        (_, v) => v,
    };
    match (&path.filter, &path.sub) {
        (None, None) => apply_whole(attrs, op, attribute, value)?,
        (None, Some(sub)) => apply_sub(attrs, op, attribute, sub, value)?,
        (Some(filter), sub) => apply_filtered(attrs, op, attribute, filter, sub.as_ref(), value)?,
    }
    Ok(())
}

/// `op` on a whole attribute (no filter, no sub-attribute).
fn apply_whole(
    attrs: &mut Map<String, Value>,
    op: PatchOp,
    attribute: &str,
    value: Option<Value>,
) -> Result<(), SimError> {
    match op {
        PatchOp::Remove => match (&value, attrs.get_mut(attribute)) {
            (Some(v), Some(Value::Array(items))) if is_multi(attribute) => {
                let gone = as_items(v);
                items.retain(|item| {
                    !gone
                        .iter()
                        .any(|g| g.get("value").is_some() && g.get("value") == item.get("value"))
                });
            }
            _ => {
                attrs.remove(attribute);
            }
        },
        PatchOp::Add if is_multi(attribute) => {
            let items = attrs
                .entry(attribute)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !items.is_array() {
                *items = Value::Array(Vec::new());
            }
            let items = items.as_array_mut().expect("made an array above");
            for new in as_items(&value.expect("checked by operations")) {
                match items
                    .iter()
                    .position(|i| i.get("value") == new.get("value"))
                {
                    Some(pos) => items[pos] = new.clone(),
                    None => items.push(new.clone()),
                }
                if new.get("primary") == Some(&Value::Bool(true)) {
                    let pos = items
                        .iter()
                        .position(|i| i.get("value") == new.get("value"))
                        .unwrap_or(0);
                    keep_one_primary(items, pos);
                }
            }
        }
        PatchOp::Add | PatchOp::Replace if is_complex(attribute) => {
            let Some(Value::Object(fields)) = value else {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!("{attribute} must be an object"),
                ));
            };
            let target = attrs
                .entry(attribute)
                .or_insert_with(|| Value::Object(Map::new()));
            if op == PatchOp::Replace || !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let target = target.as_object_mut().expect("made an object above");
            target.extend(fields);
        }
        PatchOp::Add | PatchOp::Replace => {
            let value = value.expect("checked by operations");
            if value.is_null() {
                attrs.remove(attribute);
            } else {
                attrs.insert(attribute.to_owned(), value);
            }
        }
    };
    Ok(())
}

/// `op` on a sub-attribute of a complex attribute (`name.givenName`).
fn apply_sub(
    attrs: &mut Map<String, Value>,
    op: PatchOp,
    attribute: &str,
    sub: &String,
    value: Option<Value>,
) -> Result<(), SimError> {
    if !is_complex(attribute) {
        return Err(SimError::bad_request(
            "invalidPath",
            format!("{attribute} has no sub-attribute {sub}"),
        ));
    }
    let target = attrs
        .entry(attribute)
        .or_insert_with(|| Value::Object(Map::new()));
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    match (op, value) {
        (PatchOp::Remove, _) | (_, Some(Value::Null)) => {
            target.remove(sub);
        }
        (_, Some(v)) => {
            target.insert(sub.clone(), v);
        }
        (_, None) => {}
    }
    if target.is_empty() {
        attrs.remove(attribute);
    }
    Ok(())
}

/// `op` on the elements of a multi-valued attribute a filter selects
/// (`emails[type eq "work"].value`).
fn apply_filtered(
    attrs: &mut Map<String, Value>,
    op: PatchOp,
    attribute: &str,
    filter: &(String, String),
    sub: Option<&String>,
    value: Option<Value>,
) -> Result<(), SimError> {
    if !is_multi(attribute) {
        return Err(SimError::bad_request(
            "invalidPath",
            format!("{attribute} is not multi-valued"),
        ));
    }
    let items = attrs
        .entry(attribute)
        .or_insert_with(|| Value::Array(Vec::new()));
    if !items.is_array() {
        *items = Value::Array(Vec::new());
    }
    let items = items.as_array_mut().expect("made an array above");
    let matching: Vec<usize> = (0..items.len())
        .filter(|&i| element_matches(&items[i], filter))
        .collect();
    match op {
        PatchOp::Remove => match sub {
            None => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !matching.contains(&(i - 1))
                });
            }
            Some(sub) => {
                for &i in &matching {
                    if let Some(o) = items[i].as_object_mut() {
                        o.remove(sub);
                    }
                }
            }
        },
        PatchOp::Add | PatchOp::Replace => {
            let value = value.expect("checked by operations");
            if matching.is_empty() {
                // Entra maps `emails[type eq "work"].value`: with no work email yet, the
                // element is created, primary when nothing else is.
                let mut element = Map::new();
                element.insert(filter.0.clone(), Value::String(filter.1.clone()));
                match (sub, value) {
                    (Some(sub), v) => {
                        element.insert(sub.clone(), v);
                    }
                    (None, Value::Object(o)) => element.extend(o),
                    (None, other) => {
                        element.insert("value".into(), other);
                    }
                }
                let has_primary = items
                    .iter()
                    .any(|i| i.get("primary") == Some(&Value::Bool(true)));
                if !has_primary {
                    element.insert("primary".into(), Value::Bool(true));
                }
                items.push(Value::Object(element));
            } else {
                for &i in &matching {
                    match (sub, &value) {
                        (Some(sub), v) => {
                            if let Some(o) = items[i].as_object_mut() {
                                o.insert(sub.clone(), v.clone());
                            }
                        }
                        (None, Value::Object(o)) => {
                            if let Some(target) = items[i].as_object_mut() {
                                target.extend(o.clone());
                            }
                        }
                        (None, other) => {
                            if let Some(target) = items[i].as_object_mut() {
                                target.insert("value".into(), other.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    if items.is_empty() {
        attrs.remove(attribute);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
