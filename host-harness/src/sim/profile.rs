//! Organization profiles: the groups and roles a simulated organization starts with.
//!
//! `modern` is an organization as Atlassian sets one up today, `legacy` one from before
//! centralized user management. Every rule carries its source; where the sources leave a
//! behaviour open it is a switch ([`crate::sim::Switches`]) instead.

use serde::{Deserialize, Serialize};

use super::auth::Credentials;
use super::store::{AccessType, Grant, Org};

/// The product keys the simulated site has.
pub const JIRA: &str = "jira-software";
/// Confluence's product key.
pub const CONFLUENCE: &str = "confluence";

/// Which organization the simulator models.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgProfile {
    /// Today's organization: admin rights are roles with no group; default and product-admin
    /// groups carry the site's name and can be renamed; a service account with a scoped token.
    #[default]
    Modern,
    /// An organization from before centralized user management: admin rights come from the
    /// `site-admins`, `jira-administrators` and `confluence-admins` groups, and the default
    /// groups have their historical names.
    Legacy,
}

impl OrgProfile {
    /// The name, as `--org` takes it.
    pub fn name(self) -> &'static str {
        match self {
            OrgProfile::Modern => "modern",
            OrgProfile::Legacy => "legacy",
        }
    }

    /// The default groups of Jira Software and Confluence, in that order.
    pub fn default_groups(self, site: &str) -> [String; 2] {
        match self {
            // "Newer organizations use names such as jira-software-users-<site>"
            // (support.atlassian.com, "Default groups and permissions").
            OrgProfile::Modern => [
                format!("jira-software-users-{site}"),
                format!("confluence-users-{site}"),
            ],
            OrgProfile::Legacy => ["jira-software-users".into(), "confluence-users".into()],
        }
    }

    /// Seeds the site groups and the accounts of `creds` with their rights.
    pub fn seed(self, org: &mut Org, creds: &Credentials) {
        let site = org.settings.site_name.clone();
        let [jira_users, confluence_users] = self.default_groups(&site);
        org.add_site_group(
            &jira_users,
            Some(JIRA),
            vec![Grant::on(AccessType::User, JIRA)],
        );
        org.add_site_group(
            &confluence_users,
            Some(CONFLUENCE),
            vec![Grant::on(AccessType::User, CONFLUENCE)],
        );
        let admin = org.add_account(&creds.admin_email, "IDHub Admin", true);
        let plain = org.add_account(&creds.user_email, "Plain User", true);
        match self {
            OrgProfile::Legacy => {
                // The groups that carried admin rights before centralized user management.
                let site_admins =
                    org.add_site_group("site-admins", None, vec![Grant::site_admin()]);
                let jira_admins = org.add_site_group(
                    "jira-administrators",
                    None,
                    vec![Grant::on(AccessType::Admin, JIRA)],
                );
                let confluence_admins = org.add_site_group(
                    "confluence-admins",
                    None,
                    vec![Grant::on(AccessType::Admin, CONFLUENCE)],
                );
                for group in [site_admins, jira_admins, confluence_admins] {
                    org.add_member(&group, &admin);
                }
                // Suffixed names exist on some older sites too, granting nothing.
                org.add_site_group(&format!("jira-software-users-{site}"), None, vec![]);
                org.add_site_group(&format!("confluence-users-{site}"), None, vec![]);
            }
            OrgProfile::Modern => {
                // Product-admin groups carry a site suffix (`confluence-admins-<site>`,
                // support.atlassian.com "Default groups and permissions").
                org.add_site_group(
                    &format!("jira-admins-{site}"),
                    None,
                    vec![Grant::on(AccessType::Admin, JIRA)],
                );
                org.add_site_group(
                    &format!("confluence-admins-{site}"),
                    None,
                    vec![Grant::on(AccessType::Admin, CONFLUENCE)],
                );
                // "The org-admin group will no longer grant organization admin access after
                // the [Units] rollout" (Organizations REST API, "Add user to group"): the plain
                // user sits in it and is still no admin.
                let org_admins = org.add_site_group("org-admins", None, vec![]);
                org.add_member(&org_admins, &plain);
                // "There isn't a group associated with the site admin role."
                org.assign_role(&admin, Grant::site_admin());
                // Atlassian service accounts "can only create scoped API tokens"
                // (support.atlassian.com KB "401 unauthorized error when service account
                // accesses Jira or Confluence API").
                let service =
                    org.add_account(&creds.service_account_email, "IDHub service account", true);
                org.assign_role(&service, Grant::site_admin());
            }
        }
    }
}
