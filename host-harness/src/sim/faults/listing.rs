//! Listing faults: the ways a server may legally (or brokenly) answer a paged read.
//!
//! RFC 7644 §3.4.2.4 lets a SCIM server return fewer results than `count`; caches and proxies
//! drop query strings (`startIndex`, `filter`); totals change while a directory is read. Each
//! behaviour is a [`FaultKind`] that applies to the three listings the connector pages through:
//! SCIM `/Users`, SCIM `/Groups` and Jira `/group/member`. A fault changes the request before
//! the handler sees it (ignored `startIndex` or filter, objects inserted ahead of the cursor) or
//! the page after (shorter or empty later pages, wrong totals, missing ids, oversized pages).

use axum::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::FaultKind;
use crate::sim::store::Store;

/// A listing the connector pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    /// SCIM `GET /Users`.
    Users,
    /// SCIM `GET /Groups`.
    Groups,
    /// Jira `GET /rest/api/3/group/member`.
    Members,
}

impl Listing {
    /// The listing a request reads, if it reads one.
    pub fn of(method: &Method, path: &str) -> Option<Listing> {
        if method != Method::GET {
            return None;
        }
        let path = path.trim_end_matches('/');
        if path.starts_with("/scim/") && path.ends_with("/Users") {
            Some(Listing::Users)
        } else if path.starts_with("/scim/") && path.ends_with("/Groups") {
            Some(Listing::Groups)
        } else if path == "/rest/api/3/group/member" {
            Some(Listing::Members)
        } else {
            None
        }
    }

    /// The query parameter of the page's position, and the position of the first page.
    fn position(self) -> (&'static str, u64) {
        match self {
            Listing::Members => ("startAt", 0),
            _ => ("startIndex", 1),
        }
    }

    /// The JSON keys of the page's objects, its total, its position and an object's id.
    fn keys(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Listing::Members => ("values", "total", "startAt", "accountId"),
            _ => ("Resources", "totalResults", "startIndex", "id"),
        }
    }
}

impl FaultKind {
    /// Whether this kind reshapes a listing rather than the whole response.
    pub fn is_listing(self) -> bool {
        matches!(
            self,
            FaultKind::ShortPages
                | FaultKind::IgnoredStartIndex
                | FaultKind::TotalTooLow
                | FaultKind::TotalTooHigh
                | FaultKind::TotalHuge
                | FaultKind::InsertAhead
                | FaultKind::MissingIds
                | FaultKind::OversizedPage
                | FaultKind::IgnoredFilter
                | FaultKind::EmptyPages
        )
    }
}

/// The query's value of `name`.
fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request asks for a page after the first.
pub fn is_later_page(listing: Listing, query: &str) -> bool {
    let (name, first) = listing.position();
    param(query, name)
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|p| p > first)
}

/// The query the handler sees: `kind` may drop the position or the filter, as a cache would.
pub fn rewrite_query(kind: FaultKind, listing: Listing, query: &str) -> String {
    let (position, _) = listing.position();
    let dropped = match kind {
        FaultKind::IgnoredStartIndex => position,
        FaultKind::IgnoredFilter => "filter",
        _ => return query.to_owned(),
    };
    query
        .split('&')
        .filter(|pair| pair.split_once('=').map_or(*pair, |(k, _)| k) != dropped)
        .collect::<Vec<_>>()
        .join("&")
}

/// Before a page is read: `limit` new objects (default 5) join the listing after everything,
/// ahead of the cursor, as when a directory grows during a read.
pub fn insert_ahead(store: &Store, listing: Listing, query: &str, limit: Option<u64>) {
    let n = limit.unwrap_or(5) as usize;
    let mut org = store.write();
    match listing {
        Listing::Users => org.seed(n, 0, 0xA11),
        Listing::Groups => org.seed(0, n, 0xA11),
        Listing::Members => {
            let Some(group) = param(query, "groupId").map(str::to_owned) else {
                return;
            };
            for _ in 0..n {
                let email = format!("late-{}@insert.example.com", org.new_uuid());
                let account = org.add_account(&email, "Late Member", true);
                org.add_member(&group, &account);
            }
        }
    }
}

/// Jira's `isLast` for a page cut to `returned` objects, as a server that cut it would say.
fn last_page_as_returned(
    listing: Listing,
    page: &mut serde_json::Map<String, Value>,
    position: u64,
    returned: u64,
) {
    if listing == Listing::Members {
        let total = page.get("total").and_then(Value::as_u64).unwrap_or(0);
        page.insert("isLast".into(), json!(position + returned >= total));
    }
}

/// The page the client sees: `kind` applied to the handler's `page`, asked with `query`.
pub fn reshape(
    kind: FaultKind,
    listing: Listing,
    query: &str,
    limit: Option<u64>,
    page: &mut Value,
) {
    let (objects, total, position, id) = listing.keys();
    let later = is_later_page(listing, query);
    let asked_position = param(query, listing.position().0)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(listing.position().1);
    let Some(page) = page.as_object_mut() else {
        return;
    };
    let items = page.get_mut(objects).and_then(Value::as_array_mut);
    match (kind, items) {
        (FaultKind::ShortPages, Some(items)) if later => {
            items.truncate(limit.unwrap_or(10) as usize);
            let returned = items.len() as u64;
            last_page_as_returned(listing, page, asked_position, returned);
        }
        (FaultKind::EmptyPages, Some(items)) if later => {
            items.clear();
            last_page_as_returned(listing, page, asked_position, 0);
        }
        (FaultKind::MissingIds, Some(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove(id);
            }
        }
        (FaultKind::OversizedPage, Some(items)) => {
            let copies: Vec<Value> = items
                .iter()
                .cycle()
                .take(items.len() * 2)
                .enumerate()
                .map(|(i, item)| {
                    let mut copy = item.clone();
                    copy[id] = json!(format!("copy-{i}-{}", copy[id].as_str().unwrap_or("")));
                    copy
                })
                .collect();
            items.extend(copies);
        }
        (FaultKind::IgnoredStartIndex, _) => {
            // The page is the first, but it says it is the one asked for.
            page.insert(position.into(), json!(asked_position));
        }
        (FaultKind::TotalTooLow, _) => {
            page.insert(total.into(), json!(limit.unwrap_or(0)));
        }
        (FaultKind::TotalTooHigh, _) => {
            let claimed =
                page.get(total).and_then(Value::as_u64).unwrap_or(0) + limit.unwrap_or(1_000);
            page.insert(total.into(), json!(claimed));
            if listing == Listing::Members {
                page.insert("isLast".into(), json!(false));
            }
        }
        (FaultKind::TotalHuge, _) => {
            page.insert(total.into(), json!(u64::MAX));
            if listing == Listing::Members {
                page.insert("isLast".into(), json!(false));
            }
        }
        _ => {}
    }
}
