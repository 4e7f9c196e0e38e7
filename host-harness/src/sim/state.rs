//! What every handler of the simulator shares: the organization, the credentials it accepts,
//! the fault engine and the switches for behaviours the sources leave open.

use std::sync::Arc;

use super::auth::Credentials;
use super::faults::FaultEngine;
use super::profile::OrgProfile;
use super::store::Store;

/// How Jira answers a membership write that changes nothing (adding a member, removing a
/// non-member): Atlassian documents no answer; Jira Server said 400 "… is already a member",
/// a public Terraform provider expects 409, and a no-op success is as plausible.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoOpAnswer {
    /// 400 with Jira Server's words.
    #[default]
    BadRequest,
    /// 409 Conflict.
    Conflict,
    /// The write's success status, as if it had changed something.
    Success,
}

/// Behaviours the sources leave open, as switches.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Switches {
    /// The status of a site write to a group synced from the identity provider (400 by default).
    pub synced_group_write_status: u16,
    /// Whether the 201 of a user create carries the account id; when off, the Atlassian
    /// extension appears only on later reads (the sources leave this open).
    pub account_id_in_create_response: bool,
    /// How Jira answers a membership write that changes nothing.
    pub jira_no_op: NoOpAnswer,
    /// What SCIM does with a change of userName (PingFederate and IBM Verify list it as not
    /// updatable on Atlassian; Atlassian's spec only says it is unique).
    pub user_name_change: UserNameChange,
    /// Whether Jira answers a group write the caller may not make with 404 "Specified user does
    /// not exist or you do not have required permissions" instead of 403 (the same text comes
    /// back for wrong ids and for permission problems: fourplusone/terraform-provider-jira#44,
    /// pycontribs/jira#975).
    pub forbidden_as_404: bool,
    /// Whether SCIM PATCH is strictly RFC 7644: a `replace` on a value-filter path that matches
    /// nothing is 400 `noTarget`; a `remove` of a single-valued attribute without a value, and
    /// a `remove` of `members` with a value (the Entra form; under the RFC a remove of `members`
    /// without a filter removes everyone), are refused with 400; members leave by
    /// `members[value eq "…"]`.
    pub strict_patch: bool,
}

/// What SCIM does with a change of userName.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UserNameChange {
    /// Applies it.
    #[default]
    Allowed,
    /// Answers 400 `mutability`.
    Refused,
    /// Answers success and keeps the old userName.
    Ignored,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            synced_group_write_status: 400,
            account_id_in_create_response: true,
            jira_no_op: NoOpAnswer::default(),
            user_name_change: UserNameChange::default(),
            forbidden_as_404: false,
            strict_patch: false,
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
