//! The SCIM user provisioning API of an Atlassian directory: its resources and its client.

pub(crate) mod client;
pub mod types;

pub(crate) use client::ScimClient;
