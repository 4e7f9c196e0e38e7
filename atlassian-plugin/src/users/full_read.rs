//! A full read of the users: the SCIM pages, joined with the default groups' members when
//! product access is asked for, both read at once within one [`Budget`].
//!
//! The members are read into an [`AccessIndex`] while the first user pages arrive: user pages
//! are fetched and mapped as soon as the budget allows, and joined with the index when they are
//! handed over, so no request waits for the index and no object leaves without its product
//! access. Without `product_access` among the attributes asked for, no member is read at all.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, ConnectorObject, Result};
use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::listing::{self, ToSink};
use crate::mapping;
use crate::product_access::{AccessIndex, ProductAccess};
use crate::scim::ScimClient;
use crate::search::{Budget, PageReader, Receiver, Scan, Scanned};

/// The access index as the join waits for it: not yet read, read, or failed.
type IndexState = Option<std::result::Result<Arc<AccessIndex>, ConnectorError>>;

/// Delivery with product access joined in: the scan fills its window of user pages while the
/// index is read, and waits for the index only before the first objects are handed over.
struct Joined<'o, 's> {
    out: &'o mut ToSink<'s>,
    index: watch::Receiver<IndexState>,
}

impl Receiver<ConnectorObject> for Joined<'_, '_> {
    fn total(&mut self, total: u64) {
        self.out.total(total);
    }

    fn wait_before_first(&mut self) -> Option<BoxFuture<'static, Result<()>>> {
        let mut state = self.index.clone();
        Some(Box::pin(async move {
            let ready = state.wait_for(Option::is_some).await.map_err(|_| {
                ConnectorError::internal("the default groups' members were never read")
            })?;
            match ready.as_ref().expect("waited for a value") {
                Ok(_) => Ok(()),
                Err(e) => Err(e.clone()),
            }
        }))
    }

    fn push(&mut self, mut items: Vec<ConnectorObject>) -> ControlFlow<()> {
        let index = match self.index.borrow().as_ref() {
            Some(Ok(index)) => index.clone(),
            // The scan waits for the index before its first push; a failed one ended it.
            _ => return ControlFlow::Break(()),
        };
        for object in &mut items {
            let access = mapping::account_of(object).map(|a| index.of(a));
            mapping::set_product_access(object, access.unwrap_or_default());
        }
        self.out.push(items)
    }
}

/// The SCIM pages of the users `filter` asks SCIM for, without product access.
pub(super) fn filtered_pages(
    scim: ScimClient,
    filter: String,
    concurrency: usize,
    deadline: Instant,
) -> PageReader<ConnectorObject> {
    let budget = Budget::new(concurrency);
    user_pages(scim, Some(filter), budget, deadline)
}

/// The SCIM pages of users (matching `filter`, if given), each fetched within `budget`.
fn user_pages(
    scim: ScimClient,
    filter: Option<String>,
    budget: Budget,
    deadline: Instant,
) -> PageReader<ConnectorObject> {
    Arc::new(move |start, count| {
        let (scim, filter, budget) = (scim.clone(), filter.clone(), budget.clone());
        Box::pin(async move {
            let permit = budget.acquire().await;
            let list = scim
                .list_users(filter.as_deref(), start, count, deadline)
                .await?;
            drop(permit);
            listing::scim_page(
                "user",
                start,
                list,
                |u| u.id.as_deref(),
                |user| mapping::user_object(user, None),
            )
        })
    })
}

/// What a full read needs.
pub(super) struct FullRead<'a> {
    /// The directory.
    pub scim: &'a ScimClient,
    /// The default groups, read only when `with_access`.
    pub access: &'a ProductAccess,
    /// Whether product access was asked for.
    pub with_access: bool,
    /// Objects per SCIM page.
    pub page_size: u32,
    /// Requests in flight, for the users and the members together.
    pub concurrency: usize,
}

impl FullRead<'_> {
    /// Reads every user into `out`.
    pub(super) async fn run(self, out: &mut ToSink<'_>, deadline: Instant) -> Result<Scanned> {
        let budget = Budget::new(self.concurrency);
        let scan = Scan {
            reader: user_pages(self.scim.clone(), None, budget.clone(), deadline),
            count: self.page_size,
            concurrency: self.concurrency,
            what: "SCIM users".into(),
        };
        if !self.with_access {
            return scan.run(out).await;
        }
        let (report, state) = watch::channel(None);
        let mut joined = Joined { out, index: state };
        let scan = scan.run(&mut joined);
        let index = async {
            let read = self.access.index(&budget, deadline).await;
            let _ = report.send(Some(read.map(Arc::new)));
        };
        tokio::pin!(scan, index);
        // The scan cannot end well before the index is known; it may fail or stop sooner, and
        // then the index is not needed.
        tokio::select! {
            scanned = &mut scan => scanned,
            () = &mut index => scan.await,
        }
    }
}
