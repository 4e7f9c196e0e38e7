//! Confluence group endpoints.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::sim::error::{Confluence, SimError};
use crate::sim::jira::{Params, param};
use crate::sim::profile::CONFLUENCE;
use crate::sim::site;
use crate::sim::state::SimState;
use crate::sim::store::{AccessType, Account, Group, Org};

/// The fixed system limit on member pages.
pub const MEMBER_LIMIT: usize = 200;

/// Checks Basic auth; answers the caller's account id.
pub fn authorize(state: &SimState, headers: &HeaderMap) -> Result<String, Confluence> {
    crate::sim::jira::caller(state, headers).map_err(Confluence)
}

/// Checks Basic auth and site-admin permission (Confluence's group writes: "User must be a site
/// admin", Confluence REST v1, Group).
fn authorize_admin(state: &SimState, headers: &HeaderMap) -> Result<(), Confluence> {
    let account = authorize(state, headers)?;
    if state.store.read().is_site_admin(&account) {
        Ok(())
    } else {
        Err(Confluence(SimError::forbidden(
            "User is not permitted to manage groups.",
        )))
    }
}

pub(super) fn json_ok(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn render_group(org: &Org, g: &Group) -> Value {
    json!({
        "type": "group",
        "name": g.name,
        "id": g.id,
        "_links": {"self": format!("{}/wiki/rest/api/group/by-id?id={}", org.settings.site_base_url, g.id)},
    })
}

fn render_user(org: &Org, a: &Account) -> Value {
    json!({
        "type": "known",
        "accountId": a.account_id,
        "accountType": "atlassian",
        "email": if a.email_visible { a.email.as_str() } else { "" },
        "publicName": a.display_name,
        "displayName": a.display_name,
        "profilePicture": {"path": format!("/wiki/aa-avatar/{}", a.account_id), "width": 48, "height": 48, "isDefault": true},
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": format!("{}/wiki/rest/api/user?accountId={}", org.settings.site_base_url, a.account_id)},
    })
}

fn int(q: &Params, name: &str, default: usize) -> Result<usize, Confluence> {
    match param(q, name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            Confluence(SimError::bad_request(
                "invalidValue",
                format!("{name} must be a non-negative integer"),
            ))
        }),
    }
}

fn group_not_found(what: &str) -> Confluence {
    Confluence(SimError::not_found(format!("No group found with {what}")))
}

/// GET /group: groups sorted by name; `accessType` (`user`, `admin`, `site-admin`) keeps the
/// groups that give that access to Confluence (Confluence REST v1, "Get groups").
pub async fn list(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    authorize(&state, &headers)?;
    let start = int(&q, "start", 0)?;
    let limit = int(&q, "limit", 25)?.clamp(1, MEMBER_LIMIT);
    let access = AccessType::from_query(param(&q, "accessType")).map_err(Confluence)?;
    let org = state.store.read();
    let confluence = |p: &str| p == CONFLUENCE;
    let all: Vec<&Group> = match access {
        None => org.visible_groups_by_name().collect(),
        Some(access) => org.groups_granting(access, &confluence).collect(),
    };
    let results: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|g| render_group(&org, g))
        .collect();
    let base = &org.settings.site_base_url;
    let mut links = json!({"base": format!("{base}/wiki"), "context": "/wiki", "self": format!("{base}/wiki/rest/api/group")});
    if start + results.len() < all.len() {
        links["next"] = json!(format!(
            "/rest/api/group?start={}&limit={limit}",
            start + limit
        ));
    }
    Ok(json_ok(
        StatusCode::OK,
        &json!({"results": results, "start": start, "limit": limit, "size": results.len(), "_links": links}),
    ))
}

/// POST /group.
pub async fn create(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Confluence> {
    authorize_admin(&state, &headers)?;
    let name = site::new_group_name(&body, "A group name is required").map_err(Confluence)?;
    let mut org = state.store.write();
    let id = org.create_site_group(&name).map_err(Confluence)?;
    let group = org.group(&id).expect("just created");
    Ok(json_ok(StatusCode::CREATED, &render_group(&org, group)))
}

/// GET /group/by-name?name=.
pub async fn by_name(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    authorize(&state, &headers)?;
    let name = param(&q, "name").unwrap_or("");
    let org = state.store.read();
    let group = org
        .visible_group_by_name(name)
        .ok_or_else(|| group_not_found(&format!("name {name}")))?;
    Ok(json_ok(StatusCode::OK, &render_group(&org, group)))
}

/// GET /group/{groupName} (deprecated form).
pub async fn by_path_name(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Confluence> {
    authorize(&state, &headers)?;
    let org = state.store.read();
    let group = org
        .visible_group_by_name(&name)
        .ok_or_else(|| group_not_found(&format!("name {name}")))?;
    Ok(json_ok(StatusCode::OK, &render_group(&org, group)))
}

/// GET /group/by-id?id=.
pub async fn by_id(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    authorize(&state, &headers)?;
    let id = param(&q, "id").unwrap_or("");
    let org = state.store.read();
    let group = org
        .visible_group(id)
        .ok_or_else(|| group_not_found(&format!("id {id}")))?;
    Ok(json_ok(StatusCode::OK, &render_group(&org, group)))
}

/// DELETE /group/by-id?id=.
pub async fn delete_by_id(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    authorize_admin(&state, &headers)?;
    let id = param(&q, "id").unwrap_or("");
    let mut org = state.store.write();
    let group = org
        .visible_group(id)
        .ok_or_else(|| group_not_found(&format!("id {id}")))?
        .clone();
    site::refuse_synced(&state.switches, &group).map_err(Confluence)?;
    if group.default_for.is_some() {
        return Err(Confluence(SimError::bad_request(
            "invalidValue",
            format!(
                "Group {} is a default access group and cannot be deleted",
                group.name
            ),
        )));
    }
    org.delete_group(id).map_err(Confluence)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /group/{groupId}/membersByGroupId: suspended (inactive) users are omitted.
pub async fn members(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    authorize(&state, &headers)?;
    let start = int(&q, "start", 0)?;
    let limit = int(&q, "limit", MEMBER_LIMIT)?;
    if limit > MEMBER_LIMIT {
        return Err(Confluence(SimError::bad_request(
            "invalidValue",
            format!("limit must be at most {MEMBER_LIMIT}"),
        )));
    }
    let limit = limit.max(1);
    let with_total = param(&q, "shouldReturnTotalSize").is_some_and(|v| v == "true");
    let org = state.store.read();
    let group = org
        .visible_group(&group_id)
        .ok_or_else(|| group_not_found(&format!("id {group_id}")))?;
    let listed = || {
        group
            .members
            .iter()
            .filter_map(|a| org.visible_account(a))
            .filter(|a| a.active)
    };
    let results: Vec<Value> = listed()
        .skip(start)
        .take(limit)
        .map(|a| render_user(&org, a))
        .collect();
    let total = listed().count();
    let base = &org.settings.site_base_url;
    let mut links = json!({"base": format!("{base}/wiki"), "context": "/wiki",
                           "self": format!("{base}/wiki/rest/api/group/{group_id}/membersByGroupId")});
    if start + results.len() < total {
        links["next"] = json!(format!(
            "/rest/api/group/{group_id}/membersByGroupId?start={}&limit={limit}",
            start + limit
        ));
    }
    let mut body = json!({"results": results, "start": start, "limit": limit, "size": results.len(), "_links": links});
    if with_total {
        body["totalSize"] = json!(total);
    }
    Ok(json_ok(StatusCode::OK, &body))
}

/// POST /group/userByGroupId?groupId=: 201.
pub async fn add_user(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    body: Bytes,
) -> Result<Response, Confluence> {
    authorize_admin(&state, &headers)?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        Confluence(SimError::bad_request(
            "invalidSyntax",
            format!("Invalid request body: {e}"),
        ))
    })?;
    let account = body
        .get("accountId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Confluence(SimError::bad_request(
                "invalidValue",
                "accountId is required",
            ))
        })?
        .to_owned();
    let group_id = param(&q, "groupId").unwrap_or("").to_owned();
    let mut org = state.store.write();
    let group = org
        .visible_group(&group_id)
        .ok_or_else(|| group_not_found(&format!("id {group_id}")))?
        .clone();
    let unknown = format!("No user found with accountId {account}");
    site::set_member(&mut org, &state.switches, &group, &account, true, &unknown)
        .map_err(Confluence)?;
    Ok(StatusCode::CREATED.into_response())
}

/// DELETE /group/userByGroupId?groupId=&accountId=: 204, also for a non-member.
pub async fn remove_user(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    authorize_admin(&state, &headers)?;
    let group_id = param(&q, "groupId").unwrap_or("").to_owned();
    let account = param(&q, "accountId").unwrap_or("").to_owned();
    let mut org = state.store.write();
    let group = org
        .visible_group(&group_id)
        .ok_or_else(|| group_not_found(&format!("id {group_id}")))?
        .clone();
    let unknown = format!("No user found with accountId {account}");
    site::set_member(&mut org, &state.switches, &group, &account, false, &unknown)
        .map_err(Confluence)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
