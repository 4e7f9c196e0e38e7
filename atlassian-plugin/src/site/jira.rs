//! Jira Cloud REST v3: the caller, its groups, group lookup and product-access memberships.

use std::time::Instant;

use connector_api::{ConnectorError, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Endpoint, Reply, Request};
use crate::search::Page;

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

/// What adding a member did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Membership {
    /// The change was made.
    Changed,
    /// It was already so (already a member, or not a member).
    Unchanged,
    /// The site does not know the account (yet: SCIM propagation).
    UnknownAccount,
}

/// The Jira client of one site.
#[derive(Debug, Clone)]
pub(crate) struct JiraClient {
    endpoint: Endpoint,
}

impl JiraClient {
    /// A client of the site at `endpoint`.
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        JiraClient { endpoint }
    }

    fn fail(&self, reply: &Reply) -> ConnectorError {
        self.endpoint.fail(reply)
    }

    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> url::Url {
        let mut segments = vec!["rest", "api", "3"];
        segments.extend_from_slice(path);
        self.endpoint.url(&segments, query)
    }

    async fn send(&self, request: Request<'_>, deadline: Instant) -> Result<Reply> {
        self.endpoint.send(request, deadline).await
    }

    /// GET /myself: the account of the Admin Email.
    pub(crate) async fn myself(&self, deadline: Instant) -> Result<JiraUser> {
        let url = self.url(&["myself"], &[]);
        self.endpoint
            .get_json(url, "the caller's account", deadline)
            .await
    }

    /// GET /user/groups: an account's groups; `None` when the site does not know the account.
    pub(crate) async fn user_groups(
        &self,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Option<Vec<JiraGroup>>> {
        let url = self.url(&["user", "groups"], &[("accountId", account_id)]);
        let reply = self.send(Request::get(url), deadline).await?;
        match reply.status.as_u16() {
            200 => self.endpoint.json(&reply, "an account's groups").map(Some),
            404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }

    /// The group named `name`, by /group/bulk.
    pub(crate) async fn find_group(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<JiraGroup>> {
        let url = self.url(&["group", "bulk"], &[("groupName", name)]);
        let page: PageBean<JiraGroup> = self
            .endpoint
            .get_json(url, "a page of groups", deadline)
            .await?;
        Ok(page
            .values
            .into_iter()
            .find(|g| g.name.eq_ignore_ascii_case(name)))
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
        let url = self.url(&["group", "member"], &query);
        let page: PageBean<JiraUser> = self
            .endpoint
            .get_json(url, "a page of group members", deadline)
            .await?;
        Ok(Page {
            items: page.values.into_iter().map(|u| u.account_id).collect(),
            total: page.total,
            start_index: page.start_at.map(|s| s.saturating_add(1)),
            is_last: page.is_last,
        })
    }

    /// POST /group/user: adds an account to a group.
    pub(crate) async fn add_member(
        &self,
        group_id: &str,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Membership> {
        let body = json!({ "accountId": account_id });
        let url = self.url(&["group", "user"], &[("groupId", group_id)]);
        let reply = self
            .send(
                Request::write(Method::POST, url, Some(&body), true),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 | 201 => Ok(Membership::Changed),
            400 if already(&reply, "already a member") => Ok(Membership::Unchanged),
            404 if already(&reply, "user does not exist") => Ok(Membership::UnknownAccount),
            _ => Err(self.fail(&reply)),
        }
    }

    /// DELETE /group/user: removes an account from a group.
    pub(crate) async fn remove_member(
        &self,
        group_id: &str,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Membership> {
        let url = self.url(
            &["group", "user"],
            &[("groupId", group_id), ("accountId", account_id)],
        );
        let reply = self
            .send(Request::write(Method::DELETE, url, None, true), deadline)
            .await?;
        match reply.status.as_u16() {
            200 | 204 => Ok(Membership::Changed),
            400 if already(&reply, "not a member") => Ok(Membership::Unchanged),
            404 if already(&reply, "user does not exist") => Ok(Membership::UnknownAccount),
            _ => Err(self.fail(&reply)),
        }
    }
}

/// Whether the error body says `phrase` (case-insensitive).
fn already(reply: &Reply, phrase: &str) -> bool {
    crate::http::server_detail(&reply.body)
        .to_lowercase()
        .contains(phrase)
}
