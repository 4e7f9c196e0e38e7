//! The SCIM user provisioning API of an Atlassian directory: its resources and its client.

pub(crate) mod client;
mod fallback;
pub mod types;

pub(crate) use client::ScimClient;
