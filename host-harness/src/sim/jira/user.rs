//! Jira user endpoints: `/myself`, `/user`, `/user/search` (a bare array, prefix match, email
//! hidden per privacy), `/user/groups`, `/applicationrole` (roles and their default groups) and
//! `/mypermissions`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Params, authorize, int_param, jira_json, param, render_group_ref, render_user};
use crate::sim::error::{Jira, SimError};
use crate::sim::profile::JIRA;
use crate::sim::state::SimState;
use crate::sim::store::AccessType;

/// GET /myself.
pub async fn myself(State(state): State<SimState>, headers: HeaderMap) -> Result<Response, Jira> {
    let caller = authorize(&state, &headers)?;
    let org = state.store.read();
    let account = org
        .visible_account(&caller)
        .ok_or_else(|| Jira(SimError::not_found("The caller's account is missing")))?;
    let mut user = render_user(&org, account);
    user["emailAddress"] = json!(account.email);
    Ok(jira_json(StatusCode::OK, &user))
}

/// GET /user?accountId=...&expand=groups,applicationRoles.
pub async fn get(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let id = param(&q, "accountId").ok_or_else(|| {
        Jira(SimError::bad_request(
            "invalidValue",
            "accountId must be specified.",
        ))
    })?;
    let expand = param(&q, "expand").unwrap_or("");
    let org = state.store.read();
    let account = org.visible_account(id).ok_or_else(|| {
        Jira(SimError::not_found(format!(
            "Specified user does not exist or you do not have required permissions: {id}"
        )))
    })?;
    let mut user = render_user(&org, account);
    let groups: Vec<Value> = org
        .groups_of(id)
        .map(|g| render_group_ref(&org, g))
        .collect();
    if expand.split(',').any(|e| e.trim() == "groups") {
        user["groups"] = json!({"size": groups.len(), "items": groups});
    }
    if expand.split(',').any(|e| e.trim() == "applicationRoles") {
        let roles: Vec<Value> = org
            .groups_of(id)
            .filter_map(|g| g.default_for.as_deref())
            .filter(|p| *p == "jira-software")
            .map(|_| json!({"key": "jira-software", "name": "Jira Software"}))
            .take(1)
            .collect();
        user["applicationRoles"] = json!({"size": roles.len(), "items": roles});
    }
    Ok(jira_json(StatusCode::OK, &user))
}

/// GET /user/search: a bare array of users whose display name or email starts with the query.
pub async fn search(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let query = param(&q, "query");
    let account_id = param(&q, "accountId");
    if query.is_some() == account_id.is_some() {
        return Err(Jira(SimError::bad_request(
            "invalidValue",
            "One of 'query' or 'accountId' query parameters must be provided, but not both.",
        )));
    }
    let start = int_param("startAt", param(&q, "startAt"), 0)?;
    let max = int_param("maxResults", param(&q, "maxResults"), 50)?.min(1000);
    let org = state.store.read();
    let mut found: Vec<&crate::sim::store::Account> = match (query, account_id) {
        (_, Some(id)) => org.visible_account(id).into_iter().collect(),
        (Some(query), None) => {
            let query = query.to_lowercase();
            org.visible_accounts()
                .filter(|a| {
                    a.display_name
                        .to_lowercase()
                        .split_whitespace()
                        .any(|w| w.starts_with(&query))
                        || a.display_name.to_lowercase().starts_with(&query)
                        || (a.email_visible && a.email.to_lowercase().starts_with(&query))
                })
                .collect()
        }
        (None, None) => Vec::new(),
    };
    found.sort_by(|a, b| {
        a.display_name
            .cmp(&b.display_name)
            .then(a.account_id.cmp(&b.account_id))
    });
    let users: Vec<Value> = found
        .iter()
        .take(1000)
        .skip(start)
        .take(max)
        .map(|a| render_user(&org, a))
        .collect();
    Ok(jira_json(StatusCode::OK, &Value::Array(users)))
}

/// GET /user/groups.
pub async fn groups(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let id = param(&q, "accountId").ok_or_else(|| {
        Jira(SimError::bad_request(
            "invalidValue",
            "accountId must be specified.",
        ))
    })?;
    let org = state.store.read();
    if org.visible_account(id).is_none() {
        return Err(Jira(SimError::not_found(format!(
            "Specified user does not exist or you do not have required permissions: {id}"
        ))));
    }
    let groups: Vec<Value> = org
        .groups_of(id)
        .map(|g| render_group_ref(&org, g))
        .collect();
    Ok(jira_json(StatusCode::OK, &Value::Array(groups)))
}

/// GET /applicationrole: Jira Software, its default group and every group granting it.
pub async fn application_roles(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let org = state.store.read();
    let jira = |p: &str| p == JIRA;
    let granting: Vec<&crate::sim::store::Group> =
        org.groups_granting(AccessType::User, &jira).collect();
    let defaults: Vec<&str> = granting
        .iter()
        .filter(|g| g.default_for.as_deref() == Some(JIRA))
        .map(|g| g.name.as_str())
        .collect();
    let names: Vec<&str> = granting.iter().map(|g| g.name.as_str()).collect();
    let count = granting
        .iter()
        .flat_map(|g| g.members.iter())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(jira_json(
        StatusCode::OK,
        &json!([{
            "key": JIRA,
            "groups": names,
            "name": "Jira Software",
            "defaultGroups": defaults,
            "selectedByDefault": false,
            "defined": true,
            "numberOfSeats": 1_000_000,
            "remainingSeats": 1_000_000usize.saturating_sub(count),
            "userCount": count,
            "userCountDescription": format!("{count} users"),
            "hasUnlimitedSeats": false,
            "platform": false,
        }]),
    ))
}

/// The global permissions `mypermissions` knows, with their names.
const GLOBAL_PERMISSIONS: [(&str, &str); 3] = [
    ("ADMINISTER", "Administer Jira"),
    ("SYSTEM_ADMIN", "Jira System Administrators"),
    ("USER_PICKER", "Browse users and groups"),
];

/// GET /mypermissions?permissions=A,B: whether the caller holds each global permission (Jira
/// REST v3, "Get my permissions": `permissions` is required). `ADMINISTER` is held by Jira
/// product admins and site admins; `SYSTEM_ADMIN` by site admins (an assumption the probe of
/// issue 13 is to calibrate).
pub async fn my_permissions(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    let caller = authorize(&state, &headers)?;
    let asked = param(&q, "permissions").unwrap_or("").trim().to_owned();
    if asked.is_empty() {
        return Err(Jira(SimError::bad_request(
            "invalidValue",
            "The permissions query parameter is required.",
        )));
    }
    let org = state.store.read();
    let jira = |p: &str| p.starts_with("jira");
    let mut permissions = serde_json::Map::new();
    for key in asked.split(',').map(str::trim) {
        let Some((_, name)) = GLOBAL_PERMISSIONS.iter().find(|(k, _)| *k == key) else {
            return Err(Jira(SimError::bad_request(
                "invalidValue",
                format!("Unrecognized permission keys: [{key}]"),
            )));
        };
        let have = match key {
            "ADMINISTER" => org.is_product_admin(&caller, &jira),
            "SYSTEM_ADMIN" => org.is_site_admin(&caller),
            _ => true,
        };
        permissions.insert(
            key.to_owned(),
            json!({"key": key, "name": name, "type": "GLOBAL", "description": name, "havePermission": have}),
        );
    }
    Ok(jira_json(
        StatusCode::OK,
        &json!({ "permissions": permissions }),
    ))
}
