//! `/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`: the static discovery documents.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Authorized, ResourcePath, scim_json};
use crate::sim::error::{Scim, SimError};
use crate::sim::state::SimState;
use crate::sim::store::ENTERPRISE;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn attr(name: &str, kind: &str, required: bool, mutability: &str, uniqueness: &str) -> Value {
    json!({"name": name, "type": kind, "multiValued": false, "required": required,
           "caseExact": false, "mutability": mutability, "returned": "default", "uniqueness": uniqueness})
}

fn multi(name: &str, mutability: &str, required: bool) -> Value {
    // A required list needs its values: Atlassian refuses an email without one.
    json!({"name": name, "type": "complex", "multiValued": true, "required": required,
           "mutability": mutability, "returned": "default",
           "subAttributes": [attr("value", "string", required, "readWrite", "none"),
                             attr("type", "string", false, "readWrite", "none"),
                             json!({"name": "primary", "type": "boolean", "multiValued": false, "required": false,
                                    "mutability": "readWrite", "returned": "default"})]})
}

fn schema_doc(base: &str, id: &str) -> Option<Value> {
    let name_subs: Vec<Value> = [
        "formatted",
        "familyName",
        "givenName",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
    ]
    .iter()
    .map(|s| attr(s, "string", false, "readWrite", "none"))
    .collect();
    let (name, description, attributes) = match id {
        USER_SCHEMA => (
            "User",
            "User Account",
            json!([
                attr("userName", "string", true, "readWrite", "server"),
                json!({"name": "name", "type": "complex", "multiValued": false, "required": false, "mutability": "readWrite",
                       "returned": "default", "subAttributes": name_subs}),
                attr("displayName", "string", false, "readWrite", "none"),
                attr("nickName", "string", false, "readWrite", "none"),
                attr("title", "string", false, "readWrite", "none"),
                attr("preferredLanguage", "string", false, "readWrite", "none"),
                attr("timezone", "string", false, "readWrite", "none"),
                json!({"name": "active", "type": "boolean", "multiValued": false, "required": false, "mutability": "readWrite", "returned": "default"}),
                multi("emails", "readWrite", true),
                multi("phoneNumbers", "readWrite", false),
                // As rendered: `{type, value, display, $ref}` per group (RFC 7643 §4.1.2).
                json!({"name": "groups", "type": "complex", "multiValued": true, "required": false,
                       "mutability": "readOnly", "returned": "default",
                       "subAttributes": [attr("value", "string", false, "readOnly", "none"),
                                         attr("display", "string", false, "readOnly", "none"),
                                         attr("type", "string", false, "readOnly", "none"),
                                         json!({"name": "$ref", "type": "reference", "referenceTypes": ["Group"],
                                                "multiValued": false, "required": false, "mutability": "readOnly",
                                                "returned": "default"})]}),
            ]),
        ),
        GROUP_SCHEMA => (
            "Group",
            "Group",
            json!([
                attr("displayName", "string", true, "immutable", "server"),
                json!({"name": "members", "type": "complex", "multiValued": true, "required": false, "mutability": "readWrite",
                       "returned": "default", "subAttributes": [attr("value", "string", true, "immutable", "none"),
                                                                attr("display", "string", false, "immutable", "none"),
                                                                attr("type", "string", false, "immutable", "none"),
                                                                json!({"name": "$ref", "type": "reference", "referenceTypes": ["User"],
                                                                       "multiValued": false, "required": false, "mutability": "immutable",
                                                                       "returned": "default"})]}),
            ]),
        ),
        ENTERPRISE => (
            "EnterpriseUser",
            "Enterprise User",
            json!([
                attr("organization", "string", false, "readWrite", "none"),
                attr("department", "string", false, "readWrite", "none")
            ]),
        ),
        _ => return None,
    };
    Some(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id, "name": name, "description": description, "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    }))
}

fn resource_type_doc(base: &str, id: &str) -> Option<Value> {
    // Atlassian declares only the enterprise extension, though users also carry its own
    // account-id extension.
    let extensions = [json!({"schema": ENTERPRISE, "required": false})];
    match id {
        "User" => Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User",
            "description": "User Account", "endpoint": "/Users", "schema": USER_SCHEMA,
            "meta": {"location": format!("{base}/ResourceTypes/User"), "resourceType": "ResourceType"},
            "schemaExtensions": extensions,
        })),
        "Group" => Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "Group", "name": "Group",
            "description": "Group", "endpoint": "/Groups", "schema": GROUP_SCHEMA,
            "meta": {"location": format!("{base}/ResourceTypes/Group"), "resourceType": "ResourceType"},
        })),
        _ => None,
    }
}

fn list(items: Vec<Value>, items_per_page: usize) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": items.len(),
           "itemsPerPage": items_per_page, "startIndex": 1, "Resources": items})
}

fn base(state: &SimState) -> String {
    state.store.read().settings.scim_base_url.clone()
}

/// GET /Schemas.
pub async fn schemas(State(state): State<SimState>, _auth: Authorized) -> Result<Response, Scim> {
    let base = base(&state);
    let docs = [USER_SCHEMA, ENTERPRISE, GROUP_SCHEMA]
        .iter()
        .filter_map(|id| schema_doc(&base, id))
        .collect();
    Ok(scim_json(StatusCode::OK, &list(docs, 10)))
}

/// GET /Schemas/{id}.
pub async fn schema(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let doc = schema_doc(&base(&state), &p.id)
        .ok_or_else(|| Scim(SimError::not_found(format!("Schema {} not found", p.id))))?;
    Ok(scim_json(StatusCode::OK, &doc))
}

/// GET /ResourceTypes.
pub async fn resource_types(
    State(state): State<SimState>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let base = base(&state);
    let docs = ["User", "Group"]
        .iter()
        .filter_map(|id| resource_type_doc(&base, id))
        .collect();
    Ok(scim_json(StatusCode::OK, &list(docs, 10)))
}

/// GET /ResourceTypes/{id}.
pub async fn resource_type(
    State(state): State<SimState>,
    Path(p): Path<ResourcePath>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let doc = resource_type_doc(&base(&state), &p.id).ok_or_else(|| {
        Scim(SimError::not_found(format!(
            "ResourceType {} not found",
            p.id
        )))
    })?;
    Ok(scim_json(StatusCode::OK, &doc))
}

/// GET /ServiceProviderConfig.
pub async fn service_provider_config(
    State(state): State<SimState>,
    _auth: Authorized,
) -> Result<Response, Scim> {
    let base = base(&state);
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"maxResults": 10000, "supported": true},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                       "description": "Authentication scheme using the OAuth Bearer Token Standard"}],
            "meta": {"location": format!("{base}/ServiceProviderConfig"), "resourceType": "ServiceProviderConfig",
                     "lastModified": "2018-05-03T19:31:29.723Z", "created": "2018-05-03T19:31:29.723Z"},
        }),
    ))
}
