//! The SCIM user records of the organization: lookups, pages, writes, and the indexes that
//! keep every `eq` filter a hash lookup.

use std::time::Instant;

use serde_json::{Map, Value};

use super::*;
use crate::sim::error::SimError;

impl Org {
    /// The number of SCIM user records.
    pub fn user_count(&self) -> usize {
        self.user_order.len()
    }

    /// A SCIM user by id.
    pub fn user(&self, id: &str) -> Option<&ScimUser> {
        self.users.get(id)
    }

    /// The SCIM user linked to an account.
    pub fn user_of_account(&self, account_id: &str) -> Option<&ScimUser> {
        self.user_by_account
            .get(account_id)
            .and_then(|id| self.users.get(id))
    }

    /// A page of users (0-based `offset`), in creation order, and the total.
    pub fn users_page(&self, offset: usize, count: usize) -> (Vec<&ScimUser>, usize) {
        let total = self.user_order.len();
        let page = self
            .user_order
            .iter()
            .skip(offset.min(total))
            .take(count)
            .filter_map(|id| self.users.get(id))
            .collect();
        (page, total)
    }

    /// The user whose userName (case-insensitive) or externalId (exact) is `value`.
    pub fn user_by(&self, attribute: UserKey, value: &str) -> Option<&ScimUser> {
        let id = match attribute {
            UserKey::UserName => self.user_by_name.get(&lower(value)),
            UserKey::ExternalId => self.user_by_external.get(value),
        }?;
        self.users.get(id)
    }

    /// The groups (ids) an account is a member of.
    pub fn groups_of(&self, account_id: &str) -> impl Iterator<Item = &Group> {
        self.groups_of
            .get(account_id)
            .into_iter()
            .flatten()
            .filter_map(|g| self.groups.get(g))
    }

    /// Checks the attributes of a user to be created or replaced; answers the cleaned attributes.
    pub(super) fn clean_user_attrs(
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SimError> {
        let mut attrs = Map::new();
        for key in USER_ATTRIBUTES {
            if let Some(v) = body.get(key) {
                if !v.is_null() {
                    attrs.insert(key.to_owned(), v.clone());
                }
            }
        }
        normalise_user_attrs(&mut attrs)?;
        Ok(attrs)
    }

    pub(super) fn check_user_unique(
        &self,
        attrs: &Map<String, Value>,
        except: Option<&str>,
    ) -> Result<(), SimError> {
        let other = |id: Option<&String>| id.is_some_and(|id| Some(id.as_str()) != except);
        if let Some(email) = primary_email(attrs) {
            if other(self.user_by_email.get(&lower(email))) {
                return Err(SimError::conflict(format!(
                    "Resource [USER]: with email[{email}] already exists."
                )));
            }
        }
        let name = attrs.get("userName").and_then(Value::as_str).unwrap_or("");
        if other(self.user_by_name.get(&lower(name))) {
            return Err(SimError::conflict(format!(
                "Resource [USER]: with userName[{name}] already exists."
            )));
        }
        if let Some(ext) = attrs
            .get("externalId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            if other(self.user_by_external.get(ext)) {
                return Err(SimError::conflict(format!(
                    "Resource [USER]: with externalId[{ext}] already exists."
                )));
            }
        }
        Ok(())
    }

    pub(super) fn index_user(&mut self, user: &ScimUser) {
        self.user_by_name
            .insert(lower(user.user_name()), user.id.clone());
        if let Some(ext) = user.external_id() {
            self.user_by_external
                .insert(ext.to_owned(), user.id.clone());
        }
        if let Some(email) = user.primary_email() {
            self.user_by_email.insert(lower(email), user.id.clone());
        }
        self.user_by_account
            .insert(user.account_id.clone(), user.id.clone());
    }

    pub(super) fn unindex_user(&mut self, id: &str) {
        let Some(user) = self.users.get(id) else {
            return;
        };
        let (name, ext, email, account) = (
            lower(user.user_name()),
            user.external_id().map(str::to_owned),
            user.primary_email().map(lower),
            user.account_id.clone(),
        );
        self.user_by_name.remove(&name);
        if let Some(ext) = ext {
            self.user_by_external.remove(&ext);
        }
        if let Some(email) = email {
            self.user_by_email.remove(&email);
        }
        self.user_by_account.remove(&account);
    }

    /// POST /Users: creates a record, linked to the managed account of its email if there is one.
    pub fn create_user(&mut self, body: &Map<String, Value>) -> Result<String, SimError> {
        let attrs = Self::clean_user_attrs(body)?;
        self.insert_user(attrs, scim_now())
    }

    pub(super) fn insert_user(
        &mut self,
        attrs: Map<String, Value>,
        now: String,
    ) -> Result<String, SimError> {
        self.check_user_unique(&attrs, None)?;
        let email = primary_email(&attrs).unwrap_or_default().to_owned();
        let active = attrs.get("active").and_then(Value::as_bool).unwrap_or(true);
        let display = display_name_of(&attrs);
        let account_id = match self.account_by_email.get(&lower(&email)).cloned() {
            Some(id) if self.accounts[&id].managed && !self.user_by_account.contains_key(&id) => id,
            _ => {
                let id = self.add_account(&email, &display, true);
                let delay = self.settings.propagation_delay;
                if let Some(a) = self.accounts.get_mut(&id) {
                    a.visible_at = Instant::now() + delay;
                    self.visible_horizon = self.visible_horizon.max(a.visible_at);
                }
                id
            }
        };
        if let Some(a) = self.accounts.get_mut(&account_id) {
            a.active = active;
            a.display_name = display;
            if let Some(tz) = attrs.get("timezone").and_then(Value::as_str) {
                a.time_zone = tz.to_owned();
            }
        }
        let id = self.new_uuid();
        let user = ScimUser {
            id: id.clone(),
            account_id,
            attrs,
            created: now.clone(),
            last_modified: now,
            unlinked: false,
        };
        self.index_user(&user);
        self.users.insert(id.clone(), user);
        self.user_order.push(id.clone());
        Ok(id)
    }

    /// PUT /Users/{id}: replaces every mutable attribute; omitted ones are cleared.
    pub fn replace_user(&mut self, id: &str, body: &Map<String, Value>) -> Result<(), SimError> {
        if !self.users.contains_key(id) {
            return Err(SimError::user_not_found(id));
        }
        let attrs = Self::clean_user_attrs(body)?;
        self.store_user_attrs(id, attrs)
    }

    /// Stores new attributes of an existing user after the uniqueness checks, and mirrors them on
    /// the linked account.
    pub fn store_user_attrs(
        &mut self,
        id: &str,
        mut attrs: Map<String, Value>,
    ) -> Result<(), SimError> {
        normalise_user_attrs(&mut attrs)?;
        self.check_user_unique(&attrs, Some(id))?;
        self.unindex_user(id);
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| SimError::user_not_found(id))?;
        user.attrs = attrs;
        user.last_modified = scim_now();
        let user = user.clone();
        self.index_user(&user);
        if let Some(a) = self.accounts.get_mut(&user.account_id) {
            a.active = user.active();
            a.display_name = display_name_of(&user.attrs);
            if let Some(email) = user.primary_email() {
                if a.managed && !a.email.eq_ignore_ascii_case(email) {
                    self.account_by_email.remove(&lower(&a.email));
                    a.email = email.to_owned();
                    self.account_by_email
                        .insert(lower(email), a.account_id.clone());
                }
            }
        }
        Ok(())
    }

    /// DELETE /Users/{id}: removes the record and its SCIM group memberships; the account is
    /// unlinked and deactivated.
    pub fn delete_user(&mut self, id: &str) -> Result<(), SimError> {
        if !self.users.contains_key(id) {
            return Err(SimError::user_not_found(id));
        }
        self.unindex_user(id);
        let user = self.users.remove(id).expect("checked above");
        self.user_order.retain(|u| u != id);
        let synced: Vec<String> = self
            .groups_of
            .get(&user.account_id)
            .into_iter()
            .flatten()
            .filter(|g| {
                self.groups
                    .get(*g)
                    .is_some_and(|g| g.source == GroupSource::Scim)
            })
            .cloned()
            .collect();
        for group in synced {
            self.remove_member(&group, &user.account_id);
        }
        if let Some(a) = self.accounts.get_mut(&user.account_id) {
            a.active = false;
        }
        Ok(())
    }

    /// Unlinks a user's account, as an email moved to an unverified domain does (ACCESS-1379,
    /// ACCESS-1396): the record stays and shows no account id again; `created` backdates it.
    pub fn unlink_user(&mut self, id: &str, created: String) -> Result<(), SimError> {
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| SimError::user_not_found(id))?;
        user.unlinked = true;
        user.created = created;
        Ok(())
    }
}
