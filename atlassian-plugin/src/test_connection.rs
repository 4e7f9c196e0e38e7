//! Test connection: each credential and permission as its own named check, with the fix.

use std::time::Instant;

use connector_api::{ConnectorError, TestReport};

use crate::clients::Clients;
use crate::credentials::Credential;
use crate::settings::Settings;

const SITE_ADMIN_GROUPS: [&str; 3] = ["site-admins", "administrators", "org-admins"];

fn scim_hint(e: &ConnectorError) -> String {
    Credential::DirectoryKey.hint(e.kind)
}

fn site_hint(e: &ConnectorError) -> String {
    Credential::SiteToken.hint(e.kind)
}

/// Runs every check; never fails as a whole, each problem is a failed check.
pub(crate) async fn run(c: &Clients, settings: &Settings, deadline: Instant) -> TestReport {
    let mut report = TestReport::default();
    let directory = &settings.directory_id;

    match c.scim.service_provider_config(deadline).await {
        Ok(_) => match c.scim.list_users(None, 1, 1, deadline).await {
            Ok(page) => report.pass(
                "scim.directory_api_key",
                format!("the SCIM endpoint accepts the Directory API Key for directory {directory} ({} users)", page.total_results),
            ),
            Err(e) => report.fail("scim.directory_api_key", e.message.clone(), scim_hint(&e)),
        },
        Err(e) => report.fail("scim.directory_api_key", e.message.clone(), scim_hint(&e)),
    }

    let me = match c.jira.myself(deadline).await {
        Ok(me) => {
            report.pass(
                "site.credentials",
                format!(
                    "the site accepts the Admin Email and Account Security API Key ({})",
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
            Some(me)
        }
        Err(e) => {
            report.fail("site.credentials", e.message.clone(), site_hint(&e));
            None
        }
    };

    let groups = match &me {
        Some(me) => match c.jira.user_groups(&me.account_id, deadline).await {
            Ok(groups) => Some(groups.unwrap_or_default()),
            Err(e) => {
                report.fail(
                    "site.admin_permission",
                    format!(
                        "the service account's groups could not be read: {}",
                        e.message
                    ),
                    site_hint(&e),
                );
                None
            }
        },
        None => None,
    };
    match &groups {
        None => {
            for check in [
                "site.admin_permission",
                "jira.product_admin",
                "confluence.product_admin",
            ] {
                if report.check(check).is_none() {
                    report.skip(check, "the site credentials did not work");
                }
            }
        }
        Some(groups) => {
            let member_of = |names: &[&str]| {
                groups
                    .iter()
                    .any(|g| names.iter().any(|n| g.name.eq_ignore_ascii_case(n)))
            };
            let site_admin = member_of(&SITE_ADMIN_GROUPS);
            let fix = |role: &str| {
                format!(
                    "In admin.atlassian.com open Directory, Users, {}, and give it the {role} role; IDHub needs Organization admin or Site administrator, and Product admin for Jira and Confluence.",
                    settings.admin_email
                )
            };
            if site_admin {
                report.pass(
                    "site.admin_permission",
                    "the service account is a site administrator",
                );
            } else {
                report.fail("site.admin_permission", "the service account is neither organization nor site administrator: it cannot manage group memberships", fix("Site administrator"));
            }
            if site_admin || member_of(&["jira-administrators", "jira-admins"]) {
                report.pass("jira.product_admin", "the service account administers Jira");
            } else {
                report.fail(
                    "jira.product_admin",
                    "the service account is not a Jira product admin",
                    fix("Jira Product admin"),
                );
            }
            if site_admin || member_of(&["confluence-admins", "confluence-administrators"]) {
                report.pass(
                    "confluence.product_admin",
                    "the service account administers Confluence",
                );
            } else {
                report.fail(
                    "confluence.product_admin",
                    "the service account is not a Confluence product admin",
                    fix("Confluence Product admin"),
                );
            }
        }
    }

    for name in &settings.default_group_names {
        let check = format!("default_group.{name}");
        if me.is_none() {
            report.skip(&check, "the site credentials did not work");
            continue;
        }
        match c.jira.find_group(name, deadline).await {
            Ok(Some(group)) => {
                let in_confluence = c.confluence.group_by_name(name, deadline).await;
                match in_confluence {
                    Ok(_) => report.pass(&check, format!("the site has the default group `{name}` ({})", group.group_id)),
                    Err(e) => report.fail(&check, format!("Jira has `{name}` but Confluence could not be asked: {}", e.message), site_hint(&e)),
                }
            }
            Ok(None) => report.fail(
                &check,
                format!("the site has no group named `{name}`"),
                "Check each product's default group in admin.atlassian.com, Products, Manage product, Default groups, and fix default_group_names (sites may use suffixed names such as jira-software-users-<site>).",
            ),
            Err(e) => report.fail(&check, e.message.clone(), site_hint(&e)),
        }
    }
    report
}
