//! What every handler of the simulator shares: the organization, the credentials it accepts,
//! the fault engine and the switches for behaviours the sources leave open.

use std::sync::Arc;

use super::auth::Credentials;
use super::faults::FaultEngine;
use super::profile::OrgProfile;
use super::store::Store;

/// Behaviours the sources leave open, as switches.
#[derive(Debug, Clone)]
pub struct Switches {
    /// The status of a site write to a group synced from the identity provider (400 by default).
    pub synced_group_write_status: u16,
    /// Whether the 201 of a user create carries the account id; when off, the Atlassian
    /// extension appears only on later reads (the sources leave this open).
    pub account_id_in_create_response: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            synced_group_write_status: 400,
            account_id_in_create_response: true,
        }
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct SimState {
    /// The organization.
    pub store: Store,
    /// The credentials accepted.
    pub creds: Arc<Credentials>,
    /// The fault layer's state.
    pub faults: Arc<FaultEngine>,
    /// The open behaviours.
    pub switches: Arc<Switches>,
    /// The organization profile.
    pub org: OrgProfile,
}
