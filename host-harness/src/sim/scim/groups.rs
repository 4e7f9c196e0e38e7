//! `/scim/directory/{directoryId}/Groups[/{id}]`: list, create, get, replace, patch, delete.
//!
//! displayName is immutable (renames are refused with `mutability`, as Atlassian refuses them);
//! members are SCIM user ids, added and removed in both forms IdPs send.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::patch::{PatchOp, operations};
use super::{
    Authorized, ListQuery, ListResponse, Projection, ResourcePath, created_json, filter,
    object_body, paging, scim_json,
};
use crate::sim::error::{Scim, SimError};
use crate::sim::state::SimState;
use crate::sim::store::{Group, Org};

/// A group as Atlassian returns it; no `externalId` key when unset.
pub fn render(org: &Org, group: &Group) -> Value {
    let base = &org.settings.scim_base_url;
    let members: Vec<Value> = group
        .members
        .iter()
        .filter_map(|account| org.user_of_account(account))
        .map(|u| json!({"type": "User", "value": u.id, "display": u.user_name(), "$ref": format!("{base}/Users/{}", u.id)}))
        .collect();
    let mut m = Map::new();
    m.insert(
        "schemas".into(),
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]),
    );
    m.insert("id".into(), json!(group.id));
    if let Some(ext) = &group.external_id {
        m.insert("externalId".into(), json!(ext));
    }
    m.insert("displayName".into(), json!(group.name));
    m.insert("members".into(), Value::Array(members));
    m.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "location": format!("{base}/Groups/{}", group.id),
            "lastModified": group.last_modified,
            "created": group.created,
        }),
    );
    Value::Object(m)
}

fn group_not_found(id: &str) -> Scim {
    Scim(SimError::not_found(format!(
        "Resource [GROUP] with id {id} not found"
    )))
}

/// GET /Groups.
pub async fn list(
    State(state): State<SimState>,
    Query(q): Query<ListQuery>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let org = state.store.read();
    let (offset, count, requested) = paging(&q, org.settings.scim_page_cap).map_err(Scim)?;
    let projection = Projection::of(&q);
    let body = match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => {
            let f = filter::parse(f, &["displayName"]).map_err(Scim)?;
            let found: Vec<&Group> = org
                .group_by_name(&f.value)
                .filter(|g| g.source == crate::sim::store::GroupSource::Scim)
                .into_iter()
                .collect();
            let page = found
                .iter()
                .skip(offset)
                .take(count)
                .map(|g| projection.apply(render(&org, g)))
                .collect();
            ListResponse::new(found.len(), offset, requested, page)
        }
        None => {
            let (page, total) = org.scim_groups_page(offset, count);
            let page = page
                .into_iter()
                .map(|g| projection.apply(render(&org, g)))
                .collect();
            ListResponse::new(total, offset, requested, page)
        }
    };
    Ok(scim_json(
        StatusCode::OK,
        &serde_json::to_value(body).unwrap_or_default(),
    ))
}

/// Member references of a body, resolved to accounts; an unknown user is a 400 here (POST, PUT).
fn body_members(org: &Org, body: &Map<String, Value>) -> Result<Vec<String>, Scim> {
    match body.get("members") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(members) => org.member_accounts(members).map_err(|e| {
            Scim(if e.status == 404 {
                SimError::bad_request(
                    "invalidValue",
                    "Bad request, the users referenced do not exist",
                )
            } else {
                e
            })
        }),
    }
}

/// POST /Groups.
pub async fn create(
    State(state): State<SimState>,
    _auth: Authorized,
    body: Bytes,
) -> Result<Response, Scim> {
    let body = object_body(&body)?;
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Scim(SimError::bad_request(
                "invalidValue",
                "displayName is required",
            ))
        })?;
    let external_id = body
        .get("externalId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let mut org = state.store.write();
    let members = body_members(&org, &body)?;
    let id = org
        .create_scim_group(name, external_id, members)
        .map_err(Scim)?;
    let group = org.group(&id).expect("just created");
    Ok(created_json(&render(&org, group)))
}

/// GET /Groups/{id}.
pub async fn get(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    Query(q): Query<ListQuery>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let org = state.store.read();
    let group = org
        .scim_group(&p.id)
        .ok_or_else(|| group_not_found(&p.id))?;
    Ok(scim_json(
        StatusCode::OK,
        &Projection::of(&q).apply(render(&org, group)),
    ))
}

fn refuse_rename(group: &Group, name: Option<&Value>) -> Result<(), Scim> {
    match name {
        Some(Value::String(n)) if n != &group.name => Err(Scim(SimError::bad_request(
            "mutability",
            "displayName is immutable: renaming groups is not supported; create a new group, move the members, then delete the old group",
        ))),
        _ => Ok(()),
    }
}

/// PUT /Groups/{id}: replaces the members (and externalId).
pub async fn replace(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
    body: Bytes,
) -> Result<Response, Scim> {
    let body = object_body(&body)?;
    let mut org = state.store.write();
    let group = org
        .scim_group(&p.id)
        .ok_or_else(|| group_not_found(&p.id))?
        .clone();
    refuse_rename(&group, body.get("displayName"))?;
    let members: BTreeSet<String> = body_members(&org, &body)?.into_iter().collect();
    set_members(&mut org, &group, &members);
    let ext = body
        .get("externalId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    org.set_group_external_id(&p.id, ext);
    let group = org.group(&p.id).expect("exists");
    Ok(scim_json(StatusCode::OK, &render(&org, group)))
}

fn set_members(org: &mut Org, group: &Group, members: &BTreeSet<String>) {
    for gone in group.members.difference(members) {
        org.remove_member(&group.id, gone);
    }
    for new in members.difference(&group.members) {
        org.add_member(&group.id, new);
    }
}

/// The user ids named by `members[value eq "id"]`, if the path has that form.
fn member_filter(path: &str) -> Option<String> {
    let inner = path.strip_prefix("members[")?.strip_suffix(']')?;
    let mut parts = inner.splitn(3, char::is_whitespace);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(f), Some(op), Some(v))
            if f.eq_ignore_ascii_case("value") && op.eq_ignore_ascii_case("eq") =>
        {
            Some(v.trim().trim_matches('"').to_owned())
        }
        _ => None,
    }
}

/// PATCH /Groups/{id}.
pub async fn patch(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
    body: Bytes,
) -> Result<Response, Scim> {
    let body = Value::Object(object_body(&body)?);
    let ops = operations(&body).map_err(Scim)?;
    let mut org = state.store.write();
    let group = org
        .scim_group(&p.id)
        .ok_or_else(|| group_not_found(&p.id))?
        .clone();
    // Resolve and validate every operation before applying any: a PATCH applies whole or not at all.
    enum Step {
        Members(PatchOp, Option<Vec<String>>),
        ExternalId(Option<String>),
    }
    let mut plan = Vec::new();
    for (op, path, value) in ops {
        let entries: Vec<(String, Value)> = match (&path, value) {
            (Some(path), v) => vec![(path.clone(), v.unwrap_or(Value::Null))],
            (None, Some(Value::Object(o))) => {
                o.into_iter().filter(|(k, _)| k != "schemas").collect()
            }
            (None, _) => {
                return Err(Scim(SimError::bad_request(
                    "invalidValue",
                    "a path-less operation needs an object value",
                )));
            }
        };
        for (path, value) in entries {
            let members = |value: Value| -> Result<Option<Vec<String>>, Scim> {
                if value.is_null() {
                    return Ok(None);
                }
                let value = if value.is_array() {
                    value
                } else {
                    json!([value])
                };
                org.member_accounts(&value).map(Some).map_err(Scim)
            };
            if let Some(user) = member_filter(&path) {
                if op != PatchOp::Remove {
                    return Err(Scim(SimError::bad_request(
                        "invalidPath",
                        format!("{path} only supports remove"),
                    )));
                }
                plan.push(Step::Members(op, members(json!([{ "value": user }]))?));
            } else if path.eq_ignore_ascii_case("members") {
                if state.switches.strict_patch && op == PatchOp::Remove && !value.is_null() {
                    return Err(Scim(SimError::bad_request(
                        "invalidValue",
                        "remove of members takes no value; remove members[value eq \"…\"] instead",
                    )));
                }
                plan.push(Step::Members(op, members(value)?));
            } else if path.eq_ignore_ascii_case("displayName") {
                if op == PatchOp::Remove {
                    return Err(Scim(SimError::bad_request(
                        "mutability",
                        "displayName is required",
                    )));
                }
                refuse_rename(&group, Some(&value))?;
            } else if path.eq_ignore_ascii_case("externalId") {
                let ext = if op == PatchOp::Remove {
                    None
                } else {
                    value.as_str().map(str::to_owned)
                };
                plan.push(Step::ExternalId(ext));
            } else {
                return Err(Scim(SimError::bad_request(
                    "invalidPath",
                    format!("Attribute {path} is not supported on groups"),
                )));
            }
        }
    }
    for step in plan {
        match step {
            Step::ExternalId(ext) => org.set_group_external_id(&p.id, ext),
            Step::Members(PatchOp::Add, Some(accounts)) => accounts.iter().for_each(|a| {
                org.add_member(&p.id, a);
            }),
            Step::Members(PatchOp::Remove, Some(accounts)) => accounts.iter().for_each(|a| {
                org.remove_member(&p.id, a);
            }),
            Step::Members(PatchOp::Add, None) => {}
            Step::Members(op, accounts) => {
                // replace, or remove of every member
                let keep = if op == PatchOp::Replace {
                    accounts.unwrap_or_default()
                } else {
                    Vec::new()
                };
                let current = org.group(&p.id).expect("exists").clone();
                set_members(&mut org, &current, &keep.into_iter().collect());
            }
        }
    }
    let group = org.group(&p.id).expect("exists");
    Ok(scim_json(StatusCode::OK, &render(&org, group)))
}

/// DELETE /Groups/{id}.
pub async fn delete(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let mut org = state.store.write();
    if org.scim_group(&p.id).is_none() {
        return Err(group_not_found(&p.id));
    }
    org.delete_group(&p.id).map_err(Scim)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
