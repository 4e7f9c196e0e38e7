//! A full read of the users: the SCIM pages, joined with the default groups' members when
//! product access is asked for, both read at once within one [`Budget`].
//!
//! The members are read into an [`AccessIndex`] while the first user pages arrive: a user page
//! is fetched as soon as the budget allows, and mapped once the index is known, so no request
//! waits for the index and no object leaves without its product access. Without
//! `product_access` among the attributes asked for, no member is read at all.

use std::sync::Arc;
use std::time::Instant;

use connector_api::{ConnectorError, ConnectorObject, Result};
use tokio::sync::watch;

use crate::listing::{self, ToSink};
use crate::mapping;
use crate::product_access::{AccessIndex, ProductAccess};
use crate::scim::ScimClient;
use crate::search::{Budget, PageReader, Scan, Scanned};

/// The access index as the user pages wait for it: not yet read, read, or failed.
type IndexState = Option<std::result::Result<Arc<AccessIndex>, ConnectorError>>;

/// Where the user pages find product access.
#[derive(Clone)]
enum Access {
    /// Not asked for.
    Skipped,
    /// Being read; the pages wait on it.
    Reading(watch::Receiver<IndexState>),
}

impl Access {
    async fn index(&self) -> Result<Option<Arc<AccessIndex>>> {
        let Access::Reading(state) = self else {
            return Ok(None);
        };
        let mut state = state.clone();
        let ready = state
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ConnectorError::internal("the default groups' members were never read"))?;
        match ready.as_ref().expect("waited for a value") {
            Ok(index) => Ok(Some(index.clone())),
            Err(e) => Err(e.clone()),
        }
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
    user_pages(scim, Some(filter), Access::Skipped, budget, deadline)
}

/// The SCIM pages of users (matching `filter`, if given), each fetched within `budget` and
/// mapped with `access`.
fn user_pages(
    scim: ScimClient,
    filter: Option<String>,
    access: Access,
    budget: Budget,
    deadline: Instant,
) -> PageReader<ConnectorObject> {
    Arc::new(move |start, count| {
        let (scim, filter) = (scim.clone(), filter.clone());
        let (access, budget) = (access.clone(), budget.clone());
        Box::pin(async move {
            let permit = budget.acquire().await;
            let list = scim
                .list_users(filter.as_deref(), start, count, deadline)
                .await?;
            drop(permit);
            let index = access.index().await?;
            listing::scim_page(
                "user",
                start,
                list,
                |u| u.id.as_deref(),
                |user| {
                    let product_access = index
                        .as_deref()
                        .map(|index| user.account_id().map(|a| index.of(a)).unwrap_or_default());
                    mapping::user_object(user, product_access)
                },
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
        let (report, state) = watch::channel(None);
        let access = match self.with_access {
            true => Access::Reading(state),
            false => Access::Skipped,
        };
        let scan = Scan {
            reader: user_pages(self.scim.clone(), None, access, budget.clone(), deadline),
            count: self.page_size,
            concurrency: self.concurrency,
            what: "SCIM users".into(),
        }
        .run(out);
        if !self.with_access {
            return scan.await;
        }
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
