//! Jira Cloud REST v3 under `/rest/api/3`: routes and the helpers the handlers share.

pub mod group;
pub mod user;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};

use super::auth;
use super::error::{Jira, SimError};
use super::store::{Account, Group, Org};
use crate::sim::state::SimState;

/// The Jira routes, to nest under `/rest/api/3`.
pub fn router() -> Router<SimState> {
    Router::new()
        .route("/myself", get(user::myself))
        .route("/mypermissions", get(user::my_permissions))
        .route("/group", post(group::create).delete(group::delete))
        .route("/group/bulk", get(group::bulk))
        .route("/groups/picker", get(group::picker))
        .route("/group/member", get(group::members))
        .route(
            "/group/user",
            post(group::add_user).delete(group::remove_user),
        )
        .route("/user", get(user::get))
        .route("/user/search", get(user::search))
        .route("/user/groups", get(user::groups))
        .route("/applicationrole", get(user::application_roles))
}

/// Checks Basic auth; answers the caller's account id.
pub fn authorize(state: &SimState, headers: &HeaderMap) -> Result<String, Jira> {
    caller(state, headers).map_err(Jira)
}

/// The account id of the caller of a site API, whichever API.
pub fn caller(state: &SimState, headers: &HeaderMap) -> Result<String, SimError> {
    let org = state.store.read();
    let email = auth::site(headers, &state.creds, &org.settings.expired_tokens)?;
    org.account_by_email(&email)
        .map(|a| a.account_id.clone())
        .ok_or_else(|| SimError::unauthorized("The caller's account is missing"))
}

/// Checks Basic auth and site-admin permission: Jira's group writes need "Site administration
/// (that is, member of the site-admin group)" (Jira REST v3, Groups), which a role gives too.
pub fn authorize_admin(state: &SimState, headers: &HeaderMap) -> Result<(), Jira> {
    let account = authorize(state, headers)?;
    if state.store.read().is_site_admin(&account) {
        Ok(())
    } else if state.switches.forbidden_as_404 {
        Err(Jira(SimError::not_found(
            "Specified user does not exist or you do not have required permissions",
        )))
    } else {
        Err(Jira(SimError::forbidden(
            "You do not have permission to manage groups. Site administration permission is required.",
        )))
    }
}

/// A Jira JSON response.
pub fn jira_json(status: StatusCode, body: &impl Serialize) -> Response {
    let body = serde_json::to_string(body).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response
}

/// Query parameters in order, repeatable ones included.
pub type Params = Vec<(String, String)>;

/// The first value of a query parameter.
pub fn param<'a>(q: &'a Params, name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Every value of a repeatable query parameter.
pub fn params<'a>(q: &'a Params, name: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Finds the group a request names by `groupname` or `groupId` (mutually exclusive), as the
/// site sees it.
pub fn find_group<'a>(org: &'a Org, q: &Params) -> Result<&'a Group, Jira> {
    let group = match (param(q, "groupname"), param(q, "groupId")) {
        (Some(_), Some(_)) => {
            return Err(Jira(SimError::bad_request(
                "invalidValue",
                "Only one of groupname and groupId may be given.",
            )));
        }
        (Some(name), None) => org.visible_group_by_name(name),
        (None, Some(id)) => org.visible_group(id),
        (None, None) => {
            return Err(Jira(SimError::bad_request(
                "invalidValue",
                "Either groupname or groupId must be specified.",
            )));
        }
    };
    group.ok_or_else(|| Jira(SimError::not_found("Specified group does not exist.")))
}

/// Refuses site writes to a group synced from the identity provider (see [`crate::sim::site`]).
pub fn refuse_synced(state: &SimState, group: &Group) -> Result<(), Jira> {
    crate::sim::site::refuse_synced(&state.switches, group).map_err(Jira)
}

/// A user as Jira returns it; the email only where the user's privacy allows.
pub fn render_user(org: &Org, a: &Account) -> Value {
    serde_json::to_value(UserView::of(org, a)).unwrap_or_default()
}

/// A user as Jira returns it, written straight from the store (a member page holds fifty).
#[derive(Debug)]
pub struct UserView<'a> {
    base: &'a str,
    account: &'a Account,
}

impl<'a> UserView<'a> {
    /// The view of `account` on `org`'s site.
    pub fn of(org: &'a Org, account: &'a Account) -> Self {
        UserView {
            base: &org.settings.site_base_url,
            account,
        }
    }
}

impl Serialize for UserView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (base, a) = (self.base, self.account);
        let avatar = |size: u32| format!("{base}/avatar/{}/{size}", a.account_id);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "self",
            &format!("{base}/rest/api/3/user?accountId={}", a.account_id),
        )?;
        map.serialize_entry("accountId", &a.account_id)?;
        map.serialize_entry("accountType", "atlassian")?;
        let avatars: [(&str, String); 4] = [
            ("48x48", avatar(48)),
            ("24x24", avatar(24)),
            ("16x16", avatar(16)),
            ("32x32", avatar(32)),
        ];
        map.serialize_entry("avatarUrls", &Avatars(&avatars))?;
        map.serialize_entry("displayName", &a.display_name)?;
        map.serialize_entry("active", &a.active)?;
        map.serialize_entry("timeZone", &a.time_zone)?;
        map.serialize_entry("locale", "en_US")?;
        if a.email_visible {
            map.serialize_entry("emailAddress", &a.email)?;
        }
        map.end()
    }
}

/// Avatar URLs by size, in the order given.
#[derive(Debug)]
struct Avatars<'a>(&'a [(&'a str, String)]);

impl Serialize for Avatars<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A group reference as Jira lists it.
pub fn render_group_ref(org: &Org, g: &Group) -> Value {
    json!({
        "name": g.name,
        "groupId": g.id,
        "self": format!("{}/rest/api/3/group?groupId={}", org.settings.site_base_url, g.id),
    })
}

/// Parses a non-negative integer query parameter.
pub fn int_param(name: &str, value: Option<&str>, default: usize) -> Result<usize, Jira> {
    match value {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            Jira(SimError::bad_request(
                "invalidValue",
                format!("The value '{v}' of {name} is not a valid number."),
            ))
        }),
    }
}
