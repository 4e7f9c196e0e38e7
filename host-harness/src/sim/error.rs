//! `SimError`, the simulator's one error, and the body each API family renders it as.
//!
//! SCIM answers `ScimError` (string `status`, `scimType`) and, on 401/403, the `{error, traceId}`
//! failure body; Jira answers `ErrorCollection`; Confluence its `{statusCode, data, message}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error of a simulated API call.
#[derive(Debug, Clone, PartialEq)]
pub struct SimError {
    /// The HTTP status.
    pub status: u16,
    /// The SCIM `scimType`, where one applies.
    pub scim_type: Option<&'static str>,
    /// The human-readable detail.
    pub detail: String,
}

impl SimError {
    /// 400 with a SCIM type.
    pub fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> Self {
        SimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        SimError {
            status: 401,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        SimError {
            status: 403,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        SimError {
            status: 404,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 404 for a SCIM user id.
    pub fn user_not_found(id: &str) -> Self {
        Self::not_found(format!("Resource [USER] with id {id} not found"))
    }

    /// 409 `uniqueness`.
    pub fn conflict(detail: String) -> Self {
        SimError {
            status: 409,
            scim_type: Some("uniqueness"),
            detail,
        }
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A trace id for failure bodies; derived from the detail so that runs are reproducible.
fn trace_id(detail: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in detail.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

fn json_response(status: StatusCode, content_type: &'static str, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A SCIM error response.
#[derive(Debug)]
pub struct Scim(pub SimError);

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let e = self.0;
        let body = if e.status == 401 || e.status == 403 {
            json!({ "error": e.detail, "traceId": trace_id(&e.detail) })
        } else {
            let mut body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": e.status.to_string(),
            });
            if let Some(t) = e.scim_type {
                body["scimType"] = json!(t);
            }
            body["detail"] = json!(e.detail);
            body
        };
        let content_type = if e.status == 401 || e.status == 403 {
            "application/json"
        } else {
            "application/scim+json"
        };
        json_response(e.status_code(), content_type, body)
    }
}

/// A Jira error response (`ErrorCollection`).
#[derive(Debug)]
pub struct Jira(pub SimError);

impl IntoResponse for Jira {
    fn into_response(self) -> Response {
        let e = self.0;
        json_response(
            e.status_code(),
            "application/json;charset=UTF-8",
            json!({ "errorMessages": [e.detail], "errors": {} }),
        )
    }
}

/// A Confluence error response.
#[derive(Debug)]
pub struct Confluence(pub SimError);

impl IntoResponse for Confluence {
    fn into_response(self) -> Response {
        let e = self.0;
        json_response(
            e.status_code(),
            "application/json",
            json!({
                "statusCode": e.status,
                "data": {
                    "authorized": e.status != 401 && e.status != 403,
                    "valid": false,
                    "errors": [{ "message": { "translation": e.detail, "args": [] } }],
                    "successful": false,
                },
                "message": e.detail,
            }),
        )
    }
}
