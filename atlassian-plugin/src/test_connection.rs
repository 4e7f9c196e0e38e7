//! Test connection: each credential and capability as its own named check, with the fix.
//!
//! Rights are proven by what the site answers about them, never by group names: in centralized
//! user management "there isn't a group associated with the site admin role", product-admin
//! groups carry site suffixes, and default groups can be renamed (see [`crate::site::access`]).
//! A check that cannot prove its point warns "could not verify"; it never passes.

use std::time::Instant;

use connector_api::{ConnectorError, TestReport};

use crate::clients::Clients;
use crate::credentials::Credential;
use crate::product_access::{ProductAccess, is_group_id};
use crate::settings::Settings;
use crate::site::access::{self, GroupRef};
use crate::site::jira::JiraGroup;

fn scim_hint(e: &ConnectorError) -> String {
    Credential::DirectoryKey.hint(e.kind)
}

fn site_hint(e: &ConnectorError) -> String {
    Credential::SiteToken.hint(e.kind)
}

/// The checks that need working site credentials.
const SITE_CHECKS: [&str; 3] = [
    "site.admin_permission",
    "jira.product_admin",
    "confluence.product_admin",
];

/// Runs every check; never fails as a whole, each problem is a failed check.
pub(crate) async fn run(
    c: &Clients,
    settings: &Settings,
    access: &ProductAccess,
    deadline: Instant,
) -> TestReport {
    let mut report = TestReport::default();
    check_directory(c, settings, deadline, &mut report).await;
    let Some(account) = check_site_credentials(c, settings, deadline, &mut report).await else {
        for check in SITE_CHECKS {
            report.skip(check, "the site credentials did not work");
        }
        for name in &settings.default_group_names {
            report.skip(
                &format!("default_group.{name}"),
                "the site credentials did not work",
            );
        }
        return report;
    };
    Rights::read(c, &account, deadline)
        .await
        .report(settings, &mut report);
    check_default_groups(c, settings, access, deadline, &mut report).await;
    report
}

async fn check_directory(
    c: &Clients,
    settings: &Settings,
    deadline: Instant,
    report: &mut TestReport,
) {
    let directory = &settings.directory_id;
    let outcome = match c.scim.service_provider_config(deadline).await {
        Ok(_) => c.scim.list_users(None, 1, 1, deadline).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(page) => report.pass(
            "scim.directory_api_key",
            format!(
                "the SCIM endpoint accepts the Directory API Key for directory {directory} ({} users)",
                page.total_results
            ),
        ),
        Err(e) => report.fail("scim.directory_api_key", e.message.clone(), scim_hint(&e)),
    }
}

/// Checks the site credential; answers the service account's id when it works.
async fn check_site_credentials(
    c: &Clients,
    settings: &Settings,
    deadline: Instant,
    report: &mut TestReport,
) -> Option<String> {
    let me = match c.jira.myself(deadline).await {
        Ok(me) => me,
        Err(e) => {
            report.fail("site.credentials", e.message.clone(), site_hint(&e));
            return None;
        }
    };
    let via = match c.jira.via(deadline).await {
        Ok(via) => via.to_string(),
        Err(_) => "the site".into(),
    };
    report.pass(
        "site.credentials",
        format!(
            "{via} accepts the Admin Email and Account Security API Key ({})",
            me.display_name
        ),
    );
    if let Some(email) = me
        .email_address
        .as_deref()
        .filter(|e| !e.eq_ignore_ascii_case(&settings.admin_email))
    {
        report.warn(
            "site.admin_email",
            format!("the API token belongs to {email}, not to the configured Admin Email"),
            "Set admin_email to the email of the account that created the API token.",
        );
    }
    Some(me.account_id)
}

/// What the site answered about the service account's rights; each `Err` says why it could not.
struct Rights {
    /// The account's groups.
    groups: Result<Vec<JiraGroup>, String>,
    /// Jira's `ADMINISTER` and `SYSTEM_ADMIN` global permissions.
    permissions: Result<(bool, bool), String>,
    /// The groups that give site admin, and Jira admin (`None`: the lookup is gone).
    site_admin_groups: Result<Option<Vec<JiraGroup>>, String>,
    jira_admin_groups: Result<Option<Vec<JiraGroup>>, String>,
    /// Confluence: `administer` among the caller's operations, and its admin groups.
    confluence_admin: Result<bool, String>,
    confluence_admin_groups: Result<Vec<GroupRef>, String>,
}

/// What a rights check concluded.
enum Verdict {
    Proven(String),
    Refuted,
    Unknown(String),
}

impl Rights {
    async fn read(c: &Clients, account: &str, deadline: Instant) -> Rights {
        let message = |e: ConnectorError| e.message;
        let permissions = c
            .jira
            .my_permissions(&["ADMINISTER", "SYSTEM_ADMIN"], deadline)
            .await
            .map(|held| {
                let has = |k: &str| held.iter().any(|(key, on)| key == k && *on);
                (has("ADMINISTER"), has("SYSTEM_ADMIN"))
            })
            .map_err(message);
        Rights {
            groups: match c.jira.user_groups(account, deadline).await {
                Ok(groups) => Ok(groups.unwrap_or_default()),
                Err(e) => Err(e.message),
            },
            permissions,
            site_admin_groups: c
                .jira
                .groups_granting("site-admin", None, deadline)
                .await
                .map_err(message),
            jira_admin_groups: c
                .jira
                .groups_granting("admin", None, deadline)
                .await
                .map_err(message),
            confluence_admin: c.confluence.can_administer(deadline).await.map_err(message),
            confluence_admin_groups: c
                .confluence
                .groups_granting("admin", deadline)
                .await
                .map(|groups| groups.into_iter().map(GroupRef::from).collect())
                .map_err(message),
        }
    }

    /// The first of the account's groups whose id is in `ids`, or why that is unknown.
    fn member_of(
        &self,
        ids: Result<Vec<(String, String)>, String>,
    ) -> Result<Option<String>, String> {
        let groups = self
            .groups
            .as_ref()
            .map_err(|e| format!("its groups could not be read: {e}"))?;
        let ids = ids?;
        Ok(groups
            .iter()
            .find(|g| ids.iter().any(|(id, _)| *id == g.group_id))
            .map(|g| g.name.clone()))
    }

    /// One right: proven by the permission `held`, or by membership of a group in `granting`.
    fn verdict(
        &self,
        held: Result<bool, String>,
        by_role: &str,
        granting: Result<Vec<(String, String)>, String>,
    ) -> Verdict {
        match (held, self.member_of(granting)) {
            (Ok(true), _) => Verdict::Proven(by_role.to_owned()),
            (_, Ok(Some(group))) => Verdict::Proven(format!("through the group `{group}`")),
            (Ok(false), Ok(None)) => Verdict::Refuted,
            (Err(e), _) | (_, Err(e)) => Verdict::Unknown(e),
        }
    }

    fn report(&self, settings: &Settings, report: &mut TestReport) {
        let jira_ids = |groups: &Result<Option<Vec<JiraGroup>>, String>| match groups {
            Ok(Some(groups)) => Ok(groups
                .iter()
                .map(|g| (g.group_id.clone(), g.name.clone()))
                .collect()),
            Ok(None) => Err("Jira's group/bulk lookup is not available on this site".to_owned()),
            Err(e) => Err(e.clone()),
        };
        let fix = |role: &str| {
            format!(
                "In admin.atlassian.com open Directory, Users (or Service accounts), {}, and give it the {role} role; IDHub needs Site admin (or Organization admin) to manage group memberships, and Product admin for Jira and Confluence.",
                settings.admin_email
            )
        };
        let site_admin = self.verdict(
            self.permissions.clone().map(|(_, system)| system),
            "by role (Jira's SYSTEM_ADMIN permission)",
            jira_ids(&self.site_admin_groups),
        );
        let site_admin_proven = matches!(site_admin, Verdict::Proven(_));
        let jira_admin = if site_admin_proven {
            Verdict::Proven("as a site administrator".into())
        } else {
            self.verdict(
                self.permissions.clone().map(|(administer, _)| administer),
                "by role (Jira's ADMINISTER permission)",
                jira_ids(&self.jira_admin_groups),
            )
        };
        let confluence_admin = self.verdict(
            self.confluence_admin.clone(),
            "by role (Confluence's administer operation)",
            self.confluence_admin_groups
                .clone()
                .map(|g| g.into_iter().map(|g| (g.id, g.name)).collect()),
        );
        for (check, what, verdict, role) in [
            (
                "site.admin_permission",
                "a site administrator",
                site_admin,
                "Site admin",
            ),
            (
                "jira.product_admin",
                "a Jira product admin",
                jira_admin,
                "Jira Product admin",
            ),
            (
                "confluence.product_admin",
                "a Confluence product admin",
                confluence_admin,
                "Confluence Product admin",
            ),
        ] {
            match verdict {
                Verdict::Proven(how) => {
                    report.pass(check, format!("the service account is {what}, {how}"))
                }
                Verdict::Refuted => report.fail(
                    check,
                    format!("the service account is not {what}: the site grants it neither the permission nor a group that gives it"),
                    fix(role),
                ),
                Verdict::Unknown(why) => report.warn(
                    check,
                    format!("could not verify that the service account is {what}: {why}"),
                    fix(role),
                ),
            }
        }
    }
}

/// Each configured default group must exist and give a product.
async fn check_default_groups(
    c: &Clients,
    settings: &Settings,
    access: &ProductAccess,
    deadline: Instant,
    report: &mut TestReport,
) {
    let products = access::user_access(&c.jira, &c.confluence, deadline).await;
    let known = access::describe(&products);
    let all_read = products.iter().all(|p| p.groups.is_ok());
    for entry in &settings.default_group_names {
        let check = format!("default_group.{entry}");
        let group = match access.resolve(entry, deadline).await {
            Ok(Some(group)) => group,
            Ok(None) => {
                report.fail(
                    &check,
                    format!("the site has no group `{entry}`; the groups that give product access are {known}"),
                    "Copy the right name (or group id) into default_group_names; admin.atlassian.com, Products, Manage product, Default groups shows each product's default group.",
                );
                continue;
            }
            Err(e) => {
                report.fail(&check, e.message.clone(), site_hint(&e));
                continue;
            }
        };
        let given = access::products_of(&products, &GroupRef::from(group.clone()));
        let named = if is_group_id(entry) {
            format!("`{}` (group id {entry})", group.name)
        } else {
            format!("`{entry}` (group id {})", group.group_id)
        };
        if !given.is_empty() {
            report.pass(
                &check,
                format!("the site has {named}, which gives {} access; the id survives a rename of the group", given.join(" and ")),
            );
        } else if all_read {
            report.fail(
                &check,
                format!("the site has {named}, but it gives no product access; the groups that do are {known}"),
                "Use a group that gives the product (a product's default group), or add the product to this group in admin.atlassian.com, Directory, Groups.",
            );
        } else {
            report.warn(
                &check,
                format!("the site has {named}; could not verify that it gives product access: {known}"),
                "Check the group in admin.atlassian.com, Directory, Groups: it must give Jira or Confluence access.",
            );
        }
    }
}
