//! Groups: SCIM groups and their members.
//!
//! A group's display name is its identity: a create answered 409 adopts the group of that name,
//! checked here whatever the server's filter returned.

use std::sync::Arc;
use std::time::Instant;

use connector_api::ops::{
    OpCreate, OpDelete, OpGet, OpSearch, OpUpdate, RpCreate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use connector_api::{
    AttributeDelta, ConnectorError, ConnectorObject, Filter, ObjectSink, Result, special,
};
use serde_json::{Value, json};

use crate::listing::{self, Matches, ToSink};
use crate::mapping::{self, GROUP_EXTERNAL_ID, MEMBERS};
use crate::scim::ScimClient;
use crate::scim::client::Created;
use crate::scim::types::quote;
use crate::search::{PageReader, Scan, adaptive};
use crate::settings::Settings;

/// The class name.
pub(crate) const GROUP: &str = "group";

/// The groups of one directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Groups<'a> {
    /// The directory.
    pub scim: &'a ScimClient,
    /// Page size and concurrency.
    pub settings: &'a Settings,
}

/// Groups asked for in the first request of a scan: each embeds all its members, so requests
/// start small and grow while the server keeps up (see [`adaptive`]).
const FIRST_GROUP_REQUEST: u32 = 10;

/// The SCIM pages of groups, matching `filter` if given.
fn group_pages(
    scim: ScimClient,
    filter: Option<String>,
    deadline: Instant,
) -> PageReader<ConnectorObject> {
    let pages: PageReader<ConnectorObject> = Arc::new(move |start, count| {
        let (scim, filter) = (scim.clone(), filter.clone());
        Box::pin(async move {
            let list = scim
                .list_groups(filter.as_deref(), start, count, deadline)
                .await?;
            listing::scim_page(
                "group",
                start,
                list,
                |g| g.id.as_deref(),
                mapping::group_object,
            )
        })
    });
    adaptive(pages, FIRST_GROUP_REQUEST)
}

impl Groups<'_> {
    fn scan(&self, reader: PageReader<ConnectorObject>, page_size: u32) -> Scan<ConnectorObject> {
        Scan {
            reader,
            count: page_size,
            concurrency: self.settings.concurrency,
            what: "SCIM groups".into(),
        }
    }

    /// The groups named `name` (case-insensitively), whatever SCIM's filter answered.
    async fn named(&self, name: &str, deadline: Instant) -> Result<Vec<ConnectorObject>> {
        let filter = format!("displayName eq {}", quote(name));
        let reader = group_pages(self.scim.clone(), Some(filter), deadline);
        let mut matches = Matches::of(Filter::name(name));
        self.scan(reader, self.settings.page_size)
            .run(&mut matches)
            .await?;
        Ok(matches.found)
    }

    pub(crate) async fn create(&self, op: OpCreate, deadline: Instant) -> Result<RpCreate> {
        let group = mapping::new_group(&op)?;
        let detail = match self.scim.create_group(&group, deadline).await? {
            Created::New(created) => return Ok(RpCreate::created(created.id.unwrap_or_default())),
            Created::Conflict(detail) => detail,
        };
        // The directory's group of that name is this one (typically our own create, retried
        // after a lost response): adopt it.
        let Some(existing) = self
            .named(&group.display_name, deadline)
            .await?
            .into_iter()
            .next()
        else {
            return Err(ConnectorError::already_exists(
                format!(
                    "`{}` is taken by a site or default group, which SCIM cannot manage ({detail})",
                    group.display_name
                ),
                None,
            ));
        };
        let uid = existing.uid.as_str().to_owned();
        let mut update = OpUpdate::new(GROUP, uid.as_str());
        if !group.members.is_empty() {
            let ids: Vec<Value> = group.members.iter().map(|m| json!(m.value)).collect();
            update = update.delta(AttributeDelta::add(MEMBERS, ids));
        }
        if let Some(ext) = &group.external_id {
            update = update.delta(AttributeDelta::replace(GROUP_EXTERNAL_ID, [json!(ext)]));
        }
        let current = self.scim.get_group(&uid, deadline).await?;
        for ops in mapping::group_patches(&update, current.as_ref())? {
            self.scim.patch_group(&uid, &ops, deadline).await?;
        }
        Ok(RpCreate::adopted(uid))
    }

    async fn record(&self, uid: &str, deadline: Instant) -> Result<crate::scim::types::Group> {
        self.scim
            .get_group(uid, deadline)
            .await?
            .ok_or_else(|| ConnectorError::unknown_uid(GROUP, uid))
    }

    pub(crate) async fn get(&self, op: OpGet, deadline: Instant) -> Result<RpGet> {
        let group = self.record(op.uid.as_str(), deadline).await?;
        let mut object = mapping::group_object(&group);
        if let Some(names) = &op.attributes_to_get {
            object.retain_attributes(names);
        }
        Ok(RpGet::new(object))
    }

    pub(crate) async fn update(&self, op: OpUpdate, deadline: Instant) -> Result<RpUpdate> {
        let uid = op.uid.clone();
        let current = match mapping::needs_current(&op) {
            true => Some(self.record(uid.as_str(), deadline).await?),
            false => None,
        };
        let requests = mapping::group_patches(&op, current.as_ref())?;
        if requests.is_empty() && current.is_none() {
            self.record(uid.as_str(), deadline).await?;
        }
        for (i, ops) in requests.iter().enumerate() {
            match self.scim.patch_group(uid.as_str(), ops, deadline).await {
                Ok(Some(_)) => {}
                Ok(None) => return Err(ConnectorError::unknown_uid(GROUP, uid.as_str())),
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    return Err(ConnectorError::partial_success(
                        format!("updated group `{uid}` in part: {e}"),
                        json!({ "uid": uid, "requests_applied": i }),
                        json!({ "requests_remaining": requests.len() - i, "error": e }),
                    ));
                }
            }
        }
        Ok(RpUpdate::new(uid))
    }

    pub(crate) async fn delete(&self, op: OpDelete, deadline: Instant) -> Result<RpDelete> {
        if self.scim.delete_group(op.uid.as_str(), deadline).await? {
            Ok(RpDelete::new())
        } else {
            Err(ConnectorError::unknown_uid(GROUP, op.uid.as_str()))
        }
    }

    pub(crate) async fn search(
        &self,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
        deadline: Instant,
    ) -> Result<RpSearch> {
        let filter = op.filter.as_ref();
        if let Some(f) = filter {
            listing::check_filter_attributes(f, GROUP, &[MEMBERS, GROUP_EXTERNAL_ID])?;
        }
        let mut out = ToSink::new(sink, filter, op.attributes_to_get.as_deref());
        if let Some(uid) = listing::required_uid(filter) {
            let found = listing::unless_unknown(self.scim.get_group(uid, deadline).await)?;
            let _ = out.deliver(found.iter().map(mapping::group_object).collect());
            return Ok(RpSearch::new(out.sent, true));
        }
        let page_size = op
            .page_size
            .unwrap_or(self.settings.page_size)
            .clamp(1, self.settings.page_size);
        let Some(name) = filter
            .and_then(|f| f.required_eq(special::NAME))
            .and_then(Value::as_str)
        else {
            let reader = group_pages(self.scim.clone(), None, deadline);
            let scanned = self.scan(reader, page_size).run(&mut out).await?;
            return Ok(listing::reply(out.sent, scanned));
        };
        let mut objects = self.named(name, deadline).await?;
        objects.retain(|o| filter.is_none_or(|f| listing::matches(f, o)));
        out.announce(objects.len() as u64);
        let complete = out.deliver(objects).is_continue();
        Ok(RpSearch::new(out.sent, complete))
    }
}
