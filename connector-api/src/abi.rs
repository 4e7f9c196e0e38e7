//! The frozen boundary between a host and a connector library: this ABI never changes within a
//! major version; new operations and fields are additive JSON.
//!
//! Everything a host and a plugin exchange passes through the three entry points of
//! [`ConnectorModule`] and the one method of [`ConnectorObj`]. Requests and replies are JSON
//! documents whose serde types live in [`crate::ops`]; this file holds only the `#[repr(C)]`
//! items that abi_stable checks at load time. A reviewer judges any ABI change by reading it.
//!
//! # Contract
//!
//! - `manifest()` returns the JSON of a [`crate::Manifest`]. It must not fail or touch the network.
//! - `validate(config)` checks a JSON configuration offline and answers `null` or an error of kind
//!   [`crate::ErrorKind::InvalidConfiguration`] naming the field.
//! - `open(config)` validates the configuration and builds a connector instance.
//! - [`ConnectorObj::call`]`(op, request, host)`: `op` names an operation (see
//!   [`crate::ops::Operation::NAME`]); `request` is a [`crate::wire::RequestEnvelope`] and the reply
//!   is the JSON of that operation's reply type. Unknown fields are ignored both ways; a new
//!   operation is a new name, never a new method.
//! - No panic crosses an entry point: [`crate::export_connector!`] turns one into an error of kind
//!   [`crate::ErrorKind::Internal`] carrying the panic message.
//! - `call` may run on several host threads at once. No runtime handle, future or allocator-owned
//!   pointer crosses, except through abi_stable's own types (`RString`, `RBox`).
//! - [`HostCallbacks`] is borrowed for one call only; the plugin must not keep it.
//!
//! # Compatibility
//!
//! - abi_stable rejects a plugin whose prefix types have *fewer* fields than the host's, so adding
//!   a field or method here breaks every existing plugin. Hence: nothing is ever added here.
//! - The connector-api package version is checked at load (0.x: the minor must match). It moves
//!   only with this file.
//! - [`ErrorCode`] is an integer, not an enum, so new kinds never break the layout.
// abi_stable's derives (`StableAbi`, `sabi_trait`) expand to `unsafe impl`s of its layout
// traits: the only unsafe code here, written by the macros, checked by abi_stable's layout test.
#![allow(unsafe_code)]
#![allow(non_camel_case_types, non_local_definitions)]

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::RRef,
    sabi_types::VersionStrings,
    std_types::{RBox, RResult, RStr, RString},
};

/// The version of the JSON protocol carried by [`ConnectorObj::call`]. Additive changes keep it;
/// only a change that an old peer would misread raises it.
pub const PROTOCOL_VERSION: u32 = 1;

/// A stable error kind code. The named codes live on [`crate::ErrorKind`]; an unknown code from a
/// newer peer is preserved, never rejected.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u16);

/// An error as it crosses the boundary. Hosts and authors use [`crate::ConnectorError`].
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiError {
    /// The kind, as a stable code.
    pub code: ErrorCode,
    /// Whether the same request may succeed if retried later.
    pub retryable: bool,
    /// A human-readable message. Never contains a secret.
    pub message: RString,
    /// A JSON document with structured details, or the empty string.
    pub details_json: RString,
}

/// The callbacks a host lends to the plugin for the duration of one [`ConnectorObj::call`].
#[sabi_trait]
pub trait HostCallbacks: Sync {
    /// Delivers one event, a JSON [`crate::wire::Event`] (a batch of search results, a total, a
    /// log line). Returns `false` when the host wants the operation to stop early.
    fn emit(&self, event_json: RStr<'_>) -> bool;

    /// Whether the host has cancelled the call. The plugin polls it while it waits.
    #[sabi(last_prefix_field)]
    fn is_cancelled(&self) -> bool;
}

/// A borrowed [`HostCallbacks`] object.
pub type HostCallbacksRef<'a> = HostCallbacks_TO<'a, RRef<'a, ()>>;

/// One open connector instance, owned by the host.
#[sabi_trait]
pub trait ConnectorObj: Send + Sync {
    /// Runs the operation `op` with the JSON `request`; answers the JSON reply.
    #[sabi(last_prefix_field)]
    fn call(
        &self,
        op: RStr<'_>,
        request_json: RStr<'_>,
        host: HostCallbacksRef<'_>,
    ) -> RResult<RString, AbiError>;
}

/// An owned connector instance as the host holds it. Dropping it closes the connector.
pub type ConnectorBox = ConnectorObj_TO<'static, RBox<()>>;

/// The root module every connector library exports.
#[allow(missing_debug_implementations)]
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ConnectorModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct ConnectorModule {
    /// The JSON of the connector's [`crate::Manifest`].
    pub manifest: extern "C" fn() -> RString,
    /// Checks a JSON configuration offline; answers `null`.
    pub validate: extern "C" fn(config_json: RStr<'_>) -> RResult<RString, AbiError>,
    /// Builds a connector from a JSON configuration.
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(config_json: RStr<'_>) -> RResult<ConnectorBox, AbiError>,
}

impl RootModule for ConnectorModule_Ref {
    declare_root_module_statics! {ConnectorModule_Ref}
    const BASE_NAME: &'static str = "idhub_connector";
    const NAME: &'static str = "IDHub connector";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
