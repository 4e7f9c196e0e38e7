//! Full reconciliation of users or groups: SCIM pages fetched concurrently and handed over in
//! order (users joined with the default-group memberships), in memory bounded by the window of
//! pages in flight.
//!
//! The first page gives the total and the page size the server really uses (`itemsPerPage` is
//! not trusted). The other pages are fetched on the plugin's runtime workers, at most
//! `concurrency` at a time (and as fast as the rate governor allows), parsed and mapped there,
//! and delivered in order. Consecutive pages overlap by a twentieth, de-duplicated against the
//! previous page: an object deleted earlier in the directory during the search shifts the
//! offsets without opening a gap. When more were deleted between two reads than the overlap
//! absorbs, the page shares nothing with the previous one; the pages before it are read again
//! until one does, so nothing is skipped (or the search fails, retryable, never silently
//! short). Dropping the stream (early stop) aborts what is in flight.

use std::collections::HashSet;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use connector_api::{ConnectorError, ConnectorObject, ErrorKind, Filter, ObjectSink, Result};
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
        let count = effective as u32;
        let mut pages = stream::iter(starts)
            .map(|start| {
                let page = (self.pages)(start, count);
                let fetch = AbortOnDrop(call_log::spawn(async move { Ok((page.await?).0) }));
                async move { (start, fetch.await) }
            })
            .buffered(self.concurrency.max(1));
        while let Some((start, page)) = pages.next().await {
            let page = self.bridge(start, count, page??, &previous).await?;
            if self
                .deliver(page, &mut previous, &mut sent, sink)
                .is_break()
            {
                return Ok((sent, false));
            }
        }
        Ok((sent, true))
    }

    /// A page that shares no object with the previous one was shifted past some objects:
    /// more deletions earlier in the directory than the overlap absorbs happened between the
    /// two reads. Pages before it are read again, back to one that shares an object with the
    /// previous page, and the objects in between go in front of the page.
    async fn bridge(
        &self,
        start: u64,
        count: u32,
        page: Page,
        previous: &HashSet<String>,
    ) -> Result<Page> {
        const MAX_READS_BACK: usize = 8;
        let connects = |o: &ConnectorObject| previous.contains(o.uid.as_str());
        if previous.is_empty() || page.is_empty() || page.iter().any(connects) {
            return Ok(page);
        }
        let mut after_previous = page;
        let mut at = start;
        for _ in 0..MAX_READS_BACK {
            if at == 1 {
                break;
            }
            at = at.saturating_sub(u64::from(count)).max(1);
            let (earlier, _) = (self.pages)(at, count).await?;
            let last_seen = earlier.iter().rposition(connects);
            let tail = match last_seen {
                Some(i) => earlier[i + 1..].to_vec(),
                None => earlier,
            };
            after_previous = tail.into_iter().chain(after_previous).collect();
            if last_seen.is_some() {
                let mut seen = HashSet::new();
                after_previous.retain(|o| seen.insert(o.uid.0.clone()));
                return Ok(after_previous);
            }
        }
        Err(ConnectorError::new(
            ErrorKind::ConnectionFailed,
            "the directory changed faster than it could be read in order: more objects were deleted during the search than the connector could bridge; run the search again",
        )
        .with_retryable(true))
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A directory of `size` objects that loses its `churn` first objects after every read,
    /// as when users earlier in the listing are deleted while a search runs.
    fn shrinking_directory(
        size: usize,
        churn: usize,
        max_deleted: usize,
    ) -> (PageReader, Arc<Mutex<Vec<String>>>) {
        let live: Arc<Mutex<Vec<String>>> =
            Arc::new(Mutex::new((0..size).map(|i| format!("u{i:04}")).collect()));
        let deleted = Arc::new(Mutex::new(Vec::new()));
        let reader: PageReader = {
            let (live, deleted) = (live.clone(), deleted.clone());
            Arc::new(move |start, count| {
                let mut live = live.lock().unwrap();
                let from = (start as usize - 1).min(live.len());
                let to = (from + count as usize).min(live.len());
                let page: Page = live[from..to]
                    .iter()
                    .map(|id| ConnectorObject::new(id.as_str(), id.as_str()))
                    .collect();
                let total = live.len() as u64;
                let mut deleted = deleted.lock().unwrap();
                for _ in 0..churn.min(max_deleted - deleted.len()).min(live.len()) {
                    deleted.push(live.remove(0));
                }
                Box::pin(async move { Ok((page, total)) })
            })
        };
        (reader, deleted)
    }

    fn scan(pages: PageReader, page_size: u32) -> Scan {
        Scan {
            pages,
            page_size,
            concurrency: 1,
            filter: None,
            attributes_to_get: None,
        }
    }

    #[tokio::test]
    async fn deletions_beyond_the_overlap_are_bridged_without_a_gap() {
        // Pages of 10 overlap by 1; 3 deletions after every read shift each page past 2 objects.
        let (pages, deleted) = shrinking_directory(200, 3, 60);
        let mut got: Vec<ConnectorObject> = Vec::new();
        let (sent, complete) = scan(pages, 10).run(&mut got).await.unwrap();
        assert!(complete);
        let ids: Vec<&str> = got.iter().map(|o| o.uid.as_str()).collect();
        assert_eq!(sent as usize, ids.len());
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "no duplicate");
        let deleted = deleted.lock().unwrap();
        assert_eq!(deleted.len(), 60, "the churn ran");
        let survivors: Vec<String> = (0..200)
            .map(|i| format!("u{i:04}"))
            .filter(|id| !deleted.contains(id))
            .collect();
        let missing: Vec<&String> = survivors
            .iter()
            .filter(|id| !unique.contains(id.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "lived through the search, not returned: {missing:?}"
        );
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "in directory order");
    }

    #[tokio::test]
    async fn a_directory_that_outruns_every_read_back_is_an_error_not_a_gap() {
        // 40 deletions after every read: no read back can reach the previous page in 8 steps.
        let (pages, _) = shrinking_directory(2_000, 40, 2_000);
        let mut got: Vec<ConnectorObject> = Vec::new();
        let err = scan(pages, 10).run(&mut got).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConnectionFailed, "{err}");
        assert!(
            err.retryable && err.message.contains("run the search again"),
            "{err}"
        );
    }
}
