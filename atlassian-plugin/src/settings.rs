//! [`Settings`]: what the connector runs by, the validated configuration without its secrets.
//!
//! Built once by [`crate::config::AtlassianConfig::settings`], which parses every URL and
//! checks every field; the parts of the connector take what they need from it. The credentials
//! go to the HTTP clients alone (see [`crate::clients`]).

use std::time::Duration;

use url::Url;

use crate::config::{DeprovisioningMode, SiteApi};

/// The validated, secret-free configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The site, for Jira and Confluence.
    pub site_url: Url,
    /// The API gateway (the SCIM URL's origin): `ex/jira/{cloudId}`, `ex/confluence/{cloudId}`.
    pub gateway_url: Url,
    /// Which of the two the site APIs are called through.
    pub site_api: SiteApi,
    /// The SCIM directory.
    pub scim_url: Url,
    /// The service account, trimmed.
    pub admin_email: String,
    /// The directory id, trimmed.
    pub directory_id: String,
    /// The default groups, as configured.
    pub default_group_names: Vec<String>,
    /// What a delete does.
    pub deprovisioning: DeprovisioningMode,
    /// Objects per SCIM page.
    pub page_size: u32,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// The longest one request may take.
    pub request_timeout: Duration,
    /// The longest one operation may take.
    pub deadline: Duration,
    /// Retries per request.
    pub retry_budget: u32,
    /// The longest a grant waits for a new account to reach the site.
    pub propagation_wait: Duration,
}
