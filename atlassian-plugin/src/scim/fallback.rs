//! The PATCH forms a strict SCIM server takes where it refuses the common ones.
//!
//! Identity providers send `remove` of a single-valued attribute without a value, `replace` on a
//! value-filter path whether or not an element matches, and member removal as
//! `{"op": "remove", "path": "members", "value": [...]}` (the Entra form, which Atlassian
//! accepts). RFC 7644 allows a server to refuse each: a `replace` whose filter matches nothing is
//! 400 `noTarget` (§3.5.2.3), and a `remove` of `members` without a filter means "remove all".
//! Each has an equivalent a strict server takes: `replace` with `""` (the openstandia Atlassian
//! Guard connector's form), an `add` of the element, and `members[value eq "<id>"]`.

use serde_json::{Value, json};

use super::types::{PatchOperation, quote};

/// The strict equivalent of a user PATCH, when any of its operations has one.
pub(crate) fn strict_user_ops(ops: &[PatchOperation]) -> Option<Vec<PatchOperation>> {
    let mut changed = false;
    let strict = ops
        .iter()
        .map(|op| match strict_user_op(op) {
            Some(strict) => {
                changed = true;
                strict
            }
            None => op.clone(),
        })
        .collect();
    changed.then_some(strict)
}

fn strict_user_op(op: &PatchOperation) -> Option<PatchOperation> {
    let path = op.path.as_deref()?;
    match (op.op, &op.value, filtered(path)) {
        ("remove", None, None) => Some(PatchOperation::replace(path, json!(""))),
        ("replace", Some(value), Some((attribute, (key, wanted), "value"))) => {
            let mut element = serde_json::Map::new();
            element.insert(key.to_owned(), json!(wanted));
            element.insert("value".into(), value.clone());
            if attribute == "emails" {
                element.insert("primary".into(), json!(true));
            }
            Some(PatchOperation::add(attribute, json!([element])))
        }
        _ => None,
    }
}

/// `attr[key eq "v"].sub` as `(attr, (key, v), sub)`.
fn filtered(path: &str) -> Option<(&str, (&str, &str), &str)> {
    let (attribute, rest) = path.split_once('[')?;
    let (filter, sub) = rest.split_once("].")?;
    let mut words = filter.splitn(3, ' ');
    let (key, eq, value) = (words.next()?, words.next()?, words.next()?);
    let value = value.strip_prefix('"')?.strip_suffix('"')?;
    eq.eq_ignore_ascii_case("eq")
        .then_some((attribute, (key, value), sub))
}

/// The strict equivalent of a group PATCH that removes members by value: one
/// `members[value eq "<id>"]` removal per member.
pub(crate) fn strict_group_ops(ops: &[PatchOperation]) -> Option<Vec<PatchOperation>> {
    let mut changed = false;
    let mut strict = Vec::new();
    for op in ops {
        let removes_by_value = op.op == "remove" && op.path.as_deref() == Some("members");
        match (&op.value, removes_by_value) {
            (Some(Value::Array(members)), true) => {
                changed = true;
                for id in members.iter().filter_map(|m| m.get("value")?.as_str()) {
                    let path = format!("members[value eq {}]", quote(id));
                    strict.push(PatchOperation::remove(&path, None));
                }
            }
            _ => strict.push(op.clone()),
        }
    }
    changed.then_some(strict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_common_form_has_its_strict_equivalent() {
        let ops = [
            PatchOperation::remove("title", None),
            PatchOperation::replace(r#"phoneNumbers[type eq "mobile"].value"#, json!("+1 5")),
            PatchOperation::replace("displayName", json!("Ada")),
        ];
        let strict = strict_user_ops(&ops).unwrap();
        assert_eq!(strict[0], PatchOperation::replace("title", json!("")));
        assert_eq!(
            strict[1],
            PatchOperation::add("phoneNumbers", json!([{"type": "mobile", "value": "+1 5"}]))
        );
        assert_eq!(strict[2], ops[2]);
        assert!(strict_user_ops(&ops[2..]).is_none());
        let remove = [PatchOperation::remove(
            "members",
            Some(json!([{"value": "u-1"}, {"value": "u\"2"}])),
        )];
        let strict = strict_group_ops(&remove).unwrap();
        assert_eq!(strict.len(), 2);
        assert_eq!(
            strict[1].path.as_deref(),
            Some(r#"members[value eq "u\"2"]"#)
        );
    }
}
