//! The control API under `/__sim`, kept apart from the Atlassian paths and never faulted.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/__sim/health` | `ok` |
//! | GET, DELETE | `/__sim/requests` | counts per route and method, per status and fault; DELETE resets them |
//! | GET | `/__sim/store` | the whole organization as JSON |
//! | GET, PUT | `/__sim/faults` | the fault plan (see `faults::FaultPlan`); PUT replaces it |
//! | GET, PUT | `/__sim/settings` | the profile, cloud id and settings; PUT changes any of `propagation_delay_ms`, `scim_page_cap`, `group_bulk` (false: `/group/bulk` answers 404), `expired_tokens` (emails whose API tokens have expired) |
//! | POST | `/__sim/seed` | `{"users": N, "groups": M, "seed": S}` adds seeded users and groups |
//! | GET | `/__sim/membership-log` | every membership change since start, oldest first (`{group, account, joined}`; the last 200,000) |
//! | POST | `/__sim/unlink` | `{"id": SCIM_ID, "created_minutes_ago": N}` unlinks a user's account (it shows no account id again) and backdates its creation |
//! | POST | `/__sim/rename-group` | `{"from": NAME, "to": NAME}` renames a group, id and members kept |

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{self, FaultPlan};
use crate::sim::state::SimState;

/// The control routes, to nest under `/__sim`.
pub fn router() -> Router<SimState> {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/requests", get(requests).delete(reset_requests))
        .route("/store", get(store))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/settings", get(get_settings).put(put_settings))
        .route("/seed", axum::routing::post(seed))
        .route("/rename-group", axum::routing::post(rename_group))
        .route("/membership-log", get(membership_log))
        .route("/unlink", axum::routing::post(unlink))
}

async fn requests(State(state): State<SimState>) -> Json<Value> {
    Json(state.faults.stats())
}

async fn reset_requests(State(state): State<SimState>) -> Json<Value> {
    state.faults.reset_stats();
    Json(json!({ "reset": true }))
}

async fn store(State(state): State<SimState>) -> Json<Value> {
    Json(state.store.read().dump())
}

async fn get_faults(State(state): State<SimState>) -> Json<Value> {
    Json(faults::describe(&state.faults))
}

async fn put_faults(State(state): State<SimState>, Json(plan): Json<FaultPlan>) -> Response {
    match plan.validated() {
        Ok(plan) => {
            state.faults.set_plan(plan);
            Json(faults::describe(&state.faults)).into_response()
        }
        Err(reason) => faults::refused(reason),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    propagation_delay_ms: Option<u64>,
    scim_page_cap: Option<usize>,
    group_bulk: Option<bool>,
    expired_tokens: Option<Vec<String>>,
}

fn settings_of(state: &SimState) -> Value {
    let org = state.store.read();
    json!({
        "org": state.org.name(),
        "cloud_id": org.settings.cloud_id,
        "propagation_delay_ms": org.settings.propagation_delay.as_millis() as u64,
        "scim_page_cap": org.settings.scim_page_cap,
        "group_bulk": org.settings.group_bulk,
        "expired_tokens": org.settings.expired_tokens,
    })
}

#[derive(Debug, Deserialize)]
struct Unlink {
    id: String,
    #[serde(default)]
    created_minutes_ago: i64,
}

async fn unlink(State(state): State<SimState>, Json(u): Json<Unlink>) -> Response {
    let created = (chrono::Utc::now() - chrono::Duration::minutes(u.created_minutes_ago))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    match state.store.write().unlink_user(&u.id, created) {
        Ok(()) => Json(json!({ "unlinked": u.id })).into_response(),
        Err(e) => crate::sim::error::Scim(e).into_response(),
    }
}

async fn membership_log(State(state): State<SimState>) -> Json<Value> {
    Json(json!(state.store.read().membership_log()))
}

async fn get_settings(State(state): State<SimState>) -> Json<Value> {
    Json(settings_of(&state))
}

async fn put_settings(State(state): State<SimState>, Json(s): Json<Settings>) -> Json<Value> {
    {
        let mut org = state.store.write();
        if let Some(ms) = s.propagation_delay_ms {
            org.settings.propagation_delay = std::time::Duration::from_millis(ms);
        }
        if let Some(cap) = s.scim_page_cap {
            org.settings.scim_page_cap = cap.max(1);
        }
        if let Some(on) = s.group_bulk {
            org.settings.group_bulk = on;
        }
        if let Some(emails) = s.expired_tokens {
            org.settings.expired_tokens = emails.iter().map(|e| e.to_lowercase()).collect();
        }
    }
    Json(settings_of(&state))
}

#[derive(Debug, Deserialize)]
struct Rename {
    from: String,
    to: String,
}

async fn rename_group(State(state): State<SimState>, Json(r): Json<Rename>) -> Response {
    match state.store.write().rename_group(&r.from, &r.to) {
        Ok(id) => Json(json!({ "id": id, "name": r.to.trim() })).into_response(),
        Err(e) => crate::sim::error::Scim(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct Seed {
    users: usize,
    #[serde(default)]
    groups: usize,
    #[serde(default)]
    seed: u64,
}

async fn seed(State(state): State<SimState>, Json(s): Json<Seed>) -> Json<Value> {
    let mut org = state.store.write();
    org.seed(s.users, s.groups, s.seed);
    Json(json!({ "users": org.user_count() }))
}
