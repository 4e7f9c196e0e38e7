//! The host harness: loads any IDHub connector library and drives it through the real ABI.
//!
//! - [`cli`]: one module per command, each a function the binary calls.
//! - [`conformance`]: the conformance suite any connector runs through the real ABI.
//! - [`drift`]: what IDHub expects of a target, compared with what `recon` reads.
//! - [`plugin`]: finding and loading a plugin and its configuration.
//! - [`sim`]: the in-memory Atlassian Cloud simulator.
//! - [`inert`], [`no_dumps`], [`process_memory`]: terminal-safe text, no core dumps with
//!   credentials, this process's memory.

pub mod cli;
pub mod conformance;
pub mod drift;
pub mod inert;
pub mod no_dumps;
pub mod plugin;
pub mod process_memory;
pub mod sim;
