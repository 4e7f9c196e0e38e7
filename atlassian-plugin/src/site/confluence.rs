//! Confluence Cloud REST: its view of a group, to prove the credential works there too.

use std::time::Instant;

use connector_api::Result;
use serde::Deserialize;

use crate::http::{Endpoint, Request};

/// A group as Confluence shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfluenceGroup {
    /// The name.
    pub name: String,
    /// The id.
    pub id: String,
}

/// The Confluence client of one site.
#[derive(Debug, Clone)]
pub(crate) struct ConfluenceClient {
    endpoint: Endpoint,
}

impl ConfluenceClient {
    /// A client of the site at `endpoint`.
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        ConfluenceClient { endpoint }
    }

    /// GET /wiki/rest/api/group/by-name; `None` when Confluence has no such group.
    pub(crate) async fn group_by_name(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<ConfluenceGroup>> {
        let url = self.endpoint.url(
            &["wiki", "rest", "api", "group", "by-name"],
            &[("name", name)],
        );
        let reply = self.endpoint.send(Request::get(url), deadline).await?;
        match reply.status.as_u16() {
            200 => self.endpoint.json(&reply, "a group").map(Some),
            404 => Ok(None),
            _ => Err(self.endpoint.fail(&reply)),
        }
    }
}
