//! Product access: membership of the configured default groups, read and changed through Jira.
//!
//! A configured default group (a name, or a group id) is resolved to its organization-wide
//! group id once, and everything after goes by that id: a group renamed after setup changes
//! nothing, and a name no group has is a configuration error naming the groups that give each
//! product ([`crate::site::access`]). A grant to an account SCIM has just
//! created waits politely while the account propagates to the site. A full reconciliation reads
//! every member of every default group once, through the verified [`Scan`], into an
//! [`AccessIndex`].

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector_api::{ConnectorError, ErrorKind, Result};
use serde_json::{Value, json};

use crate::mapping::PRODUCT_ACCESS;
use crate::propagation::Wait;
use crate::search::{Budget, PageReader, Receiver, Scan};
use crate::settings::Settings;
use crate::site::access;
use crate::site::jira::{JiraGroup, MEMBER_PAGE, Membership};
use crate::site::{ConfluenceClient, JiraClient};

/// The most product-access values one request may carry, duplicates included.
pub(crate) const MAX_ACCESS_VALUES: usize = 1_000;

/// Who is in each default group: sorted 128-bit hashes of account ids, about 16 bytes a member.
#[derive(Debug, Default)]
pub(crate) struct AccessIndex {
    groups: Vec<(String, Vec<u128>)>,
}

fn account_hash(account: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(account.as_bytes())
}

impl AccessIndex {
    /// The default groups `account` is in, in configuration order.
    pub(crate) fn of(&self, account: &str) -> Vec<String> {
        let h = account_hash(account);
        self.groups
            .iter()
            .filter(|(_, m)| m.binary_search(&h).is_ok())
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// The members of one group, as a scan delivers them.
#[derive(Default)]
struct Members(Vec<u128>);

impl Receiver<String> for Members {
    fn total(&mut self, _: u64) {}

    fn push(&mut self, items: Vec<String>) -> ControlFlow<()> {
        self.0.extend(items.iter().map(|a| account_hash(a)));
        ControlFlow::Continue(())
    }
}

/// The default groups of one connector, and how accounts get in and out of them.
#[derive(Debug)]
pub(crate) struct ProductAccess {
    jira: JiraClient,
    confluence: ConfluenceClient,
    groups: Vec<String>,
    concurrency: usize,
    propagation_wait: Duration,
    /// Configured default group (lower case) to its group id, resolved once.
    ids: Mutex<HashMap<String, String>>,
}

impl ProductAccess {
    /// The default groups of `settings`, managed through `jira`.
    pub(crate) fn new(jira: JiraClient, confluence: ConfluenceClient, settings: &Settings) -> Self {
        ProductAccess {
            jira,
            confluence,
            groups: settings.default_group_names.clone(),
            concurrency: settings.concurrency,
            propagation_wait: settings.propagation_wait,
            ids: Mutex::new(HashMap::new()),
        }
    }

    /// Every configured default group.
    pub(crate) fn all(&self) -> &[String] {
        &self.groups
    }

    /// The configured default groups `names` name, each once, as configured; an unknown name
    /// or too many values is an error naming `product_access`.
    pub(crate) fn requested(&self, names: &[String]) -> Result<Vec<String>> {
        if names.len() > MAX_ACCESS_VALUES {
            return Err(ConnectorError::invalid_value(
                PRODUCT_ACCESS,
                format!(
                    "{} values; at most {MAX_ACCESS_VALUES}, one per default group",
                    names.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        let mut groups = Vec::new();
        for name in names {
            let group = self.configured(name)?;
            if seen.insert(group.to_lowercase()) {
                groups.push(group);
            }
        }
        Ok(groups)
    }

    /// The configured default group matching `name`, as configured.
    pub(crate) fn configured(&self, name: &str) -> Result<String> {
        self.groups
            .iter()
            .find(|g| g.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                let shown: String = name.chars().take(80).collect();
                ConnectorError::invalid_value(
                    PRODUCT_ACCESS,
                    format!(
                        "`{shown}` is not one of the configured Default Group Names ({})",
                        self.groups.join(", ")
                    ),
                )
            })
    }

    /// The group id of the configured default group `name`, resolved once.
    async fn group_id(&self, name: &str, deadline: Instant) -> Result<String> {
        let key = name.to_lowercase();
        if let Some(id) = self.ids.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(id.clone());
        }
        let group = match self.resolve(name, deadline).await? {
            Some(group) => group,
            None => {
                let products = access::user_access(&self.jira, &self.confluence, deadline).await;
                return Err(ConnectorError::new(
                    ErrorKind::InvalidConfiguration,
                    format!(
                        "the site has no group `{name}` (Default Group Names); the groups that give product access are {}",
                        access::describe(&products)
                    ),
                )
                .with_details(json!({ "field": "default_group_names", "group": name })));
            }
        };
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, group.group_id.clone());
        Ok(group.group_id)
    }

    /// The site group a configured entry names: a group id, or a name.
    pub(crate) async fn resolve(
        &self,
        entry: &str,
        deadline: Instant,
    ) -> Result<Option<JiraGroup>> {
        if !is_group_id(entry) {
            return self.jira.group_by_name(entry, deadline).await;
        }
        if let Some(found) = self.jira.group_by_id(entry, deadline).await? {
            return Ok(found);
        }
        // Jira's lookup is gone; group ids are organization-wide, and Confluence names them.
        Ok(self
            .confluence
            .group_by_id(entry, deadline)
            .await?
            .map(|g| JiraGroup {
                name: g.name,
                group_id: g.id,
            }))
    }

    /// Makes an account a member of a default group or not. Whatever Jira answers short of
    /// success, the account's groups as the site sees them decide: already so is done; an
    /// account the site cannot see is waited for when `fresh` (SCIM propagation), and refused
    /// otherwise; a visible account the write failed for is a permission problem.
    async fn set(
        &self,
        group: &str,
        account: &str,
        add: bool,
        fresh: bool,
        deadline: Instant,
    ) -> Result<()> {
        let group_id = self.group_id(group, deadline).await?;
        let mut wait = Wait::new(self.propagation_wait, deadline);
        loop {
            let outcome = if add {
                self.jira.add_member(&group_id, account, deadline).await?
            } else {
                self.jira
                    .remove_member(&group_id, account, deadline)
                    .await?
            };
            let (error, status) = match outcome {
                Membership::Changed | Membership::AlreadySo => return Ok(()),
                Membership::Refused(error, status) => (error, status),
            };
            match self.jira.user_groups(account, deadline).await? {
                Some(groups) => {
                    if groups.iter().any(|g| g.group_id == group_id) == add {
                        return Ok(());
                    }
                    if status == 404 {
                        return Err(ConnectorError::new(
                            ErrorKind::PermissionDenied,
                            format!(
                                "Jira answered 404 for account `{account}` in `{group}`, yet it sees the account: the service account may not manage this group (it needs Site admin), or the group is gone ({})",
                                error.message
                            ),
                        ));
                    }
                    return Err(error);
                }
                // Not on the site: nothing to remove it from.
                None if !add => return Ok(()),
                None if !fresh => {
                    return Err(ConnectorError::invalid_value(
                        PRODUCT_ACCESS,
                        format!(
                            "the site does not know account `{account}`, and its SCIM record is not new: the account has no access to this site, or was unlinked"
                        ),
                    ));
                }
                None => {
                    if !wait.next().await {
                        return Err(wait.gave_up(format!(
                            "the site does not know account `{account}` yet (SCIM propagation); retry later"
                        )));
                    }
                }
            }
        }
    }

    /// Grants `add` and revokes `remove`; answers what was done and what failed.
    /// `fresh`: the account's SCIM record may still be propagating to the site.
    pub(crate) async fn change(
        &self,
        account: &str,
        fresh: bool,
        add: &[String],
        remove: &[String],
        deadline: Instant,
    ) -> (Vec<Value>, Vec<Value>) {
        // One change per group, all at once: a new account's wait is paid once, not per group.
        let changes = [(add, true), (remove, false)]
            .into_iter()
            .flat_map(|(groups, adding)| groups.iter().map(move |g| (g, adding)));
        let outcomes = futures_util::future::join_all(changes.map(|(group, adding)| async move {
            let outcome = self.set(group, account, adding, fresh, deadline).await;
            (group, adding, outcome)
        }))
        .await;
        let (mut done, mut missing) = (Vec::new(), Vec::new());
        for (group, adding, outcome) in outcomes {
            let action = if adding { "grant" } else { "revoke" };
            match outcome {
                Ok(()) => done.push(json!({ "action": action, "group": group })),
                Err(e) => missing.push(json!({ "action": action, "group": group, "error": e })),
            }
        }
        (done, missing)
    }

    /// The default groups an account is in, matched by group id.
    pub(crate) async fn of(&self, account: &str, deadline: Instant) -> Result<Vec<String>> {
        let groups = self
            .jira
            .user_groups(account, deadline)
            .await?
            .unwrap_or_default();
        let mut held = Vec::new();
        for name in &self.groups {
            let id = self.group_id(name, deadline).await?;
            if groups.iter().any(|g| g.group_id == id) {
                held.push(name.clone());
            }
        }
        Ok(held)
    }

    /// Who is in each default group: every member page read and verified, groups concurrently,
    /// every request within `budget`.
    pub(crate) async fn index(&self, budget: &Budget, deadline: Instant) -> Result<AccessIndex> {
        let ids = futures_util::future::try_join_all(self.groups.iter().map(|name| async move {
            let _permit = budget.acquire().await;
            self.group_id(name, deadline).await
        }))
        .await?;
        let reads = self.groups.iter().zip(ids).map(|(name, id)| {
            let jira = self.jira.clone();
            let reader: PageReader<String> = budget.limit(Arc::new(move |start, count| {
                let (jira, id) = (jira.clone(), id.clone());
                Box::pin(async move { jira.members(&id, start, count, deadline).await })
            }));
            let scan = Scan {
                reader,
                count: MEMBER_PAGE,
                concurrency: self.concurrency,
                what: format!("Jira members of the default group `{name}`"),
            };
            async move {
                let mut members = Members::default();
                scan.run(&mut members).await?;
                let mut members = members.0;
                members.sort_unstable();
                Ok::<_, ConnectorError>((name.clone(), members))
            }
        });
        let groups = futures_util::future::try_join_all(reads).await?;
        Ok(AccessIndex { groups })
    }
}

/// Whether a configured entry is a group id (Atlassian group ids are UUIDs) rather than a name.
pub(crate) fn is_group_id(entry: &str) -> bool {
    let bytes = entry.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}
