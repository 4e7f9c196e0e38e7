//! Jira group endpoints: `/group` (create, delete), `/group/bulk`, `/groups/picker`,
//! `/group/member` (pages capped at 50, `isLast`, `nextPage`), `/group/user` (add 201, remove 200).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{
    Params, UserView, authorize, authorize_admin, find_group, int_param, jira_json, param, params,
    refuse_synced, render_group_ref, render_user,
};
use crate::sim::error::{Jira, SimError};
use crate::sim::site;
use crate::sim::state::{NoOpAnswer, SimState};
use crate::sim::store::{AccessType, Group, Org};

/// The cap Jira puts on `/group/member` pages.
pub const MEMBER_PAGE_CAP: usize = 50;

fn render_group(org: &Org, g: &Group) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .filter_map(|a| org.visible_account(a))
        .take(MEMBER_PAGE_CAP)
        .map(|a| render_user(org, a))
        .collect();
    let n = members.len();
    let mut group = render_group_ref(org, g);
    group["users"] = json!({
        "size": g.members.len(),
        "items": members,
        "max-results": MEMBER_PAGE_CAP,
        "start-index": 0,
        "end-index": n.saturating_sub(1),
    });
    group["expand"] = json!("users");
    group
}

fn account_id_of(body: &[u8]) -> Result<String, Jira> {
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        Jira(SimError::bad_request(
            "invalidSyntax",
            format!("Invalid request payload: {e}"),
        ))
    })?;
    body.get("accountId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            Jira(SimError::bad_request(
                "invalidValue",
                "accountId must be specified.",
            ))
        })
}

/// The answer to a membership write that changed nothing, per the `jira_no_op` switch:
/// `Ok` lets the handler answer its success.
fn no_op(state: &SimState, words: String) -> Result<(), Jira> {
    match state.switches.jira_no_op {
        NoOpAnswer::BadRequest => Err(Jira(SimError::bad_request("invalidValue", words))),
        NoOpAnswer::Conflict => Err(Jira(SimError::conflict(words))),
        NoOpAnswer::Success => Ok(()),
    }
}

/// Jira's 404 for an account it cannot see, as its REST API words it.
const UNKNOWN_USER: &str = "Specified user does not exist or you do not have required permissions";

/// POST /group.
pub async fn create(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Jira> {
    authorize_admin(&state, &headers)?;
    let name = site::new_group_name(
        &body,
        "group name is not specified or the group name is in use",
    )
    .map_err(Jira)?;
    let mut org = state.store.write();
    let id = org.create_site_group(&name).map_err(Jira)?;
    let group = org.group(&id).expect("just created");
    Ok(jira_json(StatusCode::CREATED, &render_group(&org, group)))
}

/// DELETE /group.
pub async fn delete(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize_admin(&state, &headers)?;
    let mut org = state.store.write();
    let group = find_group(&org, &q)?.clone();
    refuse_synced(&state, &group)?;
    if group.default_for.is_some() {
        return Err(Jira(SimError::bad_request(
            "invalidValue",
            format!(
                "Group '{}' is a default access group and cannot be deleted.",
                group.name
            ),
        )));
    }
    org.delete_group(&group.id).map_err(Jira)?;
    Ok(StatusCode::OK.into_response())
}

/// GET /group/bulk: by `groupId` or `groupName`, and by `accessType` (`site-admin`, `admin`,
/// `user`) with an optional `applicationKey` (Jira REST v3, "Bulk get groups", marked
/// EXPERIMENTAL: the switch `group_bulk` answers 404 as if it were withdrawn).
pub async fn bulk(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    if !state.store.read().settings.group_bulk {
        return Err(Jira(SimError::not_found(
            "The requested resource could not be found.",
        )));
    }
    let start = int_param("startAt", param(&q, "startAt"), 0)?;
    let max = int_param("maxResults", param(&q, "maxResults"), 50)?.clamp(1, 50);
    let (ids, names) = (params(&q, "groupId"), params(&q, "groupName"));
    let access = AccessType::from_query(param(&q, "accessType")).map_err(Jira)?;
    let application = param(&q, "applicationKey").map(str::to_owned);
    let org = state.store.read();
    let jira_product = |p: &str| match &application {
        Some(key) => p == key,
        None => p.starts_with("jira"),
    };
    let listed: Vec<&Group> = match access {
        None => org.visible_groups_by_name().collect(),
        Some(access) => org.groups_granting(access, &jira_product).collect(),
    };
    let selected: Vec<&Group> = listed
        .into_iter()
        .filter(|g| {
            (ids.is_empty() && names.is_empty())
                || ids.contains(&g.id.as_str())
                || names.iter().any(|n| n.eq_ignore_ascii_case(&g.name))
        })
        .collect();
    let total = selected.len();
    let values: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(max)
        .map(|g| json!({"name": g.name, "groupId": g.id}))
        .collect();
    Ok(jira_json(
        StatusCode::OK,
        &json!({
            "maxResults": max, "startAt": start, "total": total,
            "isLast": start + values.len() >= total, "values": values,
        }),
    ))
}

/// GET /groups/picker.
pub async fn picker(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let query = param(&q, "query").unwrap_or("").to_lowercase();
    let max = int_param("maxResults", param(&q, "maxResults"), 20)?.min(1000);
    let excluded = params(&q, "exclude");
    let excluded_ids = params(&q, "excludeId");
    let org = state.store.read();
    let matching: Vec<&Group> = org
        .visible_groups_by_name()
        .filter(|g| g.name.to_lowercase().contains(&query))
        .filter(|g| !excluded.contains(&g.name.as_str()) && !excluded_ids.contains(&g.id.as_str()))
        .collect();
    let groups: Vec<Value> = matching
        .iter()
        .take(max)
        .map(|g| {
            let at = g
                .name
                .to_lowercase()
                .find(&query)
                .filter(|_| !query.is_empty());
            let html = match at.and_then(|at| {
                Some((
                    g.name.get(..at)?,
                    g.name.get(at..at + query.len())?,
                    g.name.get(at + query.len()..)?,
                ))
            }) {
                Some((before, hit, after)) => format!("{before}<b>{hit}</b>{after}"),
                None => g.name.clone(),
            };
            json!({"name": g.name, "html": html, "groupId": g.id, "labels": []})
        })
        .collect();
    Ok(jira_json(
        StatusCode::OK,
        &json!({
            "header": format!("Showing {} of {} matching groups", groups.len(), matching.len()),
            "total": matching.len(),
            "groups": groups,
        }),
    ))
}

/// GET /group/member.
pub async fn members(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize(&state, &headers)?;
    let start = int_param("startAt", param(&q, "startAt"), 0)?;
    let max = int_param("maxResults", param(&q, "maxResults"), 50)?.clamp(1, MEMBER_PAGE_CAP);
    let inactive =
        param(&q, "includeInactiveUsers").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let org = state.store.read();
    let group = find_group(&org, &q)?;
    let (total, values): (usize, Vec<UserView>) = if inactive && org.all_visible() {
        // Every member is listed: a page is a slice of the sorted snapshot.
        let members = org.member_snapshot(group);
        let page = members.iter().skip(start.min(members.len())).take(max);
        (
            members.len(),
            page.filter_map(|a| org.visible_account(a))
                .map(|a| UserView::of(&org, a))
                .collect(),
        )
    } else {
        let listed = |a: &&crate::sim::store::Account| inactive || a.active;
        let visible = || {
            group
                .members
                .iter()
                .filter_map(|a| org.visible_account(a))
                .filter(listed)
        };
        (
            visible().count(),
            visible()
                .skip(start)
                .take(max)
                .map(|a| UserView::of(&org, a))
                .collect(),
        )
    };
    let is_last = start + values.len() >= total;
    let base = format!(
        "{}/rest/api/3/group/member?groupId={}&includeInactiveUsers={inactive}",
        org.settings.site_base_url, group.id
    );
    let page = MemberPage {
        self_url: format!("{base}&startAt={start}&maxResults={max}"),
        max_results: max,
        start_at: start,
        total,
        is_last,
        next_page: (!is_last).then(|| format!("{base}&startAt={}&maxResults={max}", start + max)),
        values,
    };
    Ok(jira_json(StatusCode::OK, &page))
}

/// A page of `/group/member`, in Jira's field order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberPage<'a> {
    #[serde(rename = "self")]
    self_url: String,
    max_results: usize,
    start_at: usize,
    total: usize,
    is_last: bool,
    values: Vec<UserView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<String>,
}

/// POST /group/user: 201 with the group.
pub async fn add_user(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    body: Bytes,
) -> Result<Response, Jira> {
    authorize_admin(&state, &headers)?;
    let account = account_id_of(&body)?;
    let mut org = state.store.write();
    let group = find_group(&org, &q)?.clone();
    if !site::set_member(
        &mut org,
        &state.switches,
        &group,
        &account,
        true,
        UNKNOWN_USER,
    )
    .map_err(Jira)?
    {
        no_op(
            &state,
            format!(
                "Cannot add user. User is already a member of '{}'",
                group.name
            ),
        )?;
    }
    let group = org.group(&group.id).expect("exists");
    Ok(jira_json(StatusCode::CREATED, &render_group(&org, group)))
}

/// DELETE /group/user: 200.
pub async fn remove_user(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Jira> {
    authorize_admin(&state, &headers)?;
    let account = param(&q, "accountId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Jira(SimError::bad_request(
                "invalidValue",
                "accountId must be specified.",
            ))
        })?
        .to_owned();
    let mut org = state.store.write();
    let group = find_group(&org, &q)?.clone();
    if !site::set_member(
        &mut org,
        &state.switches,
        &group,
        &account,
        false,
        UNKNOWN_USER,
    )
    .map_err(Jira)?
    {
        no_op(
            &state,
            format!(
                "Cannot remove user. User is not a member of '{}'",
                group.name
            ),
        )?;
    }
    Ok(StatusCode::OK.into_response())
}
