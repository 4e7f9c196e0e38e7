//! SCIM `/Users` and `/Groups` calls with the Directory API Key; paging and lookups.
//!
//! Both resources share one implementation of get, list, create, patch and delete; the typed
//! methods below name the resource and its few differences.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use connector_api::{ConnectorError, ErrorKind, Result};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::fallback;
use super::types::{Group, ListResponse, PatchOperation, User, patch_body};
use crate::http::{Endpoint, MAX_BODY, Reply, Request, server_detail};

/// What a create answered.
#[derive(Debug)]
pub(crate) enum Created<T> {
    /// 201 with the resource.
    New(T),
    /// 409: something unique is taken; the server's detail.
    Conflict(String),
}

/// A SCIM resource endpoint.
#[derive(Debug, Clone, Copy)]
struct Resource {
    /// `Users` or `Groups`.
    path: &'static str,
    /// `user` or `group`, for messages.
    noun: &'static str,
    /// The largest body one read of it may answer.
    max_body: usize,
}

const USERS: Resource = Resource {
    path: "Users",
    noun: "user",
    max_body: MAX_BODY,
};

/// Group reads embed every member, and SCIM cannot leave them out (Atlassian's `/Groups` takes
/// no `attributes` or `excludedAttributes`); a group may have 290,000 members of about 220 bytes
/// each ("Users and groups limits"): 64 MB, so group reads accept four times [`MAX_BODY`].
const GROUPS: Resource = Resource {
    path: "Groups",
    noun: "group",
    max_body: 4 * MAX_BODY,
};

/// The SCIM client of one directory.
#[derive(Debug, Clone)]
pub(crate) struct ScimClient {
    endpoint: Endpoint,
    /// Set once the server refused a common PATCH form and took its strict equivalent (see
    /// [`super::fallback`]): later PATCHes send the strict form first.
    strict: Arc<AtomicBool>,
}

/// Whether `id` names one resource below a collection: one path segment, never `.` or `..`
/// (which URL resolution turns into the collection itself), no separator, nothing invisible.
pub(crate) fn is_resource_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 256
        && !id.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

impl ScimClient {
    /// A client of the directory at `endpoint`.
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        ScimClient {
            endpoint,
            strict: Arc::new(AtomicBool::new(false)),
        }
    }

    async fn send(&self, request: Request<'_>, deadline: Instant) -> Result<Reply> {
        self.endpoint.send(request, deadline).await
    }

    fn fail(&self, reply: &Reply) -> ConnectorError {
        self.endpoint.fail(reply)
    }

    /// The URL of one resource, refusing an id that is not one resource's.
    fn resource_url(&self, r: Resource, id: &str) -> Result<url::Url> {
        if !is_resource_id(id) {
            return Err(ConnectorError::unknown_uid(r.noun, id).with_details(
                serde_json::json!({ "uid": id, "reason": "not the id of one resource" }),
            ));
        }
        Ok(self.endpoint.url(&[r.path, id], &[]))
    }

    /// GET /ServiceProviderConfig: proves the URL and the key.
    pub(crate) async fn service_provider_config(&self, deadline: Instant) -> Result<Value> {
        let url = self.endpoint.url(&["ServiceProviderConfig"], &[]);
        self.endpoint
            .get_json(url, "a ServiceProviderConfig", deadline)
            .await
    }

    // ----- one implementation for both resources -------------------------------------------

    async fn get<T: DeserializeOwned>(
        &self,
        r: Resource,
        id: &str,
        deadline: Instant,
    ) -> Result<Option<T>> {
        let request = Request::get(self.resource_url(r, id)?).max_body(r.max_body);
        let reply = self.send(request, deadline).await?;
        match reply.status.as_u16() {
            200 => self
                .endpoint
                .json(&reply, &format!("a {}", r.noun))
                .map(Some),
            404 => Ok(None),
            _ => Err(self.fail(&reply)),
        }
    }

    async fn list<T: DeserializeOwned>(
        &self,
        r: Resource,
        filter: Option<&str>,
        start_index: u64,
        count: u32,
        deadline: Instant,
    ) -> Result<ListResponse<T>> {
        let (start, count) = (start_index.to_string(), count.to_string());
        let mut query = vec![("startIndex", start.as_str()), ("count", count.as_str())];
        if let Some(f) = filter {
            query.push(("filter", f));
        }
        let url = self.endpoint.url(&[r.path], &query);
        let reply = self
            .send(Request::get(url).max_body(r.max_body), deadline)
            .await?;
        if reply.is(&[200]) {
            self.endpoint
                .json(&reply, &format!("a page of {}s", r.noun))
        } else {
            Err(self.fail(&reply))
        }
    }

    /// POST, resent after a lost response: a duplicate then answers 409, which the caller
    /// resolves by adopting the existing resource.
    async fn create<T: Serialize + DeserializeOwned>(
        &self,
        r: Resource,
        resource: &T,
        deadline: Instant,
    ) -> Result<Created<T>> {
        let body =
            serde_json::to_value(resource).map_err(|e| ConnectorError::internal(e.to_string()))?;
        let reply = self
            .send(
                Request::write(
                    Method::POST,
                    self.endpoint.url(&[r.path], &[]),
                    Some(&body),
                    true,
                ),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 | 201 => self
                .endpoint
                .json(&reply, &format!("the created {}", r.noun))
                .map(Created::New),
            409 => Ok(Created::Conflict(server_detail(&reply.body))),
            _ => Err(self.fail(&reply)),
        }
    }

    /// PATCH; `Ok(None)` when the resource does not exist, `Err(reply)` for the caller to map.
    async fn patch<T: DeserializeOwned>(
        &self,
        r: Resource,
        id: &str,
        operations: &[PatchOperation],
        deadline: Instant,
    ) -> Result<std::result::Result<Option<T>, Box<Reply>>> {
        let body = patch_body(operations);
        let reply = self
            .send(
                Request::write(Method::PATCH, self.resource_url(r, id)?, Some(&body), true),
                deadline,
            )
            .await?;
        match reply.status.as_u16() {
            200 => self
                .endpoint
                .json(&reply, &format!("the patched {}", r.noun))
                .map(|v| Ok(Some(v))),
            204 => self.get(r, id, deadline).await.map(Ok),
            _ => Ok(Err(Box::new(reply))),
        }
    }

    /// DELETE; `false` when there was nothing to delete.
    async fn delete(&self, r: Resource, id: &str, deadline: Instant) -> Result<bool> {
        let reply = self
            .send(
                Request::write(Method::DELETE, self.resource_url(r, id)?, None, true),
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

    // ----- users ----------------------------------------------------------------------------

    /// GET /Users/{id}; `None` when it does not exist.
    pub(crate) async fn get_user(&self, id: &str, deadline: Instant) -> Result<Option<User>> {
        self.get(USERS, id, deadline).await
    }

    /// One page of users from the 1-based `start_index`.
    pub(crate) async fn list_users(
        &self,
        filter: Option<&str>,
        start_index: u64,
        count: u32,
        deadline: Instant,
    ) -> Result<ListResponse<User>> {
        self.list(USERS, filter, start_index, count, deadline).await
    }

    /// POST /Users.
    pub(crate) async fn create_user(
        &self,
        user: &User,
        deadline: Instant,
    ) -> Result<Created<User>> {
        self.create(USERS, user, deadline).await
    }

    /// PATCH /Users/{id}; `None` when the user does not exist.
    pub(crate) async fn patch_user(
        &self,
        id: &str,
        operations: &[PatchOperation],
        deadline: Instant,
    ) -> Result<Option<User>> {
        let reply = self
            .patch_or_strict(USERS, id, operations, fallback::strict_user_ops, deadline)
            .await?;
        match reply {
            Ok(user) => Ok(user),
            Err(reply) if reply.is(&[404]) => Ok(None),
            Err(reply) if reply.is(&[409]) => Err(ConnectorError::new(
                ErrorKind::AlreadyExists,
                format!("SCIM refused the change: {}", server_detail(&reply.body)),
            )),
            Err(reply) => Err(self.fail(&reply)),
        }
    }

    /// A PATCH in the common form, or in its strict equivalent once the server refused the
    /// common one with a 400 (and remembered from then on).
    async fn patch_or_strict<T: DeserializeOwned>(
        &self,
        r: Resource,
        id: &str,
        operations: &[PatchOperation],
        strict_form: fn(&[PatchOperation]) -> Option<Vec<PatchOperation>>,
        deadline: Instant,
    ) -> Result<std::result::Result<Option<T>, Box<Reply>>> {
        let strict = strict_form(operations);
        if let (Some(strict), true) = (&strict, self.strict.load(Ordering::Relaxed)) {
            return self.patch(r, id, strict, deadline).await;
        }
        let reply = self.patch(r, id, operations, deadline).await?;
        match (reply, strict) {
            (Err(refused), Some(strict)) if refused.is(&[400]) => {
                let retried = self.patch(r, id, &strict, deadline).await?;
                if retried.is_ok() {
                    connector_api::rt::log(connector_api::LogLevel::Info, || {
                        format!(
                            "SCIM refused a PATCH form ({}) and took its strict RFC 7644 equivalent: using that form from now on",
                            server_detail(&refused.body)
                        )
                    });
                    self.strict.store(true, Ordering::Relaxed);
                }
                Ok(retried)
            }
            (reply, _) => Ok(reply),
        }
    }

    /// DELETE /Users/{id}; `false` when there was nothing to delete.
    pub(crate) async fn delete_user(&self, id: &str, deadline: Instant) -> Result<bool> {
        self.delete(USERS, id, deadline).await
    }

    // ----- groups ---------------------------------------------------------------------------

    /// GET /Groups/{id}; `None` when it does not exist.
    pub(crate) async fn get_group(&self, id: &str, deadline: Instant) -> Result<Option<Group>> {
        self.get(GROUPS, id, deadline).await
    }

    /// One page of groups from the 1-based `start_index`.
    pub(crate) async fn list_groups(
        &self,
        filter: Option<&str>,
        start_index: u64,
        count: u32,
        deadline: Instant,
    ) -> Result<ListResponse<Group>> {
        self.list(GROUPS, filter, start_index, count, deadline)
            .await
    }

    /// POST /Groups.
    pub(crate) async fn create_group(
        &self,
        group: &Group,
        deadline: Instant,
    ) -> Result<Created<Group>> {
        self.create(GROUPS, group, deadline).await
    }

    /// PATCH /Groups/{id}; `None` when the group does not exist. An unknown member is an
    /// invalid `members` value, not an unknown group.
    pub(crate) async fn patch_group(
        &self,
        id: &str,
        operations: &[PatchOperation],
        deadline: Instant,
    ) -> Result<Option<Group>> {
        let reply = self
            .patch_or_strict(GROUPS, id, operations, fallback::strict_group_ops, deadline)
            .await?;
        match reply {
            Ok(group) => Ok(group),
            // "The directory, group, or user does not exist": the group's state tells which.
            Err(reply) if reply.is(&[404]) => match self.get_group(id, deadline).await? {
                Some(_) => Err(ConnectorError::invalid_value(
                    "members",
                    format!(
                        "SCIM answered 404 for a change of group `{id}`, which exists: a member is not a user of this directory ({})",
                        server_detail(&reply.body)
                    ),
                )),
                None => Ok(None),
            },
            Err(reply) => Err(self.fail(&reply)),
        }
    }

    /// DELETE /Groups/{id}; `false` when there was nothing to delete.
    pub(crate) async fn delete_group(&self, id: &str, deadline: Instant) -> Result<bool> {
        self.delete(GROUPS, id, deadline).await
    }
}
