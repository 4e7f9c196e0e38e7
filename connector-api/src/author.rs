//! The `Connector` trait authors implement, the per-call `Context`, and the `ObjectSink` of search.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::capability::Manifest;
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::model::ConnectorObject;
use crate::ops::{
    OpCreate, OpDelete, OpGet, OpSearch, OpUpdate, RpCreate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use crate::report::TestReport;
use crate::schema::Schema;
use crate::wire::Event;

/// A connector: what an author implements, once, in plain Rust.
///
/// Only [`Connector::manifest`] and [`Connector::open`] are required. Every operation defaults to
/// an [`ErrorKind::Unsupported`] error; implement those the manifest declares, and declare those
/// you implement. [`crate::export_connector!`] turns the type into a loadable library.
///
/// # Contract
///
/// - Methods may be called from several host threads at once on one instance (`Sync`).
/// - No method panics on bad input; a panic is still contained and reported as
///   [`ErrorKind::Internal`], but it is a bug.
/// - Every method honours [`Context::deadline`] and [`Context::is_cancelled`] while it waits on
///   the target, answering [`ErrorKind::Timeout`] or [`ErrorKind::Cancelled`].
/// - Errors use the kinds as [`ErrorKind`] documents them; messages never contain a secret.
/// - `validate` and `open` never touch the network; `test` does, thoroughly.
pub trait Connector: Sized + Send + Sync + 'static {
    /// The configuration. Its JSON Schema (from `schemars`) is published in the manifest so that a
    /// host can render a form; use [`crate::Secret`] for every credential.
    type Config: DeserializeOwned + JsonSchema;

    /// Who the connector is and what it can do. Called without a configuration; must not fail.
    fn manifest() -> Manifest;

    /// Offline checks beyond what deserialization already enforces: consistency between fields,
    /// URL schemes, formats. Report every problem at once with [`crate::ConfigProblems`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidConfiguration`], naming each field (`details.problems`).
    fn validate(config: &Self::Config) -> Result<()> {
        let _ = config;
        Ok(())
    }

    /// Builds an instance from a configuration that passed [`Connector::validate`]. Touches no
    /// network: a target that is down must not stop a host from loading the connector.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidConfiguration`] for what only building shows (a key file that does
    /// not parse); [`ErrorKind::Internal`] for a resource the process lacks.
    fn open(config: Self::Config) -> Result<Self>;

    /// Tests the connection: each credential and permission as its own named check.
    ///
    /// # Errors
    ///
    /// A failed check is a report entry, not an error. An error means the test could not run:
    /// [`ErrorKind::Timeout`], [`ErrorKind::Cancelled`], or [`ErrorKind::Unsupported`] when
    /// the manifest does not declare `test`.
    fn test(&self, ctx: &Context<'_>) -> Result<TestReport> {
        let _ = ctx;
        Err(ConnectorError::unsupported("test", None))
    }

    /// Describes the object classes and their attributes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unsupported`] when the manifest does not declare `schema`; the kinds of
    /// [`ErrorKind`] for a schema read from the target.
    fn schema(&self, ctx: &Context<'_>) -> Result<Schema> {
        let _ = ctx;
        Err(ConnectorError::unsupported("schema", None))
    }

    /// Creates an object. When the object already exists, either adopt it (when it is the same
    /// person or thing, and the manifest declares `create_adopts_existing`) or fail with
    /// [`ErrorKind::AlreadyExists`] carrying the existing uid. A retried create must never
    /// produce a second object.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::AlreadyExists`] with the uid; [`ErrorKind::InvalidAttributeValue`] naming
    /// an attribute that is refused or unknown; [`ErrorKind::PartialSuccess`] when the object
    /// was made but part of the request was not applied; [`ErrorKind::Timeout`] saying that
    /// the create may have happened.
    fn create(&self, ctx: &Context<'_>, op: OpCreate) -> Result<RpCreate> {
        let _ = ctx;
        Err(ConnectorError::unsupported(
            "create",
            Some(op.class.as_str()),
        ))
    }

    /// Reads one object by uid, with only `attributes_to_get` when given.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownUid`]; [`ErrorKind::InvalidAttributeValue`] for a name in
    /// `attributes_to_get` the class does not have.
    fn get(&self, ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
        let _ = ctx;
        Err(ConnectorError::unsupported("get", Some(op.class.as_str())))
    }

    /// Applies name, enabled and attribute changes. Removing an absent value succeeds; an
    /// unknown uid fails with [`ErrorKind::UnknownUid`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownUid`]; [`ErrorKind::InvalidAttributeValue`] naming the attribute;
    /// [`ErrorKind::AlreadyExists`] for a rename onto a taken name; [`ErrorKind::PartialSuccess`]
    /// saying which changes were applied.
    fn update(&self, ctx: &Context<'_>, op: OpUpdate) -> Result<RpUpdate> {
        let _ = ctx;
        Err(ConnectorError::unsupported(
            "update",
            Some(op.class.as_str()),
        ))
    }

    /// Deletes an object; an unknown uid (including a second delete) fails with
    /// [`ErrorKind::UnknownUid`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownUid`], also for a second delete of the same uid.
    fn delete(&self, ctx: &Context<'_>, op: OpDelete) -> Result<RpDelete> {
        let _ = ctx;
        Err(ConnectorError::unsupported(
            "delete",
            Some(op.class.as_str()),
        ))
    }

    /// Streams the matching objects to `sink` in batches, in a stable order, with no duplicate and
    /// no gap, and stops as soon as the sink answers [`ControlFlow::Break`]. Never collect a whole
    /// directory in memory. A filter the target cannot answer is evaluated client-side
    /// ([`crate::Filter::matches`]) or refused with [`ErrorKind::InvalidFilter`].
    ///
    /// **A read is complete or it fails.** IDHub takes every account a complete search did not
    /// return for one removed outside IDHub, so `Ok` with `complete: true` must mean every
    /// match was sent. Check each page the target answers against what was asked (its position,
    /// its size, its total, that every object has an id, that objects returned for a filter
    /// really match it) and answer [`ErrorKind::ConnectionFailed`], retryable, saying what was
    /// inconsistent, rather than a short success. A total given to [`ObjectSink::total`] is a
    /// promise the host checks: fewer objects fail the search, unless the reply marks the
    /// total as an estimate ([`RpSearch::with_estimated_total`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidFilter`] for a filter on an unknown attribute;
    /// [`ErrorKind::ConnectionFailed`] (retryable) for a read that cannot be proven complete.
    fn search(
        &self,
        ctx: &Context<'_>,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
    ) -> Result<RpSearch> {
        let _ = (ctx, sink);
        Err(ConnectorError::unsupported(
            "search",
            Some(op.class.as_str()),
        ))
    }
}

/// Where a search sends its results.
pub trait ObjectSink {
    /// Takes the next objects, in order. Answers [`ControlFlow::Break`] when the host wants no
    /// more: the connector then stops fetching and returns.
    fn push(&mut self, objects: Vec<ConnectorObject>) -> ControlFlow<()>;

    /// Tells the host how many objects the search will return, once the target says so.
    fn total(&mut self, total: u64) {
        let _ = total;
    }
}

/// Collects everything: for tests and small in-process uses.
impl ObjectSink for Vec<ConnectorObject> {
    fn push(&mut self, objects: Vec<ConnectorObject>) -> ControlFlow<()> {
        self.extend(objects);
        ControlFlow::Continue(())
    }
}

/// What the host side of a call offers the connector: events and cancellation.
pub(crate) trait HostLink: Sync {
    /// Delivers an event; `false` asks the connector to stop.
    fn emit(&self, event: &Event) -> bool;
    /// Whether the host cancelled the call.
    fn is_cancelled(&self) -> bool;
}

struct Detached;

impl HostLink for Detached {
    fn emit(&self, _: &Event) -> bool {
        true
    }
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// The context of one call: its deadline, cancellation, and the host's log.
pub struct Context<'a> {
    deadline: Option<Instant>,
    max_log_level: LogLevel,
    link: &'a dyn HostLink,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        timeout: Option<Duration>,
        max_log_level: LogLevel,
        link: &'a dyn HostLink,
    ) -> Self {
        Context {
            deadline: timeout.map(|t| Instant::now() + t),
            max_log_level,
            link,
        }
    }

    /// A context with no host: no deadline, never cancelled, logs dropped. For tests and for
    /// calling a connector in-process.
    pub fn detached() -> Context<'static> {
        Context {
            deadline: None,
            max_log_level: LogLevel::Trace,
            link: &Detached,
        }
    }

    /// A detached context with a deadline `timeout` from now.
    pub fn with_timeout(timeout: Duration) -> Context<'static> {
        Context {
            deadline: Some(Instant::now() + timeout),
            max_log_level: LogLevel::Trace,
            link: &Detached,
        }
    }

    /// When the call must be answered by.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left before the deadline (zero once passed); `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the host cancelled the call.
    pub fn is_cancelled(&self) -> bool {
        self.link.is_cancelled()
    }

    /// `Err` of kind [`ErrorKind::Cancelled`] or [`ErrorKind::Timeout`] when the call should stop.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(ConnectorError::new(
                ErrorKind::Cancelled,
                "the host cancelled the call",
            ));
        }
        if self.remaining() == Some(Duration::ZERO) {
            return Err(ConnectorError::new(
                ErrorKind::Timeout,
                "the call's deadline passed",
            ));
        }
        Ok(())
    }

    /// The most verbose level the host records for this call: a line at `level` is wanted
    /// when `level <= ctx.max_log_level()`. Check it before building a costly line.
    pub fn max_log_level(&self) -> LogLevel {
        self.max_log_level
    }

    /// Sends a log line to the host's log, unless the host does not record `level`. Never log
    /// a secret.
    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        if level > self.max_log_level {
            return;
        }
        self.link.emit(&Event::Log {
            level: level.as_str().into(),
            message: message.into(),
        });
    }

    pub(crate) fn link(&self) -> &'a dyn HostLink {
        self.link
    }
}

/// The level of a log line sent with [`Context::log`], from the least verbose (`Error`) to the
/// most (`Trace`): `Error < Trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something deserves attention.
    Warn,
    /// A notable step.
    Info,
    /// Detail for troubleshooting.
    Debug,
    /// Every request.
    Trace,
}

impl LogLevel {
    /// The level's name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A host side that keeps every event it is sent.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<Event>>);

    impl HostLink for Recorder {
        fn emit(&self, event: &Event) -> bool {
            self.0.lock().unwrap().push(event.clone());
            true
        }
        fn is_cancelled(&self) -> bool {
            false
        }
    }

    #[test]
    fn lines_above_the_hosts_level_never_cross() {
        let host = Recorder::default();
        let ctx = Context::new(None, LogLevel::Info, &host);
        assert_eq!(ctx.max_log_level(), LogLevel::Info);
        for level in [
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ] {
            ctx.log(level, level.as_str());
        }
        let sent: Vec<String> = host
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                Event::Log { level, .. } => level.clone(),
                other => panic!("only log lines were written: {other:?}"),
            })
            .collect();
        assert_eq!(sent, ["error", "warn", "info"]);
    }

    #[test]
    fn levels_order_from_least_to_most_verbose_and_travel_in_lowercase() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Debug < LogLevel::Trace);
        assert_eq!(serde_json::to_value(LogLevel::Debug).unwrap(), "debug");
        let level: LogLevel = serde_json::from_str("\"trace\"").unwrap();
        assert_eq!(level, LogLevel::Trace);
    }
}
