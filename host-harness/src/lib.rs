//! The host harness: loads any IDHub connector library and drives it through the real ABI.
//!
//! - [`cli`]: one module per command, each a function the binary calls.
//! - [`conformance`]: the conformance suite any connector runs through the real ABI.
//! - [`plugin`]: finding and loading a plugin and its configuration.
//! - [`sim`]: the in-memory Atlassian Cloud simulator.

pub mod cli;
pub mod conformance;
pub mod inert;
pub mod no_dumps;
pub mod plugin;
pub mod sim;
