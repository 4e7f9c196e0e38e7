//! The test kit (feature `testing`): call a connector in-process exactly as a host calls the
//! built library, and see everything the call sent.
//!
//! [`ConnectorTest::open`] parses and validates the configuration and opens the connector as
//! the library's `open` entry point does. Each call then goes through the same JSON envelope,
//! dispatcher, panic guard and redaction as a call across the ABI, with a recording host on
//! the other side: the reply, the objects and totals a search sent, and the log lines, each at
//! its level. [`ConnectorTest::timeout`], [`ConnectorTest::log_level`],
//! [`ConnectorTest::canceller`] and [`ConnectorTest::stop_after`] set what the host asks.
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use connector_api::testing::ConnectorTest;
//! # use connector_api::{Connector, Result, Secret};
//! # #[derive(serde::Deserialize, schemars::JsonSchema)]
//! # struct Config { api_key: Secret }
//! # struct Nothing;
//! # impl Connector for Nothing {
//! #     type Config = Config;
//! #     fn manifest() -> connector_api::Manifest { connector_api::Manifest::new("nothing", "1.0.0") }
//! #     fn open(_: Config) -> Result<Self> { Ok(Nothing) }
//! # }
//!
//! let test = ConnectorTest::<Nothing>::open(&serde_json::json!({"api_key": "k"})).unwrap();
//! let error = test.run(connector_api::ops::OpTest::new()).unwrap_err();
//! assert_eq!(error.kind, connector_api::ErrorKind::Unsupported);
//! # }
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::abi::PROTOCOL_VERSION;
use crate::author::{Connector, HostLink, LogLevel};
use crate::error::{ConnectorError, Result};
use crate::export::{clean_error, dispatch, guard, parse_config};
use crate::model::ConnectorObject;
use crate::ops::Operation;
use crate::redact::Redactor;
use crate::wire::{Event, RequestEnvelope};

/// One connector, opened in-process, called as a host calls it.
#[derive(Debug)]
pub struct ConnectorTest<C> {
    connector: C,
    redactor: Redactor,
    timeout: Option<Duration>,
    log_level: LogLevel,
    stop_after: Option<usize>,
    cancelled: Arc<AtomicBool>,
}

/// Cancels the calls of a [`ConnectorTest`], from any thread: what a host's cancel does.
#[derive(Debug, Clone)]
pub struct Canceller(Arc<AtomicBool>);

impl Canceller {
    /// Cancels the call in progress and every call after, until [`Canceller::reset`].
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Lets calls run again.
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// What one call answered, and everything it sent the host on the way.
#[derive(Debug)]
#[non_exhaustive]
pub struct Call<R> {
    /// The reply or the error, as the host receives them (secrets redacted).
    pub result: Result<R>,
    /// The objects a search sent, in order.
    pub objects: Vec<ConnectorObject>,
    /// The totals a search announced.
    pub totals: Vec<u64>,
    /// The log lines, in order.
    pub logs: Vec<(LogLevel, String)>,
}

impl<C: Connector> ConnectorTest<C> {
    /// Parses, validates and opens `config` as the library's `open` does.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidConfiguration`] naming the field, or what the connector's
    /// `validate` or `open` answered, secrets redacted.
    pub fn open(config: &serde_json::Value) -> Result<Self> {
        let redactor =
            Redactor::for_config(config, &crate::config_form::config_schema::<C::Config>());
        let json = config.to_string();
        let connector =
            guard(|| C::open(parse_config::<C>(&json)?)).map_err(|e| through_abi(&redactor, e))?;
        Ok(ConnectorTest {
            connector,
            redactor,
            timeout: None,
            log_level: LogLevel::Trace,
            stop_after: None,
            cancelled: Arc::default(),
        })
    }

    /// The connector itself, to call directly or inspect.
    pub fn connector(&self) -> &C {
        &self.connector
    }

    /// Every later call gets `timeout` as its deadline, as a host's `timeout_ms`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Every later call records lines up to `level` only, as a host's `log_level`.
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }

    /// A search stops once `objects` objects arrived, as a host that has read enough.
    pub fn stop_after(mut self, objects: usize) -> Self {
        self.stop_after = Some(objects);
        self
    }

    /// The handle that cancels this connector's calls.
    pub fn canceller(&self) -> Canceller {
        Canceller(Arc::clone(&self.cancelled))
    }

    /// Calls operation `op` and answers the reply with everything sent on the way.
    pub fn call<O: Operation>(&self, op: O) -> Call<O::Reply> {
        let recorder = Recorder {
            redactor: &self.redactor,
            cancelled: &self.cancelled,
            stop_after: self.stop_after,
            sent: Mutex::default(),
        };
        let envelope = RequestEnvelope {
            protocol: PROTOCOL_VERSION,
            timeout_ms: self.timeout.map(|t| t.as_millis() as u64),
            log_level: Some(self.log_level),
            request: op,
        };
        let result = serde_json::to_string(&envelope)
            .map_err(|e| ConnectorError::internal(format!("the request could not be encoded: {e}")))
            .and_then(|json| guard(|| dispatch(&self.connector, O::NAME, &json, &recorder)))
            .and_then(|reply| {
                let reply = self.redactor.json(&reply);
                serde_json::from_str(&reply).map_err(|e| {
                    ConnectorError::internal(format!("the `{}` reply is malformed: {e}", O::NAME))
                })
            })
            .map_err(|e| through_abi(&self.redactor, e));
        let sent = recorder
            .sent
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        Call {
            result,
            objects: sent.objects,
            totals: sent.totals,
            logs: sent.logs,
        }
    }

    /// Calls operation `op` and answers its reply only.
    ///
    /// # Errors
    ///
    /// The connector's error, as a host receives it.
    pub fn run<O: Operation>(&self, op: O) -> Result<O::Reply> {
        self.call(op).result
    }
}

/// An error as it reaches a host: redacted, then through the ABI's form and back.
fn through_abi(redactor: &Redactor, error: ConnectorError) -> ConnectorError {
    ConnectorError::from_abi(clean_error(redactor, error).into_abi())
}

/// The host side of a test call: keeps what the connector sent, redacted as the ABI does.
struct Recorder<'a> {
    redactor: &'a Redactor,
    cancelled: &'a AtomicBool,
    stop_after: Option<usize>,
    sent: Mutex<Sent>,
}

/// What a call sent the host on the way to its reply.
#[derive(Default)]
struct Sent {
    objects: Vec<ConnectorObject>,
    totals: Vec<u64>,
    logs: Vec<(LogLevel, String)>,
}

impl HostLink for Recorder<'_> {
    fn emit(&self, event: &Event) -> bool {
        // Through JSON, as across the ABI: what a host could not decode fails here too.
        let Ok(json) = serde_json::to_string(event) else {
            return true;
        };
        let Ok(event) = serde_json::from_str::<Event>(&self.redactor.json(&json)) else {
            return true;
        };
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Objects { objects } => sent.objects.extend(objects),
            Event::Total { total } => sent.totals.push(total),
            Event::Log { level, message } => {
                let level = serde_json::from_value(serde_json::Value::String(level))
                    .unwrap_or(LogLevel::Error);
                sent.logs.push((level, message));
            }
            Event::Unknown { .. } => {}
        }
        self.stop_after.is_none_or(|n| sent.objects.len() < n)
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{OpGet, RpGet};
    use crate::{ErrorKind, Manifest, Secret};

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Config {
        api_key: Secret,
    }

    /// Careless on purpose: it logs and fails with its own key, and panics on request.
    struct Leaky(String);

    impl Connector for Leaky {
        type Config = Config;
        fn manifest() -> Manifest {
            Manifest::new("leaky", "1.0.0")
        }
        fn open(config: Config) -> Result<Self> {
            Ok(Leaky(config.api_key.expose().to_owned()))
        }
        fn get(&self, ctx: &crate::Context<'_>, op: OpGet) -> Result<RpGet> {
            ctx.log(LogLevel::Info, format!("calling with {}", self.0));
            if op.uid.as_str() == "panic" {
                panic!("boom");
            }
            Err(ConnectorError::new(
                ErrorKind::InvalidCredentials,
                format!("key {} refused", self.0),
            ))
        }
    }

    #[test]
    fn what_leaves_a_test_call_is_redacted_and_panics_are_contained_as_across_the_abi() {
        let key = "sk-live-0123456789abcdef";
        let test = ConnectorTest::<Leaky>::open(&serde_json::json!({ "api_key": key })).unwrap();
        let call = test.call(OpGet::new("user", "u1"));
        let error = call.result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidCredentials);
        assert!(!error.message.contains(key), "{}", error.message);
        assert_eq!(call.logs.len(), 1);
        assert!(!call.logs[0].1.contains(key), "{}", call.logs[0].1);
        let panicked = test.run(OpGet::new("user", "panic")).unwrap_err();
        assert_eq!(panicked.kind, ErrorKind::Internal);
        assert!(panicked.message.contains("boom"), "{}", panicked.message);
        let empty = test.run(OpGet::new("user", "")).unwrap_err();
        assert_eq!(
            empty.kind,
            ErrorKind::UnknownUid,
            "checked at the boundary as by a host"
        );
    }
}
