//! [`adaptive`]: a page reader that asks the server for no more than it can answer.
//!
//! Some listings embed unbounded data: an Atlassian SCIM group carries every member, and one
//! group of 150,000 members, or a page of 100 groups of 1,500, passes a body cap or a request
//! timeout. The scan still asks for its pages at fixed positions; this reader answers each from
//! requests of its own size: it starts small, halves on an over-size body or a timed-out
//! request, and doubles back after successes, never above what the scan asked for.

use std::sync::{Arc, Mutex};

use connector_api::ConnectorError;

use super::{Page, PageReader};

/// Whether an error says the request was too big for the server to answer: a body over the
/// cap, or a request (not the operation) out of time.
fn too_big(e: &ConnectorError) -> bool {
    let flag = |name: &str| e.details.get(name).and_then(|v| v.as_bool()) == Some(true);
    flag("too_large") || flag("request_timed_out")
}

fn lock(size: &Mutex<Size>) -> std::sync::MutexGuard<'_, Size> {
    size.lock().unwrap_or_else(|p| p.into_inner())
}

/// The request size, shared by every page of one scan.
#[derive(Debug)]
struct Size {
    /// What the next request asks for.
    now: u32,
    /// The smallest size that failed, not to be asked again before [`REGROW_AFTER`] successes.
    ceiling: u32,
    /// Successes since the last failure or regrowth.
    successes: u32,
}

/// Successes after which the ceiling doubles, so that a transient slowness is forgotten.
const REGROW_AFTER: u32 = 8;

impl Size {
    fn next(&self, left: u32) -> u32 {
        self.now.clamp(1, left)
    }

    fn failed(&mut self, asked: u32) {
        self.ceiling = asked;
        self.now = (asked / 2).max(1);
        self.successes = 0;
    }

    fn succeeded(&mut self, asked: u32, most: u32) {
        self.successes += 1;
        if self.successes >= REGROW_AFTER {
            self.ceiling = self.ceiling.saturating_mul(2);
            self.successes = 0;
        }
        let limit = self.ceiling.saturating_sub(1).max(1).min(most);
        self.now = asked.saturating_mul(2).min(limit).max(self.now.min(limit));
    }
}

/// `inner`, answering each page from requests of an adaptive size, starting at `first`.
pub(crate) fn adaptive<T: Send + 'static>(inner: PageReader<T>, first: u32) -> PageReader<T> {
    let size = Arc::new(Mutex::new(Size {
        now: first.max(1),
        ceiling: u32::MAX,
        successes: 0,
    }));
    Arc::new(move |start, count| {
        let (inner, size) = (inner.clone(), size.clone());
        Box::pin(async move {
            let mut items = Vec::new();
            let mut first_page: Option<Page<T>> = None;
            let (mut position, mut left) = (start, count);
            let (mut total, mut is_last) = (None, None);
            while left > 0 {
                let asked = lock(&size).next(left);
                let page = match inner(position, asked).await {
                    Ok(page) => page,
                    Err(e) if too_big(&e) && asked > 1 => {
                        lock(&size).failed(asked);
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                lock(&size).succeeded(asked, count);
                let got = page.items.len() as u32;
                (total, is_last) = (page.total, page.is_last);
                let ended = got < asked || page.is_last == Some(true);
                let mut page = page;
                items.append(&mut page.items);
                first_page.get_or_insert(page);
                position += u64::from(got);
                left = left.saturating_sub(got);
                if ended {
                    break;
                }
            }
            let start_index = first_page.as_ref().and_then(|p| p.start_index);
            Ok(Page {
                items,
                total,
                start_index,
                is_last,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_api::ErrorKind;
    use serde_json::json;

    #[tokio::test]
    async fn pages_too_big_are_split_and_the_size_grows_back() {
        // A server that cannot answer more than 3 objects at once, of 20.
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let inner: PageReader<u64> = Arc::new(move |start, count| {
            log.lock().unwrap().push(count);
            Box::pin(async move {
                if count > 3 {
                    return Err(ConnectorError::new(ErrorKind::ConnectionFailed, "too big")
                        .with_details(json!({ "too_large": true })));
                }
                let end = (start + u64::from(count)).min(21);
                Ok(Page {
                    items: (start..end).collect(),
                    total: Some(20),
                    start_index: Some(start),
                    is_last: Some(end > 20),
                })
            })
        });
        let reader = adaptive(inner, 8);
        let page = reader(1, 10).await.unwrap();
        assert_eq!(page.items, (1..=10).collect::<Vec<_>>());
        assert_eq!(page.start_index, Some(1));
        let page = reader(11, 10).await.unwrap();
        assert_eq!(page.items, (11..=20).collect::<Vec<_>>());
        assert_eq!(page.is_last, Some(true));
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked[..3], [8, 4, 2], "{asked:?}");
        // Having failed at 4, it asks for 3 from then on: one failure per size, not per page.
        assert!(asked[3..].iter().all(|n| *n <= 3), "{asked:?}");
        // Any other error is the error.
        let failing: PageReader<u64> = Arc::new(|_, _| {
            Box::pin(async { Err(ConnectorError::new(ErrorKind::InvalidCredentials, "no")) })
        });
        assert!(adaptive(failing, 4)(1, 4).await.is_err());
    }
}
