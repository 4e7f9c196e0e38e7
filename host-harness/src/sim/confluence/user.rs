//! Confluence `GET /user/current`: the caller, and with `expand=operations` what it may do.
//!
//! Confluence REST v1, "Get current user": `expand=operations` "returns the operations that the
//! user is allowed to do", as `{operation, targetType}` pairs; `administer` on `application`
//! is Confluence administration.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::group::{authorize, json_ok};
use crate::sim::error::{Confluence, SimError};
use crate::sim::jira::{Params, param};
use crate::sim::profile::CONFLUENCE;
use crate::sim::state::SimState;

/// GET /user/current.
pub async fn current(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Result<Response, Confluence> {
    let caller = authorize(&state, &headers)?;
    let org = state.store.read();
    let account = org
        .visible_account(&caller)
        .ok_or_else(|| Confluence(SimError::not_found("The caller's account is missing")))?;
    let base = &org.settings.site_base_url;
    let mut user = json!({
        "type": "known",
        "accountId": account.account_id,
        "accountType": "atlassian",
        "email": account.email,
        "publicName": account.display_name,
        "displayName": account.display_name,
        "_links": {"self": format!("{base}/wiki/rest/api/user?accountId={}", account.account_id)},
    });
    let expand = param(&q, "expand").unwrap_or("");
    if expand.split(',').any(|e| e.trim() == "operations") {
        let confluence = |p: &str| p == CONFLUENCE;
        let mut operations: Vec<Value> =
            vec![json!({"operation": "use", "targetType": "application"})];
        if org.is_product_admin(&caller, &confluence) {
            operations.push(json!({"operation": "administer", "targetType": "application"}));
        }
        user["operations"] = Value::Array(operations);
    } else {
        user["_expandable"] = json!({"operations": "", "personalSpace": ""});
    }
    Ok(json_ok(StatusCode::OK, &user))
}
