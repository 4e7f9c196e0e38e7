//! [`SiteRoute`]: whether Jira and Confluence are called at the Site URL or through the API
//! gateway, decided once per connector, on first use.
//!
//! Unscoped user API tokens work at `https://<site>.atlassian.net`; scoped tokens (the only kind
//! Atlassian service accounts have) work "only through `https://api.atlassian.com/ex/jira/{cloudId}`
//! … never through `<site>.atlassian.net`" (support.atlassian.com KB "401 unauthorized error when
//! service account accesses Jira or Confluence API"). The cloudId is public at
//! `<site>/_edge/tenant_info`. The gateway is the SCIM URL's origin (`api.atlassian.com`), so
//! each credential stays pinned to the origins the admin configured.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, ErrorKind, LogLevel, Result};
use serde::Deserialize;
use tokio::sync::OnceCell;
use url::Url;

use crate::config::SiteApi;
use crate::credentials::Credential;
use crate::http::governor::Governor;
use crate::http::{Api, Auth, Endpoint, Http, Request};
use crate::settings::Settings;
use connector_api::rt;

/// Which way the site APIs are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Via {
    /// The Site URL.
    Site,
    /// The API gateway, for the site of this cloud id.
    Gateway {
        /// The site's cloud id.
        cloud_id: String,
    },
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Site => f.write_str("the Site URL"),
            Via::Gateway { cloud_id } => write!(f, "the API gateway (cloudId {cloud_id})"),
        }
    }
}

/// The Jira and Confluence endpoints of the chosen way.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    /// Jira; its paths start at `rest/api/3`.
    pub jira: Endpoint,
    /// Confluence; its paths start at `wiki/rest/api`.
    pub confluence: Endpoint,
    /// Which way these are.
    pub via: Via,
}

/// The site's answer at `/_edge/tenant_info`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantInfo {
    cloud_id: String,
}

/// The longest cloud id believed (they are UUIDs).
const MAX_CLOUD_ID: usize = 64;

/// How the site APIs are reached, decided on first use and then kept.
#[derive(Debug)]
pub(crate) struct SiteRoute {
    mode: SiteApi,
    site: Url,
    gateway: Url,
    auth: Auth,
    governor: Arc<Governor>,
    http: Arc<Http>,
    chosen: OnceCell<Routes>,
}

impl SiteRoute {
    /// The route of `settings`, sending `auth` through `http`, paced by `governor`.
    pub(crate) fn new(settings: &Settings, auth: Auth, http: Arc<Http>) -> Self {
        SiteRoute {
            mode: settings.site_api,
            site: settings.site_url.clone(),
            gateway: settings.gateway_url.clone(),
            auth,
            governor: Arc::new(Governor::new(settings.concurrency)),
            http,
            chosen: OnceCell::new(),
        }
    }

    fn endpoint(&self, name: &'static str, base: Url) -> Endpoint {
        let api = Api::new(
            name,
            base,
            self.auth.clone(),
            Credential::SiteToken,
            self.governor.clone(),
        );
        Endpoint::new(api, self.http.clone())
    }

    fn at_site(&self) -> Routes {
        Routes {
            jira: self.endpoint("Jira", self.site.clone()),
            confluence: self.endpoint("Confluence", self.site.clone()),
            via: Via::Site,
        }
    }

    fn at_gateway(&self, cloud_id: String) -> Routes {
        let base = |product: &str| {
            let mut url = self.gateway.clone();
            url.path_segments_mut()
                .expect("an http(s) URL has a path")
                .clear()
                .extend(["ex", product, cloud_id.as_str(), ""]);
            url
        };
        Routes {
            jira: self.endpoint("Jira", base("jira")),
            confluence: self.endpoint("Confluence", base("confluence")),
            via: Via::Gateway { cloud_id },
        }
    }

    /// The endpoints to use; the first call decides (an error is not kept: the next call asks
    /// again).
    pub(crate) async fn routes(&self, deadline: Instant) -> Result<&Routes> {
        self.chosen.get_or_try_init(|| self.choose(deadline)).await
    }

    async fn choose(&self, deadline: Instant) -> Result<Routes> {
        match self.mode {
            SiteApi::Site => Ok(self.at_site()),
            SiteApi::Gateway => Ok(self.at_gateway(self.cloud_id(deadline).await?)),
            SiteApi::Auto => {
                let site = self.at_site();
                if accepted(&site.jira, deadline).await? != Some(false) {
                    return Ok(site);
                }
                // Refused at the site: a scoped token works at the gateway, a wrong or
                // expired one nowhere (the site's 401 then explains).
                let Ok(cloud_id) = self.cloud_id(deadline).await else {
                    return Ok(site);
                };
                let gateway = self.at_gateway(cloud_id);
                if accepted(&gateway.jira, deadline).await? == Some(true) {
                    rt::log(LogLevel::Info, || {
                        format!(
                            "the Site URL refuses the token and {} accepts it (a scoped token): using the gateway",
                            gateway.via
                        )
                    });
                    return Ok(gateway);
                }
                Ok(site)
            }
        }
    }

    /// The site's cloud id, from its public tenant info (no credential is sent).
    async fn cloud_id(&self, deadline: Instant) -> Result<String> {
        let api = Api::new(
            "Site",
            self.site.clone(),
            Auth::None,
            Credential::SiteToken,
            self.governor.clone(),
        );
        let endpoint = Endpoint::new(api, self.http.clone());
        let url = endpoint.url(&["_edge", "tenant_info"], &[]);
        let unknown = |why: String| {
            ConnectorError::new(
                ErrorKind::ConnectionFailed,
                format!("the site's cloudId could not be read from {url}: {why}; the API gateway needs it (site_api gateway or auto)"),
            )
            .with_details(serde_json::json!({ "field": "site_url" }))
        };
        let info: TenantInfo = endpoint
            .get_json(url.clone(), "the site's tenant info", deadline)
            .await
            .map_err(|e| unknown(e.message))?;
        let id = info.cloud_id.trim();
        let plausible = !id.is_empty()
            && id.len() <= MAX_CLOUD_ID
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !plausible {
            return Err(unknown("the answer is not a cloud id".into()));
        }
        Ok(id.to_owned())
    }
}

/// Whether the Jira at `endpoint` accepts the credential (`GET myself`): `Some(true)` on 200,
/// `Some(false)` on 401, `None` on any other answer (left for the real call to report).
async fn accepted(endpoint: &Endpoint, deadline: Instant) -> Result<Option<bool>> {
    let url = endpoint.url(&["rest", "api", "3", "myself"], &[]);
    let reply = endpoint.send(Request::get(url), deadline).await?;
    Ok(match reply.status.as_u16() {
        200 => Some(true),
        401 => Some(false),
        _ => None,
    })
}
