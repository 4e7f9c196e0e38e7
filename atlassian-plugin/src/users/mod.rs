//! Users: SCIM records, with product access granted through the default groups.
//!
//! A create that SCIM answers 409 adopts the record only when its userName or externalId is the
//! one asked for, checked here whatever the server's filter returned; anything else is
//! `already_exists` naming the holder when it can be found.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use connector_api::ops::{
    OpDelete, OpGet, OpSearch, OpUpdate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use connector_api::{
    ConnectorError, ConnectorObject, DeltaChange, Filter, ObjectSink, Result, special,
};
use serde_json::{Value, json};

use crate::config::DeprovisioningMode;
use crate::listing::{self, Matches, ToSink};
use crate::mapping::{self, GROUPS, PRODUCT_ACCESS};
use crate::product_access::ProductAccess;
use crate::propagation::UNLINKED_AFTER;
use crate::scim::ScimClient;
use crate::scim::types::{PatchOperation, User, quote};
use crate::search::{PageReader, Scan};
use crate::settings::Settings;

mod create;
mod full_read;
mod rename;

use full_read::FullRead;
use rename::{proven_rename, refused_rename};

/// The class name.
pub(crate) const USER: &str = "user";

/// The users of one directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Users<'a> {
    /// The directory.
    pub scim: &'a ScimClient,
    /// The default groups.
    pub access: &'a ProductAccess,
    /// Page size and concurrency.
    pub settings: &'a Settings,
}

/// Every attribute a user filter may name.
fn attribute_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = mapping::USER_ATTRIBUTES.iter().map(|a| a.name).collect();
    names.extend([mapping::ACCOUNT_ID, GROUPS, PRODUCT_ACCESS]);
    names
}

/// A partial success: what was done and what is missing; `retry_after_secs` when a missing
/// change waits on propagation.
fn partial(uid: &str, what: &str, done: Vec<Value>, missing: Vec<Value>) -> ConnectorError {
    let retry_after = missing
        .iter()
        .filter_map(|m| m.pointer("/error/details/retry_after_secs")?.as_u64())
        .max();
    let missing_retryable = missing
        .iter()
        .any(|m| m.pointer("/error/retryable") == Some(&Value::Bool(true)));
    let first = missing
        .first()
        .and_then(|m| m.get("error"))
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut error = ConnectorError::partial_success(
        format!(
            "{what} `{uid}`, but {} product-access change(s) failed: {first}",
            missing.len()
        ),
        json!({ "uid": uid, "changes": done }),
        json!(missing),
    );
    error.details["uid"] = json!(uid);
    // Worth retrying only if something missing is.
    error.retryable = missing_retryable;
    if let Some(secs) = retry_after {
        error.details["retry_after_secs"] = json!(secs);
    }
    error
}

impl Users<'_> {
    fn scan(&self, reader: PageReader<ConnectorObject>, page_size: u32) -> Scan<ConnectorObject> {
        Scan {
            reader,
            count: page_size,
            concurrency: self.settings.concurrency,
            what: "SCIM users".into(),
        }
    }

    /// The users SCIM returns for `attribute eq value` that really have that value (userName
    /// compared case-insensitively, externalId exactly), in listing order.
    async fn lookup(
        &self,
        attribute: &str,
        value: &str,
        deadline: Instant,
    ) -> Result<Vec<ConnectorObject>> {
        let (scim_attribute, verify) = match attribute {
            special::NAME => ("userName", Filter::name(value)),
            _ => ("externalId", Filter::eq("external_id", value)),
        };
        let filter = format!("{scim_attribute} eq {}", quote(value));
        let reader = full_read::filtered_pages(
            self.scim.clone(),
            filter,
            self.settings.concurrency,
            deadline,
        );
        let mut matches = Matches::of(verify);
        self.scan(reader, self.settings.page_size)
            .run(&mut matches)
            .await?;
        Ok(matches.found)
    }

    async fn get_record(&self, uid: &str, deadline: Instant) -> Result<User> {
        self.scim
            .get_user(uid, deadline)
            .await?
            .ok_or_else(|| ConnectorError::unknown_uid(USER, uid))
    }

    /// A user's object, with product access when `wants_access`.
    async fn object(
        &self,
        user: &User,
        wants_access: bool,
        deadline: Instant,
    ) -> Result<ConnectorObject> {
        let access = match (wants_access, user.account_id()) {
            (true, Some(account)) => Some(self.access.of(account, deadline).await?),
            (true, None) => Some(Vec::new()),
            (false, _) => None,
        };
        Ok(mapping::user_object(user, access))
    }

    pub(crate) async fn get(&self, op: OpGet, deadline: Instant) -> Result<RpGet> {
        let user = self.get_record(op.uid.as_str(), deadline).await?;
        let mut object = self
            .object(
                &user,
                wants_access(op.attributes_to_get.as_deref()),
                deadline,
            )
            .await?;
        if let Some(names) = &op.attributes_to_get {
            object.retain_attributes(names);
        }
        Ok(RpGet::new(object))
    }

    pub(crate) async fn update(&self, op: OpUpdate, deadline: Instant) -> Result<RpUpdate> {
        let uid = op.uid.clone();
        let needs_current = op
            .deltas
            .iter()
            .any(|d| matches!(d.change, DeltaChange::Remove(_)) && d.attribute != PRODUCT_ACCESS);
        let mut current = if needs_current {
            Some(self.get_record(uid.as_str(), deadline).await?)
        } else {
            None
        };
        let (ops, access) = mapping::user_patch(&op, current.as_ref())?;
        let mut last: BTreeMap<String, bool> = BTreeMap::new();
        for change in &access {
            let (values, add) = match change {
                DeltaChange::Add(v) => (v, true),
                DeltaChange::Remove(v) | DeltaChange::Replace(v) => (v, false),
            };
            let names = mapping::string_list(PRODUCT_ACCESS, &Value::Array(values.clone()))?;
            if add || matches!(change, DeltaChange::Replace(_)) {
                // Adding a group the connector does not manage is refused before any change.
                self.access.requested(&names)?;
            }
            for name in names {
                // Removing a group the connector does not manage is trivially done.
                if let Ok(group) = self.access.configured(&name) {
                    last.insert(group, add);
                }
            }
        }
        if !ops.is_empty() {
            let patched = self
                .scim
                .patch_user(uid.as_str(), &ops, deadline)
                .await
                .map_err(|e| refused_rename(op.name.as_deref(), e))?
                .ok_or_else(|| ConnectorError::unknown_uid(USER, uid.as_str()))?;
            if let Some(name) = op.name.as_deref() {
                proven_rename(name, &patched)?;
            }
            current = Some(patched);
        } else if current.is_none() {
            current = Some(self.get_record(uid.as_str(), deadline).await?);
        }
        if access.is_empty() {
            return Ok(RpUpdate::new(uid));
        }
        let user = current.expect("read or patched above");
        let account = self.account_id(&user, deadline).await?;
        let (add, remove) = if access.iter().any(|c| matches!(c, DeltaChange::Replace(_))) {
            let has: BTreeSet<String> = self
                .access
                .of(&account, deadline)
                .await?
                .into_iter()
                .collect();
            let want = mapping::apply_access(&has, &access);
            let want: BTreeSet<String> = want
                .iter()
                .filter_map(|n| self.access.configured(n).ok())
                .collect();
            (
                want.difference(&has).cloned().collect::<Vec<_>>(),
                has.difference(&want).cloned().collect::<Vec<_>>(),
            )
        } else {
            // Adds and removes only: the last word on each group wins, whatever its state now.
            let pick = |want: bool| {
                last.iter()
                    .filter(|(_, a)| **a == want)
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>()
            };
            (pick(true), pick(false))
        };
        let (done, missing) = self
            .access
            .change(&account, fresh(&user), &add, &remove, deadline)
            .await;
        if !missing.is_empty() {
            let what = if ops.is_empty() {
                "updated nothing in SCIM for"
            } else {
                "updated user"
            };
            return Err(partial(uid.as_str(), what, done, missing));
        }
        Ok(RpUpdate::new(uid))
    }

    pub(crate) async fn delete(&self, op: OpDelete, deadline: Instant) -> Result<RpDelete> {
        let uid = op.uid.as_str();
        let found = match self.settings.deprovisioning {
            DeprovisioningMode::Deactivate => {
                let ops = [PatchOperation::replace("active", json!(false))];
                self.scim.patch_user(uid, &ops, deadline).await?.is_some()
            }
            DeprovisioningMode::Delete => self.scim.delete_user(uid, deadline).await?,
            DeprovisioningMode::RevokeAccess => return self.revoke_access(uid, deadline).await,
        };
        if found {
            Ok(RpDelete::new())
        } else {
            Err(ConnectorError::unknown_uid(USER, uid))
        }
    }

    /// Deprovisioning by access: the account leaves every default group and stays active.
    async fn revoke_access(&self, uid: &str, deadline: Instant) -> Result<RpDelete> {
        let user = self.get_record(uid, deadline).await?;
        let Some(account) = user.account_id() else {
            // No Atlassian account: there is no access to revoke.
            return Ok(RpDelete::new());
        };
        let all = self.access.all().to_vec();
        let (done, missing) = self
            .access
            .change(account, fresh(&user), &[], &all, deadline)
            .await;
        if missing.is_empty() {
            Ok(RpDelete::new())
        } else {
            Err(partial(uid, "revoked access of user", done, missing))
        }
    }

    pub(crate) async fn search(
        &self,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
        deadline: Instant,
    ) -> Result<RpSearch> {
        let filter = op.filter.as_ref();
        if let Some(f) = filter {
            listing::check_filter_attributes(f, USER, &attribute_names())?;
        }
        let wants_access = wants_access(op.attributes_to_get.as_deref());
        let attributes = op.attributes_to_get.as_deref();
        let mut out = ToSink::new(sink, filter, attributes);
        if let Some(uid) = listing::required_uid(filter) {
            let found = listing::unless_unknown(self.scim.get_user(uid, deadline).await)?;
            if let Some(user) = found {
                let object = self.object(&user, wants_access, deadline).await?;
                let _ = out.deliver(vec![object]);
            }
            return Ok(RpSearch::new(out.sent, true));
        }
        let page_size = op
            .page_size
            .unwrap_or(self.settings.page_size)
            .clamp(1, self.settings.page_size);
        // userName and externalId are asked of SCIM, and what it answers is checked here.
        let asked = filter.and_then(|f| {
            let by = |attribute: &'static str| {
                f.required_eq(attribute)
                    .and_then(Value::as_str)
                    .map(|v| (attribute, v))
            };
            by(special::NAME).or_else(|| by("external_id"))
        });
        let Some((attribute, value)) = asked else {
            let scanned = FullRead {
                scim: self.scim,
                access: self.access,
                with_access: wants_access,
                page_size,
                concurrency: self.settings.concurrency,
            }
            .run(&mut out, deadline)
            .await?;
            return Ok(listing::reply(out.sent, scanned));
        };
        let mut objects = Vec::new();
        for object in self.lookup(attribute, value, deadline).await? {
            let mut object = object;
            if let (true, Some(account)) = (wants_access, object.value(mapping::ACCOUNT_ID)) {
                let account = account.as_str().unwrap_or_default().to_owned();
                let access = self.access.of(&account, deadline).await?;
                object
                    .attributes
                    .insert(PRODUCT_ACCESS.into(), json!(access));
            } else if wants_access {
                object.attributes.insert(PRODUCT_ACCESS.into(), json!([]));
            }
            objects.push(object);
        }
        objects.retain(|o| filter.is_none_or(|f| listing::matches(f, o)));
        out.announce(objects.len() as u64);
        let complete = out.deliver(objects).is_continue();
        Ok(RpSearch::new(out.sent, complete))
    }
}

/// Whether a record may still be propagating to the site: younger than [`UNLINKED_AFTER`], or
/// of unknown age.
fn fresh(user: &User) -> bool {
    user.age().is_none_or(|age| age < UNLINKED_AFTER)
}

/// Whether the attributes asked for include product access (all defaults do).
fn wants_access(attributes: Option<&[String]>) -> bool {
    attributes.is_none_or(|a| a.iter().any(|n| n == PRODUCT_ACCESS))
}
