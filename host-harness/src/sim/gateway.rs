//! The API gateway: `/ex/jira/{cloudId}/…` and `/ex/confluence/{cloudId}/…`, and the site's
//! public `/_edge/tenant_info`.
//!
//! Scoped API tokens "must be sent to `https://api.atlassian.com/ex/jira/{cloudId}` and
//! `/ex/confluence/{cloudId}`" (support.atlassian.com, "Manage API tokens for your Atlassian
//! account"); the cloudId is public at `https://<site>.atlassian.net/_edge/tenant_info`
//! (Atlassian Community, "A Guide to Service Accounts in Atlassian Cloud", part 3). The
//! simulator serves both on its one loopback origin: a gateway request is rewritten to the site
//! path it names, marked as having come through the gateway ([`auth::VIA_GATEWAY`]), and routed
//! like any other; a site request never carries the mark.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri};
use serde_json::{Value, json};

use super::auth;
use super::state::SimState;

/// The gateway prefixes and the site path each stands for.
const PRODUCTS: [(&str, &str); 2] = [("/ex/jira/", "/rest/"), ("/ex/confluence/", "/wiki/")];

/// GET /_edge/tenant_info: the site's cloud id, without authentication.
pub async fn tenant_info(State(state): State<SimState>) -> Json<Value> {
    Json(json!({ "cloudId": state.store.read().settings.cloud_id }))
}

/// Rewrites a gateway request to the site path it names and marks it; strips a forged mark
/// from any other request. A gateway request for another cloud id is left unroutable (404).
pub fn rewrite(state: &SimState, mut request: Request) -> Request {
    request.headers_mut().remove(auth::VIA_GATEWAY);
    let path = request.uri().path().to_owned();
    let Some((rest, site_prefix)) = PRODUCTS
        .iter()
        .find_map(|(gateway, site)| path.strip_prefix(gateway).map(|rest| (rest, *site)))
    else {
        return request;
    };
    let (cloud_id, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if cloud_id != state.store.read().settings.cloud_id {
        return request;
    }
    let Some(tail) = tail.strip_prefix(site_prefix.trim_start_matches('/')) else {
        return request;
    };
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if let Ok(uri) = format!("{site_prefix}{tail}{query}").parse::<Uri>() {
        *request.uri_mut() = uri;
        request
            .headers_mut()
            .insert(auth::VIA_GATEWAY, HeaderValue::from_static("1"));
    }
    request
}
