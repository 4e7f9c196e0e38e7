//! Users and groups mapped to SCIM and back, and their PATCH operations.

use super::*;

#[test]
fn create_maps_every_attribute() {
    let op = OpCreate::new("user", "ada@acme.com")
        .attr("email", "ada@acme.com")
        .attr("given_name", "Ada")
        .attr("department", "R&D")
        .attr("phone_mobile", "+44 1")
        .attr("external_id", "E-1")
        .attr(PRODUCT_ACCESS, json!(["jira-software-users"]));
    let (user, access) = new_user(&op).unwrap();
    assert_eq!(access.unwrap(), ["jira-software-users"]);
    let body = serde_json::to_value(&user).unwrap();
    assert_eq!(
        body["emails"],
        json!([{"value": "ada@acme.com", "type": "work", "primary": true}])
    );
    assert_eq!(body["name"]["givenName"], "Ada");
    assert_eq!(body[ENTERPRISE]["department"], "R&D");
    assert_eq!(body["phoneNumbers"][0]["type"], "mobile");
    assert_eq!(body["active"], true);
    let round = user_object(&user, None);
    for a in [
        "email",
        "given_name",
        "department",
        "phone_mobile",
        "external_id",
    ] {
        assert_eq!(round.attributes[a], op.attributes[a], "{a}");
    }
}

#[test]
fn create_refuses_bad_input_naming_it() {
    let err = new_user(&OpCreate::new("user", "x")).unwrap_err();
    assert_eq!(err.attribute(), Some("email"));
    let err = new_user(&OpCreate::new("user", "x").attr("email", "nope")).unwrap_err();
    assert_eq!(err.attribute(), Some("email"));
    let err = new_user(
        &OpCreate::new("user", "x")
            .attr("email", "a@b.co")
            .attr("shoe", "9"),
    )
    .unwrap_err();
    assert_eq!(err.attribute(), Some("shoe"));
    let err = new_user(
        &OpCreate::new("user", "x")
            .attr("email", "a@b.co")
            .attr("title", 7),
    )
    .unwrap_err();
    assert_eq!(err.attribute(), Some("title"));
}

#[test]
fn updates_become_patch_paths() {
    let op = OpUpdate::new("user", "u1")
        .enabled(false)
        .delta(AttributeDelta::replace("title", [json!("Boss")]))
        .delta(AttributeDelta::replace("department", []))
        .delta(AttributeDelta::remove("nick_name", [json!("absent")]))
        .delta(AttributeDelta::add(
            PRODUCT_ACCESS,
            [json!("confluence-users")],
        ));
    let current = User {
        nick_name: Some("present".into()),
        ..User::default()
    };
    let (ops, access) = user_patch(&op, Some(&current)).unwrap();
    assert_eq!(
        ops,
        [
            PatchOperation::replace("active", json!(false)),
            PatchOperation::replace("title", json!("Boss")),
            PatchOperation::remove(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                None
            ),
        ]
    );
    assert_eq!(access.len(), 1);
    let err = user_patch(
        &OpUpdate::new("user", "u").delta(AttributeDelta::replace("email", [])),
        None,
    )
    .unwrap_err();
    assert_eq!(err.attribute(), Some("email"));
}

#[test]
fn group_members_are_batched_and_renames_refused() {
    let ids: Vec<Value> = (0..250).map(|i| json!(format!("u{i}"))).collect();
    let add = OpUpdate::new("group", "g").delta(AttributeDelta::add(MEMBERS, ids.clone()));
    let requests = group_patches(&add, None).unwrap();
    assert_eq!(requests.len(), 3);
    // A replace too large for one request is a diff against the members now: the 150 who
    // stay are never touched, the 100 new are added first, then the 50 leaving are removed.
    let replace = OpUpdate::new("group", "g").delta(AttributeDelta::replace(MEMBERS, ids));
    assert!(
        group_patches(&replace, None).is_err(),
        "the diff needs the group"
    );
    let current = crate::scim::types::Group {
        members: (100..300)
            .map(|i| crate::scim::types::Reference {
                value: format!("u{i}"),
                display: None,
            })
            .collect(),
        ..Default::default()
    };
    let requests = group_patches(&replace, Some(&current)).unwrap();
    let ops: Vec<(&str, usize)> = requests
        .iter()
        .map(|r| {
            (
                r[0].op,
                r[0].value
                    .as_ref()
                    .map_or(0, |v| v.as_array().unwrap().len()),
            )
        })
        .collect();
    assert_eq!(ops, [("add", 100), ("remove", 50)]);
    let small = OpUpdate::new("group", "g").delta(AttributeDelta::replace(MEMBERS, [json!("u1")]));
    assert_eq!(group_patches(&small, None).unwrap()[0][0].op, "replace");
    let err = group_patches(&OpUpdate::new("group", "g").rename("new"), None).unwrap_err();
    assert_eq!(err.kind, connector_api::ErrorKind::Unsupported);
}
