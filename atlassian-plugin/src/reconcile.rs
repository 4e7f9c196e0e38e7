//! Full user reconciliation: SCIM pages fetched concurrently and handed over in order, joined
//! with the default-group memberships, in memory bounded by the window of pages in flight.
//!
//! The first page gives the total and the page size the server really uses (`itemsPerPage` is
//! not trusted). The other pages are fetched on the plugin's runtime workers, at most
//! `concurrency` at a time (and as fast as the rate governor allows), parsed and mapped there,
//! and delivered in order. Consecutive pages overlap by a twentieth, de-duplicated
//! against the previous page: a user deleted earlier in the directory during the search shifts
//! the offsets without opening a gap. Dropping the stream (early stop) aborts what is in flight.

use std::collections::HashSet;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use connector_api::{ConnectorError, ConnectorObject, Filter, ObjectSink, Result};
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

/// What a full user search needs.
pub struct UserScan {
    /// The SCIM client.
    pub scim: ScimClient,
    /// The memberships to join, when product access is wanted.
    pub access: Option<Arc<AccessIndex>>,
    /// The page size asked for.
    pub page_size: u32,
    /// Pages in flight at most.
    pub concurrency: usize,
    /// A filter evaluated on each object.
    pub filter: Option<Filter>,
    /// The attributes to keep, if limited.
    pub attributes_to_get: Option<Vec<String>>,
    /// The deadline.
    pub deadline: Instant,
}

impl std::fmt::Debug for UserScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserScan")
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

impl UserScan {
    /// Streams every user to `sink`; answers (objects sent, complete).
    pub async fn run(self, sink: &mut dyn ObjectSink) -> Result<(u64, bool)> {
        let first = self
            .scim
            .list_users(None, 1, self.page_size, self.deadline)
            .await?;
        let total = first.total_results;
        sink.total(total);
        let effective = first.resources.len() as u64;
        let mut previous: HashSet<String> = HashSet::new();
        let mut sent = 0u64;
        if self
            .deliver(
                map_page(first.resources, self.access.as_deref()),
                &mut previous,
                &mut sent,
                sink,
            )
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
                let scim = self.scim.clone();
                let access = self.access.clone();
                let (count, deadline) = (effective as u32, self.deadline);
                AbortOnDrop(call_log::spawn(async move {
                    let page = scim.list_users(None, start, count, deadline).await?;
                    Ok::<_, ConnectorError>(map_page(page.resources, access.as_deref()))
                }))
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
