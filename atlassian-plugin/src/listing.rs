//! Listings of connector objects: SCIM pages as scan pages, filters checked locally, and
//! delivery to the host's sink.
//!
//! A server's answer to a filter is never taken on trust: every object is checked against the
//! whole filter here, comparing as SCIM does (`userName` and `displayName` case-insensitively,
//! RFC 7643 §4.1.1 and §4.2), before it is returned or adopted.

use std::ops::ControlFlow;

use connector_api::{
    ConnectorError, ConnectorObject, ErrorKind, Filter, ObjectSink, Result, special,
};
use serde_json::{Value, json};

use crate::scim::types::ListResponse;
use crate::search::{Page, Receiver};

/// A SCIM page as a scan page, each resource mapped by `map`; a resource without an `id` is
/// an error, never dropped (it would be an object the host can neither see nor address).
pub(crate) fn scim_page<T>(
    noun: &str,
    start: u64,
    list: ListResponse<T>,
    id: impl Fn(&T) -> Option<&str>,
    map: impl Fn(&T) -> ConnectorObject,
) -> Result<Page<ConnectorObject>> {
    let mut items = Vec::with_capacity(list.resources.len());
    for (i, resource) in list.resources.iter().enumerate() {
        if id(resource).is_none_or(str::is_empty) {
            return Err(ConnectorError::new(
                ErrorKind::ConnectionFailed,
                format!(
                    "SCIM answered a {noun} without an `id` (resource {} of the page at startIndex {start}); the read is incomplete",
                    i + 1
                ),
            )
            .with_retryable(true)
            .with_details(json!({ "start_index": start, "position": i + 1, "incomplete": true })));
        }
        items.push(map(resource));
    }
    Ok(Page {
        items,
        total: Some(list.total_results),
        start_index: list.start_index,
        is_last: None,
    })
}

/// Whether `object` matches `filter`, names compared as SCIM compares them.
pub(crate) fn matches(filter: &Filter, object: &ConnectorObject) -> bool {
    match filter {
        Filter::Eq(av) if av.attribute == special::NAME => av
            .value
            .as_str()
            .is_some_and(|v| v.to_lowercase() == object.name.to_lowercase()),
        Filter::And(filters) => filters.iter().all(|f| matches(f, object)),
        other => other.matches(object),
    }
}

/// Refuses filters on attributes the class does not have: never silently empty.
pub(crate) fn check_filter_attributes(filter: &Filter, class: &str, known: &[&str]) -> Result<()> {
    for attribute in filter.attributes() {
        let special = [special::UID, special::NAME, special::ENABLED].contains(&attribute);
        if !special && !known.contains(&attribute) {
            return Err(ConnectorError::invalid_filter(format!(
                "class `{class}` has no attribute `{attribute}` to filter on"
            ))
            .with_details(json!({ "attribute": attribute })));
        }
    }
    Ok(())
}

/// The uid a filter requires at its top level, answered by a get rather than a listing.
pub(crate) fn required_uid(filter: Option<&Filter>) -> Option<&str> {
    filter?.required_eq(special::UID).and_then(Value::as_str)
}

/// The reply of a search that scanned a listing: its first total is an estimate when the
/// totals changed during the read.
pub(crate) fn reply(sent: u64, scanned: crate::search::Scanned) -> connector_api::ops::RpSearch {
    let reply = connector_api::ops::RpSearch::new(sent, scanned.complete);
    if scanned.total_changed {
        reply.with_estimated_total()
    } else {
        reply
    }
}

/// A get by uid for a search: a uid that names no resource finds nothing.
pub(crate) fn unless_unknown<T>(found: Result<Option<T>>) -> Result<Option<T>> {
    match found {
        Err(e) if e.kind == ErrorKind::UnknownUid => Ok(None),
        other => other,
    }
}

/// Delivers what a scan reads to the host: objects that match the filter, trimmed to the
/// attributes asked for.
pub(crate) struct ToSink<'a> {
    sink: &'a mut dyn ObjectSink,
    filter: Option<&'a Filter>,
    attributes: Option<&'a [String]>,
    /// Objects delivered.
    pub sent: u64,
}

impl<'a> ToSink<'a> {
    /// Delivery to `sink` of what matches `filter`, with only `attributes` when given.
    pub(crate) fn new(
        sink: &'a mut dyn ObjectSink,
        filter: Option<&'a Filter>,
        attributes: Option<&'a [String]>,
    ) -> Self {
        ToSink {
            sink,
            filter,
            attributes,
            sent: 0,
        }
    }

    /// Delivers `objects` as one batch, filtered and trimmed.
    pub(crate) fn deliver(&mut self, objects: Vec<ConnectorObject>) -> ControlFlow<()> {
        let batch: Vec<ConnectorObject> = objects
            .into_iter()
            .filter(|o| self.filter.is_none_or(|f| matches(f, o)))
            .map(|mut o| {
                if let Some(names) = self.attributes {
                    o.retain_attributes(names);
                }
                o
            })
            .collect();
        self.sent += batch.len() as u64;
        self.sink.push(batch)
    }

    /// Tells the host how many objects the search returns.
    pub(crate) fn announce(&mut self, total: u64) {
        self.sink.total(total);
    }
}

impl Receiver<ConnectorObject> for ToSink<'_> {
    /// The listing's total is the search's only when no filter is evaluated here.
    fn total(&mut self, total: u64) {
        if self.filter.is_none() {
            self.announce(total);
        }
    }

    fn push(&mut self, items: Vec<ConnectorObject>) -> ControlFlow<()> {
        self.deliver(items)
    }
}

/// Collects what matches a filter: for lookups, whose answers are few (or, from a server that
/// ignores the filter, checked away here).
#[derive(Debug)]
pub(crate) struct Matches {
    filter: Filter,
    /// The objects that matched, in listing order.
    pub found: Vec<ConnectorObject>,
}

impl Matches {
    /// A collector of the objects that match `filter`.
    pub(crate) fn of(filter: Filter) -> Self {
        Matches {
            filter,
            found: Vec::new(),
        }
    }
}

impl Receiver<ConnectorObject> for Matches {
    fn total(&mut self, _: u64) {}

    fn push(&mut self, items: Vec<ConnectorObject>) -> ControlFlow<()> {
        let filter = &self.filter;
        self.found
            .extend(items.into_iter().filter(|o| matches(filter, o)));
        ControlFlow::Continue(())
    }
}
