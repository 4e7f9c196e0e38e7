//! The host side (feature `host`): load connector libraries and call them through a typed client.

pub mod client;
pub mod loader;

pub use client::{CallOptions, CancelToken, ConnectorClient, LogObserver, SearchEvent};
pub use loader::{LoadError, PluginLibrary};
