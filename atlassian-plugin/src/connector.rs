//! `AtlassianConnector`: the connector IDHub loads; each operation delegates to the API clients.
//!
//! Users live in SCIM; product access is membership of the configured default groups, granted
//! and revoked through Jira's group API with the account id from SCIM's Atlassian extension.
//! Groups live in SCIM. Every operation runs as one future on the plugin's runtime, bounded by
//! the configured deadline and the host's.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector_api::ops::{
    OpCreate, OpDelete, OpGet, OpSearch, OpUpdate, RpCreate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use connector_api::{
    AttributeDelta, ClassCapabilities, Connector, ConnectorError, ConnectorObject, Context,
    DeltaChange, ErrorKind, Filter, Manifest, ObjectSink, Result, Schema, TestReport, special,
};
use serde_json::{Value, json};

use crate::config::{AtlassianConfig, DeprovisioningMode};
use crate::http::governor::Governor;
use crate::http::{Api, Auth, Http, Redactor};
use crate::mapping::{self, GROUPS, PRODUCT_ACCESS};
use crate::runtime;
use crate::scim::ScimClient;
use crate::scim::client::Created;
use crate::scim::types::User;
use crate::site::jira::Membership;
use crate::site::{ConfluenceClient, JiraClient};

const USER: &str = "user";
const GROUP: &str = "group";

/// How long a new account may take to reach the site before a grant gives up (inside the deadline).
const PROPAGATION_WAIT: Duration = Duration::from_secs(60);

/// The Atlassian Cloud connector, one per configuration.
#[derive(Debug)]
pub struct AtlassianConnector {
    pub(crate) config: AtlassianConfig,
    pub(crate) scim: ScimClient,
    pub(crate) jira: JiraClient,
    pub(crate) confluence: ConfluenceClient,
    http: Arc<Http>,
    /// Default group name (lower case) to its site group id, resolved once.
    group_ids: Mutex<HashMap<String, String>>,
}

impl AtlassianConnector {
    /// The configuration the connector was opened with.
    pub fn config(&self) -> &AtlassianConfig {
        &self.config
    }

    /// Runs one operation's future within its deadline; every error leaves secret-free.
    fn call<T>(
        &self,
        ctx: &Context<'_>,
        work: impl AsyncFnOnce(Instant) -> Result<T>,
    ) -> Result<T> {
        let deadline = runtime::deadline(ctx, Duration::from_secs(self.config.deadline_secs));
        runtime::run(ctx, deadline, work(deadline)).map_err(|e| self.http.redactor().clean_error(e))
    }

    /// The configured default group matching `name`, as configured.
    fn default_group(&self, name: &str) -> Result<String> {
        self.config
            .default_group_names
            .iter()
            .find(|g| g.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                ConnectorError::invalid_value(
                    PRODUCT_ACCESS,
                    format!(
                        "`{name}` is not one of the configured Default Group Names ({})",
                        self.config.default_group_names.join(", ")
                    ),
                )
            })
    }

    async fn site_group_id(&self, name: &str, deadline: Instant) -> Result<String> {
        let key = name.to_lowercase();
        if let Some(id) = self
            .group_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(id.clone());
        }
        let group = self.jira.find_group(name, deadline).await?.ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::InvalidConfiguration,
                format!("the site has no group `{name}`: check Default Group Names against admin.atlassian.com, Products, Manage product, Default groups"),
            )
            .with_details(json!({ "field": "default_group_names", "group": name }))
        })?;
        self.group_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, group.group_id.clone());
        Ok(group.group_id)
    }

    /// The account id of a SCIM user: from the Atlassian extension, or by re-reading the user
    /// while the account is being created (a bounded, polite wait).
    async fn account_id(&self, user: &User, deadline: Instant) -> Result<String> {
        if let Some(id) = user.account_id() {
            return Ok(id.to_owned());
        }
        let uid = user.id.clone().unwrap_or_default();
        let until = deadline.min(Instant::now() + PROPAGATION_WAIT);
        let mut wait = Duration::from_millis(250);
        while Instant::now() + wait < until {
            tokio::time::sleep(wait).await;
            if let Some(id) = self
                .scim
                .get_user(&uid, deadline)
                .await?
                .as_ref()
                .and_then(User::account_id)
            {
                return Ok(id.to_owned());
            }
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        Err(ConnectorError::new(
            ErrorKind::Timeout,
            format!("SCIM user `{uid}` has no Atlassian account id yet"),
        )
        .with_retryable(true))
    }

    /// Adds or removes an account in a default group, waiting politely while a new account
    /// propagates from SCIM to the site.
    async fn set_membership(
        &self,
        group: &str,
        account: &str,
        add: bool,
        deadline: Instant,
    ) -> Result<()> {
        let group_id = self.site_group_id(group, deadline).await?;
        let until = deadline.min(Instant::now() + PROPAGATION_WAIT);
        let mut wait = Duration::from_millis(250);
        loop {
            let outcome = if add {
                self.jira.add_member(&group_id, account, deadline).await?
            } else {
                self.jira
                    .remove_member(&group_id, account, deadline)
                    .await?
            };
            if outcome != Membership::UnknownAccount {
                return Ok(());
            }
            if Instant::now() + wait >= until {
                return Err(ConnectorError::new(
                    ErrorKind::Timeout,
                    format!("the site does not know account `{account}` yet (SCIM propagation); retry later"),
                )
                .with_retryable(true));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// Applies product-access changes; answers what was done and what failed.
    async fn change_access(
        &self,
        account: &str,
        add: &[String],
        remove: &[String],
        deadline: Instant,
    ) -> (Vec<Value>, Vec<Value>) {
        let (mut done, mut missing) = (Vec::new(), Vec::new());
        for (groups, adding) in [(add, true), (remove, false)] {
            for group in groups {
                let action = if adding { "grant" } else { "revoke" };
                match self.set_membership(group, account, adding, deadline).await {
                    Ok(()) => done.push(json!({ "action": action, "group": group })),
                    Err(e) => missing.push(json!({ "action": action, "group": group, "error": e })),
                }
            }
        }
        (done, missing)
    }

    /// The default groups an account is in.
    async fn product_access_of(&self, account: &str, deadline: Instant) -> Result<Vec<String>> {
        let groups = self
            .jira
            .user_groups(account, deadline)
            .await?
            .unwrap_or_default();
        Ok(self
            .config
            .default_group_names
            .iter()
            .filter(|d| groups.iter().any(|g| g.name.eq_ignore_ascii_case(d)))
            .cloned()
            .collect())
    }

    fn partial(uid: &str, what: &str, done: Vec<Value>, missing: Vec<Value>) -> ConnectorError {
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
        error
    }

    // ----- users ----------------------------------------------------------------------------

    async fn create_user(&self, op: OpCreate, deadline: Instant) -> Result<RpCreate> {
        let (user, access) = mapping::new_user(&op)?;
        let access: Vec<String> = match access {
            Some(names) => names
                .iter()
                .map(|n| self.default_group(n))
                .collect::<Result<_>>()?,
            None => self.config.default_group_names.clone(),
        };
        let (created, adopted) = match self.scim.create_user(&user, deadline).await? {
            Created::New(created) => (created, false),
            Created::Conflict(detail) => (self.adopt(&op, &user, &detail, deadline).await?, true),
        };
        let uid = created.id.clone().unwrap_or_default();
        let account = match self.account_id(&created, deadline).await {
            Ok(account) => account,
            Err(e) => {
                let missing = access
                    .iter()
                    .map(|g| json!({ "action": "grant", "group": g, "error": e }))
                    .collect();
                return Err(Self::partial(&uid, "created user", Vec::new(), missing));
            }
        };
        let (done, missing) = self.change_access(&account, &access, &[], deadline).await;
        if !missing.is_empty() {
            return Err(Self::partial(
                &uid,
                if adopted {
                    "adopted existing user"
                } else {
                    "created user"
                },
                done,
                missing,
            ));
        }
        Ok(if adopted {
            RpCreate::adopted(uid)
        } else {
            RpCreate::created(uid)
        })
    }

    /// Resolves a 409 on create: the record with the same userName, else the same externalId, is
    /// the same person and is adopted (its attributes set as asked); anything else already exists.
    async fn adopt(
        &self,
        op: &OpCreate,
        user: &User,
        detail: &str,
        deadline: Instant,
    ) -> Result<User> {
        let mut existing = self
            .scim
            .find_user("userName", &user.user_name, deadline)
            .await?;
        if existing.is_none() {
            if let Some(ext) = user.external_id() {
                existing = self.scim.find_user("externalId", ext, deadline).await?;
            }
        }
        let Some(existing) = existing else {
            return Err(self.email_taken(user, detail, deadline).await);
        };
        let uid = existing.id.clone().unwrap_or_default();
        let mut update = OpUpdate::new(USER, uid.as_str()).enabled(op.enabled.unwrap_or(true));
        if !existing.user_name.eq_ignore_ascii_case(&user.user_name) {
            update = update.rename(&user.user_name);
        }
        for (attribute, value) in op
            .attributes
            .iter()
            .filter(|(a, _)| a.as_str() != PRODUCT_ACCESS)
        {
            update = update.delta(AttributeDelta::replace(attribute, [value.clone()]));
        }
        let (ops, _) = mapping::user_patch(&update, Some(&existing))?;
        match self.scim.patch_user(&uid, &ops, deadline).await? {
            Some(user) => Ok(user),
            None => Err(ConnectorError::already_exists(
                format!(
                    "user `{}` exists but vanished while being adopted",
                    user.user_name
                ),
                Some(&uid),
            )),
        }
    }

    /// The 409 left once userName and externalId match nothing: the primary email belongs to
    /// another person. SCIM cannot filter on emails, but Atlassian userNames are usually
    /// emails, so the holder is looked up by userName to name its uid; it is not adopted,
    /// since it is someone else's account.
    async fn email_taken(&self, user: &User, detail: &str, deadline: Instant) -> ConnectorError {
        let holder = match user.primary_email() {
            Some(email) => match self.scim.find_user("userName", email, deadline).await {
                Ok(found) => found.filter(|h| {
                    h.primary_email()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                }),
                Err(e) => return e,
            },
            None => None,
        };
        match holder.and_then(|h| h.id) {
            Some(uid) => ConnectorError::already_exists(
                format!(
                    "SCIM refused the user as a duplicate ({detail}): its primary email belongs to the user `{uid}`"
                ),
                Some(&uid),
            ),
            None => ConnectorError::already_exists(
                format!(
                    "SCIM refused the user as a duplicate of another record ({detail}); no record has this userName or externalId"
                ),
                None,
            ),
        }
    }

    async fn get_user(&self, op: OpGet, deadline: Instant) -> Result<RpGet> {
        let user = self
            .scim
            .get_user(op.uid.as_str(), deadline)
            .await?
            .ok_or_else(|| ConnectorError::unknown_uid(USER, op.uid.as_str()))?;
        let wants_access = op
            .attributes_to_get
            .as_ref()
            .is_none_or(|a| a.iter().any(|n| n == PRODUCT_ACCESS));
        let access = match (wants_access, user.account_id()) {
            (true, Some(account)) => Some(self.product_access_of(account, deadline).await?),
            (true, None) => Some(Vec::new()),
            (false, _) => None,
        };
        let mut object = mapping::user_object(&user, access);
        if let Some(names) = &op.attributes_to_get {
            object.retain_attributes(names);
        }
        Ok(RpGet::new(object))
    }

    async fn update_user(&self, op: OpUpdate, deadline: Instant) -> Result<RpUpdate> {
        let uid = op.uid.clone();
        let needs_current = op
            .deltas
            .iter()
            .any(|d| matches!(d.change, DeltaChange::Remove(_)) && d.attribute != PRODUCT_ACCESS);
        let mut current = if needs_current {
            Some(
                self.scim
                    .get_user(uid.as_str(), deadline)
                    .await?
                    .ok_or_else(|| ConnectorError::unknown_uid(USER, uid.as_str()))?,
            )
        } else {
            None
        };
        let (ops, access) = mapping::user_patch(&op, current.as_ref())?;
        for change in &access {
            // Removing a group the connector does not manage is trivially done; adding one is not.
            if let DeltaChange::Replace(v) | DeltaChange::Add(v) = change {
                for name in v.iter().filter_map(Value::as_str) {
                    self.default_group(name)?;
                }
            }
        }
        if !ops.is_empty() {
            current = Some(
                self.scim
                    .patch_user(uid.as_str(), &ops, deadline)
                    .await?
                    .ok_or_else(|| ConnectorError::unknown_uid(USER, uid.as_str()))?,
            );
        } else if current.is_none() {
            current = Some(
                self.scim
                    .get_user(uid.as_str(), deadline)
                    .await?
                    .ok_or_else(|| ConnectorError::unknown_uid(USER, uid.as_str()))?,
            );
        }
        if access.is_empty() {
            return Ok(RpUpdate::new(uid));
        }
        let user = current.expect("read or patched above");
        let account = self.account_id(&user, deadline).await?;
        let (add, remove) = if access.iter().any(|c| matches!(c, DeltaChange::Replace(_))) {
            let has: BTreeSet<String> = self
                .product_access_of(&account, deadline)
                .await?
                .into_iter()
                .collect();
            let want = mapping::apply_access(&has, &access);
            (
                want.difference(&has).cloned().collect(),
                has.difference(&want).cloned().collect(),
            )
        } else {
            // Adds and removes only: the last word on each group wins, whatever its state now.
            let mut last: BTreeMap<String, bool> = BTreeMap::new();
            for change in &access {
                let (values, add) = match change {
                    DeltaChange::Add(v) => (v, true),
                    DeltaChange::Remove(v) | DeltaChange::Replace(v) => (v, false),
                };
                for name in values.iter().filter_map(Value::as_str) {
                    match self.default_group(name) {
                        Ok(group) => {
                            last.insert(group, add);
                        }
                        Err(_) if !add => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            let pick = |want: bool| {
                last.iter()
                    .filter(|(_, a)| **a == want)
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>()
            };
            (pick(true), pick(false))
        };
        let (done, missing) = self.change_access(&account, &add, &remove, deadline).await;
        if !missing.is_empty() {
            return Err(Self::partial(
                uid.as_str(),
                if ops.is_empty() {
                    "updated nothing in SCIM for"
                } else {
                    "updated user"
                },
                done,
                missing,
            ));
        }
        Ok(RpUpdate::new(uid))
    }

    async fn delete_user(&self, op: OpDelete, deadline: Instant) -> Result<RpDelete> {
        let uid = op.uid.as_str();
        let found = match self.config.deprovisioning {
            DeprovisioningMode::Deactivate => {
                let ops = [crate::scim::types::PatchOperation::replace(
                    "active",
                    json!(false),
                )];
                self.scim.patch_user(uid, &ops, deadline).await?.is_some()
            }
            DeprovisioningMode::Delete => self.scim.delete_user(uid, deadline).await?,
        };
        if found {
            Ok(RpDelete::new())
        } else {
            Err(ConnectorError::unknown_uid(USER, uid))
        }
    }

    async fn search_users(
        &self,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
        deadline: Instant,
    ) -> Result<RpSearch> {
        let filter = op.filter.clone();
        if let Some(f) = &filter {
            check_filter_attributes(f, USER, &user_attribute_names())?;
        }
        let wants_access = op
            .attributes_to_get
            .as_ref()
            .is_none_or(|a| a.iter().any(|n| n == PRODUCT_ACCESS));
        let page_size = op
            .page_size
            .unwrap_or(self.config.page_size)
            .clamp(1, self.config.page_size);
        let finish = |mut object: ConnectorObject| {
            if let Some(names) = &op.attributes_to_get {
                object.retain_attributes(names);
            }
            object
        };
        // A uid is answered by a get.
        if let Some(uid) = filter
            .as_ref()
            .and_then(|f| f.required_eq(special::UID))
            .and_then(Value::as_str)
        {
            let Some(user) = self.scim.get_user(uid, deadline).await? else {
                return Ok(RpSearch::new(0, true));
            };
            let access = match (wants_access, user.account_id()) {
                (true, Some(a)) => Some(self.product_access_of(a, deadline).await?),
                _ => None,
            };
            let object = mapping::user_object(&user, access);
            let hit = filter
                .as_ref()
                .is_none_or(|f| residual_matches(f, &object, special::UID));
            let batch: Vec<ConnectorObject> = if hit {
                vec![finish(object)]
            } else {
                Vec::new()
            };
            let n = batch.len() as u64;
            let _ = sink.push(batch);
            return Ok(RpSearch::new(n, true));
        }
        // userName and externalId are answered by SCIM; anything else is evaluated here.
        let server = filter.as_ref().and_then(|f| {
            f.required_eq(special::NAME)
                .and_then(Value::as_str)
                .map(|v| {
                    (
                        special::NAME,
                        format!("userName eq {}", crate::scim::types::quote(v)),
                    )
                })
                .or_else(|| {
                    f.required_eq("external_id")
                        .and_then(Value::as_str)
                        .map(|v| {
                            (
                                "external_id",
                                format!("externalId eq {}", crate::scim::types::quote(v)),
                            )
                        })
                })
        });
        let (answered, scim_filter) = match &server {
            Some((a, f)) => (Some(*a), Some(f.as_str())),
            None => (None, None),
        };
        if server.is_none() {
            let access = if wants_access {
                Some(Arc::new(self.access_index(deadline).await?))
            } else {
                None
            };
            let pages = crate::reconcile::user_pages(self.scim.clone(), access, deadline);
            return self.scan(pages, page_size, filter, &op, sink).await;
        }
        let access: Option<crate::reconcile::AccessIndex> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut start = 1u64;
        let mut sent = 0u64;
        let mut announced = false;
        loop {
            let page = self
                .scim
                .list_users(scim_filter, start, page_size, deadline)
                .await?;
            if !announced {
                sink.total(page.total_results);
                announced = true;
            }
            if page.resources.is_empty() {
                break;
            }
            start += page.resources.len() as u64;
            let mut batch = Vec::with_capacity(page.resources.len());
            for user in &page.resources {
                let Some(id) = user.id.clone() else { continue };
                if !seen.insert(id) {
                    continue;
                }
                let product_access = match (&access, user.account_id()) {
                    (Some(index), Some(account)) => Some(index.of(account)),
                    (Some(_), None) => Some(Vec::new()),
                    (None, Some(account)) if wants_access => {
                        Some(self.product_access_of(account, deadline).await?)
                    }
                    _ => None,
                };
                let object = mapping::user_object(user, product_access);
                let hit = match (&filter, answered) {
                    (Some(f), Some(a)) => residual_matches(f, &object, a),
                    (Some(f), None) => f.matches(&object),
                    (None, _) => true,
                };
                if hit {
                    batch.push(finish(object));
                }
            }
            sent += batch.len() as u64;
            if let ControlFlow::Break(()) = sink.push(batch) {
                return Ok(RpSearch::new(sent, false));
            }
            if start > page.total_results {
                break;
            }
        }
        Ok(RpSearch::new(sent, true))
    }

    /// Who is in each default group, read once per full search, pages fetched concurrently.
    async fn access_index(&self, deadline: Instant) -> Result<crate::reconcile::AccessIndex> {
        let mut groups = Vec::new();
        for name in &self.config.default_group_names {
            groups.push((name.clone(), self.site_group_id(name, deadline).await?));
        }
        crate::reconcile::access_index(
            &self.jira,
            groups,
            self.config.concurrency as usize,
            deadline,
        )
        .await
    }

    // ----- groups ---------------------------------------------------------------------------

    async fn create_group(&self, op: OpCreate, deadline: Instant) -> Result<RpCreate> {
        let group = mapping::new_group(&op)?;
        match self.scim.create_group(&group, deadline).await? {
            Created::New(created) => Ok(RpCreate::created(created.id.unwrap_or_default())),
            Created::Conflict(detail) => {
                // The display name is a group's identity: the directory's group of that name is
                // this one (typically our own create, retried after a lost response). Adopt it.
                let Some(existing) = self.scim.find_group(&group.display_name, deadline).await?
                else {
                    return Err(ConnectorError::already_exists(
                        format!(
                            "`{}` is taken by a site or default group, which SCIM cannot manage ({detail})",
                            group.display_name
                        ),
                        None,
                    ));
                };
                let uid = existing.id.clone().unwrap_or_default();
                let mut update = OpUpdate::new(GROUP, uid.as_str());
                if !group.members.is_empty() {
                    let ids: Vec<Value> = group.members.iter().map(|m| json!(m.value)).collect();
                    update = update.delta(AttributeDelta::add(mapping::MEMBERS, ids));
                }
                if let Some(ext) = &group.external_id {
                    update = update.delta(AttributeDelta::replace(
                        mapping::GROUP_EXTERNAL_ID,
                        [json!(ext)],
                    ));
                }
                for ops in mapping::group_patches(&update, Some(&existing))? {
                    self.scim.patch_group(&uid, &ops, deadline).await?;
                }
                Ok(RpCreate::adopted(uid))
            }
        }
    }

    async fn get_group(&self, op: OpGet, deadline: Instant) -> Result<RpGet> {
        let group = self
            .scim
            .get_group(op.uid.as_str(), deadline)
            .await?
            .ok_or_else(|| ConnectorError::unknown_uid(GROUP, op.uid.as_str()))?;
        let mut object = mapping::group_object(&group);
        if let Some(names) = &op.attributes_to_get {
            object.retain_attributes(names);
        }
        Ok(RpGet::new(object))
    }

    async fn update_group(&self, op: OpUpdate, deadline: Instant) -> Result<RpUpdate> {
        let uid = op.uid.clone();
        let needs_current = op.deltas.iter().any(|d| {
            d.attribute == mapping::GROUP_EXTERNAL_ID && matches!(d.change, DeltaChange::Remove(_))
        });
        let current = if needs_current {
            let group = self.scim.get_group(uid.as_str(), deadline).await?;
            Some(group.ok_or_else(|| ConnectorError::unknown_uid(GROUP, uid.as_str()))?)
        } else {
            None
        };
        let requests = mapping::group_patches(&op, current.as_ref())?;
        if requests.is_empty() {
            self.scim
                .get_group(uid.as_str(), deadline)
                .await?
                .ok_or_else(|| ConnectorError::unknown_uid(GROUP, uid.as_str()))?;
        }
        for (i, ops) in requests.iter().enumerate() {
            let outcome = self.scim.patch_group(uid.as_str(), ops, deadline).await;
            match outcome {
                Ok(Some(_)) => {}
                Ok(None) => return Err(ConnectorError::unknown_uid(GROUP, uid.as_str())),
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    return Err(ConnectorError::partial_success(
                        format!("updated group `{uid}` in part: {e}"),
                        json!({ "uid": uid, "requests_applied": i }),
                        json!({ "requests_remaining": requests.len() - i, "error": e }),
                    ));
                }
            }
        }
        Ok(RpUpdate::new(uid))
    }

    async fn delete_group(&self, op: OpDelete, deadline: Instant) -> Result<RpDelete> {
        if self.scim.delete_group(op.uid.as_str(), deadline).await? {
            Ok(RpDelete::new())
        } else {
            Err(ConnectorError::unknown_uid(GROUP, op.uid.as_str()))
        }
    }

    /// Streams everything `pages` reads, pages fetched concurrently (see [`crate::reconcile`]).
    async fn scan(
        &self,
        pages: crate::reconcile::PageReader,
        page_size: u32,
        filter: Option<Filter>,
        op: &OpSearch,
        sink: &mut dyn ObjectSink,
    ) -> Result<RpSearch> {
        let scan = crate::reconcile::Scan {
            pages,
            page_size,
            concurrency: self.config.concurrency as usize,
            filter,
            attributes_to_get: op.attributes_to_get.clone(),
        };
        let (sent, complete) = scan.run(sink).await?;
        Ok(RpSearch::new(sent, complete))
    }

    async fn search_groups(
        &self,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
        deadline: Instant,
    ) -> Result<RpSearch> {
        let filter = op.filter.clone();
        if let Some(f) = &filter {
            check_filter_attributes(f, GROUP, &[mapping::MEMBERS, mapping::GROUP_EXTERNAL_ID])?;
        }
        let finish = |mut object: ConnectorObject| {
            if let Some(names) = &op.attributes_to_get {
                object.retain_attributes(names);
            }
            object
        };
        if let Some(uid) = filter
            .as_ref()
            .and_then(|f| f.required_eq(special::UID))
            .and_then(Value::as_str)
        {
            let hit = self
                .scim
                .get_group(uid, deadline)
                .await?
                .map(|g| mapping::group_object(&g))
                .filter(|o| {
                    filter
                        .as_ref()
                        .is_none_or(|f| residual_matches(f, o, special::UID))
                });
            let batch: Vec<ConnectorObject> = hit.into_iter().map(finish).collect();
            let n = batch.len() as u64;
            let _ = sink.push(batch);
            return Ok(RpSearch::new(n, true));
        }
        let by_name = filter
            .as_ref()
            .and_then(|f| f.required_eq(special::NAME))
            .and_then(Value::as_str);
        let page_size = op
            .page_size
            .unwrap_or(self.config.page_size)
            .clamp(1, self.config.page_size);
        // Without a displayName to ask SCIM for, every group is read, pages concurrently.
        let Some(by_name) = by_name else {
            let pages = crate::reconcile::group_pages(self.scim.clone(), deadline);
            return self.scan(pages, page_size, filter, &op, sink).await;
        };
        let scim_filter = format!("displayName eq {}", crate::scim::types::quote(by_name));
        let (mut start, mut sent) = (1u64, 0u64);
        let mut seen = HashSet::new();
        loop {
            let page = self
                .scim
                .list_groups(Some(&scim_filter), start, page_size, deadline)
                .await?;
            if start == 1 {
                sink.total(page.total_results);
            }
            if page.resources.is_empty() {
                break;
            }
            start += page.resources.len() as u64;
            let batch: Vec<ConnectorObject> = page
                .resources
                .iter()
                .filter(|g| g.id.as_ref().is_some_and(|id| seen.insert(id.clone())))
                .map(mapping::group_object)
                .filter(|o| {
                    filter
                        .as_ref()
                        .is_none_or(|f| residual_matches(f, o, special::NAME))
                })
                .map(finish)
                .collect();
            sent += batch.len() as u64;
            if sink.push(batch).is_break() {
                return Ok(RpSearch::new(sent, false));
            }
            if start > page.total_results {
                break;
            }
        }
        Ok(RpSearch::new(sent, true))
    }
}

fn user_attribute_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = mapping::USER_ATTRIBUTES.iter().map(|a| a.name).collect();
    names.extend([mapping::ACCOUNT_ID, GROUPS, PRODUCT_ACCESS]);
    names
}

/// Refuses filters on attributes the class does not have: never silently empty.
fn check_filter_attributes(filter: &Filter, class: &str, known: &[&str]) -> Result<()> {
    for attribute in filter.attributes() {
        let special = [special::UID, special::NAME, special::ENABLED].contains(&attribute);
        if !special && !known.contains(&attribute) {
            return Err(ConnectorError::invalid_filter(format!(
                "class `{class}` has no attribute `{attribute}` to filter on"
            ))
            .with_details(json!({ "attribute": attribute })));
        }
    }
    Ok(())
}

/// Whether `object` matches `filter`, taking the top-level `eq` on `answered` as already
/// satisfied by the server (whose comparison, e.g. case-insensitive userName, is the target's).
fn residual_matches(filter: &Filter, object: &ConnectorObject, answered: &str) -> bool {
    match filter {
        Filter::Eq(av) if av.attribute == answered => true,
        Filter::And(filters) => filters
            .iter()
            .all(|f| residual_matches(f, object, answered)),
        other => other.matches(object),
    }
}

impl Connector for AtlassianConnector {
    type Config = AtlassianConfig;

    fn manifest() -> Manifest {
        Manifest::new("atlassian-cloud", env!("CARGO_PKG_VERSION"))
            .vendor("IDHub")
            .description(
                "Provisions Atlassian Cloud accounts and groups through SCIM user provisioning, \
                 and grants Jira Software and Confluence access through their default groups.",
            )
            .with_test()
            .with_schema()
            .class(
                USER,
                ClassCapabilities::all()
                    .with_create_adopts_existing(true)
                    .with_page_size_max(100),
            )
            .class(
                GROUP,
                ClassCapabilities::all()
                    .with_rename(false)
                    .with_enable(false)
                    .with_create_adopts_existing(true)
                    .with_page_size_max(100),
            )
    }

    fn validate(config: &AtlassianConfig) -> Result<()> {
        config.validate()
    }

    fn open(config: AtlassianConfig) -> Result<Self> {
        let basic = format!(
            "{}:{}",
            config.admin_email,
            config.account_security_api_key.expose()
        );
        let redactor = Redactor::new([
            config.directory_api_key.expose().to_owned(),
            config.account_security_api_key.expose().to_owned(),
            basic,
        ]);
        let http = Arc::new(Http::new(
            Duration::from_secs(config.request_timeout_secs),
            config.retry_budget,
            config.concurrency as usize,
            redactor,
        )?);
        let scim_api = Api::new(
            "SCIM",
            &config.scim_url,
            Auth::Bearer(config.directory_api_key.clone()),
            "Directory API Key",
            "regenerate it in admin.atlassian.com, Security, Identity providers, your directory, and update directory_api_key",
            Arc::new(Governor::new(config.concurrency as usize)),
        )?;
        // Jira and Confluence share the site credential, and so its rate limit.
        let site_governor = Arc::new(Governor::new(config.concurrency as usize));
        let site_auth = || Auth::Basic {
            email: config.admin_email.trim().to_owned(),
            token: config.account_security_api_key.clone(),
        };
        let site_fix = "check admin_email and create a new API token as that account (Account settings, Security, Create and manage API tokens) for account_security_api_key";
        let jira_api = Api::new(
            "Jira",
            &config.site_url,
            site_auth(),
            "Admin Email and Account Security API Key",
            site_fix,
            site_governor.clone(),
        )?;
        let confluence_api = Api::new(
            "Confluence",
            &config.site_url,
            site_auth(),
            "Admin Email and Account Security API Key",
            site_fix,
            site_governor.clone(),
        )?;
        Ok(AtlassianConnector {
            scim: ScimClient::new(scim_api, http.clone()),
            jira: JiraClient::new(jira_api, http.clone()),
            confluence: ConfluenceClient::new(confluence_api, http.clone()),
            http,
            config,
            group_ids: Mutex::new(HashMap::new()),
        })
    }

    fn test(&self, ctx: &Context<'_>) -> Result<TestReport> {
        self.call(ctx, async |deadline| {
            Ok(crate::test_connection::run(self, deadline).await)
        })
    }

    fn schema(&self, _ctx: &Context<'_>) -> Result<Schema> {
        Ok(crate::schema::schema())
    }

    fn create(&self, ctx: &Context<'_>, op: OpCreate) -> Result<RpCreate> {
        match op.class.as_str() {
            USER => self.call(ctx, async |d| self.create_user(op, d).await),
            GROUP => self.call(ctx, async |d| self.create_group(op, d).await),
            other => Err(ConnectorError::unsupported("create", Some(other))),
        }
    }

    fn get(&self, ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
        match op.class.as_str() {
            USER => self.call(ctx, async |d| self.get_user(op, d).await),
            GROUP => self.call(ctx, async |d| self.get_group(op, d).await),
            other => Err(ConnectorError::unsupported("get", Some(other))),
        }
    }

    fn update(&self, ctx: &Context<'_>, op: OpUpdate) -> Result<RpUpdate> {
        match op.class.as_str() {
            USER => self.call(ctx, async |d| self.update_user(op, d).await),
            GROUP => self.call(ctx, async |d| self.update_group(op, d).await),
            other => Err(ConnectorError::unsupported("update", Some(other))),
        }
    }

    fn delete(&self, ctx: &Context<'_>, op: OpDelete) -> Result<RpDelete> {
        match op.class.as_str() {
            USER => self.call(ctx, async |d| self.delete_user(op, d).await),
            GROUP => self.call(ctx, async |d| self.delete_group(op, d).await),
            other => Err(ConnectorError::unsupported("delete", Some(other))),
        }
    }

    fn search(
        &self,
        ctx: &Context<'_>,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
    ) -> Result<RpSearch> {
        match op.class.as_str() {
            USER => self.call(ctx, async |d| self.search_users(op, sink, d).await),
            GROUP => self.call(ctx, async |d| self.search_groups(op, sink, d).await),
            other => Err(ConnectorError::unsupported("search", Some(other))),
        }
    }
}
