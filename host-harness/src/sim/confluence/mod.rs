//! Confluence Cloud REST under `/wiki/rest/api`: group list, lookups, members by group id
//! (limit 200), add and remove a user by group id (remove answers 204 even for a non-member),
//! and the caller with the operations it may perform.

pub mod group;
pub mod user;

use axum::Router;
use axum::routing::{get, post};

use crate::sim::state::SimState;

/// The Confluence routes, to nest under `/wiki/rest/api`.
pub fn router() -> Router<SimState> {
    Router::new()
        .route("/group", get(group::list).post(group::create))
        .route("/group/by-name", get(group::by_name))
        .route(
            "/group/by-id",
            get(group::by_id).delete(group::delete_by_id),
        )
        .route("/group/{group_id}/membersByGroupId", get(group::members))
        .route(
            "/group/userByGroupId",
            post(group::add_user).delete(group::remove_user),
        )
        .route("/group/{group_name}", get(group::by_path_name))
        .route("/user/current", get(user::current))
}
