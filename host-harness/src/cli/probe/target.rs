//! The tenant a probe talks to: its URLs and credentials, from an Atlassian plugin
//! configuration, and one way to send a request and keep what came back.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;

use crate::cli::CliError;

/// The fields of an Atlassian plugin configuration the probe uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ProbeConfig {
    /// The site.
    pub site_url: String,
    /// The SCIM directory.
    pub scim_url: String,
    /// The site credential's email.
    pub admin_email: String,
    /// The site credential's token.
    pub account_security_api_key: String,
    /// The SCIM key.
    pub directory_api_key: String,
}

/// Which credential a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Credential {
    /// None (public resources).
    None,
    /// The SCIM bearer key.
    Directory,
    /// Basic email:token.
    Site,
}

/// What one request answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status; 0 when nothing came back.
    pub status: u16,
    /// The body as JSON (`Null` when it is not).
    pub body: Value,
    /// The `Location` header.
    pub location: Option<String>,
}

/// A tenant, live or simulated.
#[derive(Debug)]
pub struct Target {
    client: reqwest::Client,
    /// The site's base.
    pub site: Url,
    /// The SCIM directory's base.
    pub scim: Url,
    /// The API gateway's origin (the SCIM URL's).
    pub gateway: Url,
    config: ProbeConfig,
    /// Rate-limit header names seen in any answer.
    pub rate_limit_headers: std::sync::Mutex<BTreeSet<String>>,
}

fn parse(field: &str, value: &str) -> Result<Url, CliError> {
    let url = Url::parse(value.trim())
        .map_err(|e| CliError::Usage(format!("{field}: not a URL ({e})")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(CliError::Usage(format!(
            "{field}: must use https:// (plain http only to a loopback address)"
        )));
    }
    Ok(url)
}

impl Target {
    /// The tenant of `config`.
    pub fn new(config: ProbeConfig) -> Result<Target, CliError> {
        let site = parse("site_url", &config.site_url)?;
        let scim = parse("scim_url", &config.scim_url)?;
        let mut gateway = scim.clone();
        gateway.set_path("/");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .user_agent("idhub-host-harness-probe")
            .build()
            .map_err(|e| CliError::Failed(format!("the HTTP client could not be built: {e}")))?;
        Ok(Target {
            client,
            site,
            scim,
            gateway,
            config,
            rate_limit_headers: Default::default(),
        })
    }

    /// The URL of `path` (with its query) below `base`.
    pub fn url(base: &Url, path: &str) -> Url {
        let mut joined = base.clone();
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let base_path = joined.path().trim_end_matches('/').to_owned();
        joined.set_path(&format!("{base_path}{path}"));
        joined.set_query((!query.is_empty()).then_some(query));
        joined
    }

    /// The admin email's domain, for the probe's own users.
    pub fn domain(&self) -> &str {
        self.config
            .admin_email
            .rsplit_once('@')
            .map_or("example.com", |(_, d)| d)
    }

    /// The secrets the report must never carry.
    pub fn secrets(&self) -> Vec<String> {
        vec![
            self.config.account_security_api_key.clone(),
            self.config.directory_api_key.clone(),
        ]
    }

    /// Sends a request; transport failures answer status 0.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        credential: Credential,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, url)
            .header("accept", "application/json");
        request = match credential {
            Credential::None => request,
            Credential::Directory => request.bearer_auth(&self.config.directory_api_key),
            Credential::Site => request.basic_auth(
                &self.config.admin_email,
                Some(&self.config.account_security_api_key),
            ),
        };
        if let Some(body) = body {
            let kind = match credential {
                Credential::Directory => "application/scim+json",
                _ => "application/json",
            };
            request = request.header("content-type", kind).body(body.to_string());
        }
        let Ok(response) = request.send().await else {
            return Answer {
                status: 0,
                body: Value::Null,
                location: None,
            };
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        {
            let mut seen = self
                .rate_limit_headers
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for name in headers.keys() {
                let name = name.as_str().to_ascii_lowercase();
                if name.contains("ratelimit") || name == "retry-after" {
                    seen.insert(name);
                }
            }
        }
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        Answer {
            status,
            body,
            location,
        }
    }
}
