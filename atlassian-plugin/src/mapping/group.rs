//! Groups: connector objects to and from SCIM groups, member lists and their PATCH batches.

use std::collections::BTreeSet;

use connector_api::ops::{OpCreate, OpUpdate};
use connector_api::{AttributeDelta, ConnectorError, ConnectorObject, DeltaChange, Result};
use serde_json::{Value, json};

use super::{GROUP_EXTERNAL_ID, MEMBERS, string_list, string_value};
use crate::scim::types::{GROUP_SCHEMA, Group, PatchOperation, Reference};

/// The most members one request may name: Atlassian's largest group, with room.
pub(crate) const MAX_MEMBERS: usize = 300_000;

/// Member uids from a multi-valued `members` value: each once, in order; an empty or overlong
/// uid, or more than [`MAX_MEMBERS`], is an error naming `members`.
pub(crate) fn member_ids(value: &Value) -> Result<Vec<String>> {
    let ids = string_list(MEMBERS, value)?;
    if ids.len() > MAX_MEMBERS {
        return Err(ConnectorError::invalid_value(
            MEMBERS,
            format!("{} values; at most {MAX_MEMBERS} in one request", ids.len()),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !crate::scim::client::is_resource_id(&id) {
            let shown: String = id.chars().take(80).collect();
            return Err(ConnectorError::invalid_value(
                MEMBERS,
                format!("`{shown}` is not a user uid"),
            ));
        }
        if seen.insert(id.clone()) {
            unique.push(id);
        }
    }
    Ok(unique)
}

/// The SCIM group of a create request.
pub fn new_group(op: &OpCreate) -> Result<Group> {
    if op.name.trim().is_empty() {
        return Err(ConnectorError::invalid_value(
            "__name__",
            "the group name must not be empty",
        ));
    }
    if op.enabled.is_some() {
        return Err(ConnectorError::invalid_value(
            "__enabled__",
            "groups have no enabled flag",
        ));
    }
    let mut group = Group {
        schemas: vec![GROUP_SCHEMA.into()],
        display_name: op.name.clone(),
        ..Group::default()
    };
    for (attribute, value) in &op.attributes {
        match attribute.as_str() {
            MEMBERS => {
                group.members = member_ids(value)?
                    .into_iter()
                    .map(|value| Reference {
                        value,
                        display: None,
                    })
                    .collect();
            }
            GROUP_EXTERNAL_ID => {
                group.external_id = (!value.is_null())
                    .then(|| string_value(GROUP_EXTERNAL_ID, value))
                    .transpose()?
            }
            other => {
                return Err(ConnectorError::invalid_value(
                    other,
                    "no such attribute on class `group`",
                ));
            }
        }
    }
    Ok(group)
}

/// The connector object of a SCIM group.
pub fn group_object(group: &Group) -> ConnectorObject {
    let mut object = ConnectorObject::new(
        group.id.clone().unwrap_or_default(),
        group.display_name.clone(),
    );
    let members: Vec<&str> = group.members.iter().map(|m| m.value.as_str()).collect();
    object.attributes.insert(MEMBERS.into(), json!(members));
    if let Some(ext) = group.external_id.as_deref().filter(|s| !s.is_empty()) {
        object
            .attributes
            .insert(GROUP_EXTERNAL_ID.into(), json!(ext));
    }
    object
}

/// Members per PATCH operation: large changes are split so each request stays small.
pub(crate) const MEMBER_BATCH: usize = 100;

/// Whether [`group_patches`] needs the group as it is now for `op`.
pub fn needs_current(op: &OpUpdate) -> bool {
    op.deltas
        .iter()
        .any(|d| match (&d.change, d.attribute.as_str()) {
            (DeltaChange::Remove(_), GROUP_EXTERNAL_ID) => true,
            (DeltaChange::Replace(values), MEMBERS) => values.len() > MEMBER_BATCH,
            _ => false,
        })
}

/// The PATCH requests (each a list of operations) of a group update; renames are refused.
/// `current` is the group as it is now, needed to remove an externalId only when it is there
/// and to turn a members replace too large for one request into adds and removes (see
/// `needs_current`).
pub fn group_patches(op: &OpUpdate, current: Option<&Group>) -> Result<Vec<Vec<PatchOperation>>> {
    if op.name.is_some() {
        return Err(ConnectorError::unsupported("rename", Some("group")).with_details(json!({
            "operation": "rename", "class": "group",
            "reason": "Atlassian does not support renaming synced groups: create a new group, move the members, then delete the old one",
        })));
    }
    if op.enabled.is_some() {
        return Err(ConnectorError::invalid_value(
            "__enabled__",
            "groups have no enabled flag",
        ));
    }
    let mut requests = Vec::new();
    for AttributeDelta {
        attribute, change, ..
    } in &op.deltas
    {
        match attribute.as_str() {
            MEMBERS => {
                let (kind, values) = match change {
                    DeltaChange::Replace(v) => ("replace", v),
                    DeltaChange::Add(v) => ("add", v),
                    DeltaChange::Remove(v) => ("remove", v),
                };
                let ids = member_ids(&Value::Array(values.clone()))?;
                let refs = |chunk: &[String]| {
                    json!(
                        chunk
                            .iter()
                            .map(|id| json!({ "value": id }))
                            .collect::<Vec<_>>()
                    )
                };
                if kind == "replace" && ids.len() <= MEMBER_BATCH {
                    // The whole list fits one request: one replace, applied at once.
                    requests.push(vec![PatchOperation::replace(MEMBERS, refs(&ids))]);
                    continue;
                }
                let (add, remove) = match kind {
                    // Too many for one request: a diff against the members now, adds first,
                    // so that no one who stays is ever absent, even if a later batch fails.
                    "replace" => {
                        let has: BTreeSet<String> = current
                            .ok_or_else(|| {
                                ConnectorError::internal(
                                    "a large members replace needs the group as it is",
                                )
                            })?
                            .members
                            .iter()
                            .map(|m| m.value.clone())
                            .collect();
                        let want: BTreeSet<String> = ids.iter().cloned().collect();
                        (
                            want.difference(&has).cloned().collect::<Vec<_>>(),
                            has.difference(&want).cloned().collect::<Vec<_>>(),
                        )
                    }
                    "add" => (ids, Vec::new()),
                    _ => (Vec::new(), ids),
                };
                for chunk in add.chunks(MEMBER_BATCH) {
                    requests.push(vec![PatchOperation::add(MEMBERS, refs(chunk))]);
                }
                for chunk in remove.chunks(MEMBER_BATCH) {
                    requests.push(vec![PatchOperation::remove(MEMBERS, Some(refs(chunk)))]);
                }
            }
            GROUP_EXTERNAL_ID => {
                let now = current.and_then(|g| g.external_id.as_deref());
                let op = match change {
                    DeltaChange::Replace(v) | DeltaChange::Add(v) => {
                        match v.first().filter(|v| !v.is_null()) {
                            Some(v) => Some(PatchOperation::replace(
                                "externalId",
                                json!(string_value(GROUP_EXTERNAL_ID, v)?),
                            )),
                            None => Some(PatchOperation::remove("externalId", None)),
                        }
                    }
                    // Removing a value the group does not have succeeds without a change.
                    DeltaChange::Remove(v) => v
                        .iter()
                        .any(|v| v.as_str() == now)
                        .then(|| PatchOperation::remove("externalId", None)),
                };
                requests.extend(op.map(|op| vec![op]));
            }
            other => {
                return Err(ConnectorError::invalid_value(
                    other,
                    "no such attribute on class `group`",
                ));
            }
        }
    }
    Ok(requests)
}
