//! The credentials the simulator accepts: Bearer directory key for SCIM, Basic email:token for
//! the site APIs (a site admin, a plain user, and on modern organizations a service account
//! with a scoped token), and the per-credential key of rate limiting.
//!
//! Scoped tokens work "only through `https://api.atlassian.com/ex/jira/{cloudId}`, never through
//! `<site>.atlassian.net`" (support.atlassian.com, "Manage API tokens for your Atlassian
//! account"; KB "401 unauthorized error when service account accesses Jira or Confluence
//! API"); unscoped user tokens work at both. Expired tokens get the same 401 as wrong ones.

use std::collections::BTreeSet;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::error::SimError;

/// The credentials an organization accepts.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    /// The SCIM directory API key (Bearer).
    pub directory_api_key: String,
    /// A site administrator with product admin on Jira and Confluence.
    pub admin_email: String,
    /// The admin's API token.
    pub admin_api_token: String,
    /// A plain user of the site, without admin permissions.
    pub user_email: String,
    /// The plain user's API token.
    pub user_api_token: String,
    /// An Atlassian service account (modern organizations): site admin by role.
    pub service_account_email: String,
    /// Its scoped API token: accepted through the API gateway only.
    pub service_account_token: String,
}

impl Credentials {
    /// Credentials derived from `seed`, so that each simulator run has its own.
    pub fn generate(seed: u64) -> Self {
        let tag = format!("{:012x}", seed.wrapping_mul(0x9E3779B97F4A7C15) >> 16);
        Credentials {
            directory_api_key: format!("sim-dir-key-{tag}"),
            admin_email: "idhub-admin@acme.example.com".into(),
            admin_api_token: format!("sim-admin-token-{tag}"),
            user_email: "plain-user@acme.example.com".into(),
            user_api_token: format!("sim-user-token-{tag}"),
            service_account_email: "idhub-svc@serviceaccount.atlassian.com".into(),
            service_account_token: format!("sim-scoped-token-{tag}"),
        }
    }
}

/// The request header the gateway routes set (and the site routes strip) to tell the handlers
/// which way a request came; never sent by a client.
pub const VIA_GATEWAY: &str = "x-sim-via-gateway";

/// Whether the request came through the API gateway (`/ex/{product}/{cloudId}/…`).
pub fn via_gateway(headers: &HeaderMap) -> bool {
    headers.contains_key(VIA_GATEWAY)
}

/// Checks the SCIM Bearer key.
pub fn scim(headers: &HeaderMap, creds: &Credentials) -> Result<(), SimError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(SimError::unauthorized("Missing authorization header"));
    };
    let token = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    match token {
        Some(t) if constant_time_eq(t.trim().as_bytes(), creds.directory_api_key.as_bytes()) => {
            Ok(())
        }
        _ => Err(SimError::unauthorized("Invalid API key")),
    }
}

/// Checks Basic `email:api-token` for the site APIs; answers the caller's email. `expired`
/// holds the emails whose tokens have expired.
pub fn site(
    headers: &HeaderMap,
    creds: &Credentials,
    expired: &BTreeSet<String>,
) -> Result<String, SimError> {
    let unauthenticated = || {
        SimError::unauthorized(
            "You are not authenticated. Authentication required to perform this operation.",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(unauthenticated)?;
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or_else(unauthenticated)?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthenticated())?;
    let decoded = String::from_utf8(decoded).map_err(|_| unauthenticated())?;
    let (email, token) = decoded.split_once(':').ok_or_else(unauthenticated)?;
    let matches = |e: &str, t: &str| {
        email.eq_ignore_ascii_case(e) && constant_time_eq(token.as_bytes(), t.as_bytes())
    };
    let gateway = via_gateway(headers);
    let caller = if matches(&creds.admin_email, &creds.admin_api_token) {
        &creds.admin_email
    } else if matches(&creds.user_email, &creds.user_api_token) {
        &creds.user_email
    } else if gateway && matches(&creds.service_account_email, &creds.service_account_token) {
        &creds.service_account_email
    } else {
        return Err(unauthenticated());
    };
    if expired.contains(&caller.to_lowercase()) {
        return Err(unauthenticated());
    }
    Ok(caller.clone())
}

/// The rate-limit key of a request: one bucket per credential, never the credential itself.
pub fn credential_key(headers: &HeaderMap) -> String {
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("anonymous");
    let mut h: u64 = 0xcbf29ce484222325;
    for b in raw.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("cred-{h:016x}")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
