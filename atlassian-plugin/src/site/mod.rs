//! The site REST APIs, with basic auth `Admin Email:Account Security API Key`, at the Site URL or
//! through the API gateway ([`route`]): Jira for product-access (default) groups, permissions and
//! account lookups, Confluence for its access groups and the caller's rights.

pub mod access;
pub mod confluence;
pub mod jira;
pub mod route;

pub(crate) use confluence::ConfluenceClient;
pub(crate) use jira::JiraClient;
pub(crate) use route::SiteRoute;
