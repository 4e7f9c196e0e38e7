//! Confluence Cloud REST v1: the groups that give Confluence access, and whether the caller
//! administers Confluence.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, ErrorKind, Result};
use serde::Deserialize;

use crate::http::{Endpoint, Request};
use crate::site::route::SiteRoute;

/// A group as Confluence shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfluenceGroup {
    /// The name.
    pub name: String,
    /// The id (organization-wide: the same as Jira's `groupId`).
    pub id: String,
}

/// Groups per page of `GET /group`, and the most pages one lookup reads.
const GROUP_PAGE: usize = 200;
const MAX_GROUP_PAGES: usize = 10;

/// The Confluence client of one site.
#[derive(Debug, Clone)]
pub(crate) struct ConfluenceClient {
    route: Arc<SiteRoute>,
}

impl ConfluenceClient {
    /// A client of the site reached by `route`.
    pub(crate) fn new(route: Arc<SiteRoute>) -> Self {
        ConfluenceClient { route }
    }

    async fn endpoint(&self, deadline: Instant) -> Result<&Endpoint> {
        Ok(&self.route.routes(deadline).await?.confluence)
    }

    /// The groups that give `access` (`user`, `admin`, `site-admin`) to Confluence
    /// (`GET /wiki/rest/api/group?accessType=`), every page read and checked.
    pub(crate) async fn groups_granting(
        &self,
        access: &str,
        deadline: Instant,
    ) -> Result<Vec<ConfluenceGroup>> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            results: Vec<ConfluenceGroup>,
            #[serde(default)]
            start: Option<usize>,
        }
        let endpoint = self.endpoint(deadline).await?;
        let mut groups = Vec::new();
        for page in 0..MAX_GROUP_PAGES {
            let (start, limit) = ((page * GROUP_PAGE).to_string(), GROUP_PAGE.to_string());
            let query = [
                ("accessType", access),
                ("start", start.as_str()),
                ("limit", limit.as_str()),
            ];
            let url = endpoint.url(&["wiki", "rest", "api", "group"], &query);
            let answer: Page = endpoint.get_json(url, "a page of groups", deadline).await?;
            if answer.start.is_some_and(|s| s != page * GROUP_PAGE) {
                return Err(ConnectorError::new(
                    ErrorKind::ConnectionFailed,
                    format!(
                        "Confluence answered the page of groups at {} with another page",
                        page * GROUP_PAGE
                    ),
                ));
            }
            let last = answer.results.len() < GROUP_PAGE;
            groups.extend(answer.results);
            if last {
                return Ok(groups);
            }
        }
        Err(ConnectorError::new(
            ErrorKind::ConnectionFailed,
            format!(
                "Confluence listed more than {} groups for one lookup",
                MAX_GROUP_PAGES * GROUP_PAGE
            ),
        ))
    }

    /// The group of id `id` (`GET /wiki/rest/api/group/by-id`; group ids are organization-wide);
    /// `None` when Confluence has no such group.
    pub(crate) async fn group_by_id(
        &self,
        id: &str,
        deadline: Instant,
    ) -> Result<Option<ConfluenceGroup>> {
        let endpoint = self.endpoint(deadline).await?;
        let url = endpoint.url(&["wiki", "rest", "api", "group", "by-id"], &[("id", id)]);
        let reply = endpoint.send(Request::get(url), deadline).await?;
        match reply.status.as_u16() {
            200 => endpoint.json(&reply, "a group").map(Some),
            404 => Ok(None),
            _ => Err(endpoint.fail(&reply)),
        }
    }

    /// Whether the caller administers Confluence: `administer` on `application` among the
    /// operations of `GET /wiki/rest/api/user/current?expand=operations`.
    pub(crate) async fn can_administer(&self, deadline: Instant) -> Result<bool> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Operation {
            operation: String,
            target_type: String,
        }
        #[derive(Deserialize)]
        struct Current {
            #[serde(default)]
            operations: Vec<Operation>,
        }
        let endpoint = self.endpoint(deadline).await?;
        let url = endpoint.url(
            &["wiki", "rest", "api", "user", "current"],
            &[("expand", "operations")],
        );
        let current: Current = endpoint
            .get_json(url, "the caller's operations", deadline)
            .await?;
        Ok(current
            .operations
            .iter()
            .any(|o| o.operation == "administer" && o.target_type == "application"))
    }
}
