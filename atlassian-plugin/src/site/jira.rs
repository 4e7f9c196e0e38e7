//! Jira Cloud REST v3: the caller and its permissions, group lookups by name, id and access,
//! and product-access memberships.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Endpoint, Reply, Request};
use crate::search::Page;
use crate::site::route::{SiteRoute, Via};

/// An account as Jira shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraUser {
    /// The account id.
    pub account_id: String,
    /// The email, when the profile shows it.
    #[serde(default)]
    pub email_address: Option<String>,
    /// The display name.
    #[serde(default)]
    pub display_name: String,
    /// Whether the account is active.
    #[serde(default)]
    pub active: bool,
}

/// A group reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraGroup {
    /// The name.
    pub name: String,
    /// The id.
    pub group_id: String,
}

/// A Jira product and the groups that give it.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationRole {
    /// The product key (`jira-software`).
    pub key: String,
    /// The names of the groups that give the product.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A page of Jira's paged answers (`PageBean`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageBean<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default)]
    start_at: Option<u64>,
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default)]
    total: Option<u64>,
}

/// Members asked for per page: Jira's maximum for `/group/member`.
pub(crate) const MEMBER_PAGE: u32 = 50;

/// Groups per page of `/group/bulk` (its maximum), and the most pages one lookup reads.
const GROUP_PAGE: u64 = 50;
const MAX_GROUP_PAGES: u64 = 40;

/// What a membership write answered. Jira documents no answer for a duplicate add or the
/// removal of a non-member (a public client takes 409 for "already a member"), so any other
/// 4xx is left for the caller to decide by reading the state, never by the message's words.
#[derive(Debug)]
pub(crate) enum Membership {
    /// 2xx: the change was made (or was already so).
    Changed,
    /// 409: it was already so.
    AlreadySo,
    /// Another 4xx (not 401, 403 or 429): the typed error and the status.
    Refused(ConnectorError, u16),
}

/// The Jira client of one site.
#[derive(Debug, Clone)]
pub(crate) struct JiraClient {
    route: Arc<SiteRoute>,
}

impl JiraClient {
    /// A client of the site reached by `route`.
    pub(crate) fn new(route: Arc<SiteRoute>) -> Self {
        JiraClient { route }
    }

    /// The Jira endpoint of the route in use.
    async fn endpoint(&self, deadline: Instant) -> Result<&Endpoint> {
        Ok(&self.route.routes(deadline).await?.jira)
    }

    /// The URL of `path` below `rest/api/3`.
    fn url(endpoint: &Endpoint, path: &[&str], query: &[(&str, &str)]) -> url::Url {
        let mut segments = vec!["rest", "api", "3"];
        segments.extend_from_slice(path);
        endpoint.url(&segments, query)
    }

    /// GET /myself: the account of the Admin Email.
    pub(crate) async fn myself(&self, deadline: Instant) -> Result<JiraUser> {
        let endpoint = self.endpoint(deadline).await?;
        let url = Self::url(endpoint, &["myself"], &[]);
        endpoint
            .get_json(url, "the caller's account", deadline)
            .await
    }

    /// GET /user/groups: an account's groups; `None` when the site does not know the account.
    pub(crate) async fn user_groups(
        &self,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Option<Vec<JiraGroup>>> {
        let endpoint = self.endpoint(deadline).await?;
        let url = Self::url(endpoint, &["user", "groups"], &[("accountId", account_id)]);
        let reply = endpoint.send(Request::get(url), deadline).await?;
        match reply.status.as_u16() {
            200 => endpoint.json(&reply, "an account's groups").map(Some),
            404 => Ok(None),
            _ => Err(endpoint.fail(&reply)),
        }
    }

    /// The group named `name` (case-insensitive): by `/group/bulk`, or when that EXPERIMENTAL
    /// endpoint is gone (404, 410) by `/groups/picker`, which also answers `groupId`.
    pub(crate) async fn group_by_name(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<JiraGroup>> {
        let found = match self.bulk(&[("groupName", name)], deadline).await? {
            Some(groups) => groups,
            None => self.picker(name, deadline).await?,
        };
        Ok(found
            .into_iter()
            .find(|g| g.name.eq_ignore_ascii_case(name)))
    }

    /// The group of id `id`, by `/group/bulk`; `None` when that endpoint is gone.
    pub(crate) async fn group_by_id(
        &self,
        id: &str,
        deadline: Instant,
    ) -> Result<Option<Option<JiraGroup>>> {
        Ok(self
            .bulk(&[("groupId", id)], deadline)
            .await?
            .map(|groups| groups.into_iter().find(|g| g.group_id == id)))
    }

    /// Each Jira product's key, name and the names of the groups that give it
    /// (`GET /applicationrole`, which needs Jira admin); what access lookups fall back to when
    /// `/group/bulk` is gone.
    pub(crate) async fn application_roles(
        &self,
        deadline: Instant,
    ) -> Result<Vec<ApplicationRole>> {
        let endpoint = self.endpoint(deadline).await?;
        let url = Self::url(endpoint, &["applicationrole"], &[]);
        endpoint
            .get_json(url, "the application roles", deadline)
            .await
    }

    /// The groups that give `access` (`user`, `admin`, `site-admin`), for one Jira product when
    /// `application` is given; `None` when `/group/bulk` is gone.
    pub(crate) async fn groups_granting(
        &self,
        access: &str,
        application: Option<&str>,
        deadline: Instant,
    ) -> Result<Option<Vec<JiraGroup>>> {
        let mut query = vec![("accessType", access)];
        query.extend(application.map(|a| ("applicationKey", a)));
        self.bulk(&query, deadline).await
    }

    /// Every page of `/group/bulk` for `query`, each checked against the position asked;
    /// `None` when the endpoint is gone (404, 410).
    async fn bulk(
        &self,
        query: &[(&str, &str)],
        deadline: Instant,
    ) -> Result<Option<Vec<JiraGroup>>> {
        let endpoint = self.endpoint(deadline).await?;
        let mut groups = Vec::new();
        for page in 0..MAX_GROUP_PAGES {
            let start = (page * GROUP_PAGE).to_string();
            let mut asked = query.to_vec();
            asked.extend([("startAt", start.as_str()), ("maxResults", "50")]);
            let url = Self::url(endpoint, &["group", "bulk"], &asked);
            let reply = endpoint.send(Request::get(url), deadline).await?;
            match reply.status.as_u16() {
                200 => {}
                404 | 410 => return Ok(None),
                _ => return Err(endpoint.fail(&reply)),
            }
            let bean: PageBean<JiraGroup> = endpoint.json(&reply, "a page of groups")?;
            if bean.start_at.is_some_and(|s| s != page * GROUP_PAGE) {
                return Err(ConnectorError::new(
                    connector_api::ErrorKind::ConnectionFailed,
                    format!(
                        "Jira answered the page of groups at {} with the page at {}",
                        page * GROUP_PAGE,
                        bean.start_at.unwrap_or_default()
                    ),
                ));
            }
            let last = bean
                .is_last
                .unwrap_or(bean.values.len() < GROUP_PAGE as usize)
                || bean.values.is_empty();
            groups.extend(bean.values);
            if last {
                return Ok(Some(groups));
            }
        }
        Err(ConnectorError::new(
            connector_api::ErrorKind::ConnectionFailed,
            format!(
                "Jira listed more than {} groups for one lookup",
                MAX_GROUP_PAGES * GROUP_PAGE
            ),
        ))
    }

    /// Groups whose name contains `query`, by `/groups/picker` (at most 1,000).
    async fn picker(&self, query: &str, deadline: Instant) -> Result<Vec<JiraGroup>> {
        #[derive(Deserialize)]
        struct Found {
            #[serde(default)]
            groups: Vec<JiraGroup>,
        }
        let endpoint = self.endpoint(deadline).await?;
        let asked = [
            ("query", query),
            ("maxResults", "1000"),
            ("caseInsensitive", "true"),
        ];
        let url = Self::url(endpoint, &["groups", "picker"], &asked);
        let found: Found = endpoint.get_json(url, "the groups found", deadline).await?;
        Ok(found.groups)
    }

    /// Which of the global permissions `keys` the caller holds (`/mypermissions`).
    pub(crate) async fn my_permissions(
        &self,
        keys: &[&str],
        deadline: Instant,
    ) -> Result<Vec<(String, bool)>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Held {
            #[serde(default)]
            have_permission: bool,
        }
        #[derive(Deserialize)]
        struct Answer {
            permissions: std::collections::HashMap<String, Held>,
        }
        let endpoint = self.endpoint(deadline).await?;
        let joined = keys.join(",");
        let url = Self::url(endpoint, &["mypermissions"], &[("permissions", &joined)]);
        let answer: Answer = endpoint
            .get_json(url, "the caller's permissions", deadline)
            .await?;
        Ok(keys
            .iter()
            .map(|k| {
                let held = answer
                    .permissions
                    .get(*k)
                    .is_some_and(|p| p.have_permission);
                ((*k).to_owned(), held)
            })
            .collect())
    }

    /// The way this client reaches the site, once decided.
    pub(crate) async fn via(&self, deadline: Instant) -> Result<Via> {
        Ok(self.route.routes(deadline).await?.via.clone())
    }

    /// The page of a group's members (inactive ones included) at the 1-based `start`: Jira
    /// counts from 0 (`startAt`), the scan from 1.
    pub(crate) async fn members(
        &self,
        group_id: &str,
        start: u64,
        count: u32,
        deadline: Instant,
    ) -> Result<Page<String>> {
        let (start_at, count) = (start.saturating_sub(1).to_string(), count.to_string());
        let query = [
            ("groupId", group_id),
            ("startAt", start_at.as_str()),
            ("maxResults", count.as_str()),
            ("includeInactiveUsers", "true"),
        ];
        let endpoint = self.endpoint(deadline).await?;
        let url = Self::url(endpoint, &["group", "member"], &query);
        let page: PageBean<JiraUser> = endpoint
            .get_json(url, "a page of group members", deadline)
            .await?;
        Ok(Page {
            items: page.values.into_iter().map(|u| u.account_id).collect(),
            total: page.total,
            start_index: page.start_at.map(|s| s.saturating_add(1)),
            is_last: page.is_last,
        })
    }

    fn membership(endpoint: &Endpoint, reply: &Reply) -> Result<Membership> {
        match reply.status.as_u16() {
            200..=299 => Ok(Membership::Changed),
            409 => Ok(Membership::AlreadySo),
            status @ (400..=499) if ![401, 403, 429].contains(&status) => {
                Ok(Membership::Refused(endpoint.fail(reply), status))
            }
            _ => Err(endpoint.fail(reply)),
        }
    }

    /// POST /group/user: adds an account to a group.
    pub(crate) async fn add_member(
        &self,
        group_id: &str,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Membership> {
        let body = json!({ "accountId": account_id });
        let endpoint = self.endpoint(deadline).await?;
        let url = Self::url(endpoint, &["group", "user"], &[("groupId", group_id)]);
        let reply = endpoint
            .send(
                Request::write(Method::POST, url, Some(&body), true),
                deadline,
            )
            .await?;
        Self::membership(endpoint, &reply)
    }

    /// DELETE /group/user: removes an account from a group.
    pub(crate) async fn remove_member(
        &self,
        group_id: &str,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Membership> {
        let endpoint = self.endpoint(deadline).await?;
        let url = Self::url(
            endpoint,
            &["group", "user"],
            &[("groupId", group_id), ("accountId", account_id)],
        );
        let reply = endpoint
            .send(Request::write(Method::DELETE, url, None, true), deadline)
            .await?;
        Self::membership(endpoint, &reply)
    }
}
