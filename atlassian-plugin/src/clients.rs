//! [`Clients`]: the SCIM, Jira and Confluence clients of one connector, built once at open.
//!
//! The only place the credentials go after validation: each into the `Authorization` of its
//! API, and all of them into the redactor. The site APIs share one credential, one route (the
//! Site URL or the API gateway, see [`SiteRoute`]) and one rate governor.

use std::sync::Arc;

use connector_api::{ConnectorError, Result};

use crate::config::AtlassianConfig;
use crate::credentials::Credential;
use crate::http::governor::Governor;
use crate::http::{Api, Auth, Endpoint, Http};
use crate::scim::ScimClient;
use crate::settings::Settings;
use crate::site::{ConfluenceClient, JiraClient, SiteRoute};
use connector_api::redact::Redactor;

/// The API clients of one connector.
#[derive(Debug)]
pub(crate) struct Clients {
    /// The directory.
    pub scim: ScimClient,
    /// The site's Jira.
    pub jira: JiraClient,
    /// The site's Confluence.
    pub confluence: ConfluenceClient,
    http: Arc<Http>,
}

impl Clients {
    /// The clients of `config`, whose `settings` were validated.
    pub(crate) fn open(config: &AtlassianConfig, settings: &Settings) -> Result<Clients> {
        // The SDK redacts at the boundary too; this one cleans server text before it is cut.
        let redactor = Redactor::new(
            &[
                config.directory_api_key.expose().to_owned(),
                config.account_security_api_key.expose().to_owned(),
            ],
            std::slice::from_ref(&settings.admin_email),
        );
        let http = Arc::new(Http::new(
            settings.request_timeout,
            settings.retry_budget,
            settings.concurrency,
            redactor,
        )?);
        let endpoint = |api: Api| Endpoint::new(api, http.clone());
        let scim = Api::new(
            "SCIM",
            settings.scim_url.clone(),
            Auth::Bearer(config.directory_api_key.clone()),
            Credential::DirectoryKey,
            Arc::new(Governor::new(settings.concurrency)),
        );
        let route = Arc::new(SiteRoute::new(
            settings,
            Auth::Basic {
                email: settings.admin_email.clone(),
                token: config.account_security_api_key.clone(),
            },
            http.clone(),
        ));
        Ok(Clients {
            scim: ScimClient::new(endpoint(scim)),
            jira: JiraClient::new(route.clone()),
            confluence: ConfluenceClient::new(route),
            http,
        })
    }

    /// `error` with every secret removed: what may leave the connector.
    pub(crate) fn clean_error(&self, mut error: ConnectorError) -> ConnectorError {
        let redactor = self.http.redactor();
        error.message = redactor.clean(&error.message).into_owned();
        redactor.value(&mut error.details);
        error
    }
}
