//! Jira user endpoints: `/myself`, `/user`, `/user/search` (a bare array, prefix match, email
//! hidden per privacy), `/user/groups`, and `/applicationrole` (roles and their default groups).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Params, authorize, int_param, jira_json, param, render_group_ref, render_user};
use crate::sim::auth::SiteRole;
use crate::sim::error::{Jira, SimError};
use crate::sim::state::SimState;

/// GET /myself.
pub async fn myself(State(state): State<SimState>, headers: HeaderMap) -> Result<Response, Jira> {
    let role = authorize(&state, &headers)?;
    let email = match role {
        SiteRole::Admin => &state.creds.admin_email,
        SiteRole::User => &state.creds.user_email,
    };
    let org = state.store.read();
    let account = org
        .account_by_email(email)
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

/// GET /applicationrole.
pub async fn application_roles(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let org = state.store.read();
    let site = &org.settings.site_name;
    let jira_groups = [
        "jira-software-users".to_owned(),
        format!("jira-software-users-{site}"),
    ];
    let count = jira_groups
        .iter()
        .filter_map(|n| org.group_by_name(n))
        .flat_map(|g| g.members.iter())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(jira_json(
        StatusCode::OK,
        &json!([{
            "key": "jira-software",
            "groups": jira_groups,
            "name": "Jira Software",
            "defaultGroups": ["jira-software-users"],
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
