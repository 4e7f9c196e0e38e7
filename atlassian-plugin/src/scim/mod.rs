//! The SCIM user provisioning API of an Atlassian directory: its resources and its client.

pub mod client;
pub mod types;

pub use client::ScimClient;
