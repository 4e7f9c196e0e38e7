//! `ConnectorObject` to and from SCIM users (here) and groups (`group`); attribute deltas to
//! PATCH operations.
//!
//! [`USER_ATTRIBUTES`] is the one table of the user's SCIM-backed attributes: the schema, the
//! create body, the read-back and the PATCH paths all come from it.

use std::collections::BTreeSet;

use connector_api::ops::{OpCreate, OpUpdate};
use connector_api::{AttributeDelta, ConnectorError, ConnectorObject, DeltaChange, Result};
use serde_json::{Value, json};

use crate::scim::types::{
    ENTERPRISE, Enterprise, MultiValue, Name, PatchOperation, USER_SCHEMA, User,
};

mod group;

pub use group::{group_object, group_patches, needs_current, new_group};

/// A user attribute kept in SCIM: its connector name, its SCIM PATCH path, what it is.
#[derive(Debug)]
pub(crate) struct UserAttribute {
    /// The connector attribute name.
    pub name: &'static str,
    /// The SCIM path a PATCH writes.
    pub path: &'static str,
    /// For the schema.
    pub description: &'static str,
}

macro_rules! attr {
    ($name:literal, $path:expr, $description:literal) => {
        UserAttribute {
            name: $name,
            path: $path,
            description: $description,
        }
    };
}

/// Every SCIM-backed, single-valued string attribute of a user. Atlassian's user-provisioning
/// API lists displayName, emails, organization, title, timezone, department and
/// preferredLanguage as what updates the Atlassian profile (`teamapis/user-provisioning`
/// `schema.yaml`, tag Users); the rest stays in the SCIM record, and the descriptions say so.
pub(crate) const USER_ATTRIBUTES: &[UserAttribute] = &[
    attr!(
        "email",
        r#"emails[type eq "work"].value"#,
        "Primary work email; it becomes the Atlassian account's email."
    ),
    attr!(
        "external_id",
        "externalId",
        "The identity provider's id of the user (case-sensitive)."
    ),
    attr!(
        "display_name",
        "displayName",
        "The name shown in Atlassian products (the profile's full name)."
    ),
    attr!(
        "given_name",
        "name.givenName",
        "Given name; kept in the SCIM record only (the products show display_name)."
    ),
    attr!(
        "family_name",
        "name.familyName",
        "Family name; kept in the SCIM record only (the products show display_name)."
    ),
    attr!(
        "middle_name",
        "name.middleName",
        "Middle name; kept in the SCIM record only."
    ),
    attr!(
        "formatted_name",
        "name.formatted",
        "The full name as one string; kept in the SCIM record only."
    ),
    attr!(
        "honorific_prefix",
        "name.honorificPrefix",
        "E.g. Dr.; kept in the SCIM record only."
    ),
    attr!(
        "honorific_suffix",
        "name.honorificSuffix",
        "E.g. PhD; kept in the SCIM record only."
    ),
    attr!(
        "nick_name",
        "nickName",
        "Nickname; kept in the SCIM record only."
    ),
    attr!(
        "title",
        "title",
        "Job title, shown on the Atlassian profile."
    ),
    attr!(
        "department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "Department, shown on the Atlassian profile."
    ),
    attr!(
        "organization",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
        "Organization, shown on the Atlassian profile."
    ),
    attr!(
        "timezone",
        "timezone",
        "Olson time zone, e.g. Europe/Berlin; set on the Atlassian profile."
    ),
    attr!(
        "preferred_language",
        "preferredLanguage",
        "E.g. en-US; set on the Atlassian profile."
    ),
    attr!(
        "phone_work",
        r#"phoneNumbers[type eq "work"].value"#,
        "Work phone number; kept in the SCIM record only."
    ),
    attr!(
        "phone_mobile",
        r#"phoneNumbers[type eq "mobile"].value"#,
        "Mobile phone number; kept in the SCIM record only."
    ),
];

/// The linked Atlassian account id (read-only).
pub(crate) const ACCOUNT_ID: &str = "account_id";
/// The user's SCIM groups, by group uid (read-only; change them on the group).
pub(crate) const GROUPS: &str = "groups";
/// The product-access (default) groups the account is in, by name.
pub(crate) const PRODUCT_ACCESS: &str = "product_access";
/// A group's members, by user uid.
pub(crate) const MEMBERS: &str = "members";
/// A group's externalId.
pub(crate) const GROUP_EXTERNAL_ID: &str = "external_id";

/// A string value of a single-valued attribute, or the error naming it.
pub(crate) fn string_value(attribute: &str, value: &Value) -> Result<String> {
    let s = value.as_str().ok_or_else(|| {
        ConnectorError::invalid_value(attribute, format!("expected a string, got {value}"))
    })?;
    if attribute == "email" && !is_email(s) {
        return Err(ConnectorError::invalid_value(
            attribute,
            format!("`{s}` is not an email address"),
        ));
    }
    if s.len() > 1024 {
        return Err(ConnectorError::invalid_value(
            attribute,
            "longer than 1024 characters",
        ));
    }
    Ok(s.to_owned())
}

/// A plausible email address: one `@`, a dotted domain, no spaces.
pub(crate) fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// A list of strings from a multi-valued attribute.
pub(crate) fn string_list(attribute: &str, value: &Value) -> Result<Vec<String>> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ConnectorError::invalid_value(attribute, format!("expected strings, got {v}"))
                })
            })
            .collect(),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Null => Ok(Vec::new()),
        other => Err(ConnectorError::invalid_value(
            attribute,
            format!("expected a list of strings, got {other}"),
        )),
    }
}

fn set(user: &mut User, attribute: &str, value: Option<String>) {
    fn name(user: &mut User) -> &mut Name {
        user.name.get_or_insert_with(Name::default)
    }
    match attribute {
        "email" => set_multi(&mut user.emails, "work", value),
        "external_id" => user.external_id = value,
        "display_name" => user.display_name = value,
        "given_name" => name(user).given_name = value,
        "family_name" => name(user).family_name = value,
        "middle_name" => name(user).middle_name = value,
        "formatted_name" => name(user).formatted = value,
        "honorific_prefix" => name(user).honorific_prefix = value,
        "honorific_suffix" => name(user).honorific_suffix = value,
        "nick_name" => user.nick_name = value,
        "title" => user.title = value,
        "department" => {
            user.enterprise
                .get_or_insert_with(Enterprise::default)
                .department = value
        }
        "organization" => {
            user.enterprise
                .get_or_insert_with(Enterprise::default)
                .organization = value
        }
        "timezone" => user.timezone = value,
        "preferred_language" => user.preferred_language = value,
        "phone_work" => set_multi(&mut user.phone_numbers, "work", value),
        "phone_mobile" => set_multi(&mut user.phone_numbers, "mobile", value),
        _ => {}
    }
}

fn set_multi(items: &mut Vec<MultiValue>, kind: &str, value: Option<String>) {
    items.retain(|i| i.kind.as_deref() != Some(kind));
    if let Some(value) = value {
        let primary = items.iter().all(|i| i.primary != Some(true));
        items.push(MultiValue {
            value: Some(value),
            kind: Some(kind.into()),
            primary: Some(primary),
        });
    }
}

/// The value of a SCIM-backed attribute of `user`.
pub(crate) fn get(user: &User, attribute: &str) -> Option<String> {
    let name = user.name.as_ref();
    let enterprise = user.enterprise.as_ref();
    let v = match attribute {
        "email" => user.primary_email(),
        "external_id" => user.external_id(),
        "display_name" => user.display_name.as_deref(),
        "given_name" => name.and_then(|n| n.given_name.as_deref()),
        "family_name" => name.and_then(|n| n.family_name.as_deref()),
        "middle_name" => name.and_then(|n| n.middle_name.as_deref()),
        "formatted_name" => name.and_then(|n| n.formatted.as_deref()),
        "honorific_prefix" => name.and_then(|n| n.honorific_prefix.as_deref()),
        "honorific_suffix" => name.and_then(|n| n.honorific_suffix.as_deref()),
        "nick_name" => user.nick_name.as_deref(),
        "title" => user.title.as_deref(),
        "department" => enterprise
            .and_then(|e| e.department.as_deref())
            .or(user.department.as_deref()),
        "organization" => enterprise
            .and_then(|e| e.organization.as_deref())
            .or(user.organization.as_deref()),
        "timezone" => user.timezone.as_deref(),
        "preferred_language" => user.preferred_language.as_deref(),
        "phone_work" => user.phone("work"),
        "phone_mobile" => user.phone("mobile"),
        _ => None,
    };
    v.map(str::to_owned)
}

/// The SCIM user of a create request, and the product access it asks for (`None`: the defaults).
pub fn new_user(op: &OpCreate) -> Result<(User, Option<Vec<String>>)> {
    if op.name.trim().is_empty() {
        return Err(ConnectorError::invalid_value(
            "__name__",
            "the userName must not be empty",
        ));
    }
    let mut user = User {
        schemas: vec![USER_SCHEMA.into(), ENTERPRISE.into()],
        user_name: op.name.clone(),
        active: Some(op.enabled.unwrap_or(true)),
        ..User::default()
    };
    let mut access = None;
    for (attribute, value) in &op.attributes {
        match attribute.as_str() {
            PRODUCT_ACCESS => access = Some(string_list(PRODUCT_ACCESS, value)?),
            ACCOUNT_ID | GROUPS => {
                return Err(ConnectorError::invalid_value(
                    attribute,
                    "read-only attribute",
                ));
            }
            a if USER_ATTRIBUTES.iter().any(|u| u.name == a) => {
                let value = if value.is_null() {
                    None
                } else {
                    Some(string_value(a, value)?)
                };
                set(&mut user, a, value);
            }
            other => {
                return Err(ConnectorError::invalid_value(
                    other,
                    "no such attribute on class `user`",
                ));
            }
        }
    }
    if user.primary_email().is_none() {
        return Err(ConnectorError::invalid_value(
            "email",
            "required: Atlassian needs a primary email for every user",
        ));
    }
    if user
        .enterprise
        .as_ref()
        .is_none_or(|e| e == &Enterprise::default())
    {
        user.enterprise = None;
        user.schemas.truncate(1);
    }
    Ok((user, access))
}

/// The connector object of a SCIM user, with its product access when known.
pub fn user_object(user: &User, product_access: Option<Vec<String>>) -> ConnectorObject {
    let mut object =
        ConnectorObject::new(user.id.clone().unwrap_or_default(), user.user_name.clone())
            .with_enabled(user.active.unwrap_or(true));
    for attribute in USER_ATTRIBUTES {
        if let Some(v) = get(user, attribute.name) {
            object
                .attributes
                .insert(attribute.name.into(), Value::String(v));
        }
    }
    if let Some(account) = user.account_id() {
        object.attributes.insert(ACCOUNT_ID.into(), json!(account));
    }
    let groups: Vec<&str> = user.groups.iter().map(|g| g.value.as_str()).collect();
    object.attributes.insert(GROUPS.into(), json!(groups));
    if let Some(access) = product_access {
        set_product_access(&mut object, access);
    }
    object
}

/// The account id of a mapped user, if it has one.
pub(crate) fn account_of(user: &ConnectorObject) -> Option<&str> {
    user.attributes.get(ACCOUNT_ID).and_then(Value::as_str)
}

/// Sets a mapped user's product access: the products whose default group it is in.
pub(crate) fn set_product_access(user: &mut ConnectorObject, products: Vec<String>) {
    user.attributes
        .insert(PRODUCT_ACCESS.into(), json!(products));
}

/// Changes to the product-access groups, in order.
pub(crate) type AccessDeltas = Vec<DeltaChange>;

/// The PATCH operations of an update, and its product-access deltas. `current` is the user as
/// it is now, needed to remove single values only when they are there.
pub fn user_patch(
    op: &OpUpdate,
    current: Option<&User>,
) -> Result<(Vec<PatchOperation>, AccessDeltas)> {
    let mut ops = Vec::new();
    let mut access = Vec::new();
    if let Some(name) = &op.name {
        if name.trim().is_empty() {
            return Err(ConnectorError::invalid_value(
                "__name__",
                "the userName must not be empty",
            ));
        }
        ops.push(PatchOperation::replace("userName", json!(name)));
    }
    if let Some(enabled) = op.enabled {
        ops.push(PatchOperation::replace("active", json!(enabled)));
    }
    for AttributeDelta {
        attribute, change, ..
    } in &op.deltas
    {
        match attribute.as_str() {
            PRODUCT_ACCESS => {
                let values = match change {
                    DeltaChange::Replace(v) | DeltaChange::Add(v) | DeltaChange::Remove(v) => v,
                };
                string_list(PRODUCT_ACCESS, &Value::Array(values.clone()))?;
                access.push(change.clone());
            }
            ACCOUNT_ID | GROUPS => {
                return Err(ConnectorError::invalid_value(
                    attribute,
                    "read-only attribute; change group memberships on the group",
                ));
            }
            a => {
                let spec = USER_ATTRIBUTES
                    .iter()
                    .find(|u| u.name == a)
                    .ok_or_else(|| {
                        ConnectorError::invalid_value(a, "no such attribute on class `user`")
                    })?;
                ops.extend(single_valued_delta(spec, change, current)?);
            }
        }
    }
    Ok((ops, access))
}

fn single_valued_delta(
    spec: &UserAttribute,
    change: &DeltaChange,
    current: Option<&User>,
) -> Result<Option<PatchOperation>> {
    let name = spec.name;
    let one = |values: &[Value]| -> Result<Option<String>> {
        match values {
            [] | [Value::Null] => Ok(None),
            [v] => string_value(name, v).map(Some),
            _ => Err(ConnectorError::invalid_value(
                name,
                "single-valued: give at most one value",
            )),
        }
    };
    let set_to = |value: Option<String>| -> Result<Option<PatchOperation>> {
        match value {
            Some(v) => Ok(Some(PatchOperation::replace(spec.path, json!(v)))),
            None if name == "email" => Err(ConnectorError::invalid_value(
                name,
                "required: Atlassian needs a primary email",
            )),
            None => Ok(Some(PatchOperation::remove(spec.path, None))),
        }
    };
    match change {
        DeltaChange::Replace(values) | DeltaChange::Add(values) => set_to(one(values)?),
        DeltaChange::Remove(values) => {
            let now = current.and_then(|u| get(u, name));
            let matches = values.iter().any(|v| v.as_str() == now.as_deref());
            // Removing a value the user does not have succeeds without a change.
            if matches { set_to(None) } else { Ok(None) }
        }
    }
}

/// The product access a sequence of deltas leaves, from `current`.
pub(crate) fn apply_access(current: &BTreeSet<String>, deltas: &AccessDeltas) -> BTreeSet<String> {
    let mut set = current.clone();
    for change in deltas {
        let names = |v: &[Value]| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match change {
            DeltaChange::Replace(v) => set = names(v).into_iter().collect(),
            DeltaChange::Add(v) => set.extend(names(v)),
            DeltaChange::Remove(v) => names(v).iter().for_each(|n| {
                set.remove(n);
            }),
        }
    }
    set
}

#[cfg(test)]
mod tests;
