//! Seeding: users, groups and memberships created deterministically from a seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use super::*;

impl Org {
    /// Creates `users` SCIM users and `groups` SCIM groups with memberships, deterministically
    /// from `seed`; about one user in five lands in no default group.
    pub fn seed(&mut self, users: usize, groups: usize, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let domain = format!("{}.example.com", self.settings.site_name);
        let mut defaults: Vec<(String, String)> = self
            .groups
            .values()
            .filter_map(|g| Some((g.default_for.clone()?, g.id.clone())))
            .collect();
        defaults.sort();
        let defaults: Vec<String> = defaults.into_iter().map(|(_, id)| id).collect();
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

    /// Creates the SCIM group `name` with `members` members, the first users of the directory,
    /// seeding more users first when there are fewer (Atlassian allows 290,000 per group).
    pub fn seed_large_group(&mut self, name: &str, members: usize, seed: u64) {
        if self.user_order.len() < members {
            self.seed(members - self.user_order.len(), 0, seed ^ 0x9E37);
        }
        let accounts: Vec<String> = self.user_order[..members]
            .iter()
            .filter_map(|id| self.users.get(id).map(|u| u.account_id.clone()))
            .collect();
        if let Ok(id) = self.create_scim_group(name, Some(format!("gext-{name}")), accounts) {
            if let Some(group) = self.groups.get_mut(&id) {
                group.visible_at = Instant::now();
            }
        }
    }
}
