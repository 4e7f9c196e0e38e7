//! The IDHub Atlassian Cloud connector.
//!
//! Manages users and groups of an Atlassian Cloud organization through the SCIM user
//! provisioning API, and grants product access by adding accounts to the default Jira Software
//! and Confluence groups through the site REST API. This crate builds as the `cdylib` that IDHub
//! loads, and as an `rlib` for its own tests and the fuzz targets.
//!
//! How it is laid out:
//! - [`config`]: the parameters an admin prepares and their schema; `settings`: the validated,
//!   secret-free settings built from them; `credentials`: the two credentials and their fixes.
//! - `connector`: the [`connector_api::Connector`], a thin dispatch by class to `users` and
//!   `groups`; `product_access`: the default groups; `test_connection`: every check.
//! - `clients`: the SCIM client (`scim`) and the site clients (`site`: Jira, Confluence), built
//!   once; `http`: sending, retries, pacing and error mapping (server text is redacted there,
//!   before it is cut; the SDK redacts again at the boundary).
//! - `search`: the one verified paged read; `listing`: objects, filters and the host's sink.
//! - `mapping`: connector objects to and from SCIM; `schema`: the classes and attributes.
//! - The runtime, each call's deadline and its log come from the SDK's [`connector_api::rt`].

mod clients;
pub mod config;
mod connector;
mod credentials;
mod groups;
mod http;
mod listing;
mod mapping;
mod product_access;
mod propagation;
mod schema;
mod scim;
mod search;
mod settings;
mod site;
mod test_connection;
mod users;

pub use config::AtlassianConfig;

// glibc's malloc was two fifths of the runtime threads' CPU in a reconciliation (every page
// parsed, every object mapped): its arenas contend and consolidate across threads.
// jemalloc's symbols are prefixed and kept inside this library, so its copy serves it alone,
// beside the host's allocator and other connectors' copies; values that cross the ABI are
// freed by the side that allocated them (abi_stable's types carry their own deallocator).
// Its options are built in (`.cargo/config.toml`).
#[cfg(all(feature = "jemalloc", target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub use connector::AtlassianConnector;

/// What the fuzz targets (`tests/fuzz`) drive directly: parsers of untrusted input. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::http::server_detail;
    pub use crate::mapping::{
        group_object, group_patches, new_group, new_user, user_object, user_patch,
    };
    pub use crate::scim::types::{Group, ListResponse, User};
    pub use crate::site::confluence::ConfluenceGroup;
    pub use crate::site::jira::{JiraGroup, JiraUser};
}

connector_api::export_connector!(AtlassianConnector);
