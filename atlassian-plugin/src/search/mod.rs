//! The one paged read of the plugin: a scan that proves it read everything, or fails typed.
//!
//! Every listing goes through [`Scan`]: SCIM users and groups (full or filtered) and Jira group
//! members. A server may legally return fewer objects than asked (RFC 7644 §3.4.2.4), and a
//! directory changes while it is read, so nothing about a page is inferred from another:
//!
//! - **Positions come from what arrived.** The next page starts where the previous one really
//!   ended (minus an overlap of one object, so that a shift by deletions earlier in the listing
//!   shows, and is bridged, instead of opening a gap). Pages are fetched ahead on the guess that they are full; a guess that a short page
//!   proves wrong is dropped and the scan goes on from the real position.
//! - **Each page is checked against its request**: no more objects than asked, the `startIndex`
//!   it echoes equal to the one asked, no object past its own total, every object with an id, and
//!   a first object that the previous page's end and the change in total explain (a server that
//!   ignores `startIndex` answers page 1 again, which no change in the total explains).
//! - **Bounded by what arrived, not by what is claimed.** Nothing is sized by a total; a total
//!   beyond [`MAX_TOTAL`] is an error; a run of empty pages before the total is an error after
//!   [`MAX_STALLS`]; a page that shares nothing with the previous one is bridged by reading back
//!   (at most [`MAX_READS_BACK`] pages), each page read back proven to reach the one after it,
//!   or the scan fails.
//! - **Complete means reconciled**: the scan ends at the last page (its total reached, or
//!   `isLast`), having read at least as many distinct objects as the smallest total announced.
//!
//! Every failure is a retryable `connection_failed` that says what was inconsistent, where, and
//! how much was read; the objects already delivered stay delivered, and the host learns that the
//! read is not complete. Dropping the scan (early stop) aborts the pages in flight.

use std::collections::{HashSet, VecDeque};
use std::ops::ControlFlow;
use std::sync::Arc;

use connector_api::{ConnectorError, ConnectorObject, ErrorKind, Result};
use futures_util::future::BoxFuture;
use serde_json::json;
use tokio_util::task::AbortOnDropHandle;

/// The largest total a listing may announce; more is refused as implausible, never allocated.
pub(crate) const MAX_TOTAL: u64 = 1_000_000_000;
/// Consecutive pages that bring nothing new before the scan gives up.
pub(crate) const MAX_STALLS: u32 = 3;
/// Pages read again to bridge a page that shares nothing with the previous one.
pub(crate) const MAX_READS_BACK: usize = 8;

/// One page as the server answered it, positions 1-based.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The objects, in listing order.
    pub items: Vec<T>,
    /// The total the server announced with this page, if it does.
    pub total: Option<u64>,
    /// The start position the server says this page has, if it says.
    pub start_index: Option<u64>,
    /// Whether the server says this is the last page, if it says.
    pub is_last: Option<bool>,
}

/// What identifies an object of a listing.
pub(crate) trait Keyed {
    /// Its id in the listing.
    fn key(&self) -> &str;
}

impl Keyed for ConnectorObject {
    fn key(&self) -> &str {
        self.uid.as_str()
    }
}

impl Keyed for String {
    fn key(&self) -> &str {
        self
    }
}

/// Reads the page of `count` objects at the 1-based `start`.
pub(crate) type PageReader<T> =
    Arc<dyn Fn(u64, u32) -> BoxFuture<'static, Result<Page<T>>> + Send + Sync>;

/// Where a scan delivers: the first total announced, then new objects in listing order.
pub(crate) trait Receiver<T> {
    /// The total the server announced first.
    fn total(&mut self, total: u64);
    /// The next objects, never one delivered before; `Break` stops the scan.
    fn push(&mut self, items: Vec<T>) -> ControlFlow<()>;
    /// What must be ready before the first objects are pushed (the index a join needs); the
    /// scan fills its window of requests first, then waits for it. None by default.
    fn wait_before_first(&mut self) -> Option<BoxFuture<'static, Result<()>>> {
        None
    }
}

/// The pages being fetched, by start position, in listing order.
type InFlight<T> = VecDeque<(u64, AbortOnDropHandle<Result<Page<T>>>)>;

/// How a scan ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// Distinct objects read.
    pub read: u64,
    /// `false` when the receiver stopped the scan.
    pub complete: bool,
    /// Whether the totals the pages announced differed: the first one was an estimate.
    pub total_changed: bool,
}

/// A paged read of one listing.
pub(crate) struct Scan<T> {
    /// Where the pages come from.
    pub reader: PageReader<T>,
    /// Objects asked for per page.
    pub count: u32,
    /// Pages in flight at most.
    pub concurrency: usize,
    /// The listing, for errors: `SCIM users`, `Jira members of group …`.
    pub what: String,
}

impl<T> std::fmt::Debug for Scan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("what", &self.what)
            .field("count", &self.count)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// The objects a page of `n` shares with the next one: one, enough to prove the next page
/// starts where this one ended (a deletion before it shifts it, which the bridge repairs), at
/// the cost of one object in `n` read twice.
fn overlap(n: u64) -> u64 {
    u64::from(n > 1)
}

fn key_hash(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// The page read before the current one: where it started, its ids in order, its total.
struct Previous {
    start: u64,
    /// Hashes of its ids, in order.
    keys: Vec<u64>,
    total: Option<u64>,
}

/// The running account of a scan.
struct Progress {
    /// Hashes of every id read, to deliver each object once and count what was read.
    seen: HashSet<u64>,
    min_total: Option<u64>,
    max_total: Option<u64>,
    /// The furthest position read so far.
    furthest: u64,
    announced: bool,
    stalls: u32,
}

impl Progress {
    fn scanned(&self, complete: bool) -> Scanned {
        Scanned {
            read: self.seen.len() as u64,
            complete,
            total_changed: self.min_total != self.max_total,
        }
    }
}

impl<T: Keyed + Send + 'static> Scan<T> {
    fn inconsistent(&self, what: String, start: u64, progress: &Progress) -> ConnectorError {
        let read = progress.seen.len() as u64;
        ConnectorError::new(
            ErrorKind::ConnectionFailed,
            format!(
                "{}: {what}; {read} read, the read is incomplete; run it again",
                self.what
            ),
        )
        .with_retryable(true)
        .with_details(json!({
            "listing": self.what, "start_index": start, "read": read,
            "total": progress.min_total, "incomplete": true,
        }))
    }

    fn fetch(&self, start: u64) -> AbortOnDropHandle<Result<Page<T>>> {
        AbortOnDropHandle::new(connector_api::rt::spawn((self.reader)(start, self.count)))
    }

    /// Fetches ahead until `concurrency` pages are in flight: from `next`, on the guess that
    /// pages hold `guess` objects, never past `last_total` once one is known.
    fn fill(
        &self,
        in_flight: &mut InFlight<T>,
        (next, guess): (u64, u64),
        last_total: Option<u64>,
    ) {
        while in_flight.len() < self.concurrency.max(1) {
            let start = match in_flight.back() {
                None => next,
                Some((s, _)) => s + (guess - overlap(guess)).max(1),
            };
            if !in_flight.is_empty() && last_total.is_none_or(|t| start > t) {
                break;
            }
            in_flight.push_back((start, self.fetch(start)));
        }
    }

    /// Reads every page, delivering each object once; see the module docs for the rules.
    pub async fn run(self, out: &mut dyn Receiver<T>) -> Result<Scanned> {
        let count = u64::from(self.count.max(1));
        let mut progress = Progress {
            seen: HashSet::new(),
            min_total: None,
            max_total: None,
            furthest: 0,
            announced: false,
            stalls: 0,
        };
        let (mut next, mut guess) = (1u64, count);
        let mut previous: Option<Previous> = None;
        let mut in_flight: InFlight<T> = VecDeque::new();
        let mut waited = false;
        loop {
            let last_total = previous.as_ref().and_then(|p| p.total);
            self.fill(&mut in_flight, (next, guess), last_total);
            let (start, handle) = in_flight.pop_front().expect("one page is always in flight");
            let page = handle.await.map_err(|e| {
                ConnectorError::internal(format!("a page read failed to run: {e}"))
            })??;
            if start != next {
                // Fetched on a guess that a short page disproved: read from the real position.
                in_flight.clear();
                continue;
            }
            let mut page = self.check_page(start, page, &mut progress)?;
            if let (false, Some(total)) = (progress.announced, page.total) {
                progress.announced = true;
                out.total(total);
            }
            // Positions follow the page as the server answered it, before any bridging.
            let n = page.items.len() as u64;
            let at_end = self.at_end(start, n, &page, &progress)?;
            if let Some(prev) = &previous {
                page.items = self
                    .place(start, page.items, page.total, prev, &progress)
                    .await?;
            }
            // The page's own objects come last, after any bridged in front of them.
            let own = page.items.len() - n as usize;
            let hashes: Vec<u64> = page.items.iter().map(|i| key_hash(i.key())).collect();
            let keys = hashes[own..].to_vec();
            let fresh: Vec<T> = page
                .items
                .into_iter()
                .zip(hashes)
                .filter(|(_, h)| progress.seen.insert(*h))
                .map(|(i, _)| i)
                .collect();
            // A page inside what was read (the overlap) may bring nothing new; one past it must.
            let past_the_read = n == 0 || start > progress.furthest;
            progress.furthest = progress.furthest.max(start + n.saturating_sub(1));
            if fresh.is_empty() && !at_end && past_the_read {
                progress.stalls += 1;
                if progress.stalls >= MAX_STALLS {
                    let why = format!(
                        "{} pages in a row from startIndex {start} brought no new object (the last one {n}), although the total is {}",
                        progress.stalls,
                        page.total.map_or("unknown".into(), |t| t.to_string())
                    );
                    return Err(self.inconsistent(why, start, &progress));
                }
                if n == 0 {
                    in_flight.clear();
                    continue;
                }
            } else if !fresh.is_empty() {
                progress.stalls = 0;
            }
            if !at_end {
                next = start + (n - overlap(n)).max(1);
                guess = n.max(1);
                previous = Some(Previous {
                    start,
                    keys,
                    total: page.total,
                });
                // The next pages are asked for before this one is handed over: no request
                // slot waits on the receiver.
                self.fill(&mut in_flight, (next, guess), page.total);
            }
            if !fresh.is_empty() && !std::mem::replace(&mut waited, true) {
                if let Some(wait) = out.wait_before_first() {
                    // The window is full (above), so its requests keep the budget busy
                    // meanwhile. Deeper read-ahead would too, but pages read long before they
                    // are placed see more churn between them than the bridge can explain.
                    wait.await?;
                }
            }
            if !fresh.is_empty() && out.push(fresh).is_break() {
                return Ok(progress.scanned(false));
            }
            if at_end {
                let read = progress.seen.len() as u64;
                if let Some(total) = progress.min_total.filter(|t| read < *t) {
                    let why = format!(
                        "the listing ended with {read} distinct objects, but the server announced {total}"
                    );
                    return Err(self.inconsistent(why, start, &progress));
                }
                return Ok(progress.scanned(true));
            }
        }
    }

    /// The checks a page passes on its own: its size, its position and its total.
    fn check_page(&self, start: u64, page: Page<T>, progress: &mut Progress) -> Result<Page<T>> {
        let n = page.items.len() as u64;
        let count = u64::from(self.count.max(1));
        if n > count {
            let why = format!(
                "the page at startIndex {start} returned {n} objects, {count} were asked for"
            );
            return Err(self.inconsistent(why, start, progress));
        }
        if let Some(echoed) = page.start_index.filter(|s| *s != start && n > 0) {
            let why = format!("the page asked at startIndex {start} says it starts at {echoed}");
            return Err(self.inconsistent(why, start, progress));
        }
        if let Some(total) = page.total {
            if total > MAX_TOTAL {
                let why = format!(
                    "the server announced {total} objects, more than the {MAX_TOTAL} a listing may hold"
                );
                return Err(self.inconsistent(why, start, progress));
            }
            if n > 0 && start + n - 1 > total {
                let why = format!(
                    "the page at startIndex {start} returned {n} objects, past the total of {total} it announced"
                );
                return Err(self.inconsistent(why, start, progress));
            }
            progress.min_total = Some(progress.min_total.map_or(total, |m| m.min(total)));
            progress.max_total = Some(progress.max_total.map_or(total, |m| m.max(total)));
        }
        Ok(page)
    }

    /// Whether this page is the last: its total reached, or the server says so consistently.
    fn at_end(&self, start: u64, n: u64, page: &Page<T>, progress: &Progress) -> Result<bool> {
        let reached = |t: u64| {
            if n == 0 { start > t } else { start + n > t }
        };
        match (page.total, page.is_last) {
            (Some(total), Some(true)) if !reached(total) => {
                let why = format!(
                    "the page at startIndex {start} says it is the last, with {n} objects, but the total is {total}"
                );
                Err(self.inconsistent(why, start, progress))
            }
            (Some(total), Some(false)) if reached(total) => {
                let why = format!(
                    "the page at startIndex {start} reaches the total of {total} but says it is not the last"
                );
                Err(self.inconsistent(why, start, progress))
            }
            (_, Some(true)) => Ok(true),
            (Some(total), _) => Ok(reached(total)),
            // No total and no last-page flag: only an empty page ends the listing.
            (None, _) => Ok(n == 0),
        }
    }

    /// Checks where the page begins against the previous page, and bridges a gap. A page
    /// starts inside the previous one, later when objects before it were deleted, earlier when
    /// some were inserted: no earlier than the change in the totals seen explains (a server
    /// that ignores `startIndex` answers the first page again, which no change explains). A page
    /// that shares nothing with the previous one and starts with an object never read was
    /// shifted past some objects: the objects between are read back.
    async fn place(
        &self,
        start: u64,
        items: Vec<T>,
        total: Option<u64>,
        prev: &Previous,
        progress: &Progress,
    ) -> Result<Vec<T>> {
        let Some(first) = items.first() else {
            return Ok(items);
        };
        let expected = start - prev.start;
        let churn = match (progress.min_total, progress.max_total) {
            (Some(min), Some(max)) => max - min,
            _ => 0,
        };
        let first = key_hash(first.key());
        let found = prev.keys.iter().position(|k| *k == first);
        let seen_before = progress.seen.contains(&first);
        let earlier = match found {
            Some(found) => expected.saturating_sub(found as u64),
            // Inside what was read, objects read before are the expected ones.
            None if seen_before && start > progress.furthest => expected,
            None => 0,
        };
        if earlier > churn {
            let at = found.map_or("an earlier page".into(), |f| {
                format!("position {}", prev.start + f as u64)
            });
            let why = format!(
                "the page asked at startIndex {start} begins with the object read at {at}, and no change in the total explains it: the server may ignore startIndex"
            );
            return Err(self.inconsistent(why, start, progress));
        }
        let shares = |i: &T| prev.keys.contains(&key_hash(i.key()));
        if found.is_some()
            || seen_before
            || prev.keys.is_empty()
            || overlap(prev.keys.len() as u64) == 0
            || items.iter().any(shares)
        {
            return Ok(items);
        }
        self.bridge(start, items, total, prev, progress).await
    }

    /// A page that shares nothing with the previous one was shifted past some objects (more
    /// deletions earlier in the listing than the overlap absorbs, or pages fetched ahead and
    /// answered out of order around inserts): the pages before it are read again, back to one
    /// that shares an object with the previous page. Each page read back must reach the one
    /// after it, so it is placed to end where that one's first object is now: where it was,
    /// moved on by as many objects as the total grew since (inserts anywhere move it by at
    /// most that). A page that still misses it is read again once placed on the newer total;
    /// after that what lies between is unknown, and the scan fails rather than skip it.
    async fn bridge(
        &self,
        start: u64,
        items: Vec<T>,
        total: Option<u64>,
        prev: &Previous,
        progress: &Progress,
    ) -> Result<Vec<T>> {
        let connects = |i: &T| prev.keys.contains(&key_hash(i.key()));
        let count = u64::from(self.count.max(1));
        let mut after_previous = items;
        // Where the first object of `after_previous` was read, and the total then.
        let (mut head_at, mut head_total) = (start, total);
        let mut latest_total = total;
        let mut missed = 0;
        for _ in 0..MAX_READS_BACK {
            let Some(head) = after_previous.first().map(|i| key_hash(i.key())) else {
                break;
            };
            if head_at == 1 && missed == 0 {
                break;
            }
            let grown = match (latest_total, head_total) {
                (Some(now), Some(then)) => now.saturating_sub(then),
                _ => 0,
            };
            let at = (head_at + grown + 1).saturating_sub(count).max(1);
            let page = (self.reader)(at, self.count).await?;
            latest_total = page.total.or(latest_total);
            let mut earlier = page.items;
            let Some(joins) = earlier.iter().position(|i| key_hash(i.key()) == head) else {
                missed += 1;
                if missed < 2 {
                    continue;
                }
                let why = format!(
                    "the listing changed faster than it could be read in order: the page read back at startIndex {at} to bridge a shift does not reach the objects after it"
                );
                return Err(self.inconsistent(why, start, progress));
            };
            missed = 0;
            earlier.truncate(joins);
            let last_seen = earlier.iter().rposition(connects);
            if let Some(i) = last_seen {
                earlier.drain(..=i);
            }
            earlier.append(&mut after_previous);
            after_previous = earlier;
            if last_seen.is_some() {
                return Ok(after_previous);
            }
            (head_at, head_total) = (at, page.total);
        }
        let why = "the listing changed faster than it could be read in order: more objects were deleted during the read than the connector could bridge".to_owned();
        Err(self.inconsistent(why, start, progress))
    }
}

mod adaptive;
mod budget;

pub(crate) use adaptive::adaptive;
pub(crate) use budget::Budget;

#[cfg(test)]
mod tests;
