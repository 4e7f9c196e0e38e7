//! The group rules Jira and Confluence share: both APIs write the same organization's site
//! groups, so a synced group, a group name and a membership change obey one set of rules,
//! whichever API is asked; each API only wraps the error in its own body shape.

use serde_json::Value;

use super::error::SimError;
use super::state::Switches;
use super::store::{Group, GroupSource, Org};

/// Refuses site writes to a group synced from the identity provider, with the configured
/// status (Atlassian: synced groups can only be changed in the identity provider).
pub fn refuse_synced(switches: &Switches, group: &Group) -> Result<(), SimError> {
    if group.source == GroupSource::Scim {
        return Err(SimError {
            status: switches.synced_group_write_status,
            scim_type: None,
            detail: format!(
                "Group '{}' is synced from an identity provider and can only be changed there.",
                group.name
            ),
        });
    }
    Ok(())
}

/// The non-empty `name` of a create-group body; `missing` is the API's words for its absence.
pub fn new_group_name(body: &[u8], missing: &str) -> Result<String, SimError> {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    body.get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| SimError::bad_request("invalidValue", missing))
}

/// Makes `account` a member of `group` or not; answers whether anything changed. A synced
/// group is refused, and so is an account the site cannot see (`unknown` is the API's words).
pub fn set_member(
    org: &mut Org,
    switches: &Switches,
    group: &Group,
    account: &str,
    member: bool,
    unknown: &str,
) -> Result<bool, SimError> {
    refuse_synced(switches, group)?;
    if org.visible_account(account).is_none() {
        return Err(SimError::not_found(unknown));
    }
    Ok(if member {
        org.add_member(&group.id, account)
    } else {
        org.remove_member(&group.id, account)
    })
}
