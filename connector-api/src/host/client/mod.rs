//! `ConnectorClient`: the typed host-side handle of an open connector, usable from many threads.
//!
//! Every call is checked against the manifest's capabilities before it crosses the ABI, encoded
//! as a [`RequestEnvelope`], and its reply decoded into the operation's reply type. Search results
//! arrive as batches through a borrowed callback, so the host never holds a whole directory.
//!
//! The connector's log lines go to `tracing` under the target `connector`; each call tells the
//! connector the most verbose level the host's subscriber records there, so lines nobody reads
//! are never built. A [`LogObserver`] receives every line, at every level, besides.

use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RStr, RString};
use serde_json::Value;

use crate::abi::{ConnectorBox, HostCallbacks, HostCallbacks_TO, PROTOCOL_VERSION};
use crate::author::LogLevel;
use crate::capability::Manifest;
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::model::{ConnectorObject, ObjectClass};
use crate::ops::{
    OpCreate, OpDelete, OpGet, OpSchema, OpSearch, OpTest, OpUpdate, Operation, RpCreate, RpDelete,
    RpGet, RpSearch, RpUpdate,
};
use crate::report::TestReport;
use crate::schema::Schema;
use crate::wire::{Event, RequestEnvelope};

/// A flag the host raises to cancel calls in flight; cheap to clone and share across threads.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every call that carries this token.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Options of one call.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// The time the connector may take; `None` for the client's default.
    pub timeout: Option<Duration>,
    /// A token that cancels the call.
    pub cancel: Option<CancelToken>,
}

impl CallOptions {
    /// Options with a timeout.
    pub fn timeout(timeout: Duration) -> Self {
        CallOptions {
            timeout: Some(timeout),
            cancel: None,
        }
    }

    /// Sets or clears the timeout.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Adds a cancel token.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// The typed handle of an open connector. Cloning shares the instance; it is `Send + Sync`, and
/// calls may run from many threads at once. Dropping the last clone closes the connector.
#[derive(Clone)]
pub struct ConnectorClient {
    inner: Arc<Inner>,
    default_timeout: Option<Duration>,
    log_observer: Option<LogObserver>,
}

/// Receives every log line the connector writes during a call, at every level, besides the
/// host's `tracing` log: to keep a job's lines with the job, or to scan them.
pub type LogObserver = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

struct Inner {
    obj: ConnectorBox,
    manifest: Manifest,
}

impl std::fmt::Debug for ConnectorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorClient")
            .field("connector", &self.inner.manifest.name)
            .field("default_timeout", &self.default_timeout)
            .field("log_observer", &self.log_observer.is_some())
            .finish_non_exhaustive()
    }
}

/// What a streamed search delivers.
#[derive(Debug)]
#[non_exhaustive]
pub enum SearchEvent {
    /// The next objects, in order.
    Objects(Vec<ConnectorObject>),
    /// The number of objects the search will return, once the connector knows it.
    Total(u64),
}

type EventFn<'f> = dyn FnMut(SearchEvent) -> ControlFlow<()> + Send + 'f;

impl ConnectorClient {
    pub(crate) fn new(obj: ConnectorBox, manifest: Manifest) -> Self {
        ConnectorClient {
            inner: Arc::new(Inner { obj, manifest }),
            default_timeout: None,
            log_observer: None,
        }
    }

    /// A client sharing the same instance whose calls default to `timeout`.
    pub fn with_default_timeout(&self, timeout: Option<Duration>) -> Self {
        ConnectorClient {
            default_timeout: timeout,
            ..self.clone()
        }
    }

    /// A client sharing the same instance whose calls also hand every log line to `observer`;
    /// the connector is then asked for lines at every level.
    pub fn with_log_observer(&self, observer: LogObserver) -> Self {
        ConnectorClient {
            log_observer: Some(observer),
            ..self.clone()
        }
    }

    /// The connector's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// Runs a typed operation with default options.
    pub fn call<O: Operation>(&self, op: &O) -> Result<O::Reply> {
        self.call_with(op, &CallOptions::default())
    }

    /// Runs a typed operation.
    pub fn call_with<O: Operation>(&self, op: &O, options: &CallOptions) -> Result<O::Reply> {
        self.check_capability(O::NAME, op.class().map(ObjectClass::as_str), &op.needs())?;
        op.check_addressable()?;
        let reply = self.cross(O::NAME, op, options, None)?;
        decode_reply(O::NAME, &reply)
    }

    /// Runs an operation given by name with a JSON request, as a command line does. The request
    /// is still checked against the capabilities when the operation is known.
    pub fn call_json(
        &self,
        operation: &str,
        request: &Value,
        options: &CallOptions,
    ) -> Result<Value> {
        let class = request.get("class").and_then(Value::as_str);
        self.check_capability(operation, class, &crate::wire::needs_of(operation, request))?;
        let reply = self.cross(operation, request, options, None)?;
        decode_reply(operation, &reply)
    }

    /// Runs an operation without the capability check, so that a conformance suite can verify
    /// the connector's own answer to undeclared classes and operations.
    pub fn call_unchecked(
        &self,
        operation: &str,
        request: &Value,
        options: &CallOptions,
    ) -> Result<Value> {
        let reply = self.cross(operation, request, options, None)?;
        decode_reply(operation, &reply)
    }

    /// Runs a search, handing each batch to `on_batch` in order; `on_batch` answers
    /// [`ControlFlow::Break`] to stop early.
    pub fn search_with(
        &self,
        op: &OpSearch,
        options: &CallOptions,
        mut on_batch: impl FnMut(Vec<ConnectorObject>) -> ControlFlow<()> + Send,
    ) -> Result<RpSearch> {
        self.search_stream(op, options, |event| match event {
            SearchEvent::Objects(batch) => on_batch(batch),
            SearchEvent::Total(_) => ControlFlow::Continue(()),
        })
    }

    /// Runs a search, handing batches and the announced total to `on_event` in order.
    ///
    /// A search the connector calls complete is checked against the total it announced:
    /// fewer objects than announced (unless the connector marked the total as an estimate)
    /// fail with `connection_failed`, retryable, after the objects were handed over, so that
    /// a short read is never taken for a whole one. See [`RpSearch`].
    pub fn search_stream(
        &self,
        op: &OpSearch,
        options: &CallOptions,
        mut on_event: impl FnMut(SearchEvent) -> ControlFlow<()> + Send,
    ) -> Result<RpSearch> {
        self.check_capability(OpSearch::NAME, Some(op.class.as_str()), &op.needs())?;
        let (mut announced, mut received) = (None::<u64>, 0u64);
        let mut counting = |event: SearchEvent| {
            match &event {
                SearchEvent::Total(total) => {
                    announced.get_or_insert(*total);
                }
                SearchEvent::Objects(batch) => received += batch.len() as u64,
            }
            on_event(event)
        };
        let reply = self.cross(OpSearch::NAME, op, options, Some(&mut counting))?;
        let reply: RpSearch = decode_reply(OpSearch::NAME, &reply)?;
        match announced {
            Some(total) if reply.complete && !reply.total_is_estimate && received < total => {
                Err(ConnectorError::new(
                    ErrorKind::ConnectionFailed,
                    format!(
                        "the search is incomplete: the connector announced {total} objects and called the search complete, but {received} arrived"
                    ),
                )
                .with_details(serde_json::json!({
                    "announced": total, "received": received, "incomplete": true,
                })))
            }
            _ => Ok(reply),
        }
    }

    /// Runs a search and collects every object. Only for small results; prefer
    /// [`ConnectorClient::search_with`].
    pub fn search_all(&self, op: &OpSearch) -> Result<Vec<ConnectorObject>> {
        let mut all = Vec::new();
        self.search_with(op, &CallOptions::default(), |batch| {
            all.extend(batch);
            ControlFlow::Continue(())
        })?;
        Ok(all)
    }

    /// Tests the connection.
    pub fn test(&self) -> Result<TestReport> {
        self.call(&OpTest::new())
    }

    /// Reads the schema.
    pub fn schema(&self) -> Result<Schema> {
        self.call(&OpSchema::new())
    }

    /// Creates an object.
    pub fn create(&self, op: &OpCreate) -> Result<RpCreate> {
        self.call(op)
    }

    /// Reads an object by uid.
    pub fn get(&self, op: &OpGet) -> Result<RpGet> {
        self.call(op)
    }

    /// Updates an object.
    pub fn update(&self, op: &OpUpdate) -> Result<RpUpdate> {
        self.call(op)
    }

    /// Deletes an object.
    pub fn delete(&self, op: &OpDelete) -> Result<RpDelete> {
        self.call(op)
    }

    /// Refuses, before crossing, an operation the manifest does not declare, or a request
    /// that needs a flag of its class the manifest does not declare (`needs`).
    fn check_capability(&self, operation: &str, class: Option<&str>, needs: &[&str]) -> Result<()> {
        let caps = &self.inner.manifest.capabilities;
        let connector = &self.inner.manifest.name;
        let missing =
            match (operation, class) {
                ("test", _) => (!caps.test).then_some(operation),
                ("schema", _) => (!caps.schema).then_some(operation),
                (_, Some(class)) => {
                    let Some(class_caps) = caps.class(class) else {
                        return Err(ConnectorError::unsupported(operation, Some(class))
                            .with_details(serde_json::json!({
                                "connector": connector, "operation": operation, "class": class,
                                "declared_classes": caps.classes.keys().collect::<Vec<_>>(),
                            })));
                    };
                    needs
                        .iter()
                        .copied()
                        .find(|need| !class_caps.declares(need))
                }
                // Unknown or class-less operations go through: the connector answers them.
                _ => None,
            };
        match missing {
            None => Ok(()),
            Some(need) => Err(ConnectorError::unsupported(need, class).with_details(
                serde_json::json!({
                    "connector": connector, "operation": operation, "class": class,
                    "needs": need, "reason": "not declared in the manifest's capabilities",
                }),
            )),
        }
    }

    fn cross<T: serde::Serialize>(
        &self,
        operation: &str,
        request: &T,
        options: &CallOptions,
        on_event: Option<&mut EventFn<'_>>,
    ) -> Result<RString> {
        let envelope = RequestEnvelope {
            protocol: PROTOCOL_VERSION,
            timeout_ms: options
                .timeout
                .or(self.default_timeout)
                .map(|t| t.as_millis().min(u64::MAX as u128) as u64),
            log_level: Some(if self.log_observer.is_some() {
                LogLevel::Trace
            } else {
                recorded_log_level()
            }),
            request,
        };
        let json = serde_json::to_string(&envelope).map_err(|e| {
            ConnectorError::internal(format!(
                "the `{operation}` request could not be encoded: {e}"
            ))
        })?;
        let side = HostSide {
            on_event: Mutex::new(on_event),
            cancel: options.cancel.clone(),
            failure: Mutex::new(None),
            log_observer: self.log_observer.as_ref(),
        };
        let callbacks = HostCallbacks_TO::from_ptr(&side, TD_Opaque);
        let reply = self
            .inner
            .obj
            .call(RStr::from(operation), RStr::from(json.as_str()), callbacks)
            .into_result()
            .map_err(ConnectorError::from_abi);
        // A failure on our side of the callback outranks whatever the plugin answered after it.
        if let Some(failure) = side.failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(failure);
        }
        reply
    }
}

fn decode_reply<T: serde::de::DeserializeOwned>(operation: &str, reply: &RString) -> Result<T> {
    serde_json::from_str(reply.as_str()).map_err(|e| {
        ConnectorError::internal(format!(
            "the connector's `{operation}` reply could not be decoded: {e}"
        ))
    })
}

/// The host's side of a call: receives events, reports cancellation.
struct HostSide<'f, 'g> {
    on_event: Mutex<Option<&'f mut EventFn<'g>>>,
    cancel: Option<CancelToken>,
    failure: Mutex<Option<ConnectorError>>,
    log_observer: Option<&'f LogObserver>,
}

impl HostSide<'_, '_> {
    fn fail(&self, error: ConnectorError) -> bool {
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(error);
        false
    }

    fn handle(&self, event_json: &str) -> bool {
        let event: Event = match serde_json::from_str(event_json) {
            Ok(event) => event,
            Err(e) => {
                return self.fail(ConnectorError::internal(format!(
                    "the connector sent a malformed event: {e}"
                )));
            }
        };
        let deliver = |event: SearchEvent| {
            let mut guard = self.on_event.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                Some(on_event) => on_event(event).is_continue(),
                None => self.fail(ConnectorError::internal(
                    "the connector sent search results outside a search",
                )),
            }
        };
        match event {
            Event::Objects { objects } => deliver(SearchEvent::Objects(objects)),
            Event::Total { total } => {
                let mut guard = self.on_event.lock().unwrap_or_else(|p| p.into_inner());
                guard
                    .as_mut()
                    .is_none_or(|on_event| on_event(SearchEvent::Total(total)).is_continue())
            }
            Event::Log { level, message } => {
                // A level from a newer connector is logged as info.
                let level = serde_json::from_value(Value::String(level)).unwrap_or(LogLevel::Info);
                log_event(level, &message);
                if let Some(observe) = self.log_observer {
                    observe(level, &message);
                }
                true
            }
            // An event kind from a newer connector: ignored, as additive JSON requires.
            Event::Unknown { .. } => true,
        }
    }
}

impl HostCallbacks for HostSide<'_, '_> {
    fn emit(&self, event_json: RStr<'_>) -> bool {
        // A panic must not unwind into the plugin's frames (abi_stable would abort the process).
        catch_unwind(AssertUnwindSafe(|| self.handle(event_json.as_str()))).unwrap_or_else(|_| {
            self.fail(ConnectorError::new(
                ErrorKind::Internal,
                "the host's search callback panicked",
            ))
        })
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }
}

/// The most verbose level this host's tracing subscriber records for the `connector` target,
/// so that a plugin neither builds nor sends lines nobody reads.
fn recorded_log_level() -> LogLevel {
    use tracing::Level;
    if tracing::enabled!(target: "connector", Level::TRACE) {
        LogLevel::Trace
    } else if tracing::enabled!(target: "connector", Level::DEBUG) {
        LogLevel::Debug
    } else if tracing::enabled!(target: "connector", Level::INFO) {
        LogLevel::Info
    } else if tracing::enabled!(target: "connector", Level::WARN) {
        LogLevel::Warn
    } else {
        LogLevel::Error
    }
}

fn log_event(level: LogLevel, message: &str) {
    match level {
        LogLevel::Error => tracing::error!(target: "connector", "{message}"),
        LogLevel::Warn => tracing::warn!(target: "connector", "{message}"),
        LogLevel::Info => tracing::info!(target: "connector", "{message}"),
        LogLevel::Debug => tracing::debug!(target: "connector", "{message}"),
        LogLevel::Trace => tracing::trace!(target: "connector", "{message}"),
    }
}

#[cfg(test)]
mod tests;
