//! SCIM `/Users` and `/Groups` calls with the Directory API Key; paging and lookups.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, ErrorKind, Result};
use reqwest::Method;
use serde_json::Value;

use super::types::{Group, ListResponse, PatchOperation, User, patch_body, quote};
use crate::http::{Api, Http, Reply, Request};

/// What a create answered.
#[derive(Debug)]
pub enum Created<T> {
    /// 201 with the resource.
    New(T),
    /// 409: something unique is taken; the server's detail.
    Conflict(String),
}

/// The SCIM client of one directory.
#[derive(Debug, Clone)]
pub struct ScimClient {
    api: Api,
    http: Arc<Http>,
}

impl ScimClient {
    /// A client of the directory at `api`.
    pub fn new(api: Api, http: Arc<Http>) -> Self {
        ScimClient { api, http }
    }

    /// The API description.
    pub fn api(&self) -> &Api {
        &self.api
    }

    async fn send(&self, request: Request<'_>, deadline: Instant) -> Result<Reply> {
        self.http.send(&self.api, request, deadline).await
    }

    fn fail(&self, reply: &Reply) -> ConnectorError {
        self.http.status_error(&self.api, reply)
    }

    /// GET /ServiceProviderConfig: proves the URL and the key.
    pub async fn service_provider_config(&self, deadline: Instant) -> Result<Value> {
        let reply = self
            .send(
                Request::get(self.api.url(&["ServiceProviderConfig"], &[])),
                deadline,
            )
            .await?;
        if reply.is(&[200]) {
            reply.json(&self.api, "a ServiceProviderConfig")
        } else {
            Err(self.fail(&reply))
        }
    }

    // ----- users ----------------------------------------------------------------------------

    /// GET /Users/{id}; `None` when it does not exist.
    pub async fn get_user(&self, id: &str, deadline: Instant) -> Result<Option<User>> {
        let reply = self
            .send(Request::get(self.api.url(&["Users", id], &[])), deadline)
            .await?;
        match reply.status.as_u16() {
            200 => reply.json(&self.api, "a user").map(Some),
            404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }

    /// The user whose `attribute` (`userName` or `externalId`) equals `value`.
    pub async fn find_user(
        &self,
        attribute: &str,
        value: &str,
        deadline: Instant,
    ) -> Result<Option<User>> {
        let filter = format!("{attribute} eq {}", quote(value));
        let page = self.list_users(Some(&filter), 1, 2, deadline).await?;
        Ok(page.resources.into_iter().next())
    }

    /// One page of users from the 1-based `start_index`.
    pub async fn list_users(
        &self,
        filter: Option<&str>,
        start_index: u64,
        count: u32,
        deadline: Instant,
    ) -> Result<ListResponse<User>> {
        let (start, count) = (start_index.to_string(), count.to_string());
        let mut query = vec![("startIndex", start.as_str()), ("count", count.as_str())];
        if let Some(f) = filter {
            query.push(("filter", f));
        }
        let reply = self
            .send(Request::get(self.api.url(&["Users"], &query)), deadline)
            .await?;
        if reply.is(&[200]) {
            reply.json(&self.api, "a page of users")
        } else {
            Err(self.fail(&reply))
        }
    }

    /// POST /Users. Resent after a lost response: a duplicate then answers 409, which the
    /// caller resolves by adopting the record.
    pub async fn create_user(&self, user: &User, deadline: Instant) -> Result<Created<User>> {
        let body =
            serde_json::to_value(user).map_err(|e| ConnectorError::internal(e.to_string()))?;
        let reply = self
            .send(
                Request::write(
                    Method::POST,
                    self.api.url(&["Users"], &[]),
                    Some(&body),
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 | 201 => reply.json(&self.api, "the created user").map(Created::New),
            409 => Ok(Created::Conflict(crate::http::server_detail(&reply.body))),
            _ => Err(self.fail(&reply)),
        }
    }

    /// PATCH /Users/{id}; `None` when the user does not exist.
    pub async fn patch_user(
        &self,
        id: &str,
        operations: &[PatchOperation],
        deadline: Instant,
    ) -> Result<Option<User>> {
        let body = patch_body(operations);
        let reply = self
            .send(
                Request::write(
                    Method::PATCH,
                    self.api.url(&["Users", id], &[]),
                    Some(&body),
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 => reply.json(&self.api, "the patched user").map(Some),
            204 => self.get_user(id, deadline).await,
            404 => Ok(None),
            409 => Err(ConnectorError::new(
                ErrorKind::AlreadyExists,
                format!(
                    "SCIM refused the change: {}",
                    crate::http::server_detail(&reply.body)
                ),
            )),
            _ => Err(self.fail(&reply)),
        }
    }

    /// DELETE /Users/{id}; `false` when there was nothing to delete.
    pub async fn delete_user(&self, id: &str, deadline: Instant) -> Result<bool> {
        let reply = self
            .send(
                Request::write(
                    Method::DELETE,
                    self.api.url(&["Users", id], &[]),
                    None,
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 | 204 => Ok(true),
            // A resent DELETE whose first attempt was applied finds nothing: that is success.
            404 => Ok(reply.maybe_applied_before),
            _ => Err(self.fail(&reply)),
        }
    }

    // ----- groups ---------------------------------------------------------------------------

    /// GET /Groups/{id}; `None` when it does not exist.
    pub async fn get_group(&self, id: &str, deadline: Instant) -> Result<Option<Group>> {
        let reply = self
            .send(Request::get(self.api.url(&["Groups", id], &[])), deadline)
            .await?;
        match reply.status.as_u16() {
            200 => reply.json(&self.api, "a group").map(Some),
            404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }

    /// The group named `name`.
    pub async fn find_group(&self, name: &str, deadline: Instant) -> Result<Option<Group>> {
        let filter = format!("displayName eq {}", quote(name));
        let page = self.list_groups(Some(&filter), 1, 2, deadline).await?;
        Ok(page.resources.into_iter().next())
    }

    /// One page of groups from the 1-based `start_index`.
    pub async fn list_groups(
        &self,
        filter: Option<&str>,
        start_index: u64,
        count: u32,
        deadline: Instant,
    ) -> Result<ListResponse<Group>> {
        let (start, count) = (start_index.to_string(), count.to_string());
        let mut query = vec![("startIndex", start.as_str()), ("count", count.as_str())];
        if let Some(f) = filter {
            query.push(("filter", f));
        }
        let reply = self
            .send(Request::get(self.api.url(&["Groups"], &query)), deadline)
            .await?;
        if reply.is(&[200]) {
            reply.json(&self.api, "a page of groups")
        } else {
            Err(self.fail(&reply))
        }
    }

    /// POST /Groups.
    pub async fn create_group(&self, group: &Group, deadline: Instant) -> Result<Created<Group>> {
        let body =
            serde_json::to_value(group).map_err(|e| ConnectorError::internal(e.to_string()))?;
        let reply = self
            .send(
                Request::write(
                    Method::POST,
                    self.api.url(&["Groups"], &[]),
                    Some(&body),
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 | 201 => reply.json(&self.api, "the created group").map(Created::New),
            409 => Ok(Created::Conflict(crate::http::server_detail(&reply.body))),
            _ => Err(self.fail(&reply)),
        }
    }

    /// PATCH /Groups/{id}; `None` when the group does not exist.
    pub async fn patch_group(
        &self,
        id: &str,
        operations: &[PatchOperation],
        deadline: Instant,
    ) -> Result<Option<Group>> {
        let body = patch_body(operations);
        let reply = self
            .send(
                Request::write(
                    Method::PATCH,
                    self.api.url(&["Groups", id], &[]),
                    Some(&body),
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 => reply.json(&self.api, "the patched group").map(Some),
            204 => self.get_group(id, deadline).await,
            404 if reply.body.windows(6).any(|w| w == b"[USER]") => {
                Err(ConnectorError::invalid_value(
                    "members",
                    format!(
                        "SCIM knows no such user: {}",
                        crate::http::server_detail(&reply.body)
                    ),
                ))
            }
            404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }

    /// DELETE /Groups/{id}; `false` when there was nothing to delete.
    pub async fn delete_group(&self, id: &str, deadline: Instant) -> Result<bool> {
        let reply = self
            .send(
                Request::write(
                    Method::DELETE,
                    self.api.url(&["Groups", id], &[]),
                    None,
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 | 204 => Ok(true),
            404 => Ok(reply.maybe_applied_before),
            _ => Err(self.fail(&reply)),
        }
    }
}
