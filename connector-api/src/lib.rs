//! The IDHub connector SDK: write a connector in plain Rust, ship it as a dynamic library that any
//! IDHub host loads at run time.
//!
//! A connector provisions and reconciles accounts in one target system: it creates, reads,
//! updates, disables and deletes users and groups there, and streams them back for
//! reconciliation. This crate gives you:
//!
//! - [`Connector`], the one trait you implement. Only `manifest` and `open` are required; every
//!   operation defaults to an [`ErrorKind::Unsupported`] error.
//! - The data model ([`ConnectorObject`], [`AttributeDelta`], [`Filter`], [`Schema`]) and the
//!   operations ([`ops`]), as serde types.
//! - [`export_connector!`], one line that makes your type a loadable library: it generates the
//!   stable-ABI root module, a panic guard on every entry point and the JSON envelope.
#![cfg_attr(
    feature = "host",
    doc = "- With feature `host`: [`host::PluginLibrary`] to load libraries and \
           [`host::ConnectorClient`] to call them, typed, from many threads."
)]
#![cfg_attr(
    not(feature = "host"),
    doc = "- With feature `host`: `host::PluginLibrary` to load libraries and \
           `host::ConnectorClient` to call them, typed, from many threads."
)]
//! - With feature `tokio`: `rt`, the async kit (the connector's own runtime, each call under its
//!   deadline, cancellation and log). With feature `testing`: `testing`, the test kit
//!   (`ConnectorTest` calls a connector in-process exactly as a host calls the built library).
//!
//! # Writing a connector
//!
//! 1. Make a library crate built as a `cdylib`:
//!
//!    ```toml
//!    [lib]
//!    crate-type = ["cdylib", "rlib"]   # rlib too, so your own unit tests can use the type
//!
//!    [dependencies]
//!    connector-api = "0.1"
//!    serde = { version = "1", features = ["derive"] }
//!    serde_json = "1"
//!    schemars = "1"
//!    ```
//!
//! 2. Declare the configuration. Its JSON Schema is published in the manifest so that IDHub
//!    renders a form from it: give every field a doc comment (the form's description), use
//!    [`Secret`] for every credential (it is `writeOnly`, redacted in Debug, Display and
//!    Serialize, and wiped on drop), and `deny_unknown_fields` so typos are caught.
//!
//! 3. Implement [`Connector`]: the manifest (name, version, vendor, description and the
//!    capabilities of each object class, see [`ClassCapabilities`]), `validate` (offline checks
//!    across fields, all reported at once with [`ConfigProblems`]), `open`, and the operations
//!    you declared.
//!
//! 4. Export it: `connector_api::export_connector!(MyConnector);` at the crate root.
//!
//! 5. Test it in-process: with `connector-api = { version = "0.1", features = ["testing"] }`
//!    under `[dev-dependencies]`, `testing::ConnectorTest::<MyConnector>::open(&config)` opens
//!    it as the library's `open` does, and each `call(op)` goes through the same envelope,
//!    panic guard and redaction as a host's call, answering the reply with the objects, totals
//!    and log lines the call sent. `timeout`, `log_level`, `stop_after` and `canceller` set what
//!    the host asks. The memory example's tests show each.
//!
//! 6. Check the built library: `host-harness inspect target/debug/libmy_connector.so` prints what a host sees;
//!    `host-harness conform target/debug/libmy_connector.so --suite my-suite.json` runs the
//!    conformance suite against it. (`host-harness` is this workspace's harness: `cargo install
//!    --path host-harness`, or `cargo build --release -p host-harness`.) The suite file is JSON;
//!    `host-harness suite --schema` prints its JSON Schema, with every key's meaning and the
//!    checks it enables, and `host-harness suite my-suite.json` checks a file (an unknown key is
//!    an error naming it). Its keys:
//!
//!    | key | type | what it is, and the checks it enables |
//!    |---|---|---|
//!    | `config` | object | the configuration that works; every check opens the connector with it |
//!    | `config_file` | path | or a file holding it, relative to the suite file |
//!    | `plugin` | path | the library, relative to the suite file (the command line wins) |
//!    | `prefix` | string | the prefix of every object the suite creates (`conform-`) |
//!    | `classes` | object | a sample per class: `name` (a template with `{prefix}`, `{n}`, `{name}`), `attributes` of a valid create, `update` and `multi` (`{attribute, values}`: a single- and a multi-valued updatable attribute and two values), `invalid` (`{attribute, value}` the connector must refuse), `members` (`{attribute, class, reverse}` for groups); enables `lifecycle.<class>.*`, `search.<class>.*` and `membership.*` |
//!    | `bad_configs` | array | configurations that must fail: `name`, `patch` on the good one, and `offline_field` (`validate` names it), `failing_check` (`test` fails that check) or `error_kind` (an operation fails so); `boundary.invalid_configs_rejected` |
//!    | `slow_config` | object | a patch that makes every call take seconds: `boundary.timeout_honoured`, `boundary.cancellation_honoured` |
//!    | `dead_config` | object | a patch pointing at an endpoint where nothing listens: `resilience.dead_endpoint_fails_fast` |
//!    | `cleanup_config` | object | a patch used to delete what the suite created (e.g. a hard delete) |
//!    | `simulator`, `org`, `switches`, `propagation_delay_ms` | | the embedded Atlassian simulator: for the Atlassian plugin only |
//!
//!    The run is strict: a capability the manifest declares with no sample to test it with
//!    fails its checks ("declared `create` for class `user`, but the suite has no
//!    `classes.user` sample"); `--lenient` makes those skips. `examples/memory_connector.conformance.json`
//!    is a complete suite.
//!
//! # The rules every connector follows
//!
//! - **Errors are data.** Use the [`ErrorKind`] that fits, with the constructors on
//!   [`ConnectorError`]: [`ConnectorError::already_exists`] carries the existing uid,
//!   [`ConnectorError::invalid_value`] names the attribute, [`ConnectorError::partial_success`]
//!   says what was done and what is missing, so the host retries only that.
//! - **Never duplicate.** A create retried after a lost reply must not make a second object:
//!   look the object up and adopt it (declare `create_adopts_existing`) or answer `already_exists`.
//! - **Stream.** A search hands objects to its [`ObjectSink`] in batches, in a stable order,
//!   with no gap and no duplicate, and stops when the sink says [`std::ops::ControlFlow::Break`].
//! - **Honour the call's [`Context`].** Check [`Context::check`] between requests and bound waits
//!   by [`Context::remaining`]; answer [`ErrorKind::Timeout`] or [`ErrorKind::Cancelled`].
//! - **Be thread-safe.** One instance serves many host threads at once.
//! - **Keep secrets secret.** Never put a credential in a message, a detail, or a log line
//!   ([`Context::log`] goes to the host's log).
//! - **Keep async inside.** A runtime handle or a future must never cross to the host, and
//!   the [`Context`] is lent for the call only. With feature `tokio`, `connector_api::rt` does
//!   this for you: the connector's own runtime, `rt::block_on(ctx, effect, future)` under the
//!   call's deadline and cancellation, `rt::spawn` and a lazy `rt::log` whose lines reach the
//!   host from any of the call's tasks.
//! - **Log what an admin needs to troubleshoot.** Each request at `Debug` with its status and
//!   time, each retry and each request given up at `Info`; the host filters by level. A failure
//!   is the error you return, so do not log it as a warning too.
//! - A panic is contained and reported as [`ErrorKind::Internal`], but it is still a bug.
//!
//! # A complete connector
//!
//! This one keeps users in memory; `examples/memory_connector.rs` is a fuller version with
//! groups and memberships that passes the whole conformance suite.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::ops::ControlFlow;
//! use std::sync::Mutex;
//!
//! use connector_api::ops::*;
//! use connector_api::*;
//! use serde::Deserialize;
//!
//! /// The configuration IDHub's admin fills in.
//! #[derive(Deserialize, schemars::JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! pub struct Config {
//!     /// Where the directory lives (a label, for this example).
//!     pub directory: String,
//!     /// The key that opens it.
//!     pub api_key: Secret,
//! }
//!
//! pub struct Users {
//!     users: Mutex<BTreeMap<String, ConnectorObject>>,
//! }
//!
//! impl Connector for Users {
//!     type Config = Config;
//!
//!     fn manifest() -> Manifest {
//!         Manifest::new("users-example", env!("CARGO_PKG_VERSION"))
//!             .vendor("Example Corp")
//!             .description("Keeps users in memory.")
//!             .class("user", ClassCapabilities::all().with_rename(false))
//!     }
//!
//!     fn validate(config: &Config) -> Result<()> {
//!         let mut problems = ConfigProblems::default();
//!         problems.check(!config.directory.is_empty(), "directory", "must not be empty");
//!         problems.check(!config.api_key.is_blank(), "api_key", "must not be empty");
//!         problems.into_result()
//!     }
//!
//!     fn open(_config: Config) -> Result<Self> {
//!         Ok(Users { users: Mutex::new(BTreeMap::new()) })
//!     }
//!
//!     fn create(&self, _ctx: &Context<'_>, op: OpCreate) -> Result<RpCreate> {
//!         let mut users = self.users.lock().unwrap();
//!         if let Some(existing) = users.values().find(|u| u.name == op.name) {
//!             return Err(ConnectorError::already_exists(
//!                 format!("user `{}` exists", op.name),
//!                 Some(existing.uid.as_str()),
//!             ));
//!         }
//!         let uid = format!("u{}", users.len() + 1);
//!         let mut user = ConnectorObject::new(uid.as_str(), op.name.as_str())
//!             .with_enabled(op.enabled.unwrap_or(true));
//!         user.attributes = op.attributes;
//!         users.insert(uid.clone(), user);
//!         Ok(RpCreate::created(uid))
//!     }
//!
//!     fn get(&self, _ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
//!         let users = self.users.lock().unwrap();
//!         let user = users.get(op.uid.as_str())
//!             .ok_or_else(|| ConnectorError::unknown_uid("user", op.uid.as_str()))?;
//!         Ok(RpGet::new(user.clone()))
//!     }
//!
//!     fn update(&self, _ctx: &Context<'_>, op: OpUpdate) -> Result<RpUpdate> {
//!         let mut users = self.users.lock().unwrap();
//!         let user = users.get_mut(op.uid.as_str())
//!             .ok_or_else(|| ConnectorError::unknown_uid("user", op.uid.as_str()))?;
//!         if let Some(enabled) = op.enabled {
//!             user.enabled = Some(enabled);
//!         }
//!         for delta in &op.deltas {
//!             match delta.apply_to(user.attributes.get(&delta.attribute), false) {
//!                 Some(value) => user.attributes.insert(delta.attribute.clone(), value),
//!                 None => user.attributes.remove(&delta.attribute),
//!             };
//!         }
//!         Ok(RpUpdate::new(op.uid))
//!     }
//!
//!     fn delete(&self, _ctx: &Context<'_>, op: OpDelete) -> Result<RpDelete> {
//!         self.users.lock().unwrap().remove(op.uid.as_str())
//!             .map(|_| RpDelete::new())
//!             .ok_or_else(|| ConnectorError::unknown_uid("user", op.uid.as_str()))
//!     }
//!
//!     fn search(&self, ctx: &Context<'_>, op: OpSearch, sink: &mut dyn ObjectSink)
//!         -> Result<RpSearch>
//!     {
//!         let matching: Vec<ConnectorObject> = self.users.lock().unwrap().values()
//!             .filter(|u| op.filter.as_ref().is_none_or(|f| f.matches(u)))
//!             .cloned()
//!             .collect();
//!         let page = op.page_size.unwrap_or(100).max(1) as usize;
//!         for batch in matching.chunks(page) {
//!             ctx.check()?;
//!             if sink.push(batch.to_vec()).is_break() {
//!                 return Ok(RpSearch::new(0, false));
//!             }
//!         }
//!         Ok(RpSearch::new(matching.len() as u64, true))
//!     }
//! }
//!
//! connector_api::export_connector!(Users);
//! #
//! # // The same calls a host makes through the library, made in-process:
//! # let ctx = Context::detached();
//! # let c = Users::open(serde_json::from_str(r#"{"directory":"d","api_key":"k"}"#).unwrap()).unwrap();
//! # let uid = c.create(&ctx, OpCreate::new("user", "ada")).unwrap().uid;
//! # assert_eq!(c.get(&ctx, OpGet::new("user", uid.clone())).unwrap().object.name, "ada");
//! # let dup = c.create(&ctx, OpCreate::new("user", "ada")).unwrap_err();
//! # assert_eq!(dup.existing_uid(), Some(uid.as_str()));
//! # let mut found = Vec::new();
//! # c.search(&ctx, OpSearch::new("user").filter(Filter::name("ada")), &mut found).unwrap();
//! # assert_eq!(found.len(), 1);
//! ```
//!
//! # Hosts
//!
//! With feature `host`:
//!
//! ```no_run
//! # #[cfg(feature = "host")] fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use connector_api::host::PluginLibrary;
//! use connector_api::ops::OpSearch;
//!
//! let library = PluginLibrary::load("target/debug/libmy_connector.so")?; // short, clear errors
//! println!("{} {}", library.manifest().name, library.manifest().version);
//! let config = serde_json::json!({"directory": "d", "api_key": "k"});
//! library.validate(&config)?;                       // offline; the error names the field
//! let client = library.open(&config)?;              // Send + Sync + Clone
//! for user in client.search_all(&OpSearch::new("user"))? {
//!     println!("{} {}", user.uid, user.name);
//! }
//! # Ok(()) }
//! # #[cfg(not(feature = "host"))] fn main() {}
//! ```
//!
//! # The boundary
//!
//! [`abi`] is the frozen stable ABI: a root module (manifest, validate, open) and one object
//! with one method, `call(operation, json) -> json`. Everything else in this crate is JSON that
//! crosses it, so new operations and fields are additive and never break a built library.
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod abi;
mod author;
mod capability;
mod error;
mod export;
mod filter;
mod model;
pub mod ops;
pub mod redact;
mod report;
mod schema;
mod secret;

#[cfg(feature = "host")]
pub mod host;
#[cfg(feature = "tokio")]
pub mod rt;
#[cfg(feature = "testing")]
pub mod testing;

pub use author::{Connector, Context, LogLevel, ObjectSink};
pub use capability::{Capabilities, ClassCapabilities, Manifest};
pub use error::{ConfigProblems, ConnectorError, ErrorKind, Result};
pub use export::{PANIC_PROBE_OPERATION, config_schema, full_manifest, guard, parse_config};
pub use filter::{AttributeValue, Filter};
pub use model::{AttributeDelta, ConnectorObject, DeltaChange, ObjectClass, Uid, special};
pub use report::{CheckStatus, TestCheck, TestReport};
pub use schema::{AttributeSchema, AttributeType, ClassSchema, Schema};
pub use secret::{REDACTED, Secret};

/// The connector-api version this crate is: what a plugin reports as its `api_version`.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What [`export_connector!`] expands to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::lib_header;
    pub use abi_stable::library::LibHeader;
}
