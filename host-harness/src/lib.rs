//! The host harness: loads any IDHub connector library and drives it through the real ABI.
//!
//! - [`cli`]: one module per command (`inspect`, `call`), each a function the binary calls.
//! - [`plugin`]: finding and loading a plugin and its configuration.
//! - [`sim`]: the in-memory Atlassian Cloud simulator.

pub mod cli;
pub mod plugin;
pub mod sim;
