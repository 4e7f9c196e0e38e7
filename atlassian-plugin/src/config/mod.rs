//! The connector's configuration: the seven parameters an admin prepares, and offline validation.
//!
//! Field titles and descriptions are the words of IDHub's set-up page, so the form a host renders
//! from the JSON Schema is the one admins know. Credentials are [`Secret`]s (`writeOnly`).

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use connector_api::{ConfigProblems, Result, Secret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::credentials::Credential;
use crate::mapping::is_email;
use crate::settings::Settings;

/// What to do with an account when IDHub deprovisions it (a delete).
// Serialize gives the form its `default`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeprovisioningMode {
    /// Set SCIM `active` to false: the Atlassian account is deactivated everywhere (every site
    /// and product of the organization, not only Jira and Confluence) and cannot log in; it
    /// keeps its groups, and setting it active again restores it.
    #[schemars(title = "Deactivate (reversible)")]
    #[default]
    Deactivate,
    /// DELETE the SCIM record: irreversible; the account is unlinked from the directory,
    /// deactivated if the organization manages it, and loses its synced groups.
    #[schemars(title = "Delete (irreversible)")]
    Delete,
    /// Remove the account from every configured default group and leave it active: it loses
    /// the Jira and Confluence access IDHub granted, and keeps its account, its SCIM record and
    /// any other access.
    #[schemars(title = "Revoke product access")]
    RevokeAccess,
}

/// How the connector reaches the site's Jira and Confluence REST APIs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteApi {
    /// Try the Site URL; when it refuses the token (401), find the site's cloudId and use the
    /// API gateway: right for unscoped user tokens and for scoped service-account tokens.
    #[schemars(title = "Automatic: site, else gateway")]
    #[default]
    Auto,
    /// Only the Site URL (`https://<site>.atlassian.net`): unscoped user API tokens.
    #[schemars(title = "Site URL only")]
    Site,
    /// Only the API gateway (`https://api.atlassian.com/ex/jira/{cloudId}` and
    /// `/ex/confluence/{cloudId}`), which scoped tokens and Atlassian service accounts need.
    #[schemars(title = "API gateway only")]
    Gateway,
}

/// The Atlassian Cloud connector's configuration.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Atlassian Cloud connector")]
pub struct AtlassianConfig {
    /// The HTTPS URL of the Atlassian Cloud site, for the Jira and Confluence REST APIs. Shown in
    /// admin.atlassian.com under Products.
    #[schemars(
        title = "Site URL",
        url,
        regex(pattern = SITE_URL_PATTERN),
        example = &"https://acme.atlassian.net"
    )]
    pub site_url: String,

    /// The SCIM endpoint for user provisioning, shown once when the identity-provider directory is
    /// set up (admin.atlassian.com, Security, Identity providers, Set up user provisioning).
    #[schemars(
        title = "SCIM URL",
        url,
        regex(pattern = SCIM_URL_PATTERN),
        example = &"https://api.atlassian.com/scim/directory/2fb21891-7bee-4c2d-a61a-ade3834c8b2b"
    )]
    pub scim_url: String,

    /// An Atlassian API token of the service account, used with the Admin Email for the site
    /// APIs. A user's token is created under Account settings, Security, Create and manage API
    /// tokens; an Atlassian service account's (scoped) token in admin.atlassian.com, Directory,
    /// Service accounts. Tokens expire within a year.
    #[schemars(title = "Account Security API Key", length(min = MIN_KEY_LENGTH))]
    pub account_security_api_key: Secret,

    /// The email of the service account that has Organization or Site Administrator and Product
    /// Admin permissions for Jira and Confluence.
    #[schemars(title = "Admin Email", email, example = &"idhub-service@acme.com")]
    pub admin_email: String,

    /// The identifier of the Atlassian directory: the last segment of the SCIM URL.
    #[schemars(title = "Directory ID", regex(pattern = NOT_BLANK), example = &"2fb21891-7bee-4c2d-a61a-ade3834c8b2b")]
    pub directory_id: String,

    /// The SCIM API key of the directory, shown once with the SCIM URL; regenerate it under
    /// Security, Identity providers, your directory.
    #[schemars(title = "Directory API Key", length(min = MIN_KEY_LENGTH))]
    pub directory_api_key: Secret,

    /// The default groups that grant product access, one per product (Jira Software, Confluence);
    /// each new user is added to all of them. Check them in admin.atlassian.com, Products,
    /// Manage product, Default groups.
    #[serde(default = "default_group_names")]
    #[schemars(
        title = "Default Group Names",
        example = default_group_names(),
        length(max = 50),
        extend("uniqueItems" = true),
        inner(length(min = 1, max = 255), regex(pattern = NOT_BLANK))
    )]
    pub default_group_names: Vec<String>,

    /// What deprovisioning does: deactivate (reversible, the default), delete (irreversible), or
    /// revoke product access (the account stays).
    #[serde(default)]
    #[schemars(title = "Deprovisioning mode")]
    pub deprovisioning: DeprovisioningMode,

    /// Objects per SCIM page; Atlassian answers at most 100.
    #[serde(default = "default_page_size")]
    #[schemars(title = "Page size", range(min = 1, max = 100))]
    pub page_size: u32,

    /// Requests in flight at once against Atlassian.
    #[serde(default = "default_concurrency")]
    #[schemars(title = "Concurrency", range(min = 1, max = 64))]
    pub concurrency: u32,

    /// The longest one HTTP request may take, in seconds.
    #[serde(default = "default_request_timeout")]
    #[schemars(title = "Request timeout (s)", range(min = 1, max = 600))]
    pub request_timeout_secs: u64,

    /// The longest one operation may take, retries included, in seconds.
    #[serde(default = "default_deadline")]
    #[schemars(title = "Operation deadline (s)", range(min = 1, max = 86_400))]
    pub deadline_secs: u64,

    /// How many times one request is retried after a rate limit or a server error.
    #[serde(default = "default_retry_budget")]
    #[schemars(title = "Retry budget", range(max = 20))]
    pub retry_budget: u32,

    /// The longest a grant waits for a new account to reach the site (its Atlassian account id,
    /// then Jira), in seconds, inside the operation deadline; 0 never waits.
    #[serde(default = "default_propagation_wait")]
    #[schemars(title = "Propagation wait (s)", range(max = 600))]
    pub propagation_wait_secs: u64,

    /// Where Jira and Confluence are called: auto (the Site URL, or the API gateway when the
    /// site refuses a scoped token), site, or gateway. The gateway is the SCIM URL's host
    /// (api.atlassian.com); the site's cloudId is read from the Site URL, at /_edge/tenant_info.
    #[serde(default)]
    #[schemars(title = "Site API route")]
    pub site_api: SiteApi,
}

fn default_group_names() -> Vec<String> {
    vec!["jira-software-users".into(), "confluence-users".into()]
}

fn default_page_size() -> u32 {
    100
}

fn default_concurrency() -> u32 {
    8
}

fn default_request_timeout() -> u64 {
    30
}

fn default_deadline() -> u64 {
    300
}

fn default_retry_budget() -> u32 {
    5
}

fn default_propagation_wait() -> u64 {
    60
}

impl AtlassianConfig {
    /// Offline validation: every problem, each naming its field and the fix.
    pub fn validate(&self) -> Result<()> {
        self.settings().map(drop)
    }

    /// The validated settings, every URL parsed once; or every problem, each naming its field.
    pub(crate) fn settings(&self) -> Result<Settings> {
        let mut problems = ConfigProblems::default();
        let site_url = check_url(&mut problems, "site_url", &self.site_url)
            .filter(|url| check_site_host(&mut problems, url));
        let scim_url = check_url(&mut problems, "scim_url", &self.scim_url);
        if let Some(scim_url) = &scim_url {
            match directory_id_of(scim_url) {
                None => problems.push(
                    "scim_url",
                    "must end with /scim/directory/{directoryId}, as shown when the directory was set up",
                ),
                Some(id) if id != self.directory_id.trim() => problems.push(
                    "directory_id",
                    format!(
                        "`{}` disagrees with the SCIM URL, whose directory is `{id}`; the Directory ID is the last segment of the SCIM URL",
                        shown(&self.directory_id)
                    ),
                ),
                Some(_) => {}
            }
        }
        problems.check(
            is_email(self.admin_email.trim()),
            "admin_email",
            format!("`{}` is not an email address", shown(&self.admin_email)),
        );
        problems.check(
            !self.directory_id.trim().is_empty(),
            "directory_id",
            "must not be empty",
        );
        for (field, key, credential) in [
            (
                "account_security_api_key",
                &self.account_security_api_key,
                Credential::SiteToken,
            ),
            (
                "directory_api_key",
                &self.directory_api_key,
                Credential::DirectoryKey,
            ),
        ] {
            let length = key.expose().trim().chars().count();
            if length == 0 {
                problems.push(field, format!("must not be empty: {}", credential.renew()));
            } else if length < MIN_KEY_LENGTH {
                // No Atlassian key is this short: a truncated paste, or a placeholder.
                problems.push(
                    field,
                    format!(
                        "is {length} characters long; Atlassian keys have at least {MIN_KEY_LENGTH} (a truncated paste?): {}",
                        credential.renew()
                    ),
                );
            }
        }
        if self.default_group_names.len() > MAX_DEFAULT_GROUPS {
            problems.push(
                "default_group_names",
                format!(
                    "{} names; at most {MAX_DEFAULT_GROUPS} (one per product)",
                    self.default_group_names.len()
                ),
            );
        } else {
            let mut listed = HashSet::new();
            for (i, name) in self.default_group_names.iter().enumerate() {
                problems.check(
                    !name.trim().is_empty(),
                    "default_group_names",
                    format!("entry {i} is empty"),
                );
                problems.check(
                    name.chars().count() <= MAX_GROUP_NAME,
                    "default_group_names",
                    format!("entry {i} is longer than {MAX_GROUP_NAME} characters"),
                );
                problems.check(
                    listed.insert(name.to_lowercase()),
                    "default_group_names",
                    format!("`{}` is listed twice", shown(name)),
                );
            }
        }
        problems.check(
            (1..=100).contains(&self.page_size),
            "page_size",
            "must be between 1 and 100 (Atlassian's page cap)",
        );
        problems.check(
            (1..=64).contains(&self.concurrency),
            "concurrency",
            "must be between 1 and 64",
        );
        problems.check(
            (1..=600).contains(&self.request_timeout_secs),
            "request_timeout_secs",
            "must be between 1 and 600",
        );
        problems.check(
            (1..=86_400).contains(&self.deadline_secs),
            "deadline_secs",
            "must be between 1 and 86400",
        );
        problems.check(
            self.retry_budget <= 20,
            "retry_budget",
            "must be at most 20",
        );
        problems.check(
            self.propagation_wait_secs <= 600,
            "propagation_wait_secs",
            "must be at most 600",
        );
        problems.into_result()?;
        let (Some(site_url), Some(scim_url)) = (site_url, scim_url) else {
            unreachable!("a URL that failed to parse is a recorded problem")
        };
        let mut gateway_url = scim_url.clone();
        gateway_url.set_path("/");
        gateway_url.set_query(None);
        Ok(Settings {
            site_url,
            gateway_url,
            site_api: self.site_api,
            scim_url,
            admin_email: self.admin_email.trim().to_owned(),
            directory_id: self.directory_id.trim().to_owned(),
            default_group_names: self.default_group_names.clone(),
            deprovisioning: self.deprovisioning,
            page_size: self.page_size,
            concurrency: self.concurrency as usize,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            deadline: Duration::from_secs(self.deadline_secs),
            retry_budget: self.retry_budget,
            propagation_wait: Duration::from_secs(self.propagation_wait_secs),
        })
    }
}

/// A value as an error may quote it: at most 80 characters (a pasted document is not echoed).
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    if cut.len() < value.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// A URL-like text without what may sit between `://` and `@`: a password pasted into a URL
/// that did not parse is not echoed.
fn without_userinfo(value: &str) -> String {
    match value.split_once("://") {
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
            None => value.to_owned(),
        },
        None => value.to_owned(),
    }
}

/// Default groups at most, as the schema says.
const MAX_DEFAULT_GROUPS: usize = 50;
/// The longest group name accepted (Atlassian's own limit is 255).
const MAX_GROUP_NAME: usize = 255;

/// What a form can check of a URL before `validate`: `https://` and a host, or `http://` to a
/// loopback host; no credentials in it. (`validate` also trims, and refuses admin hosts.)
const SITE_URL_PATTERN: &str = concat!(
    r"^(https://[^\s/?#@]+|http://(localhost|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[::1\])(:[0-9]+)?)",
    r"([/?#]\S*)?$"
);

/// A SCIM URL as a form can check it: a URL as above whose path ends in
/// `/scim/directory/{directoryId}`.
const SCIM_URL_PATTERN: &str = concat!(
    r"^(https://[^\s/?#@]+|http://(localhost|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[::1\])(:[0-9]+)?)",
    r"(/[^\s?#]*)?/scim/directory/[^\s/?#]+/?$"
);

/// Something other than whitespace.
const NOT_BLANK: &str = r"\S";

/// The shortest key accepted: every Atlassian API token and directory key is longer.
const MIN_KEY_LENGTH: usize = 16;

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;

/// `value` as an HTTPS URL (HTTP only to a loopback host); else the problem is recorded.
fn check_url(problems: &mut ConfigProblems, field: &str, value: &str) -> Option<Url> {
    if value.len() > MAX_URL_LEN {
        problems.push(
            field,
            format!(
                "is {} characters long; a URL has at most {MAX_URL_LEN}",
                value.len()
            ),
        );
        return None;
    }
    let url = match Url::parse(value.trim()) {
        Ok(url) => url,
        Err(e) => {
            problems.push(
                field,
                format!("`{}` is not a URL ({e})", shown(&without_userinfo(value))),
            );
            return None;
        }
    };
    let ok = match url.scheme() {
        "https" => true,
        "http" if is_loopback(&url) => true,
        "http" => {
            problems.push(
                field,
                "must use https:// (plain http is only allowed to a loopback address)",
            );
            false
        }
        other => {
            problems.push(
                field,
                format!("unsupported scheme `{}`; use https://", shown(other)),
            );
            false
        }
    };
    if ok && (!url.username().is_empty() || url.password().is_some()) {
        problems.push(field, "must not carry credentials; use the key fields");
        return None;
    }
    ok.then_some(url)
}

/// Whether a Site URL names a site, not the admin console: `admin.atlassian.com` and `admin.*`
/// hosts serve no Jira or Confluence API. Records the problem when it does not.
fn check_site_host(problems: &mut ConfigProblems, url: &Url) -> bool {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let admin = host.starts_with("admin.") || host == "api.atlassian.com";
    if admin {
        problems.push(
            "site_url",
            format!(
                "`{host}` is not a site: use the site's own address, https://<site>.atlassian.net (shown in admin.atlassian.com, Products)"
            ),
        );
    }
    !admin
}

/// Whether the URL's host is a loopback address or `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The `{directoryId}` of a SCIM URL ending in `/scim/directory/{directoryId}`.
fn directory_id_of(url: &Url) -> Option<String> {
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [.., "scim", "directory", id] => Some((*id).to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
