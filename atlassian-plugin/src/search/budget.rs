//! [`Budget`]: the requests one call may have in flight, shared by the listings it reads at
//! once.
//!
//! A full reconciliation reads the users and the default groups' members together. Each
//! [`Scan`](super::Scan) bounds its own pages; the budget bounds them all, so that reading two
//! listings at once fills the gaps of each (a scan's first page, a group's last pages) without
//! ever sending more than the configured concurrency.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::PageReader;

/// Requests in flight for one call, at most the number it was made with.
#[derive(Debug, Clone)]
pub(crate) struct Budget(Arc<Semaphore>);

impl Budget {
    /// A budget of `requests` in flight (at least one).
    pub(crate) fn new(requests: usize) -> Self {
        Budget(Arc::new(Semaphore::new(requests.max(1))))
    }

    /// Waits for a request's place; dropping the permit frees it.
    pub(crate) async fn acquire(&self) -> OwnedSemaphorePermit {
        self.0
            .clone()
            .acquire_owned()
            .await
            .expect("the budget's semaphore is never closed")
    }

    /// `reader`, each page read within this budget.
    pub(crate) fn limit<T: Send + 'static>(&self, reader: PageReader<T>) -> PageReader<T> {
        let budget = self.clone();
        Arc::new(move |start, count| {
            let (budget, reader) = (budget.clone(), reader.clone());
            Box::pin(async move {
                let _permit = budget.acquire().await;
                reader(start, count).await
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::search::Page;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_readers_together_never_exceed_the_budget() {
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let reader: PageReader<String> = {
            let (now, most) = (now.clone(), most.clone());
            Arc::new(move |_, _| {
                let (now, most) = (now.clone(), most.clone());
                Box::pin(async move {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(Page {
                        items: vec![],
                        total: None,
                        start_index: None,
                        is_last: None,
                    })
                })
            })
        };
        let budget = Budget::new(3);
        let (a, b) = (budget.limit(reader.clone()), budget.limit(reader));
        let reads = (0..20).map(|i| if i % 2 == 0 { a(1, 1) } else { b(1, 1) });
        futures_util::future::try_join_all(reads)
            .await
            .expect("pages");
        assert_eq!(
            most.load(Ordering::SeqCst),
            3,
            "at most 3 in flight, and 3 reached"
        );
    }
}
