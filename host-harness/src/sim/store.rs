//! One simulated Atlassian organization: accounts, the SCIM directory, site groups, memberships.
//!
//! The SCIM routes, the Jira routes and the Confluence routes all read and write this one state,
//! as the real org directory sits behind all three APIs. Costs are proportional to the request,
//! not to the directory: users and SCIM groups are kept in creation order in vectors (a page is a
//! slice), and every `eq` filter is a hash lookup.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::SimError;

/// The SCIM enterprise extension's URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Atlassian's extension carrying the account id.
pub const ATLASSIAN_EXT: &str = "urn:scim:schemas:extension:atlassian-external:1.0";

/// The user attributes Atlassian's SCIM service keeps; anything else in a body is ignored.
pub const USER_ATTRIBUTES: [&str; 14] = [
    "userName",
    "externalId",
    "emails",
    "name",
    "displayName",
    "nickName",
    "title",
    "preferredLanguage",
    "timezone",
    "department",
    "organization",
    "phoneNumbers",
    "active",
    ENTERPRISE,
];

/// An Atlassian account: the identity behind a SCIM record and a site user.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The Atlassian account id (AAID).
    pub account_id: String,
    /// The account's email.
    pub email: String,
    /// The public name.
    pub display_name: String,
    /// Whether the account can log in.
    pub active: bool,
    /// Whether the organization manages the account (verified domain).
    pub managed: bool,
    /// Whether other users may see the email (profile visibility).
    pub email_visible: bool,
    /// The time zone.
    pub time_zone: String,
    /// When the site APIs start to see the account (SCIM propagation).
    #[serde(skip)]
    pub visible_at: Instant,
}

/// A SCIM user record of the directory.
#[derive(Debug, Clone, Serialize)]
pub struct ScimUser {
    /// The SCIM id.
    pub id: String,
    /// The linked account.
    pub account_id: String,
    /// The SCIM attributes as last written (userName, emails, name, active, ...).
    pub attrs: Map<String, Value>,
    /// Creation time, SCIM format.
    pub created: String,
    /// Last change, SCIM format.
    pub last_modified: String,
}

impl ScimUser {
    /// The userName.
    pub fn user_name(&self) -> &str {
        self.attrs
            .get("userName")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The externalId, if set and not empty.
    pub fn external_id(&self) -> Option<&str> {
        self.attrs
            .get("externalId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The primary email.
    pub fn primary_email(&self) -> Option<&str> {
        primary_email(&self.attrs)
    }

    /// Whether the record is active.
    pub fn active(&self) -> bool {
        self.attrs
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }
}

/// Where a group comes from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupSource {
    /// Synced from the identity provider: read-only on the sites.
    Scim,
    /// Created on the site (or a default product group).
    Site,
}

/// A group of the organization, seen by SCIM (if synced) and by the sites.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The group id: the SCIM id for synced groups, the site `groupId` for all.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Where the group comes from.
    pub source: GroupSource,
    /// The SCIM externalId of a synced group.
    pub external_id: Option<String>,
    /// Members, by account id.
    pub members: BTreeSet<String>,
    /// The product whose default group this is (`jira-software`, `confluence`).
    pub default_for: Option<String>,
    /// Creation time, SCIM format.
    pub created: String,
    /// Last change, SCIM format.
    pub last_modified: String,
    /// When the site APIs start to see the group (SCIM propagation).
    #[serde(skip)]
    pub visible_at: Instant,
    /// Bumped on every membership change, to invalidate member snapshots.
    #[serde(skip)]
    pub version: u64,
}

/// The fixed facts of one simulated organization.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    /// The SCIM directory id.
    pub directory_id: String,
    /// The site's short name (`acme` for acme.atlassian.net), for suffixed default groups.
    pub site_name: String,
    /// Where the SCIM API is served, for `meta.location` and `$ref` URLs.
    pub scim_base_url: String,
    /// Where the site APIs are served, for `self` URLs.
    pub site_base_url: String,
    /// The most SCIM resources per page.
    pub scim_page_cap: usize,
    /// How long a SCIM write takes to reach the site APIs.
    pub propagation_delay: Duration,
}

/// A group's sorted members at a version.
type MemberSnapshot = (u64, Arc<Vec<String>>);

/// The organization's whole state.
#[derive(Debug)]
pub struct Org {
    /// The fixed facts.
    pub settings: OrgSettings,
    rng: ChaCha8Rng,
    accounts: HashMap<String, Account>,
    account_by_email: HashMap<String, String>,
    users: HashMap<String, ScimUser>,
    user_order: Vec<String>,
    user_by_name: HashMap<String, String>,
    user_by_external: HashMap<String, String>,
    user_by_email: HashMap<String, String>,
    user_by_account: HashMap<String, String>,
    groups: HashMap<String, Group>,
    scim_group_order: Vec<String>,
    group_by_name: BTreeMap<String, String>,
    groups_of: HashMap<String, BTreeSet<String>>,
    /// Sorted member lists per group and version, so that member pages cost the page only.
    member_snapshots: Mutex<HashMap<String, MemberSnapshot>>,
    /// When the last account created so far becomes visible to the sites.
    visible_horizon: Instant,
}

/// A shared handle on the organization.
#[derive(Debug, Clone)]
pub struct Store(Arc<RwLock<Org>>);

impl Store {
    /// A new organization with the default product groups and no user.
    pub fn new(settings: OrgSettings, seed: u64) -> Self {
        Store(Arc::new(RwLock::new(Org::new(settings, seed))))
    }

    /// Reads the state.
    pub fn read(&self) -> RwLockReadGuard<'_, Org> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state.
    pub fn write(&self) -> RwLockWriteGuard<'_, Org> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The current time in SCIM's format: UTC with microseconds.
pub fn scim_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn primary_email(attrs: &Map<String, Value>) -> Option<&str> {
    let emails = attrs.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| (emails.len() == 1).then(|| &emails[0]))
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

impl Org {
    fn new(settings: OrgSettings, seed: u64) -> Self {
        let mut org = Org {
            settings,
            rng: ChaCha8Rng::seed_from_u64(seed),
            accounts: HashMap::new(),
            account_by_email: HashMap::new(),
            users: HashMap::new(),
            user_order: Vec::new(),
            user_by_name: HashMap::new(),
            user_by_external: HashMap::new(),
            user_by_email: HashMap::new(),
            user_by_account: HashMap::new(),
            groups: HashMap::new(),
            scim_group_order: Vec::new(),
            group_by_name: BTreeMap::new(),
            groups_of: HashMap::new(),
            member_snapshots: Mutex::new(HashMap::new()),
            visible_horizon: Instant::now(),
        };
        let site = org.settings.site_name.clone();
        for (name, product) in [
            ("jira-software-users".to_owned(), Some("jira-software")),
            ("confluence-users".to_owned(), Some("confluence")),
            (format!("jira-software-users-{site}"), None),
            (format!("confluence-users-{site}"), None),
            ("site-admins".to_owned(), None),
            ("jira-administrators".to_owned(), None),
            ("confluence-admins".to_owned(), None),
        ] {
            org.insert_site_group(&name, product.map(str::to_owned));
        }
        org
    }

    /// A random UUID from the store's seeded generator: same seed, same ids.
    pub fn new_uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    fn new_account_id(&mut self) -> String {
        let bytes: [u8; 12] = self.rng.random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn insert_site_group(&mut self, name: &str, default_for: Option<String>) -> String {
        let id = self.new_uuid();
        let now = scim_now();
        self.group_by_name.insert(lower(name), id.clone());
        self.groups.insert(
            id.clone(),
            Group {
                id: id.clone(),
                name: name.to_owned(),
                source: GroupSource::Site,
                external_id: None,
                members: BTreeSet::new(),
                default_for,
                created: now.clone(),
                last_modified: now,
                visible_at: Instant::now(),
                version: 0,
            },
        );
        id
    }

    // ----- accounts -------------------------------------------------------------------------

    /// An account by id, if the site can see it yet.
    pub fn visible_account(&self, account_id: &str) -> Option<&Account> {
        self.accounts
            .get(account_id)
            .filter(|a| a.visible_at <= Instant::now())
    }

    /// An account by email, case-insensitive.
    pub fn account_by_email(&self, email: &str) -> Option<&Account> {
        self.account_by_email
            .get(&lower(email))
            .and_then(|id| self.accounts.get(id))
    }

    /// Every account the site can see.
    pub fn visible_accounts(&self) -> impl Iterator<Item = &Account> {
        let now = Instant::now();
        self.accounts.values().filter(move |a| a.visible_at <= now)
    }

    /// Adds an account that exists outside the SCIM directory (an invited or unmanaged user).
    pub fn add_account(&mut self, email: &str, display_name: &str, managed: bool) -> String {
        let id = self.new_account_id();
        self.account_by_email.insert(lower(email), id.clone());
        self.accounts.insert(
            id.clone(),
            Account {
                account_id: id.clone(),
                email: email.to_owned(),
                display_name: display_name.to_owned(),
                active: true,
                managed,
                email_visible: true,
                time_zone: "UTC".into(),
                visible_at: Instant::now(),
            },
        );
        id
    }

    /// Sets whether an account's email is visible to others.
    pub fn set_email_visible(&mut self, account_id: &str, visible: bool) {
        if let Some(a) = self.accounts.get_mut(account_id) {
            a.email_visible = visible;
        }
    }

    // ----- SCIM users -----------------------------------------------------------------------

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
    fn clean_user_attrs(body: &Map<String, Value>) -> Result<Map<String, Value>, SimError> {
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

    fn check_user_unique(
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

    fn index_user(&mut self, user: &ScimUser) {
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

    fn unindex_user(&mut self, id: &str) {
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

    fn insert_user(&mut self, attrs: Map<String, Value>, now: String) -> Result<String, SimError> {
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

    // ----- groups ---------------------------------------------------------------------------

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
        Ok(self.insert_site_group(name, None))
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

    // ----- seeding and introspection --------------------------------------------------------

    /// Creates `users` SCIM users and `groups` SCIM groups with memberships, deterministically
    /// from `seed`; about one user in five lands in no default group.
    pub fn seed(&mut self, users: usize, groups: usize, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let domain = format!("{}.example.com", self.settings.site_name);
        let defaults: Vec<String> = ["jira-software-users", "confluence-users"]
            .iter()
            .filter_map(|n| self.group_by_name(n).map(|g| g.id.clone()))
            .collect();
        self.user_order.reserve(users);
        for index in [
            &mut self.user_by_name,
            &mut self.user_by_external,
            &mut self.user_by_email,
            &mut self.user_by_account,
        ] {
            index.reserve(users);
        }
        self.users.reserve(users);
        self.accounts.reserve(users);
        self.account_by_email.reserve(users);
        let now = scim_now();
        let mut accounts = Vec::with_capacity(users);
        // Numbering continues after what exists, so seeding twice never collides.
        let first_user = self.user_order.len();
        let first_group = self.scim_group_order.len();
        for i in first_user..first_user + users {
            let name = format!("user{i:06}@{domain}");
            let mut attrs = Map::new();
            attrs.insert("userName".into(), Value::String(name.clone()));
            attrs.insert(
                "emails".into(),
                serde_json::json!([{ "value": name, "type": "work", "primary": true }]),
            );
            attrs.insert(
                "externalId".into(),
                Value::String(format!("ext-{seed}-{i:06}")),
            );
            attrs.insert(
                "name".into(),
                serde_json::json!({ "givenName": "User", "familyName": format!("{i:06}") }),
            );
            attrs.insert("displayName".into(), Value::String(format!("User {i:06}")));
            attrs.insert("active".into(), Value::Bool(rng.random_bool(0.97)));
            let Ok(id) = self.insert_user(attrs, now.clone()) else {
                continue;
            };
            let account = self.users[&id].account_id.clone();
            if let Some(a) = self.accounts.get_mut(&account) {
                a.visible_at = Instant::now();
                a.email_visible = rng.random_bool(0.8);
            }
            if rng.random_bool(0.8) {
                for d in &defaults {
                    self.add_member(d, &account);
                }
            }
            accounts.push(account);
        }
        for g in first_group..first_group + groups {
            let Ok(id) = self.create_scim_group(
                &format!("team-{g:04}"),
                Some(format!("gext-{seed}-{g:04}")),
                Vec::new(),
            ) else {
                continue;
            };
            if let Some(group) = self.groups.get_mut(&id) {
                group.visible_at = Instant::now();
            }
        }
        // Each user joins up to three teams.
        let team_ids: Vec<String> =
            self.scim_group_order[first_group.min(self.scim_group_order.len())..].to_vec();
        if !team_ids.is_empty() {
            for account in &accounts {
                for _ in 0..rng.random_range(0..=3) {
                    let team = &team_ids[rng.random_range(0..team_ids.len())];
                    self.add_member(team, account);
                }
            }
        }
    }

    /// The whole state as JSON, for tests that prove nothing was lost or duplicated.
    pub fn dump(&self) -> Value {
        let users: Vec<&ScimUser> = self
            .user_order
            .iter()
            .filter_map(|id| self.users.get(id))
            .collect();
        let mut accounts: Vec<&Account> = self.accounts.values().collect();
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let groups: Vec<&Group> = self
            .group_by_name
            .values()
            .filter_map(|id| self.groups.get(id))
            .collect();
        serde_json::json!({
            "directory_id": self.settings.directory_id,
            "users": users,
            "groups": groups,
            "accounts": accounts,
        })
    }
}

/// Which unique attribute a user lookup uses.
#[derive(Debug, Clone, Copy)]
pub enum UserKey {
    /// userName, case-insensitive.
    UserName,
    /// externalId, case-sensitive.
    ExternalId,
}

fn display_name_of(attrs: &Map<String, Value>) -> String {
    attrs
        .get("displayName")
        .and_then(Value::as_str)
        .or_else(|| {
            attrs
                .get("name")
                .and_then(|n| n.get("formatted"))
                .and_then(Value::as_str)
        })
        .or_else(|| attrs.get("userName").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

/// Enforces what Atlassian requires of a user: a userName, at least one email with one primary,
/// a boolean `active` (IdPs send "True"/"False" strings; they are accepted).
pub fn normalise_user_attrs(attrs: &mut Map<String, Value>) -> Result<(), SimError> {
    match attrs.get("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        _ => {
            return Err(SimError::bad_request(
                "invalidValue",
                "userName is required",
            ));
        }
    }
    let Some(Value::Array(emails)) = attrs.get("emails") else {
        return Err(SimError::bad_request("invalidValue", "emails is required"));
    };
    if emails.is_empty() {
        return Err(SimError::bad_request("invalidValue", "emails is required"));
    }
    for e in emails {
        match e.get("value").and_then(Value::as_str) {
            Some(v) if v.contains('@') && !v.contains(char::is_whitespace) => {}
            _ => {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!(
                        "invalid email value: {}",
                        e.get("value").unwrap_or(&Value::Null)
                    ),
                ));
            }
        }
    }
    let primaries = emails
        .iter()
        .filter(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .count();
    if primaries > 1 || (primaries == 0 && emails.len() > 1) {
        return Err(SimError::bad_request(
            "invalidValue",
            "One value of emails must be marked as primary",
        ));
    }
    if let Some(active) = attrs.get("active") {
        let value = coerce_bool(active).ok_or_else(|| {
            SimError::bad_request(
                "invalidValue",
                format!("active must be a boolean, got {active}"),
            )
        })?;
        attrs.insert("active".into(), Value::Bool(value));
    }
    for key in [
        "externalId",
        "displayName",
        "nickName",
        "title",
        "preferredLanguage",
        "timezone",
        "department",
        "organization",
    ] {
        if let Some(v) = attrs.get(key) {
            if !v.is_string() {
                return Err(SimError::bad_request(
                    "invalidValue",
                    format!("{key} must be a string"),
                ));
            }
        }
    }
    Ok(())
}

/// `true`, `false`, or the strings IdPs send for them.
pub fn coerce_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
