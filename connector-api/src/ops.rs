//! The operations: `Op*` requests and `Rp*` replies, tied together by [`Operation`].
//!
//! These serde types are the JSON that crosses [`crate::abi::ConnectorObj::call`]. They are
//! `#[non_exhaustive]`, built with constructors and setters, so fields can be added without
//! breaking authors or hosts; unknown fields are ignored on both sides.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::filter::Filter;
use crate::model::{AttributeDelta, ConnectorObject, ObjectClass, Uid};
use crate::report::TestReport;
use crate::schema::Schema;

/// A request type, its operation name and its reply type.
pub trait Operation: Serialize + DeserializeOwned {
    /// The operation name that crosses the ABI.
    const NAME: &'static str;
    /// The reply type.
    type Reply: Serialize + DeserializeOwned;
    /// The object class the request is about, for capability checks.
    fn class(&self) -> Option<&ObjectClass> {
        None
    }

    /// The capability flags of its class this request needs ([`crate::ClassCapabilities::declares`]):
    /// a host refuses it before it crosses when one is not declared. By default the
    /// operation's own flag; an update needs `update`, `rename` or `enable` by what it changes.
    fn needs(&self) -> Vec<&'static str> {
        vec![Self::NAME]
    }

    /// The object the request addresses, for operations on one object.
    fn uid(&self) -> Option<&Uid> {
        None
    }

    /// Refuses a request no connector can serve: an empty uid names no object (and would
    /// become the collection's URL in a target's API). Both sides check it at the boundary.
    fn check_addressable(&self) -> crate::Result<()> {
        match (self.uid(), self.class()) {
            (Some(uid), class) if uid.as_str().is_empty() => {
                let mut error = crate::ConnectorError::unknown_uid(
                    class.map_or("object", ObjectClass::as_str),
                    "",
                );
                error.details["reason"] = serde_json::json!("an empty uid names no object");
                Err(error)
            }
            _ => Ok(()),
        }
    }
}

macro_rules! class_op {
    ($ty:ty) => {
        fn class(&self) -> Option<&ObjectClass> {
            Some(&self.class)
        }
    };
}

/// Test the connection: every credential and permission, each as a named check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpTest {}

impl OpTest {
    /// The request.
    pub fn new() -> Self {
        OpTest {}
    }
}

impl Operation for OpTest {
    const NAME: &'static str = "test";
    type Reply = TestReport;
}

/// Describe the object classes and their attributes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpSchema {}

impl OpSchema {
    /// The request.
    pub fn new() -> Self {
        OpSchema {}
    }
}

impl Operation for OpSchema {
    const NAME: &'static str = "schema";
    type Reply = Schema;
}

/// Create an object.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpCreate {
    /// The class.
    pub class: ObjectClass,
    /// The name (a user's login, a group's display name).
    pub name: String,
    /// The enabled flag, for classes that have one; `None` leaves the target's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The other attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

impl OpCreate {
    /// A create of `name` in `class` with no attributes.
    pub fn new(class: impl Into<ObjectClass>, name: &str) -> Self {
        OpCreate {
            class: class.into(),
            name: name.into(),
            enabled: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Sets an attribute.
    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Sets the enabled flag.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }
}

impl Operation for OpCreate {
    const NAME: &'static str = "create";
    type Reply = RpCreate;
    class_op!(OpCreate);
}

/// The reply to [`OpCreate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RpCreate {
    /// The uid of the created (or adopted) object.
    pub uid: Uid,
    /// Whether an existing object of the same identity was adopted instead of created.
    #[serde(default)]
    pub adopted: bool,
}

impl RpCreate {
    /// A created object.
    pub fn created(uid: impl Into<Uid>) -> Self {
        RpCreate {
            uid: uid.into(),
            adopted: false,
        }
    }

    /// An existing object adopted instead.
    pub fn adopted(uid: impl Into<Uid>) -> Self {
        RpCreate {
            uid: uid.into(),
            adopted: true,
        }
    }
}

/// Read one object by uid.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpGet {
    /// The class.
    pub class: ObjectClass,
    /// The uid.
    pub uid: Uid,
    /// The attributes to return; `None` for those returned by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
}

impl OpGet {
    /// A get of `uid` in `class`.
    pub fn new(class: impl Into<ObjectClass>, uid: impl Into<Uid>) -> Self {
        OpGet {
            class: class.into(),
            uid: uid.into(),
            attributes_to_get: None,
        }
    }

    /// Asks for exactly these attributes.
    pub fn attributes(mut self, names: &[&str]) -> Self {
        self.attributes_to_get = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }
}

impl Operation for OpGet {
    const NAME: &'static str = "get";
    type Reply = RpGet;
    class_op!(OpGet);
    fn uid(&self) -> Option<&Uid> {
        Some(&self.uid)
    }
}

/// The reply to [`OpGet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RpGet {
    /// The object.
    pub object: ConnectorObject,
}

impl RpGet {
    /// The reply.
    pub fn new(object: ConnectorObject) -> Self {
        RpGet { object }
    }
}

/// Change an object: its name, its enabled flag, and attribute deltas, in one request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpUpdate {
    /// The class.
    pub class: ObjectClass,
    /// The uid.
    pub uid: Uid,
    /// A new name (requires the `rename` capability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new enabled flag (requires the `enable` capability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Attribute changes, applied in order.
    #[serde(default)]
    pub deltas: Vec<AttributeDelta>,
}

impl OpUpdate {
    /// An update of `uid` in `class` that changes nothing yet.
    pub fn new(class: impl Into<ObjectClass>, uid: impl Into<Uid>) -> Self {
        OpUpdate {
            class: class.into(),
            uid: uid.into(),
            name: None,
            enabled: None,
            deltas: Vec::new(),
        }
    }

    /// Adds a delta.
    pub fn delta(mut self, delta: AttributeDelta) -> Self {
        self.deltas.push(delta);
        self
    }

    /// Sets the enabled flag.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Renames the object.
    pub fn rename(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl Operation for OpUpdate {
    const NAME: &'static str = "update";
    type Reply = RpUpdate;
    class_op!(OpUpdate);
    fn needs(&self) -> Vec<&'static str> {
        let mut needs = Vec::new();
        if !self.deltas.is_empty() || (self.name.is_none() && self.enabled.is_none()) {
            needs.push("update");
        }
        if self.name.is_some() {
            needs.push("rename");
        }
        if self.enabled.is_some() {
            needs.push("enable");
        }
        needs
    }
    fn uid(&self) -> Option<&Uid> {
        Some(&self.uid)
    }
}

/// The reply to [`OpUpdate`]: the object's uid, which some targets change on rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RpUpdate {
    /// The uid after the update.
    pub uid: Uid,
}

impl RpUpdate {
    /// The reply.
    pub fn new(uid: impl Into<Uid>) -> Self {
        RpUpdate { uid: uid.into() }
    }
}

/// Delete an object.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpDelete {
    /// The class.
    pub class: ObjectClass,
    /// The uid.
    pub uid: Uid,
}

impl OpDelete {
    /// A delete of `uid` in `class`.
    pub fn new(class: impl Into<ObjectClass>, uid: impl Into<Uid>) -> Self {
        OpDelete {
            class: class.into(),
            uid: uid.into(),
        }
    }
}

impl Operation for OpDelete {
    const NAME: &'static str = "delete";
    type Reply = RpDelete;
    class_op!(OpDelete);
    fn uid(&self) -> Option<&Uid> {
        Some(&self.uid)
    }
}

/// The reply to [`OpDelete`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RpDelete {}

impl RpDelete {
    /// The reply.
    pub fn new() -> Self {
        RpDelete {}
    }
}

/// Find objects. Results stream to the host in batches; see [`crate::ObjectSink`].
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct OpSearch {
    /// The class.
    pub class: ObjectClass,
    /// The filter; `None` for every object of the class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// The attributes to return; `None` for those returned by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
    /// The page size the connector should use with the target; `None` for its default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}

impl OpSearch {
    /// Every object of `class`.
    pub fn new(class: impl Into<ObjectClass>) -> Self {
        OpSearch {
            class: class.into(),
            filter: None,
            attributes_to_get: None,
            page_size: None,
        }
    }

    /// Sets the filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Asks for exactly these attributes.
    pub fn attributes(mut self, names: &[&str]) -> Self {
        self.attributes_to_get = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Sets the page size.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }
}

impl Operation for OpSearch {
    const NAME: &'static str = "search";
    type Reply = RpSearch;
    class_op!(OpSearch);
}

/// The reply to [`OpSearch`], after the last batch.
///
/// **Completeness.** A search that returns `Ok` with `complete: true` claims it delivered every
/// object that matches. When it announced a total ([`crate::ObjectSink::total`]), the host
/// holds it to that total: fewer objects than announced fail the search as incomplete, unless
/// the reply marks the total as an estimate (`total_is_estimate`, for targets whose counts
/// are approximate or changed while they were read). A connector that cannot prove a read
/// complete returns an error (`connection_failed`, retryable) instead of a short success.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RpSearch {
    /// How many objects were sent.
    pub count: u64,
    /// `false` when the host stopped the search early.
    pub complete: bool,
    /// Whether the total announced was an estimate, which the objects sent may fall short of.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_is_estimate: bool,
}

impl RpSearch {
    /// What a connector answers after sending every match. The SDK counts what was sent (the
    /// connector's own count, if it gives one, is replaced by the sink's).
    pub fn completed() -> Self {
        RpSearch::new(0, true)
    }

    /// What a connector answers when the sink said [`std::ops::ControlFlow::Break`]: the host
    /// has read enough, and the search is not complete.
    pub fn stopped() -> Self {
        RpSearch::new(0, false)
    }

    /// A search that sent `count` objects; `complete` is false when the host stopped it. The
    /// SDK replaces `count` with what its sink counted; prefer [`RpSearch::completed`] and
    /// [`RpSearch::stopped`].
    pub fn new(count: u64, complete: bool) -> Self {
        RpSearch {
            count,
            complete,
            total_is_estimate: false,
        }
    }

    /// Marks the total announced as an estimate: fewer objects than it are no error.
    pub fn with_estimated_total(mut self) -> Self {
        self.total_is_estimate = true;
        self
    }
}
