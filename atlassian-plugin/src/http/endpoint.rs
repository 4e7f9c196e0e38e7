//! An [`Endpoint`]: one API and the client that sends to it, what every API client holds.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, Result};
use serde::de::DeserializeOwned;
use url::Url;

use super::{Api, Http, Reply, Request};

/// One remote API together with the connector's HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    api: Api,
    http: Arc<Http>,
}

impl Endpoint {
    /// `api`, reached through `http`.
    pub(crate) fn new(api: Api, http: Arc<Http>) -> Self {
        Endpoint { api, http }
    }

    /// The URL of `segments` below the API's base, each percent-encoded, with `query`.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        self.api.url(segments, query)
    }

    /// Sends `request`, retrying what is retryable until `deadline` (see [`Http::send`]).
    pub(crate) async fn send(&self, request: Request<'_>, deadline: Instant) -> Result<Reply> {
        self.http.send(&self.api, request, deadline).await
    }

    /// Sends a GET and reads a 200 answer as `T`; any other status is its typed error.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        url: Url,
        what: &str,
        deadline: Instant,
    ) -> Result<T> {
        let reply = self.send(Request::get(url), deadline).await?;
        if reply.is(&[200]) {
            self.json(&reply, what)
        } else {
            Err(self.fail(&reply))
        }
    }

    /// The body of `reply` as `T`; a malformed body names the API and the field.
    pub(crate) fn json<T: DeserializeOwned>(&self, reply: &Reply, what: &str) -> Result<T> {
        reply.json(&self.api, what)
    }

    /// The typed error of a response that is not a success.
    pub(crate) fn fail(&self, reply: &Reply) -> ConnectorError {
        self.http.status_error(&self.api, reply)
    }
}
