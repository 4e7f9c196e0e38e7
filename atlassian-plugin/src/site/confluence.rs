//! Confluence Cloud REST: its view of a group, to prove the credential works there too.

use std::sync::Arc;
use std::time::Instant;

use connector_api::Result;
use serde::Deserialize;

use crate::http::{Api, Http, Request};

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
pub struct ConfluenceClient {
    api: Api,
    http: Arc<Http>,
}

impl ConfluenceClient {
    /// A client of the site at `api`.
    pub fn new(api: Api, http: Arc<Http>) -> Self {
        ConfluenceClient { api, http }
    }

    /// The API description.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// GET /wiki/rest/api/group/by-name; `None` when Confluence has no such group.
    pub async fn group_by_name(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<ConfluenceGroup>> {
        let url = self.api.url(
            &["wiki", "rest", "api", "group", "by-name"],
            &[("name", name)],
        );
        let reply = self
            .http
            .send(&self.api, Request::get(url), deadline)
            .await?;
        match reply.status.as_u16() {
            200 => reply.json(&self.api, "a group").map(Some),
            404 => Ok(None),
            _ => Err(self.http.status_error(&self.api, &reply)),
        }
    }
}
