//! The IDHub Atlassian Cloud connector.
//!
//! Manages users and groups of an Atlassian Cloud organization through the SCIM user
//! provisioning API, and grants product access by adding accounts to the default Jira Software
//! and Confluence groups through the site REST API. This crate builds as the `cdylib` that IDHub
//! loads, and as an `rlib` for its own tests.
//!
//! - [`config`]: the seven parameters an admin prepares, their schema and offline validation.
//! - [`connector`]: the [`connector_api::Connector`] implementation.

pub mod config;
pub mod connector;

pub use config::AtlassianConfig;
pub use connector::AtlassianConnector;

connector_api::export_connector!(AtlassianConnector);
