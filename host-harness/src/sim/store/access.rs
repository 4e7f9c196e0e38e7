//! Who may do what: the access a group grants, the roles an account holds, group renames.
//!
//! Atlassian's "Bulk get groups" takes `accessType` (`site-admin`, `admin`, `user`) and an
//! `applicationKey`, and Atlassian staff tell integrators to find groups that way rather than by
//! their default names (community.developer.atlassian.com, "Bulk get groups API enhanced to
//! support group lookups based on access type", and "Use Bulk Get Groups API to fetch groups
//! having certain permissions/access instead of relying on special default names"). The same
//! three levels model roles assigned without a group: in centralized user management "there
//! isn't a group associated with the site admin role" (Atlassian Community Learning, "Explore
//! Atlassian admin roles").

use serde::Serialize;

use super::*;
use crate::sim::error::SimError;

/// An access level, as `accessType` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessType {
    /// Uses the product.
    User,
    /// Administers the product.
    Admin,
    /// Administers the site: users, groups and every product on it.
    SiteAdmin,
}

impl AccessType {
    /// The level `accessType=<text>` asks for.
    pub fn parse(text: &str) -> Option<AccessType> {
        match text {
            "user" => Some(AccessType::User),
            "admin" => Some(AccessType::Admin),
            "site-admin" => Some(AccessType::SiteAdmin),
            _ => None,
        }
    }
}

impl AccessType {
    /// The level an optional `accessType` query value asks for; an unknown one is a 400.
    pub fn from_query(text: Option<&str>) -> Result<Option<AccessType>, SimError> {
        text.map(|t| {
            AccessType::parse(t).ok_or_else(|| {
                SimError::bad_request(
                    "invalidValue",
                    format!("Invalid access type: {t}. Valid values: site-admin, admin, user."),
                )
            })
        })
        .transpose()
    }
}

/// What a group membership or a role gives: a level, on a product (none for site admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The level.
    pub access: AccessType,
    /// The product key (`jira-software`, `confluence`), `None` for the whole site.
    pub product: Option<String>,
}

impl Grant {
    /// `access` on `product`.
    pub fn on(access: AccessType, product: &str) -> Grant {
        Grant {
            access,
            product: Some(product.to_owned()),
        }
    }

    /// Site administration.
    pub fn site_admin() -> Grant {
        Grant {
            access: AccessType::SiteAdmin,
            product: None,
        }
    }

    /// Whether this grant is `access` on a product `product` accepts (any level for site admin).
    fn gives(&self, access: AccessType, product: &dyn Fn(&str) -> bool) -> bool {
        match (self.access, &self.product) {
            (AccessType::SiteAdmin, _) => access == AccessType::SiteAdmin,
            (level, Some(p)) => level == access && product(p),
            (_, None) => false,
        }
    }
}

impl Org {
    /// The groups that give `access` on a product `product` accepts, sorted by name.
    pub fn groups_granting<'a>(
        &'a self,
        access: AccessType,
        product: &'a dyn Fn(&str) -> bool,
    ) -> impl Iterator<Item = &'a Group> + 'a {
        self.visible_groups_by_name()
            .filter(move |g| g.grants.iter().any(|grant| grant.gives(access, product)))
    }

    /// Whether `account` administers the site, by role or through a group.
    pub fn is_site_admin(&self, account: &str) -> bool {
        let any = |_: &str| true;
        self.accounts.get(account).is_some_and(|a| {
            a.roles.iter().any(|r| r.gives(AccessType::SiteAdmin, &any))
                || self.groups_of(account).any(|g| {
                    g.grants
                        .iter()
                        .any(|r| r.gives(AccessType::SiteAdmin, &any))
                })
        })
    }

    /// Whether `account` administers a product `product` accepts; a site admin administers
    /// every product of the site.
    pub fn is_product_admin(&self, account: &str, product: &dyn Fn(&str) -> bool) -> bool {
        self.is_site_admin(account)
            || self.accounts.get(account).is_some_and(|a| {
                a.roles.iter().any(|r| r.gives(AccessType::Admin, product))
                    || self
                        .groups_of(account)
                        .any(|g| g.grants.iter().any(|r| r.gives(AccessType::Admin, product)))
            })
    }

    /// Gives `account` a role of its own.
    pub fn assign_role(&mut self, account: &str, role: Grant) {
        if let Some(a) = self.accounts.get_mut(account) {
            a.roles.push(role);
        }
    }

    /// Adds a site group that grants `grants`; `default_for` makes it a product's default group.
    pub fn add_site_group(
        &mut self,
        name: &str,
        default_for: Option<&str>,
        grants: Vec<Grant>,
    ) -> String {
        self.insert_site_group(name, default_for.map(str::to_owned), grants)
    }

    /// Renames a group; its id, members and grants stay. Atlassian: "The standard Atlassian
    /// group names are default names only and can be edited or deleted" (Confluence REST,
    /// Group), and group names are no longer immutable in Confluence or Jira.
    pub fn rename_group(&mut self, from: &str, to: &str) -> Result<String, SimError> {
        let to = to.trim();
        if to.is_empty() {
            return Err(SimError::bad_request(
                "invalidValue",
                "the new name is empty",
            ));
        }
        let id = self
            .group_by_name(from)
            .map(|g| g.id.clone())
            .ok_or_else(|| SimError::not_found(format!("no group named {from}")))?;
        if self.group_by_name(to).is_some_and(|g| g.id != id) {
            return Err(SimError::conflict(format!("a group named {to} exists")));
        }
        self.group_by_name.remove(&lower(from));
        self.group_by_name.insert(lower(to), id.clone());
        if let Some(g) = self.groups.get_mut(&id) {
            g.name = to.to_owned();
            g.last_modified = scim_now();
        }
        Ok(id)
    }
}
