//! The credentials the simulator accepts: Bearer directory key for SCIM, Basic email:token for
//! the sites (a site admin and a plain user), and the per-credential key of rate limiting.

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
        }
    }
}

/// What a site credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteRole {
    /// Site admin and product admin: manages groups.
    Admin,
    /// A plain user: reads what users may read.
    User,
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

/// Checks Basic `email:api-token` for the site APIs.
pub fn site(headers: &HeaderMap, creds: &Credentials) -> Result<SiteRole, SimError> {
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
    if matches(&creds.admin_email, &creds.admin_api_token) {
        Ok(SiteRole::Admin)
    } else if matches(&creds.user_email, &creds.user_api_token) {
        Ok(SiteRole::User)
    } else {
        Err(unauthenticated())
    }
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
