//! The connector's schema: users and groups with the flags of what it really reads and writes.

use connector_api::{AttributeSchema, AttributeType, ClassSchema, Schema};

use crate::mapping::{
    ACCOUNT_ID, GROUP_EXTERNAL_ID, GROUPS, MEMBERS, PRODUCT_ACCESS, USER_ATTRIBUTES,
};

/// The schema.
pub(crate) fn schema() -> Schema {
    let mut user_attributes: Vec<AttributeSchema> = USER_ATTRIBUTES
        .iter()
        .map(|a| {
            let attribute =
                AttributeSchema::new(a.name, AttributeType::String).describe(a.description);
            if a.name == "email" {
                attribute.required()
            } else {
                attribute
            }
        })
        .collect();
    user_attributes.extend([
        AttributeSchema::new(ACCOUNT_ID, AttributeType::String)
            .describe("The linked Atlassian account id (from SCIM's Atlassian extension).")
            .read_only(),
        AttributeSchema::new(GROUPS, AttributeType::Reference)
            .describe("The SCIM groups of the user; change memberships on the group.")
            .referencing("group")
            .multi()
            .read_only(),
        AttributeSchema::new(PRODUCT_ACCESS, AttributeType::String)
            .describe("The configured default groups (product access) the account is in; a create without it grants all of them.")
            .multi(),
    ]);
    Schema::new(vec![
        ClassSchema::new(
            "user",
            "the SCIM user id",
            "userName (unique, case-insensitive)",
        )
        .with_enabled()
        .with_attributes(user_attributes),
        ClassSchema::new(
            "group",
            "the SCIM group id",
            "displayName (unique, immutable)",
        )
        .with_attributes(vec![
            AttributeSchema::new(MEMBERS, AttributeType::Reference)
                .describe("The member users, by uid.")
                .referencing("user")
                .multi(),
            AttributeSchema::new(GROUP_EXTERNAL_ID, AttributeType::String)
                .describe("The identity provider's id of the group."),
        ]),
    ])
}
