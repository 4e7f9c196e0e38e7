//! The SCIM user provisioning API under `/scim/directory/{directoryId}`: routes and shared helpers.

pub mod filter;
pub mod groups;
pub mod meta;
pub mod patch;
pub mod users;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::auth;
use super::error::{Scim, SimError};
use crate::sim::state::SimState;

/// The SCIM routes, to nest under `/scim/directory/{directory_id}`.
pub fn router() -> Router<SimState> {
    Router::new()
        .route("/Users", get(users::list).post(users::create))
        .route(
            "/Users/{id}",
            get(users::get)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route(
            "/Groups/{id}",
            get(groups::get)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/Schemas", get(meta::schemas))
        .route("/Schemas/{id}", get(meta::schema))
        .route("/ResourceTypes", get(meta::resource_types))
        .route("/ResourceTypes/{id}", get(meta::resource_type))
        .route("/ServiceProviderConfig", get(meta::service_provider_config))
        .fallback(unknown_endpoint)
}

/// Any other path under a directory: a SCIM 404, as from the real service.
async fn unknown_endpoint(uri: axum::http::Uri) -> Scim {
    Scim(SimError::not_found(format!(
        "No SCIM endpoint at {}",
        uri.path()
    )))
}

/// A resource under a directory.
#[derive(Debug, Deserialize)]
pub struct ResourcePath {
    /// The directory id.
    pub directory_id: String,
    /// The resource id.
    pub id: String,
}

/// Query parameters of list and get requests, kept as strings so bad values get SCIM errors.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// The filter.
    pub filter: Option<String>,
    /// 1-based index of the first result.
    pub start_index: Option<String>,
    /// The page size wanted.
    pub count: Option<String>,
    /// Attributes to return.
    pub attributes: Option<String>,
    /// Attributes not to return.
    pub excluded_attributes: Option<String>,
}

/// The page a list query asks for: 0-based offset, page size, and the requested count.
pub fn paging(q: &ListQuery, cap: usize) -> Result<(usize, usize, usize), SimError> {
    let parse = |name: &str, v: &Option<String>| -> Result<Option<i64>, SimError> {
        v.as_deref()
            .map(|s| {
                s.trim().parse::<i64>().map_err(|_| {
                    SimError::bad_request(
                        "invalidValue",
                        format!("{name} must be an integer, got {s}"),
                    )
                })
            })
            .transpose()
    };
    let start = parse("startIndex", &q.start_index)?.unwrap_or(1).max(1) as usize;
    let requested = parse("count", &q.count)?.unwrap_or(cap as i64).max(0) as usize;
    Ok((start - 1, requested.min(cap), requested))
}

/// A request whose Bearer key and directory were checked: the extractor every SCIM handler
/// takes instead of repeating the check.
#[derive(Debug, Clone, Copy)]
pub struct Authorized;

impl axum::extract::FromRequestParts<SimState> for Authorized {
    type Rejection = Scim;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &SimState,
    ) -> Result<Self, Self::Rejection> {
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|e| Scim(SimError::bad_request("invalidPath", e.to_string())))?;
        let directory_id = params.get("directory_id").map(String::as_str).unwrap_or("");
        authorize(state, &parts.headers, directory_id)?;
        Ok(Authorized)
    }
}

/// Checks the Bearer key, then the directory.
fn authorize(state: &SimState, headers: &HeaderMap, directory_id: &str) -> Result<(), Scim> {
    auth::scim(headers, &state.creds).map_err(Scim)?;
    let org = state.store.read();
    if directory_id != org.settings.directory_id {
        return Err(Scim(SimError::not_found(format!(
            "Directory {directory_id} not found"
        ))));
    }
    Ok(())
}

/// A SCIM JSON response.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    response
}

/// A 201 with the new resource and its `Location` (RFC 7644 §3.3: "the server SHALL return a
/// 201 (Created) response code … with a Location header", the resource's `meta.location`).
pub fn created_json(body: &Value) -> Response {
    let mut response = scim_json(StatusCode::CREATED, body);
    if let Some(location) = body
        .pointer("/meta/location")
        .and_then(Value::as_str)
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Parses a JSON object body.
pub fn object_body(body: &[u8]) -> Result<Map<String, Value>, Scim> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Scim(SimError::bad_request(
            "invalidSyntax",
            "The request body must be a JSON object",
        ))),
        Err(e) => Err(Scim(SimError::bad_request(
            "invalidSyntax",
            format!("The request body is not valid JSON: {e}"),
        ))),
    }
}

/// The attributes a query keeps (`attributes`) or drops (`excludedAttributes`); `schemas` and
/// `id` always stay.
#[derive(Debug, Default)]
pub struct Projection {
    keep: Vec<String>,
    drop: Vec<String>,
}

impl Projection {
    /// The projection of a query.
    pub fn of(q: &ListQuery) -> Self {
        let split = |s: &Option<String>| -> Vec<String> {
            s.as_deref()
                .map(|s| {
                    s.split(',')
                        .map(|a| a.trim().to_ascii_lowercase())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        Projection {
            keep: split(&q.attributes),
            drop: split(&q.excluded_attributes),
        }
    }

    /// Whether the attribute named `key` is returned.
    pub fn wants(&self, key: &str) -> bool {
        if self.keep.is_empty() && self.drop.is_empty() {
            return true;
        }
        let key = key.to_ascii_lowercase();
        (self.keep.is_empty() || self.keep.contains(&key)) && !self.drop.contains(&key)
    }

    /// Applies the projection to a rendered resource.
    pub fn apply(&self, mut resource: Value) -> Value {
        if let Some(o) = resource.as_object_mut() {
            o.retain(|k, _| k == "schemas" || k == "id" || self.wants(k));
        }
        resource
    }
}

/// A ListResponse, serialized straight from borrowed resources.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T: Serialize> {
    schemas: [&'static str; 1],
    total_results: usize,
    start_index: usize,
    // Atlassian's itemsPerPage is not the page length (observed: the requested or a fixed
    // size); clients must not trust it, so the simulator echoes the requested count.
    items_per_page: usize,
    #[serde(rename = "Resources")]
    resources: Vec<T>,
}

impl<T: Serialize> ListResponse<T> {
    /// A page of `resources` out of `total`, starting at the 0-based `offset`.
    pub fn new(total: usize, offset: usize, requested: usize, resources: Vec<T>) -> Self {
        ListResponse {
            schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            total_results: total,
            start_index: offset + 1,
            items_per_page: requested,
            resources,
        }
    }
}

/// A SCIM JSON response serialized from any `Serialize`.
pub fn scim_bytes<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    response
}
