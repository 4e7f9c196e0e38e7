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

mod access;
mod attrs;
mod groups;
mod seed;
mod users;

pub use access::{AccessType, Grant};

use attrs::display_name_of;
pub use attrs::{coerce_bool, normalise_user_attrs};

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
    /// Roles assigned to the account itself, not through a group (site admin in centralized
    /// user management).
    pub roles: Vec<Grant>,
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
    /// Whether the account was unlinked from the record: it shows no account id.
    pub unlinked: bool,
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
    /// What membership gives: product access, product admin, site admin.
    pub grants: Vec<Grant>,
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
    /// The site's cloud id, as `/_edge/tenant_info` tells it and the API gateway routes by.
    pub cloud_id: String,
    /// Whether Jira still serves `GET /group/bulk` (marked EXPERIMENTAL by Atlassian).
    pub group_bulk: bool,
    /// The emails whose API tokens have expired (every token now expires within a year).
    pub expired_tokens: BTreeSet<String>,
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
    /// Membership changes in order, once recording is on (see [`Org::record_memberships`]).
    membership_log: Option<std::collections::VecDeque<MembershipChange>>,
}

/// One membership change, as the log keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct MembershipChange {
    /// The group id.
    pub group: String,
    /// The account id.
    pub account: String,
    /// Whether the account joined (true) or left (false).
    pub joined: bool,
}

/// The most changes the membership log keeps; older ones are dropped.
pub const MEMBERSHIP_LOG_CAP: usize = 200_000;

/// A shared handle on the organization.
#[derive(Debug, Clone)]
pub struct Store(Arc<RwLock<Org>>);

impl Store {
    /// A new organization with no group and no user (see [`crate::sim::profile`] for the
    /// groups and roles an organization starts with).
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
        Org {
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
            membership_log: None,
        }
    }

    /// Starts recording every membership change from now on (seeding is not recorded).
    pub fn record_memberships(&mut self) {
        self.membership_log.get_or_insert_with(Default::default);
    }

    /// The membership changes recorded, oldest first.
    pub fn membership_log(&self) -> Vec<MembershipChange> {
        self.membership_log.iter().flatten().cloned().collect()
    }

    fn log_membership(&mut self, group: &str, account: &str, joined: bool) {
        if let Some(log) = &mut self.membership_log {
            if log.len() == MEMBERSHIP_LOG_CAP {
                log.pop_front();
            }
            log.push_back(MembershipChange {
                group: group.to_owned(),
                account: account.to_owned(),
                joined,
            });
        }
    }

    /// A random UUID from the store's seeded generator: same seed, same ids.
    pub fn new_uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    pub(super) fn new_account_id(&mut self) -> String {
        let bytes: [u8; 12] = self.rng.random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(super) fn insert_site_group(
        &mut self,
        name: &str,
        default_for: Option<String>,
        grants: Vec<Grant>,
    ) -> String {
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
                grants,
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
                roles: Vec::new(),
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
