//! The site REST APIs, with basic auth `Admin Email:Account Security API Key`: Jira for
//! product-access (default) groups and account lookups, Confluence for its group view.

pub mod confluence;
pub mod jira;

pub use confluence::ConfluenceClient;
pub use jira::JiraClient;
