//! The IDHub Atlassian Cloud connector.
//!
//! Manages users and groups of an Atlassian Cloud organization through the SCIM user
//! provisioning API, and grants product access by adding accounts to the default Jira Software
//! and Confluence groups through the site REST API. This crate builds as the `cdylib` that IDHub
//! loads, and as an `rlib` for its own tests.
//!
//! - [`config`]: the seven parameters an admin prepares, their schema and offline validation.
//! - [`connector`]: the [`connector_api::Connector`] implementation.
//! - [`scim`]: the SCIM directory client; [`site`]: the Jira and Confluence clients.
//! - [`http`]: the one HTTP client, retries, and status-to-error mapping.
//! - [`mapping`]: connector objects to and from SCIM; [`schema`]: the classes and attributes.
//! - [`reconcile`]: full searches, pages fetched concurrently and delivered in order.
//! - [`test_connection`]: every credential and permission checked; [`runtime`]: the plugin's tokio.
//! - [`call_log`]: log lines from the call's tasks, carried to the host.

pub mod call_log;
pub mod config;
pub mod connector;
pub mod http;
pub mod mapping;
pub mod reconcile;
pub mod runtime;
pub mod schema;
pub mod scim;
pub mod site;
pub mod test_connection;

pub use config::AtlassianConfig;
pub use connector::AtlassianConnector;

connector_api::export_connector!(AtlassianConnector);
