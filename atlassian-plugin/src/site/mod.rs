//! The site REST APIs, with basic auth `Admin Email:Account Security API Key`: Jira for
//! product-access (default) groups and account lookups, Confluence for its group view.

pub mod confluence;
pub mod jira;

pub(crate) use confluence::ConfluenceClient;
pub(crate) use jira::JiraClient;
