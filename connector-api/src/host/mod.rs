//! The host side (feature `host`): load connector libraries and call them through a typed client.
//!
//! A host holds every connector's credentials in memory. Forbid core dumps of the process
//! before opening a connector (a core limit of 0, and on Linux `prctl(PR_SET_DUMPABLE, 0)`),
//! and drop your copy of a configuration's secrets once the connector is open: what a
//! connector sends back is already free of them (see [`crate::redact`]).

pub mod client;
mod image;
pub mod loader;

pub use client::{CallOptions, CancelToken, ConnectorClient, LogObserver, SearchEvent};
pub use loader::{LoadError, PluginLibrary};
