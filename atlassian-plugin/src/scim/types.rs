//! SCIM resources as Atlassian reads and writes them, the ListResponse and the PatchOp.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise extension.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The PatchOp message.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One value of a multi-valued attribute (`emails`, `phoneNumbers`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiValue {
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `work`, `home`, `mobile`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether it is the primary value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// The `name` attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// The full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// The family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// The given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// The middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// E.g. `Dr.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    /// E.g. `PhD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
}

/// The enterprise extension: Atlassian keeps only these two.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    /// The organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// Atlassian's extension: the linked account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AtlassianExtension {
    /// The Atlassian account id, once the account exists.
    #[serde(default)]
    pub atlassian_account_id: Option<String>,
}

/// What the server says about a resource (read-only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// When the resource was created (RFC 3339).
    #[serde(default)]
    pub created: Option<String>,
}

/// A reference to a group or a member.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// The referenced SCIM id.
    pub value: String,
    /// Its display text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// A SCIM user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The schemas.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// The SCIM id; absent on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The login name.
    pub user_name: String,
    /// The IdP's id; Atlassian answers `""` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Emails; one is primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<MultiValue>,
    /// Name parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// The display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    /// The job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// E.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    /// An Olson time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Atlassian's top-level department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Atlassian's top-level organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<MultiValue>,
    /// Whether the user is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The enterprise extension.
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise: Option<Enterprise>,
    /// The linked account (read-only).
    #[serde(
        rename = "urn:scim:schemas:extension:atlassian-external:1.0",
        default,
        skip_serializing
    )]
    pub atlassian: Option<AtlassianExtension>,
    /// The SCIM groups (read-only).
    #[serde(default, skip_serializing)]
    pub groups: Vec<Reference>,
    /// Server facts (read-only).
    #[serde(default, skip_serializing)]
    pub meta: Option<Meta>,
}

impl User {
    /// The primary email (or the only one).
    pub fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary == Some(true))
            .or_else(|| (self.emails.len() == 1).then(|| &self.emails[0]))
            .and_then(|e| e.value.as_deref())
    }

    /// The phone number of a type.
    pub fn phone(&self, kind: &str) -> Option<&str> {
        self.phone_numbers
            .iter()
            .find(|p| p.kind.as_deref() == Some(kind))
            .and_then(|p| p.value.as_deref())
    }

    /// How long ago the record was created, when the server says (and the clock agrees).
    pub fn age(&self) -> Option<std::time::Duration> {
        let created = self.meta.as_ref()?.created.as_deref()?;
        let created = chrono::DateTime::parse_from_rfc3339(created).ok()?;
        (chrono::Utc::now() - created.with_timezone(&chrono::Utc))
            .to_std()
            .ok()
    }

    /// The linked account id.
    pub fn account_id(&self) -> Option<&str> {
        self.atlassian
            .as_ref()
            .and_then(|a| a.atlassian_account_id.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// The externalId, if set (Atlassian answers `""` for unset).
    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref().filter(|s| !s.is_empty())
    }
}

/// A SCIM group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The schemas.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// The SCIM id; absent on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The display name, immutable.
    pub display_name: String,
    /// The IdP's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Members, by SCIM user id.
    #[serde(default)]
    pub members: Vec<Reference>,
}

/// A page of a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    /// Every match, all pages together.
    pub total_results: u64,
    /// The 1-based position of the page's first resource, as the server says.
    #[serde(default)]
    pub start_index: Option<u64>,
    /// The page. (`itemsPerPage` is not trusted and not read.)
    #[serde(rename = "Resources", default = "Vec::new")]
    pub resources: Vec<T>,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOperation {
    /// `add`, `replace` or `remove`.
    pub op: &'static str,
    /// The attribute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOperation {
    /// `replace` of `path` with `value`.
    pub fn replace(path: &str, value: Value) -> Self {
        PatchOperation {
            op: "replace",
            path: Some(path.into()),
            value: Some(value),
        }
    }

    /// `add` of `value` at `path`.
    pub fn add(path: &str, value: Value) -> Self {
        PatchOperation {
            op: "add",
            path: Some(path.into()),
            value: Some(value),
        }
    }

    /// `remove` of `path`, or of `value` from it.
    pub fn remove(path: &str, value: Option<Value>) -> Self {
        PatchOperation {
            op: "remove",
            path: Some(path.into()),
            value,
        }
    }
}

/// The body of a PATCH.
pub fn patch_body(operations: &[PatchOperation]) -> Value {
    serde_json::json!({ "schemas": [PATCH_OP], "Operations": operations })
}

/// A quoted SCIM filter value: `"` and `\` escaped.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
