//! Jira Cloud REST v3: the caller, its groups, group lookup and product-access memberships.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Api, Http, Reply, Request};

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default)]
    total: Option<u64>,
}

/// One page of a group's members.
#[derive(Debug)]
pub struct MemberPage {
    /// Account ids, in the page's order.
    pub account_ids: Vec<String>,
    /// Whether this is the last page.
    pub is_last: bool,
    /// Members in all pages, if Jira said.
    pub total: Option<u64>,
}

/// What adding a member did.
#[derive(Debug, PartialEq, Eq)]
pub enum Membership {
    /// The change was made.
    Changed,
    /// It was already so (already a member, or not a member).
    Unchanged,
    /// The site does not know the account (yet: SCIM propagation).
    UnknownAccount,
}

/// The Jira client of one site.
#[derive(Debug, Clone)]
pub struct JiraClient {
    api: Api,
    http: Arc<Http>,
}

impl JiraClient {
    /// A client of the site at `api`.
    pub fn new(api: Api, http: Arc<Http>) -> Self {
        JiraClient { api, http }
    }

    /// The API description.
    pub fn api(&self) -> &Api {
        &self.api
    }

    fn fail(&self, reply: &Reply) -> ConnectorError {
        self.http.status_error(&self.api, reply)
    }

    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> url::Url {
        let mut segments = vec!["rest", "api", "3"];
        segments.extend_from_slice(path);
        self.api.url(&segments, query)
    }

    /// GET /myself: the account of the Admin Email.
    pub async fn myself(&self, deadline: Instant) -> Result<JiraUser> {
        let reply = self
            .http
            .send(
                &self.api,
                Request::get(self.url(&["myself"], &[])),
                deadline,
            )
            .await?;
        if reply.is(&[200]) {
            reply.json(&self.api, "the caller's account")
        } else {
            Err(self.fail(&reply))
        }
    }

    /// GET /user/groups: an account's groups; `None` when the site does not know the account.
    pub async fn user_groups(
        &self,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Option<Vec<JiraGroup>>> {
        let reply = self
            .http
            .send(
                &self.api,
                Request::get(self.url(&["user", "groups"], &[("accountId", account_id)])),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 => reply.json(&self.api, "an account's groups").map(Some),
            404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }

    /// The group named `name`, by /group/bulk.
    pub async fn find_group(&self, name: &str, deadline: Instant) -> Result<Option<JiraGroup>> {
        let reply = self
            .http
            .send(
                &self.api,
                Request::get(self.url(&["group", "bulk"], &[("groupName", name)])),
                deadline,
            )
            .await?;
        if !reply.is(&[200]) {
            return Err(self.fail(&reply));
        }
        let page: Page<JiraGroup> = reply.json(&self.api, "a page of groups")?;
        Ok(page
            .values
            .into_iter()
            .find(|g| g.name.eq_ignore_ascii_case(name)))
    }

    /// One page (at most 50) of a group's members, inactive ones included.
    pub async fn members(
        &self,
        group_id: &str,
        start_at: u64,
        deadline: Instant,
    ) -> Result<MemberPage> {
        let start = start_at.to_string();
        let query = [
            ("groupId", group_id),
            ("startAt", start.as_str()),
            ("maxResults", "50"),
            ("includeInactiveUsers", "true"),
        ];
        let reply = self
            .http
            .send(
                &self.api,
                Request::get(self.url(&["group", "member"], &query)),
                deadline,
            )
            .await?;
        if !reply.is(&[200]) {
            return Err(self.fail(&reply));
        }
        let page: Page<JiraUser> = reply.json(&self.api, "a page of group members")?;
        let is_last = page.is_last.unwrap_or(page.values.is_empty());
        Ok(MemberPage {
            account_ids: page.values.into_iter().map(|u| u.account_id).collect(),
            is_last,
            total: page.total,
        })
    }

    /// POST /group/user: adds an account to a group.
    pub async fn add_member(
        &self,
        group_id: &str,
        account_id: &str,
        deadline: Instant,
    ) -> Result<Membership> {
        let body = json!({ "accountId": account_id });
        let url = self.url(&["group", "user"], &[("groupId", group_id)]);
        let reply = self
            .http
            .send(
                &self.api,
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
    pub async fn remove_member(
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
            .http
            .send(
                &self.api,
                Request::write(Method::DELETE, url, None, true),
                deadline,
            )
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
