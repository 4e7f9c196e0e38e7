//! `/scim/directory/{directoryId}/Users[/{id}]`: list, create, get, replace, patch, delete.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{
    DirPath, ListQuery, ResourcePath, authorize, filter, list_response, object_body, paging,
    project, scim_json,
};
use crate::sim::SimState;
use crate::sim::error::{Scim, SimError};
use crate::sim::store::{ATLASSIAN_EXT, ENTERPRISE, GroupSource, Org, ScimUser, UserKey};

/// The order Atlassian writes a user's attributes in.
const ATTRIBUTE_ORDER: [&str; 13] = [
    "userName",
    "emails",
    "externalId",
    "name",
    "displayName",
    "nickName",
    "title",
    "preferredLanguage",
    "timezone",
    "department",
    "organization",
    "phoneNumbers",
    ENTERPRISE,
];

/// A user as Atlassian returns it: schema order, `externalId: ""` when unset, groups, the
/// Atlassian extension with the account id, absolute `meta.location`.
pub fn render(org: &Org, user: &ScimUser) -> Value {
    let base = &org.settings.scim_base_url;
    let mut m = Map::new();
    m.insert(
        "schemas".into(),
        json!([
            ATLASSIAN_EXT,
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE
        ]),
    );
    for key in ATTRIBUTE_ORDER {
        match user.attrs.get(key) {
            Some(v) => {
                m.insert(key.into(), v.clone());
            }
            None if key == "externalId" => {
                m.insert(key.into(), json!(""));
            }
            None => {}
        }
    }
    m.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "location": format!("{base}/Users/{}", user.id),
            "lastModified": user.last_modified,
            "created": user.created,
        }),
    );
    let groups: Vec<Value> = org
        .groups_of(&user.account_id)
        .filter(|g| g.source == GroupSource::Scim)
        .map(|g| json!({"type": "Group", "value": g.id, "display": g.name, "$ref": format!("{base}/Groups/{}", g.id)}))
        .collect();
    m.insert("groups".into(), Value::Array(groups));
    m.insert(
        ATLASSIAN_EXT.into(),
        json!({ "atlassianAccountId": user.account_id }),
    );
    m.insert("id".into(), json!(user.id));
    m.insert("active".into(), json!(user.active()));
    Value::Object(m)
}

/// GET /Users.
pub async fn list(
    State(state): State<SimState>,
    Path(p): Path<DirPath>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, Scim> {
    authorize(&state, &headers, &p.directory_id)?;
    let org = state.store.read();
    let (offset, count, requested) = paging(&q, org.settings.scim_page_cap).map_err(Scim)?;
    let body = match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => {
            let f = filter::parse(f, &["userName", "externalId"]).map_err(Scim)?;
            let key = if f.attribute == "userName" {
                UserKey::UserName
            } else {
                UserKey::ExternalId
            };
            let found: Vec<&ScimUser> = org.user_by(key, &f.value).into_iter().collect();
            let page = found
                .iter()
                .skip(offset)
                .take(count)
                .map(|u| project(render(&org, u), &q))
                .collect();
            list_response(found.len(), offset, requested, page)
        }
        None => {
            let (page, total) = org.users_page(offset, count);
            let page = page
                .into_iter()
                .map(|u| project(render(&org, u), &q))
                .collect();
            list_response(total, offset, requested, page)
        }
    };
    Ok(scim_json(StatusCode::OK, &body))
}

/// POST /Users.
pub async fn create(
    State(state): State<SimState>,
    Path(p): Path<DirPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Scim> {
    authorize(&state, &headers, &p.directory_id)?;
    let body = object_body(&body)?;
    let mut org = state.store.write();
    let id = org.create_user(&body).map_err(Scim)?;
    let user = org.user(&id).expect("just created");
    Ok(scim_json(StatusCode::CREATED, &render(&org, user)))
}

/// GET /Users/{id}.
pub async fn get(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, Scim> {
    authorize(&state, &headers, &p.directory_id)?;
    let org = state.store.read();
    let user = org
        .user(&p.id)
        .ok_or_else(|| Scim(SimError::user_not_found(&p.id)))?;
    Ok(scim_json(StatusCode::OK, &project(render(&org, user), &q)))
}

/// PUT /Users/{id}.
pub async fn replace(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Scim> {
    authorize(&state, &headers, &p.directory_id)?;
    let body = object_body(&body)?;
    let mut org = state.store.write();
    org.replace_user(&p.id, &body).map_err(Scim)?;
    let user = org.user(&p.id).expect("just replaced");
    Ok(scim_json(StatusCode::OK, &render(&org, user)))
}

/// PATCH /Users/{id}.
pub async fn patch(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Scim> {
    authorize(&state, &headers, &p.directory_id)?;
    let body = Value::Object(object_body(&body)?);
    let mut org = state.store.write();
    let mut attrs = org
        .user(&p.id)
        .ok_or_else(|| Scim(SimError::user_not_found(&p.id)))?
        .attrs
        .clone();
    super::patch::apply_user_patch(&mut attrs, &body).map_err(Scim)?;
    org.store_user_attrs(&p.id, attrs).map_err(Scim)?;
    let user = org.user(&p.id).expect("just patched");
    Ok(scim_json(StatusCode::OK, &render(&org, user)))
}

/// DELETE /Users/{id}.
pub async fn delete(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    headers: HeaderMap,
) -> Result<Response, Scim> {
    authorize(&state, &headers, &p.directory_id)?;
    state.store.write().delete_user(&p.id).map_err(Scim)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
