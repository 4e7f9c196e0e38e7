//! The groups of the organization (SCIM groups and site groups) and their memberships.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use super::*;
use crate::sim::error::SimError;

impl Org {
    /// A group by id (SCIM or site).
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// A group by name, case-insensitive.
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.group_by_name
            .get(&lower(name))
            .and_then(|id| self.groups.get(id))
    }

    /// A SCIM group by id.
    pub fn scim_group(&self, id: &str) -> Option<&Group> {
        self.groups
            .get(id)
            .filter(|g| g.source == GroupSource::Scim)
    }

    /// A page of SCIM groups (0-based `offset`), in creation order, and the total.
    pub fn scim_groups_page(&self, offset: usize, count: usize) -> (Vec<&Group>, usize) {
        let total = self.scim_group_order.len();
        let page = self
            .scim_group_order
            .iter()
            .skip(offset.min(total))
            .take(count)
            .filter_map(|id| self.groups.get(id))
            .collect();
        (page, total)
    }

    /// Whether every account is visible to the sites (no SCIM write still propagating).
    pub fn all_visible(&self) -> bool {
        Instant::now() >= self.visible_horizon
    }

    /// The members of `group`, sorted, from a snapshot rebuilt only after a change.
    pub fn member_snapshot(&self, group: &Group) -> Arc<Vec<String>> {
        let mut cache = self
            .member_snapshots
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((version, members)) = cache.get(&group.id) {
            if *version == group.version {
                return members.clone();
            }
        }
        let members: Arc<Vec<String>> = Arc::new(group.members.iter().cloned().collect());
        cache.insert(group.id.clone(), (group.version, members.clone()));
        members
    }

    /// Every group the sites can see, sorted by name.
    pub fn visible_groups_by_name(&self) -> impl Iterator<Item = &Group> {
        let now = Instant::now();
        self.group_by_name
            .values()
            .filter_map(|id| self.groups.get(id))
            .filter(move |g| g.visible_at <= now)
    }

    /// A group the sites can see, by id.
    pub fn visible_group(&self, id: &str) -> Option<&Group> {
        self.groups
            .get(id)
            .filter(|g| g.visible_at <= Instant::now())
    }

    /// A group the sites can see, by name.
    pub fn visible_group_by_name(&self, name: &str) -> Option<&Group> {
        self.group_by_name(name)
            .filter(|g| g.visible_at <= Instant::now())
    }

    /// Resolves SCIM member references (`[{"value": scimUserId}]`) to account ids.
    pub fn member_accounts(&self, members: &Value) -> Result<Vec<String>, SimError> {
        let Some(items) = members.as_array() else {
            return Err(SimError::bad_request(
                "invalidValue",
                "members must be an array",
            ));
        };
        items
            .iter()
            .map(|m| {
                let id = m.get("value").and_then(Value::as_str).ok_or_else(|| {
                    SimError::bad_request("invalidValue", "a member has no value")
                })?;
                self.users
                    .get(id)
                    .map(|u| u.account_id.clone())
                    .ok_or_else(|| {
                        SimError::not_found(format!("Resource [USER] with id {id} not found"))
                    })
            })
            .collect()
    }

    /// POST /Groups.
    pub fn create_scim_group(
        &mut self,
        name: &str,
        external_id: Option<String>,
        members: Vec<String>,
    ) -> Result<String, SimError> {
        if name.trim().is_empty() {
            return Err(SimError::bad_request(
                "invalidValue",
                "displayName is required",
            ));
        }
        if self.group_by_name.contains_key(&lower(name)) {
            return Err(SimError::conflict(
                "Resource [GROUP]: with displayName already exists.".to_owned(),
            ));
        }
        let id = self.new_uuid();
        let now = scim_now();
        self.group_by_name.insert(lower(name), id.clone());
        self.groups.insert(
            id.clone(),
            Group {
                id: id.clone(),
                name: name.to_owned(),
                source: GroupSource::Scim,
                external_id,
                members: BTreeSet::new(),
                default_for: None,
                grants: Vec::new(),
                created: now.clone(),
                last_modified: now,
                visible_at: Instant::now() + self.settings.propagation_delay,
                version: 0,
            },
        );
        self.scim_group_order.push(id.clone());
        for account in members {
            self.add_member(&id, &account);
        }
        Ok(id)
    }

    /// Creates a site group (Jira or Confluence `POST group`).
    pub fn create_site_group(&mut self, name: &str) -> Result<String, SimError> {
        if self.group_by_name.contains_key(&lower(name)) {
            return Err(SimError::bad_request(
                "uniqueness",
                "group name is not specified or the group name is in use",
            ));
        }
        Ok(self.insert_site_group(name, None, Vec::new()))
    }

    /// Deletes a group of any source; the caller checks what its API allows.
    pub fn delete_group(&mut self, id: &str) -> Result<(), SimError> {
        let group = self.groups.remove(id).ok_or_else(|| {
            SimError::not_found(format!("Resource [GROUP] with id {id} not found"))
        })?;
        self.group_by_name.remove(&lower(&group.name));
        if group.source == GroupSource::Scim {
            self.scim_group_order.retain(|g| g != id);
        }
        for account in &group.members {
            if let Some(set) = self.groups_of.get_mut(account) {
                set.remove(id);
            }
        }
        Ok(())
    }

    /// Adds a member; answers whether it was new.
    pub fn add_member(&mut self, group: &str, account: &str) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        let added = g.members.insert(account.to_owned());
        if added {
            g.version += 1;
            g.last_modified = scim_now();
            self.groups_of
                .entry(account.to_owned())
                .or_default()
                .insert(group.to_owned());
            self.log_membership(group, account, true);
        }
        added
    }

    /// Removes a member; answers whether it was there.
    pub fn remove_member(&mut self, group: &str, account: &str) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        let removed = g.members.remove(account);
        if removed {
            g.version += 1;
            g.last_modified = scim_now();
            if let Some(set) = self.groups_of.get_mut(account) {
                set.remove(group);
            }
            self.log_membership(group, account, false);
        }
        removed
    }

    /// Sets a SCIM group's externalId.
    pub fn set_group_external_id(&mut self, group: &str, external_id: Option<String>) {
        if let Some(g) = self.groups.get_mut(group) {
            g.external_id = external_id;
            g.last_modified = scim_now();
        }
    }
}
