//! Full reconciliation of users or groups: SCIM pages fetched concurrently and handed over in
//! order (users joined with the default-group memberships), in memory bounded by the window of
//! pages in flight.
//!
//! The first page gives the total and the page size the server really uses (`itemsPerPage` is
//! not trusted). The other pages are fetched on the plugin's runtime workers, at most
//! `concurrency` at a time (and as fast as the rate governor allows), parsed and mapped there,
//! and delivered in order. Consecutive pages overlap by a twentieth, de-duplicated
//! against the previous page: an object deleted earlier in the directory during the search shifts
//! the offsets without opening a gap. Dropping the stream (early stop) aborts what is in flight.

use std::collections::HashSet;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use connector_api::{ConnectorError, ConnectorObject, Filter, ObjectSink, Result};
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, stream};
use tokio::task::JoinHandle;

use crate::call_log;
use crate::mapping;
use crate::scim::ScimClient;
use crate::site::JiraClient;

/// Who is in each default group: sorted 128-bit hashes of account ids, about 16 bytes a member.
#[derive(Debug, Default)]
pub struct AccessIndex {
    groups: Vec<(String, Vec<u128>)>,
}

fn account_hash(account: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(account.as_bytes())
}

impl AccessIndex {
    /// The default groups `account` is in, in configuration order.
    pub fn of(&self, account: &str) -> Vec<String> {
        let h = account_hash(account);
        self.groups
            .iter()
            .filter(|(_, m)| m.binary_search(&h).is_ok())
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// A spawned task that is aborted when dropped, so an early stop cancels requests in flight.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| {
            r.map_err(|e| ConnectorError::internal(format!("a page fetch failed to run: {e}")))
        })
    }
}

/// Reads every member of the named default groups, pages fetched concurrently.
pub async fn access_index(
    jira: &JiraClient,
    groups: Vec<(String, String)>,
    concurrency: usize,
    deadline: Instant,
) -> Result<AccessIndex> {
    let reads = groups.into_iter().map(|(name, id)| {
        let jira = jira.clone();
        async move {
            let first = jira.members(&id, 0, deadline).await?;
            let mut members: Vec<u128> =
                first.account_ids.iter().map(|a| account_hash(a)).collect();
            let page = first.account_ids.len() as u64;
            if !first.is_last && page > 0 {
                // With a total, the remaining pages are known; without one, read on until the last.
                match first.total {
                    Some(total) => {
                        let starts: Vec<u64> =
                            (1..).map(|k| k * page).take_while(|s| *s < total).collect();
                        let mut pages = stream::iter(starts)
                            .map(|start| {
                                let jira = jira.clone();
                                let id = id.clone();
                                AbortOnDrop(call_log::spawn(async move {
                                    jira.members(&id, start, deadline).await
                                }))
                            })
                            .buffered(concurrency.max(1));
                        while let Some(page) = pages.next().await {
                            members.extend(page??.account_ids.iter().map(|a| account_hash(a)));
                        }
                    }
                    None => {
                        let mut start = page;
                        loop {
                            let next = jira.members(&id, start, deadline).await?;
                            start += next.account_ids.len() as u64;
                            members.extend(next.account_ids.iter().map(|a| account_hash(a)));
                            if next.is_last || next.account_ids.is_empty() {
                                break;
                            }
                        }
                    }
                }
            }
            members.sort_unstable();
            members.dedup();
            Ok::<_, ConnectorError>((name, members))
        }
    });
    let groups = futures_util::future::try_join_all(reads).await?;
    Ok(AccessIndex { groups })
}

/// Reads one page of a SCIM listing from a 1-based start: its objects, mapped, and the total.
pub type PageReader =
    Arc<dyn Fn(u64, u32) -> BoxFuture<'static, Result<(Page, u64)>> + Send + Sync>;

/// The pages of the user directory, joined with `access` when product access is wanted.
pub fn user_pages(
    scim: ScimClient,
    access: Option<Arc<AccessIndex>>,
    deadline: Instant,
) -> PageReader {
    Arc::new(move |start, count| {
        let (scim, access) = (scim.clone(), access.clone());
        Box::pin(async move {
            let page = scim.list_users(None, start, count, deadline).await?;
            let objects = map_page(page.resources, access.as_deref());
            Ok((objects, page.total_results))
        })
    })
}

/// The pages of the groups.
pub fn group_pages(scim: ScimClient, deadline: Instant) -> PageReader {
    Arc::new(move |start, count| {
        let scim = scim.clone();
        Box::pin(async move {
            let page = scim.list_groups(None, start, count, deadline).await?;
            let objects = page
                .resources
                .iter()
                .filter(|g| g.id.is_some())
                .map(mapping::group_object)
                .collect();
            Ok((objects, page.total_results))
        })
    })
}

/// What a full search needs.
pub struct Scan {
    /// Where the pages come from.
    pub pages: PageReader,
    /// The page size asked for.
    pub page_size: u32,
    /// Pages in flight at most.
    pub concurrency: usize,
    /// A filter evaluated on each object.
    pub filter: Option<Filter>,
    /// The attributes to keep, if limited.
    pub attributes_to_get: Option<Vec<String>>,
}

impl std::fmt::Debug for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// One mapped page: its objects with their uids, in directory order.
type Page = Vec<ConnectorObject>;

fn map_page(users: Vec<crate::scim::types::User>, access: Option<&AccessIndex>) -> Page {
    users
        .into_iter()
        .filter(|u| u.id.is_some())
        .map(|user| {
            let product_access =
                access.map(|index| user.account_id().map(|a| index.of(a)).unwrap_or_default());
            mapping::user_object(&user, product_access)
        })
        .collect()
}

impl Scan {
    /// Streams every object to `sink`; answers (objects sent, complete).
    pub async fn run(self, sink: &mut dyn ObjectSink) -> Result<(u64, bool)> {
        let (first, total) = (self.pages)(1, self.page_size).await?;
        sink.total(total);
        let effective = first.len() as u64;
        let mut previous: HashSet<String> = HashSet::new();
        let mut sent = 0u64;
        if self
            .deliver(first, &mut previous, &mut sent, sink)
            .is_break()
        {
            return Ok((sent, false));
        }
        if effective == 0 || effective >= total {
            return Ok((sent, true));
        }
        let overlap = effective.div_ceil(20).min(effective - 1);
        let step = effective - overlap;
        let starts: Vec<u64> = (1..)
            .map(|k| 1 + k * step)
            .take_while(|s| *s <= total)
            .collect();
        let mut pages = stream::iter(starts)
            .map(|start| {
                let page = (self.pages)(start, effective as u32);
                AbortOnDrop(call_log::spawn(async move { Ok((page.await?).0) }))
            })
            .buffered(self.concurrency.max(1));
        while let Some(page) = pages.next().await {
            if self
                .deliver(page??, &mut previous, &mut sent, sink)
                .is_break()
            {
                return Ok((sent, false));
            }
        }
        Ok((sent, true))
    }

    /// Sends one page, minus what the previous page already sent and what the filter refuses.
    fn deliver(
        &self,
        page: Page,
        previous: &mut HashSet<String>,
        sent: &mut u64,
        sink: &mut dyn ObjectSink,
    ) -> ControlFlow<()> {
        let ids: HashSet<String> = page.iter().map(|o| o.uid.0.clone()).collect();
        let batch: Vec<ConnectorObject> = page
            .into_iter()
            .filter(|o| !previous.contains(o.uid.as_str()))
            .filter(|o| self.filter.as_ref().is_none_or(|f| f.matches(o)))
            .map(|mut o| {
                if let Some(names) = &self.attributes_to_get {
                    o.retain_attributes(names);
                }
                o
            })
            .collect();
        *previous = ids;
        *sent += batch.len() as u64;
        sink.push(batch)
    }
}
