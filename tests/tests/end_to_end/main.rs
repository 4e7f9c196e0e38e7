//! The end-to-end tests, one module per area, linked into one test binary.
//!
//! One binary instead of one per file: each would link the simulator, the harness and their
//! HTTP stacks again, which costs minutes of linking on two cores and gigabytes of disk.
//! Run one area with `cargo test -p connector-tests -- atlassian_users::`.

mod common;

mod atlassian_groups_search;
mod atlassian_scale;
mod atlassian_users;
mod bad_input;
mod chaos;
mod cli;
mod completeness;
mod config_schema;
mod conformance;
mod hostile_text;
mod load;
mod loading;
mod memory_connector;
mod org_profiles;
mod pacing;
mod panics;
mod probe;
mod recon_integrity;
mod scaffold;
mod secrets;
mod sim_faults;
mod sim_scim;
mod sim_site;
mod tenant_behaviours;
