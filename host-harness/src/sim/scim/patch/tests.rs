//! PATCH operations as every IdP sends them, applied to a user.

use super::*;
use serde_json::json;

fn user() -> Map<String, Value> {
    json!({
        "userName": "ada@x.io",
        "emails": [{"value": "ada@x.io", "type": "work", "primary": true}],
        "name": {"givenName": "Ada", "familyName": "King"},
        "title": "Countess",
        "active": true
    })
    .as_object()
    .unwrap()
    .clone()
}

fn patch(attrs: &mut Map<String, Value>, ops: Value) -> Result<(), SimError> {
    apply_user_patch(
        attrs,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
    )
}

#[test]
fn every_idp_form() {
    let mut u = user();
    patch(
        &mut u,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .unwrap();
    assert_eq!(u["active"], false);
    patch(&mut u, json!([{"op": "replace", "value": {"title": "Analyst", "active": "True", ENTERPRISE: {"department": "R&D"}}}])).unwrap();
    assert_eq!(u["title"], "Analyst");
    assert_eq!(u["active"], true);
    assert_eq!(u[ENTERPRISE]["department"], "R&D");
    patch(
        &mut u,
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@y.io"}]),
    )
    .unwrap();
    assert_eq!(
        u["emails"],
        json!([{"value": "ada@y.io", "type": "work", "primary": true}])
    );
    patch(
        &mut u,
        json!([{"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1"}]),
    )
    .unwrap();
    assert_eq!(u["phoneNumbers"][0]["type"], "mobile");
    patch(
        &mut u,
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:organization"), "value": "Acme"}]),
    )
    .unwrap();
    assert_eq!(u[ENTERPRISE]["organization"], "Acme");
    patch(
        &mut u,
        json!([{"op": "replace", "path": "name.givenName", "value": "Augusta"}]),
    )
    .unwrap();
    assert_eq!(
        u["name"],
        json!({"givenName": "Augusta", "familyName": "King"})
    );
    patch(&mut u, json!([{"op": "remove", "path": "title"}])).unwrap();
    assert!(!u.contains_key("title"));
    let body = json!({"operations": [{"op": "add", "path": "nickName", "value": "A"}]});
    apply_user_patch(&mut u, &body).unwrap();
    assert_eq!(u["nickName"], "A");
}

#[test]
fn refuses_what_atlassian_refuses() {
    let mut u = user();
    let bad = |ops: Value, t: &str| {
        let mut u = user();
        assert_eq!(patch(&mut u, ops).unwrap_err().scim_type, Some(t));
    };
    bad(
        json!([{"op": "replace", "path": "shoeSize", "value": 9}]),
        "invalidPath",
    );
    bad(
        json!([{"op": "replace", "path": "id", "value": "x"}]),
        "mutability",
    );
    bad(
        json!([{"op": "frob", "path": "title", "value": "x"}]),
        "invalidSyntax",
    );
    bad(
        json!([{"op": "replace", "path": "active", "value": "maybe"}]),
        "invalidValue",
    );
    bad(json!([{"op": "remove"}]), "noTarget");
    assert!(
        patch(
            &mut u,
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])
        )
        .is_ok()
    );
}
