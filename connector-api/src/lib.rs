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
//!    The SDK publishes the schema as stock form libraries and a strict Ajv read it: no
//!    `$ref` (a field's title and description stay on the field), only standard formats
//!    (`uint32` becomes its range), `Option<T>` as an optional `T`, and a unit enum as a
//!    typed select whose options are titled (by `#[schemars(title = "…")]` on a variant, else
//!    its value in words). Derive `Serialize` on an enum too, so its `#[serde(default)]`
//!    shows in the form. State in the schema what a form can check (`range`, `length`,
//!    `regex(pattern = …)`, `extend("uniqueItems" = true)`); `validate` checks the rest.
//!    The manifest also carries a JSON Forms UI schema derived from it (order, password
//!    inputs for secrets, descriptions shown).
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
//! # Errors: which kind, for network and local targets alike
//!
//! Hosts act on the kind (retry, ask the admin, adopt, give up), so choose it by what the
//! admin or the host must do next, not by what failed inside. `retryable` comes from the kind
//! (`connection_failed`, `timeout`, `rate_limited` are; the rest are not) and can be set.
//!
//! | kind | means | an HTTP target | a local target (file, directory, database) |
//! |---|---|---|---|
//! | `invalid_configuration` | the configuration cannot work; name the field ([`ConnectorError::invalid_config`]) | a URL without `https` | a relative path, a missing required field |
//! | `invalid_credentials` | the target refused who we are | 401 | a key or password that does not open the file or database |
//! | `permission_denied` | known, but not allowed to do this | 403 | a file or directory not readable or writable (`EACCES`) |
//! | `connection_failed` | unreachable, or an answer that cannot be believed: say what was inconsistent | DNS, TLS, refused connection, 5xx, a page that contradicts its request | a missing directory or mount, a locked file, a file malformed at a line (`retryable: false`: retrying reads the same bytes) |
//! | `timeout` | the deadline passed; a write may or may not have happened, say which | no answer in time | a lock not released in time |
//! | `rate_limited` | the target asks to slow down; `details.retry_after_ms` when it says when | 429 with `Retry-After` | a quota of calls |
//! | `already_exists` | a create of what exists; carry its uid ([`ConnectorError::already_exists`]) | 409 | a record with that key |
//! | `unknown_uid` | no object has this uid ([`ConnectorError::unknown_uid`]); also a second delete | 404 | no record with that key |
//! | `invalid_attribute_value` | a value refused, or an attribute the class does not have (also in `attributes_to_get`); name it ([`ConnectorError::invalid_value`]) | 400 on a field | a value the format cannot hold |
//! | `invalid_filter` | a filter the connector cannot answer, or on an unknown attribute | | |
//! | `unsupported` | an operation, class or option not offered ([`ConnectorError::unsupported`]) | | |
//! | `partial_success` | part was done; say what, and what is missing ([`ConnectorError::partial_success`]) | a user created, a group grant refused | a record written, its index not |
//! | `cancelled` | the host cancelled ([`Context::check`]) | | |
//! | `internal` | a bug: a panic, a broken invariant (the SDK makes panics this) | | |
//!
//! # Small rules the contract leaves to you
//!
//! - **Uids** are the target's own stable ids. A target without ids gets ids the connector
//!   makes and never reuses (the minimal example counts; a file connector may use a key
//!   column); never the name, which renames change.
//! - **[`AttributeDelta::apply_to`]** answers the attribute's new value, or `None` when the
//!   change leaves no value: then clear the attribute.
//! - **A search** sends its objects to the sink and answers [`ops::RpSearch::completed`], or
//!   [`ops::RpSearch::stopped`] once the sink said `Break`; the SDK counts what was sent.
//! - **A page-size cap** is declared ([`ClassCapabilities::with_page_size_max`]) when the target
//!   has one. The manifest knows no configuration: when the cap is configurable, declare the
//!   largest the target allows, and clamp page sizes to the configured one in `search`.
//!
//! # How the types grow
//!
//! Everything that crosses the boundary is JSON, and new fields are additive: a field the
//! other side does not know is ignored. So every struct of this crate that carries data
//! (requests, replies, objects, manifests, schemas, reports, errors) is `#[non_exhaustive]`:
//! read and set its public fields, build it with its constructor and `with_*` setters. Enums
//! a connector or host matches on and that may gain members ([`ErrorKind`],
//! [`AttributeType`]) are `#[non_exhaustive]` too; [`Filter`], [`DeltaChange`], [`LogLevel`]
//! and [`CheckStatus`] are closed, since a new member would change the protocol version.
//!
//! # Deriving with the SDK's serde and schemars
//!
//! The configuration derives `serde::Deserialize` and `schemars::JsonSchema`; the SDK re-exports
//! the versions it uses as [`connector_api::serde_json`](crate::serde_json) and
//! [`connector_api::schemars`](crate::schemars). Depend on `serde = "1"` and `schemars = "1"`
//! yourself (the derives name those crates), or derive through the re-export with
//! `#[schemars(crate = "connector_api::schemars")]`.
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
//! `examples/minimal.rs`, whole: users in memory, every operation, and a unit test with the
//! test kit. It passes the conformance suite with `examples/minimal.conformance.json`, and it
//! is what `host-harness new` generates. `examples/memory_connector.rs` is a fuller version,
//! with groups, memberships, a schema, a test of the connection and simulated latency.
//!
//! ```
#![doc = include_str!("../examples/minimal.rs")]
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
// The complete connector of these docs is `examples/minimal.rs` whole, its unit test included.
#![allow(clippy::test_attr_in_doctest)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod abi;
mod author;
mod capability;
mod config_form;
mod error;
mod export;
mod filter;
mod model;
pub mod ops;
pub mod redact;
mod report;
mod schema;
mod secret;
#[doc(hidden)]
pub mod wire;

#[cfg(feature = "host")]
pub mod host;
#[cfg(feature = "tokio")]
pub mod rt;
#[cfg(feature = "testing")]
pub mod testing;

pub use author::{Connector, Context, LogLevel, ObjectSink};
pub use capability::{Capabilities, ClassCapabilities, Manifest};
pub use error::{ConfigProblems, ConnectorError, ErrorKind, Result};
pub use filter::{AttributeValue, Filter};
pub use model::{AttributeDelta, ConnectorObject, DeltaChange, ObjectClass, Uid, special};
pub use report::{CheckStatus, TestCheck, TestReport};
pub use schema::{AttributeSchema, AttributeType, ClassSchema, Schema};
pub use secret::{REDACTED, Secret};

pub use schemars;
pub use serde_json;

/// The connector-api version this crate is: what a plugin reports as its `api_version`.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What [`export_connector!`] expands to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::config_form::config_schema;
    pub use crate::export::{
        PANIC_PROBE_OPERATION, full_manifest, guard, lib_header, parse_config,
    };
    pub use abi_stable::library::LibHeader;
}
