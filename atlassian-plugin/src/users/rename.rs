//! Renames proven or refused: Atlassian may not allow userName changes, so a rename is done only
//! when the directory's answer carries the new name.

use connector_api::{ConnectorError, ErrorKind, Result, special};
use serde_json::{Value, json};

use crate::scim::types::User;

/// A rename SCIM refused (400, often `mutability`: PingFederate and IBM Verify list userName as
/// not updatable on Atlassian) is `unsupported`, naming the rename; other errors stay as they are.
pub(super) fn refused_rename(rename: Option<&str>, error: ConnectorError) -> ConnectorError {
    let status = error.details.get("status").and_then(Value::as_u64);
    match rename {
        Some(name) if status == Some(400) => ConnectorError::new(
            ErrorKind::Unsupported,
            format!(
                "the directory refused to rename the user to `{name}` ({}); Atlassian may not allow userName changes: create a new user instead",
                error.message
            ),
        )
        .with_details(json!({ "attribute": special::NAME, "status": 400 })),
        _ => error,
    }
}

/// A rename is done only when the record SCIM answers carries the new userName.
pub(super) fn proven_rename(name: &str, patched: &User) -> Result<()> {
    if patched.user_name.eq_ignore_ascii_case(name) {
        return Ok(());
    }
    Err(ConnectorError::new(
        ErrorKind::Unsupported,
        format!(
            "the directory accepted the rename to `{name}` but kept the userName `{}`: Atlassian did not apply it; create a new user instead",
            patched.user_name
        ),
    )
    .with_details(json!({ "attribute": special::NAME })))
}
