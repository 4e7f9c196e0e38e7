//! `/scim/directory/{directoryId}/Users[/{id}]`: list, create, get, replace, patch, delete.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{
    Authorized, ListQuery, ListResponse, Projection, ResourcePath, created_json, filter,
    object_body, paging, scim_bytes, scim_json,
};
use crate::sim::error::{Scim, SimError};
use crate::sim::state::{SimState, UserNameChange};
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
/// Atlassian extension with the account id, absolute `meta.location`. It serializes straight
/// from the store, borrowing everything, so that a page costs no copy of the directory.
#[derive(Debug)]
pub struct UserView<'a> {
    org: &'a Org,
    user: &'a ScimUser,
    projection: Option<&'a Projection>,
}

impl<'a> UserView<'a> {
    /// The full representation.
    pub fn new(org: &'a Org, user: &'a ScimUser) -> Self {
        UserView {
            org,
            user,
            projection: None,
        }
    }

    /// Only the attributes a query asks for.
    pub fn projected(org: &'a Org, user: &'a ScimUser, projection: &'a Projection) -> Self {
        UserView {
            org,
            user,
            projection: Some(projection),
        }
    }
}

impl Serialize for UserView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wanted = |key: &str| self.projection.is_none_or(|p| p.wants(key));
        let base = &self.org.settings.scim_base_url;
        let user = self.user;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry(
            "schemas",
            &[
                ATLASSIAN_EXT,
                "urn:ietf:params:scim:schemas:core:2.0:User",
                ENTERPRISE,
            ],
        )?;
        for key in ATTRIBUTE_ORDER {
            if !wanted(key) {
                continue;
            }
            match user.attrs.get(key) {
                Some(v) => m.serialize_entry(key, v)?,
                None if key == "externalId" => m.serialize_entry(key, "")?,
                None => {}
            }
        }
        if wanted("meta") {
            m.serialize_entry(
                "meta",
                &Meta {
                    resource_type: "User",
                    location: format_args!("{base}/Users/{}", user.id),
                    last_modified: &user.last_modified,
                    created: &user.created,
                },
            )?;
        }
        if wanted("groups") {
            m.serialize_entry(
                "groups",
                &GroupRefs {
                    org: self.org,
                    account: &user.account_id,
                },
            )?;
        }
        if wanted(ATLASSIAN_EXT) && !user.unlinked {
            m.serialize_entry(
                ATLASSIAN_EXT,
                &AccountRef {
                    atlassian_account_id: &user.account_id,
                },
            )?;
        }
        m.serialize_entry("id", &user.id)?;
        if wanted("active") {
            m.serialize_entry("active", &user.active())?;
        }
        m.end()
    }
}

/// `meta` of a resource.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta<'a, L: std::fmt::Display> {
    /// `User` or `Group`.
    pub resource_type: &'static str,
    /// The absolute URL.
    #[serde(serialize_with = "display")]
    pub location: L,
    /// Last change.
    pub last_modified: &'a str,
    /// Creation.
    pub created: &'a str,
}

fn display<T: std::fmt::Display, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountRef<'a> {
    atlassian_account_id: &'a str,
}

struct GroupRefs<'a> {
    org: &'a Org,
    account: &'a str,
}

impl Serialize for GroupRefs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let base = &self.org.settings.scim_base_url;
        let mut seq = serializer.serialize_seq(None)?;
        for g in self
            .org
            .groups_of(self.account)
            .filter(|g| g.source == GroupSource::Scim)
        {
            seq.serialize_element(&json!({"type": "Group", "value": g.id, "display": g.name, "$ref": format!("{base}/Groups/{}", g.id)}))?;
        }
        seq.end()
    }
}

/// A user as JSON.
pub fn render(org: &Org, user: &ScimUser) -> Value {
    serde_json::to_value(UserView::new(org, user)).unwrap_or(Value::Null)
}

/// GET /Users.
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
                .map(|u| UserView::projected(&org, u, &projection))
                .collect();
            ListResponse::new(found.len(), offset, requested, page)
        }
        None => {
            let (page, total) = org.users_page(offset, count);
            let page = page
                .into_iter()
                .map(|u| UserView::projected(&org, u, &projection))
                .collect();
            ListResponse::new(total, offset, requested, page)
        }
    };
    Ok(scim_bytes(StatusCode::OK, &body))
}

/// POST /Users.
pub async fn create(
    State(state): State<SimState>,
    _auth: Authorized,
    body: Bytes,
) -> Result<Response, Scim> {
    let body = object_body(&body)?;
    let mut org = state.store.write();
    let id = org.create_user(&body).map_err(Scim)?;
    let user = org.user(&id).expect("just created");
    let mut created = render(&org, user);
    if !state.switches.account_id_in_create_response {
        if let Some(o) = created.as_object_mut() {
            o.remove(ATLASSIAN_EXT);
        }
    }
    Ok(created_json(&created))
}

/// GET /Users/{id}.
pub async fn get(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    Query(q): Query<ListQuery>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let org = state.store.read();
    let user = org
        .user(&p.id)
        .ok_or_else(|| Scim(SimError::user_not_found(&p.id)))?;
    let projection = Projection::of(&q);
    Ok(scim_bytes(
        StatusCode::OK,
        &UserView::projected(&org, user, &projection),
    ))
}

/// PUT /Users/{id}.
pub async fn replace(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
    body: Bytes,
) -> Result<Response, Scim> {
    let body = object_body(&body)?;
    let mut org = state.store.write();
    let mut body = body;
    if let (Some(user), Some(Value::String(name))) = (org.user(&p.id), body.get("userName")) {
        refuse_rename(&state, user.user_name(), name)?;
        if state.switches.user_name_change == UserNameChange::Ignored {
            let old = Value::String(user.user_name().to_owned());
            body.insert("userName".into(), old);
        }
    }
    org.replace_user(&p.id, &body).map_err(Scim)?;
    let user = org.user(&p.id).expect("just replaced");
    Ok(scim_json(StatusCode::OK, &render(&org, user)))
}

/// Refuses a change of userName when the `user_name_change` switch says so.
fn refuse_rename(state: &SimState, old: &str, new: &str) -> Result<(), Scim> {
    if state.switches.user_name_change == UserNameChange::Refused && !old.eq_ignore_ascii_case(new)
    {
        return Err(Scim(SimError::bad_request(
            "mutability",
            "Attribute userName is immutable",
        )));
    }
    Ok(())
}

/// PATCH /Users/{id}.
pub async fn patch(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
    body: Bytes,
) -> Result<Response, Scim> {
    let body = Value::Object(object_body(&body)?);
    let mut org = state.store.write();
    let mut attrs = org
        .user(&p.id)
        .ok_or_else(|| Scim(SimError::user_not_found(&p.id)))?
        .attrs
        .clone();
    let before = attrs.get("userName").cloned();
    if state.switches.strict_patch {
        super::patch::strict_user_check(&attrs, &body).map_err(Scim)?;
    }
    super::patch::apply_user_patch(&mut attrs, &body).map_err(Scim)?;
    if let (Some(Value::String(old)), Some(Value::String(new))) = (&before, attrs.get("userName")) {
        refuse_rename(&state, old, new)?;
        if state.switches.user_name_change == UserNameChange::Ignored {
            attrs.insert("userName".into(), Value::String(old.clone()));
        }
    }
    org.store_user_attrs(&p.id, attrs).map_err(Scim)?;
    let user = org.user(&p.id).expect("just patched");
    Ok(scim_json(StatusCode::OK, &render(&org, user)))
}

/// DELETE /Users/{id}.
pub async fn delete(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    state.store.write().delete_user(&p.id).map_err(Scim)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
