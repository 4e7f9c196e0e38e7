//! The simulator's SCIM directory API over real HTTP: every endpoint and every quirk of the
//! fidelity checklist (reference/atlassian-apis.md section 6).

use crate::common::{Sim, patch_op, send};
use host_harness::sim::SimConfig;
use reqwest::Method;
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ATLASSIAN: &str = "urn:scim:schemas:extension:atlassian-external:1.0";

fn is_scim_timestamp(s: &str) -> bool {
    // 2021-04-05T03:16:10.993365Z
    s.len() == 27
        && s.ends_with('Z')
        && s.as_bytes()[19] == b'.'
        && s[20..26].chars().all(|c| c.is_ascii_digit())
}

#[test]
fn auth_and_directory_errors_have_the_real_shapes() {
    let s = Sim::start();
    let url = format!("{}/Users", s.sim.scim_url());
    let r = s.http.get(&url).send().unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "Missing authorization header");
    assert!(body["traceId"].is_string());

    let (status, body) = send(s.http.get(&url).bearer_auth("wrong-key"));
    assert_eq!(status, 401);
    assert!(
        body["error"].is_string() && body.get("schemas").is_none(),
        "{body}"
    );

    let other = url.replace(
        &s.sim.scim_url(),
        &format!("{}/scim/directory/unknown-dir", s.sim.site_url()),
    );
    let (status, body) = send(
        s.http
            .get(other)
            .bearer_auth(&s.sim.credentials().directory_api_key),
    );
    assert_eq!(status, 404);
    assert_eq!(body["status"], "404", "status is a string: {body}");
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

#[test]
fn a_created_user_looks_like_atlassians() {
    let s = Sim::start();
    let r = s
        .scim(Method::POST, "/Users")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": "jane.doe@acme.com",
            "emails": [{"value": "jane.doe@acme.com", "type": "work", "primary": true}],
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "displayName": "Jane Doe",
            "title": "Engineer",
            "timezone": "Europe/Berlin",
            "preferredLanguage": "en-US",
            ENTERPRISE: {"department": "R&D", "organization": "Acme"},
            "unknownAttribute": "ignored",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-type"], "application/scim+json");
    let user: Value = r.json().unwrap();
    assert_eq!(
        user["schemas"],
        json!([
            ATLASSIAN,
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE
        ])
    );
    let keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..4], ["schemas", "userName", "emails", "externalId"]);
    assert_eq!(&keys[keys.len() - 2..], ["id", "active"]);
    assert_eq!(
        user["externalId"], "",
        "externalId is an empty string when unset"
    );
    assert_eq!(user["active"], true, "active defaults to true");
    assert_eq!(user["groups"], json!([]));
    assert!(user.get("unknownAttribute").is_none());
    assert_eq!(user[ENTERPRISE]["department"], "R&D");
    let id = user["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(
        user["meta"]["location"],
        format!("{}/Users/{id}", s.sim.scim_url())
    );
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(
        is_scim_timestamp(user["meta"]["created"].as_str().unwrap()),
        "{}",
        user["meta"]
    );
    assert_eq!(
        user[ATLASSIAN]["atlassianAccountId"]
            .as_str()
            .unwrap()
            .len(),
        24
    );

    let (status, got) = send(s.scim(Method::GET, &format!("/Users/{id}")));
    assert_eq!(status, 200);
    assert_eq!(got, user);
}

#[test]
fn create_refuses_bad_users_and_duplicates() {
    let s = Sim::start();
    s.create_user("ada@acme.com");
    let post = |body: Value| send(s.scim(Method::POST, "/Users").json(&body));
    let (status, body) = post(json!({"emails": [{"value": "x@acme.com", "primary": true}]}));
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{body}"
    );
    let (status, _) = post(json!({"userName": "x@acme.com"}));
    assert_eq!(status, 400);
    let (status, _) =
        post(json!({"userName": "x", "emails": [{"value": "a@x.io"}, {"value": "b@x.io"}]}));
    assert_eq!(status, 400, "two emails, none primary");

    // 409 uniqueness on userName (case-insensitive), primary email, externalId.
    for body in [
        json!({"userName": "ADA@acme.com", "emails": [{"value": "other@acme.com", "primary": true}]}),
        json!({"userName": "other", "emails": [{"value": "Ada@Acme.com", "primary": true}]}),
    ] {
        let (status, err) = post(body);
        assert_eq!(status, 409);
        assert_eq!(err["status"], "409");
        assert_eq!(err["scimType"], "uniqueness");
        assert!(
            err["detail"]
                .as_str()
                .unwrap()
                .starts_with("Resource [USER]: with "),
            "{err}"
        );
    }
    let (status, _) = post(
        json!({"userName": "e1", "externalId": "X-1", "emails": [{"value": "e1@acme.com", "primary": true}]}),
    );
    assert_eq!(status, 201);
    let (status, _) = post(
        json!({"userName": "e2", "externalId": "X-1", "emails": [{"value": "e2@acme.com", "primary": true}]}),
    );
    assert_eq!(status, 409);
    let (status, _) = post(
        json!({"userName": "e3", "externalId": "x-1", "emails": [{"value": "e3@acme.com", "primary": true}]}),
    );
    assert_eq!(status, 201, "externalId is case-sensitive");
}

#[test]
fn list_filters_and_pages_as_atlassian_does() {
    let s = Sim::with(SimConfig {
        users: 250,
        ..crate::common::legacy()
    });
    let list = |query: &[(&str, &str)]| send(s.scim(Method::GET, "/Users").query(query));

    let (_, page) = list(&[]);
    assert_eq!(page["totalResults"], 250);
    assert_eq!(page["startIndex"], 1);
    assert_eq!(
        page["Resources"].as_array().unwrap().len(),
        100,
        "default page is the cap"
    );
    let (_, page) = list(&[("count", "500")]);
    assert_eq!(
        page["Resources"].as_array().unwrap().len(),
        100,
        "count is capped at 100"
    );
    assert_eq!(
        page["itemsPerPage"], 500,
        "itemsPerPage is not the page length"
    );

    // Paging by startIndex += len(Resources) returns every user once.
    let mut seen = std::collections::BTreeSet::new();
    let mut start = 1;
    loop {
        let (_, page) = list(&[("startIndex", &start.to_string()), ("count", "7")]);
        let items = page["Resources"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        for u in &items {
            assert!(
                seen.insert(u["id"].as_str().unwrap().to_owned()),
                "duplicate"
            );
        }
        start += items.len();
        assert!(start < 400, "paging does not end");
    }
    assert_eq!(seen.len(), 250);
    let (_, page) = list(&[("startIndex", "251")]);
    assert_eq!(page["Resources"], json!([]));
    assert_eq!(page["totalResults"], 250);

    let (_, found) = list(&[("filter", r#"userName eq "USER000042@ACME.EXAMPLE.COM""#)]);
    assert_eq!(found["totalResults"], 1, "userName eq is case-insensitive");
    assert_eq!(
        found["Resources"][0]["userName"],
        "user000042@acme.example.com"
    );
    let (_, found) = list(&[("filter", r#"externalId eq "ext-7-000042""#)]);
    assert_eq!(found["totalResults"], 1);
    let (_, found) = list(&[("filter", r#"externalId eq "EXT-7-000042""#)]);
    assert_eq!(found["totalResults"], 0, "externalId eq is case-sensitive");
    let (_, found) = list(&[("filter", r#"userName eq "nobody""#)]);
    assert_eq!(
        (found["totalResults"].as_u64(), found["Resources"].clone()),
        (Some(0), json!([]))
    );

    for bad in [
        r#"emails[type eq "work"].value eq "a@b.c""#,
        r#"displayName eq "x""#,
        r#"userName sw "u""#,
        "userName pr",
    ] {
        let (status, err) = list(&[("filter", bad)]);
        assert_eq!(
            (status, err["scimType"].as_str()),
            (400, Some("invalidFilter")),
            "{bad}"
        );
    }
    let (status, err) = list(&[("count", "ten")]);
    assert_eq!((status, err["status"].as_str()), (400, Some("400")));

    let (_, projected) = list(&[("count", "1"), ("attributes", "userName")]);
    let keys: Vec<&String> = projected["Resources"][0]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["schemas", "userName", "id"]);
}

#[test]
fn put_replaces_and_clears_omitted_attributes() {
    let s = Sim::start();
    let (id, _) = s.create_user("put@acme.com");
    let (status, _) = send(
        s.scim(Method::PATCH, &format!("/Users/{id}"))
            .json(&patch_op(
                json!([{"op": "add", "path": "title", "value": "Boss"}]),
            )),
    );
    assert_eq!(status, 200);
    let (status, user) = send(s.scim(Method::PUT, &format!("/Users/{id}")).json(&json!({
        "userName": "put@acme.com", "emails": [{"value": "put@acme.com", "primary": true}], "nickName": "P",
    })));
    assert_eq!(status, 200);
    assert!(
        user.get("title").is_none(),
        "PUT clears omitted attributes: {user}"
    );
    assert_eq!(user["nickName"], "P");
    assert_eq!(user["id"], id);
    let (status, _) = send(
        s.scim(Method::PUT, &format!("/Users/{id}"))
            .json(&json!({"emails": []})),
    );
    assert_eq!(status, 400, "PUT without userName");
}

#[test]
fn patch_accepts_every_form_idps_send() {
    let s = Sim::start();
    let (id, _) = s.create_user("patch@acme.com");
    let path = format!("/Users/{id}");
    let patch = |body: Value| send(s.scim(Method::PATCH, &path).json(&body));

    let (status, u) = patch(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
    );
    assert_eq!((status, u["active"].clone()), (200, json!(false)));
    let (_, u) = patch(patch_op(
        json!([{"op": "replace", "value": {"title": "Analyst", "active": "True",
        ENTERPRISE: {"department": "Ops"}}}]),
    ));
    assert_eq!(
        (
            u["title"].clone(),
            u["active"].clone(),
            u[ENTERPRISE]["department"].clone()
        ),
        (json!("Analyst"), json!(true), json!("Ops"))
    );
    let (_, u) = patch(patch_op(
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "patched@acme.com"}]),
    ));
    assert_eq!(u["emails"][0]["value"], "patched@acme.com");
    let (_, u) = patch(patch_op(
        json!([{"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+49 1"}]),
    ));
    assert_eq!(
        u["phoneNumbers"],
        json!([{"type": "mobile", "value": "+49 1", "primary": true}])
    );
    let (_, u) = patch(patch_op(
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:organization"), "value": "Acme"}]),
    ));
    assert_eq!(u[ENTERPRISE]["organization"], "Acme");
    let (_, u) = patch(patch_op(
        json!([{"op": "replace", "path": "name.givenName", "value": "Pat"}, {"op": "remove", "path": "title"}]),
    ));
    assert_eq!(u["name"]["givenName"], "Pat");
    assert!(u.get("title").is_none());
    // The email moved: the old one is free, the new one is taken.
    let (status, _) = send(
        s.scim(Method::GET, "/Users")
            .query(&[("filter", r#"userName eq "patch@acme.com""#)]),
    );
    assert_eq!(status, 200);

    for (ops, scim_type) in [
        (
            json!([{"op": "replace", "path": "shoeSize", "value": 1}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "meta", "value": {}}]),
            "mutability",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "perhaps"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "copy", "path": "title", "value": "x"}]),
            "invalidSyntax",
        ),
    ] {
        let (status, err) = patch(patch_op(ops.clone()));
        assert_eq!(
            (status, err["scimType"].as_str()),
            (400, Some(scim_type)),
            "{ops}"
        );
    }
    let (_, other) = s.create_user("other@acme.com");
    let _ = other;
    let (status, err) = patch(patch_op(
        json!([{"op": "replace", "path": "userName", "value": "OTHER@acme.com"}]),
    ));
    assert_eq!(
        (status, err["scimType"].as_str()),
        (409, Some("uniqueness"))
    );
    let (status, _) = send(s.scim(Method::PATCH, "/Users/no-such-id").json(&patch_op(
        json!([{"op": "replace", "path": "title", "value": "x"}]),
    )));
    assert_eq!(status, 404);
}

#[test]
fn deactivation_keeps_the_record_and_delete_unlinks() {
    let s = Sim::start();
    let (id, account) = s.create_user("leaver@acme.com");
    let group = s.create_group("leavers", &[&id]);
    let (_, u) = send(
        s.scim(Method::PATCH, &format!("/Users/{id}"))
            .json(&patch_op(
                json!([{"op": "replace", "path": "active", "value": false}]),
            )),
    );
    assert_eq!(u["active"], false);
    let (status, u) = send(s.scim(Method::GET, &format!("/Users/{id}")));
    assert_eq!((status, u["active"].clone()), (200, json!(false)));
    assert_eq!(
        u["groups"][0]["value"], group,
        "memberships survive deactivation"
    );
    let (_, g) = send(s.scim(Method::GET, &format!("/Groups/{group}")));
    assert_eq!(g["members"][0]["value"], id);

    let r = s
        .scim(Method::DELETE, &format!("/Users/{id}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    for method in [Method::GET, Method::DELETE] {
        let (status, _) = send(s.scim(method, &format!("/Users/{id}")));
        assert_eq!(status, 404);
    }
    let (_, g) = send(s.scim(Method::GET, &format!("/Groups/{group}")));
    assert_eq!(g["members"], json!([]), "DELETE drops synced memberships");
    let store = s.store();
    let a = store["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["accountId"] == account.as_str())
        .unwrap();
    assert_eq!(a["active"], false, "the unlinked account is deactivated");
    // A new record with the same email links the same managed account under a new SCIM id.
    let (new_id, new_account) = s.create_user("leaver@acme.com");
    assert_ne!(new_id, id);
    assert_eq!(new_account, account);
}

#[test]
fn groups_membership_and_immutable_names() {
    let s = Sim::start();
    let (a, _) = s.create_user("a@acme.com");
    let (b, _) = s.create_user("b@acme.com");
    let (c, _) = s.create_user("c@acme.com");
    let g = s.create_group("engineers", &[&a]);
    let path = format!("/Groups/{g}");
    let patch = |ops: Value| send(s.scim(Method::PATCH, &path).json(&patch_op(ops)));
    let members = |group: &Value| -> Vec<String> {
        let mut m: Vec<String> = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_owned())
            .collect();
        m.sort();
        m
    };
    let sorted = |ids: &[&String]| {
        let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };

    let (status, group) = patch(
        json!([{"op": "add", "path": "members", "value": [{"value": b, "display": "b"}, {"value": c}]}]),
    );
    assert_eq!(status, 200);
    assert_eq!(members(&group), sorted(&[&a, &b, &c]));
    assert_eq!(group["members"][0]["type"], "User");
    assert!(
        group["members"][0]["$ref"]
            .as_str()
            .unwrap()
            .starts_with(&s.sim.scim_url())
    );
    let (_, group) = patch(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]));
    assert_eq!(members(&group), sorted(&[&b, &c]));
    let (_, group) = patch(json!([{"op": "remove", "path": "members", "value": [{"value": b}]}]));
    assert_eq!(members(&group), sorted(&[&c]));
    let (_, group) =
        patch(json!([{"op": "replace", "path": "members", "value": [{"value": a}, {"value": b}]}]));
    assert_eq!(members(&group), sorted(&[&a, &b]));
    let (_, group) = patch(json!([{"op": "replace", "path": "members", "value": []}]));
    assert_eq!(members(&group), Vec::<String>::new());

    let (status, err) =
        patch(json!([{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]));
    assert_eq!(status, 404, "{err}");
    // Atomic: a failing operation leaves the group unchanged.
    let (status, _) = patch(
        json!([{"op": "add", "path": "members", "value": [{"value": a}]}, {"op": "add", "path": "members", "value": [{"value": "ghost"}]}]),
    );
    assert_eq!(status, 404);
    let (_, group) = send(s.scim(Method::GET, &path));
    assert_eq!(members(&group), Vec::<String>::new());

    let (status, err) =
        patch(json!([{"op": "replace", "path": "displayName", "value": "renamed"}]));
    assert_eq!(
        (status, err["scimType"].as_str()),
        (400, Some("mutability"))
    );
    let (status, _) = patch(json!([{"op": "replace", "value": {"displayName": "renamed"}}]));
    assert_eq!(status, 400);
    let (status, _) = send(
        s.scim(Method::PUT, &path)
            .json(&json!({"displayName": "renamed", "members": []})),
    );
    assert_eq!(status, 400);
    let (status, _) = send(
        s.scim(Method::PUT, &path)
            .json(&json!({"displayName": "engineers", "members": [{"value": "ghost"}]})),
    );
    assert_eq!(status, 400, "PUT with an unknown member");
    let (status, group) = send(
        s.scim(Method::PUT, &path)
            .json(&json!({"displayName": "engineers", "members": [{"value": c}]})),
    );
    assert_eq!((status, members(&group)), (200, sorted(&[&c])));

    for name in [
        "engineers",
        "ENGINEERS",
        "jira-software-users",
        "confluence-users",
    ] {
        let (status, err) = send(
            s.scim(Method::POST, "/Groups")
                .json(&json!({"displayName": name})),
        );
        assert_eq!(
            (status, err["scimType"].as_str()),
            (409, Some("uniqueness")),
            "{name}"
        );
        assert_eq!(
            err["detail"],
            "Resource [GROUP]: with displayName already exists."
        );
    }
    let (_, found) = send(
        s.scim(Method::GET, "/Groups")
            .query(&[("filter", r#"displayName eq "engineers""#)]),
    );
    assert_eq!(found["totalResults"], 1);
    let (_, found) = send(
        s.scim(Method::GET, "/Groups")
            .query(&[("filter", r#"displayName eq "jira-software-users""#)]),
    );
    assert_eq!(found["totalResults"], 0, "site groups are not SCIM groups");
    let (status, _) = send(
        s.scim(Method::GET, "/Groups")
            .query(&[("filter", r#"externalId eq "x""#)]),
    );
    assert_eq!(status, 400);

    assert_eq!(s.scim(Method::DELETE, &path).send().unwrap().status(), 204);
    assert_eq!(s.scim(Method::DELETE, &path).send().unwrap().status(), 404);
    let (_, u) = send(s.scim(Method::GET, &format!("/Users/{c}")));
    assert_eq!(u["groups"], json!([]));
}

#[test]
fn discovery_documents() {
    let s = Sim::start();
    let (_, spc) = send(s.scim(Method::GET, "/ServiceProviderConfig"));
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["etag"]["supported"], false);
    let (_, types) = send(s.scim(Method::GET, "/ResourceTypes"));
    assert_eq!(types["totalResults"], 2);
    let (_, user_type) = send(s.scim(Method::GET, "/ResourceTypes/User"));
    assert_eq!(user_type["schemaExtensions"][0]["schema"], ENTERPRISE);
    let (_, schemas) = send(s.scim(Method::GET, "/Schemas"));
    assert_eq!(schemas["totalResults"], 3);
    let (status, group_schema) = send(s.scim(
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
    ));
    assert_eq!(status, 200);
    assert_eq!(group_schema["attributes"][0]["mutability"], "immutable");
    let (status, _) = send(s.scim(Method::GET, "/Schemas/urn:nope"));
    assert_eq!(status, 404);
    let (status, err) = send(s.scim(Method::GET, "/Bulk"));
    assert_eq!(
        (status, err["status"].as_str()),
        (404, Some("404")),
        "unknown endpoints answer a ScimError"
    );
    let (_, user_schema) = send(s.scim(
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    ));
    let emails = user_schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "emails")
        .unwrap();
    assert_eq!(
        emails["subAttributes"][0]["required"], true,
        "emails need a value"
    );
}
