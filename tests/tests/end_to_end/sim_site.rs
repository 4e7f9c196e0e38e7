//! The simulator's Jira and Confluence APIs over real HTTP, and the one organization behind them
//! and SCIM: synced groups read-only on the sites, admin versus plain credentials, propagation.

use std::time::{Duration, Instant};

use crate::common::{Sim, send};
use host_harness::sim::SimConfig;
use reqwest::Method;
use serde_json::json;

#[test]
fn jira_auth_and_permissions() {
    let s = Sim::start();
    let (status, me) = send(s.admin(Method::GET, "/rest/api/3/myself"));
    assert_eq!(status, 200);
    assert_eq!(me["emailAddress"], s.sim.credentials().admin_email);
    let (status, err) = send(
        s.http
            .get(format!("{}/rest/api/3/myself", s.sim.site_url()))
            .basic_auth("x@y.z", Some("nope")),
    );
    assert_eq!(status, 401);
    assert!(
        err["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("not authenticated"),
        "{err}"
    );
    assert_eq!(err["errors"], json!({}));
    // A plain user reads but does not manage.
    let (status, _) = send(s.plain_user(Method::GET, "/rest/api/3/group/bulk"));
    assert_eq!(status, 200);
    let (status, err) = send(
        s.plain_user(Method::POST, "/rest/api/3/group")
            .json(&json!({"name": "x"})),
    );
    assert_eq!(status, 403, "{err}");
    let group = s.group_id("jira-software-users");
    let (status, _) = send(
        s.plain_user(Method::POST, "/rest/api/3/group/user")
            .query(&[("groupId", &group)])
            .json(&json!({"accountId": "a"})),
    );
    assert_eq!(status, 403);
    // Confluence too.
    let (status, err) = send(
        s.plain_user(Method::POST, "/wiki/rest/api/group/userByGroupId")
            .query(&[("groupId", &group)])
            .json(&json!({"accountId": "a"})),
    );
    assert_eq!(status, 403);
    assert_eq!(err["statusCode"], 403);
}

#[test]
fn jira_groups_lifecycle_and_membership() {
    let s = Sim::start();
    let (_, account) = s.create_user("member@acme.com");
    let (status, created) = send(
        s.admin(Method::POST, "/rest/api/3/group")
            .json(&json!({"name": "power-users"})),
    );
    assert_eq!(status, 201);
    assert_eq!(created["name"], "power-users");
    assert_eq!(created["expand"], "users");
    let id = created["groupId"].as_str().unwrap().to_owned();
    let (status, _) = send(
        s.admin(Method::POST, "/rest/api/3/group")
            .json(&json!({"name": "POWER-users"})),
    );
    assert_eq!(status, 400, "name in use");

    let add = |q: &[(&str, &str)], account: &str| {
        send(
            s.admin(Method::POST, "/rest/api/3/group/user")
                .query(q)
                .json(&json!({"accountId": account})),
        )
    };
    let (status, group) = add(&[("groupname", "power-users")], &account);
    assert_eq!(status, 201);
    assert_eq!(group["users"]["size"], 1);
    let (status, err) = add(&[("groupId", &id)], &account);
    assert_eq!(status, 400, "already a member: {err}");
    let (status, err) = add(&[("groupId", &id)], "5b10a2844c20165700ede21g");
    assert_eq!(status, 404);
    assert_eq!(
        err["errorMessages"][0],
        "Specified user does not exist or you do not have required permissions"
    );
    let (status, _) = add(&[("groupId", "nope")], &account);
    assert_eq!(status, 404);
    let (status, _) = add(&[("groupId", &id), ("groupname", "power-users")], &account);
    assert_eq!(status, 400, "groupId and groupname are exclusive");

    let (_, groups) = send(
        s.admin(Method::GET, "/rest/api/3/user/groups")
            .query(&[("accountId", &account)]),
    );
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["groupId"] == id.as_str())
    );
    let (_, user) = send(s.admin(Method::GET, "/rest/api/3/user").query(&[
        ("accountId", account.as_str()),
        ("expand", "groups,applicationRoles"),
    ]));
    assert_eq!(user["groups"]["size"], 1);

    let remove = || {
        s.admin(Method::DELETE, "/rest/api/3/group/user")
            .query(&[("groupId", id.as_str()), ("accountId", account.as_str())])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(remove(), 200);
    assert_eq!(remove(), 400, "not a member any more");

    let (_, bulk) = send(s.admin(Method::GET, "/rest/api/3/group/bulk").query(&[
        ("groupName", "power-users"),
        ("groupName", "confluence-users"),
    ]));
    assert_eq!(bulk["total"], 2);
    assert_eq!(bulk["isLast"], true);
    let (_, picker) = send(
        s.admin(Method::GET, "/rest/api/3/groups/picker")
            .query(&[("query", "POWER")]),
    );
    assert_eq!(picker["total"], 1);
    assert_eq!(picker["groups"][0]["html"], "<b>power</b>-users");

    let delete = |q: &[(&str, &str)]| {
        s.admin(Method::DELETE, "/rest/api/3/group")
            .query(q)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(delete(&[("groupId", &id)]), 200);
    assert_eq!(delete(&[("groupId", &id)]), 404);
    assert_eq!(
        delete(&[("groupname", "jira-software-users")]),
        400,
        "default groups cannot be deleted"
    );
}

#[test]
fn jira_group_members_page_at_most_fifty() {
    let s = Sim::with(SimConfig {
        users: 300,
        seed: 3,
        ..crate::common::legacy()
    });
    let group = s.group_id("jira-software-users");
    let store = s.store();
    let expected = store["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "jira-software-users")
        .unwrap()["members"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        expected > 100,
        "seeding puts most users in the default groups"
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut start = 0;
    loop {
        let (status, page) = send(s.admin(Method::GET, "/rest/api/3/group/member").query(&[
            ("groupId", group.as_str()),
            ("startAt", &start.to_string()),
            ("maxResults", "500"),
            ("includeInactiveUsers", "true"),
        ]));
        assert_eq!(status, 200);
        let values = page["values"].as_array().unwrap();
        assert!(values.len() <= 50, "page of {}", values.len());
        assert_eq!(page["maxResults"], 50);
        // Each member as Jira's `User` bean lists it, in Jira's order.
        for v in values.iter().take(3) {
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            let expected = [
                "self",
                "accountId",
                "accountType",
                "avatarUrls",
                "displayName",
                "active",
                "timeZone",
                "locale",
                "emailAddress",
            ];
            assert_eq!(keys, expected[..keys.len().max(8)], "{v}");
            let sizes: Vec<&str> = v["avatarUrls"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(sizes, ["48x48", "24x24", "16x16", "32x32"]);
            assert!(
                v["self"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("accountId={}", v["accountId"].as_str().unwrap()))
            );
        }
        for v in values {
            assert!(seen.insert(v["accountId"].as_str().unwrap().to_owned()));
        }
        start += values.len();
        if page["isLast"] == true {
            assert!(page.get("nextPage").is_none());
            break;
        }
        assert!(
            page["nextPage"]
                .as_str()
                .unwrap()
                .contains(&format!("startAt={start}"))
        );
    }
    assert_eq!(seen.len(), expected);
    // Inactive users are left out unless asked for.
    let (_, active) = send(
        s.admin(Method::GET, "/rest/api/3/group/member")
            .query(&[("groupId", group.as_str())]),
    );
    assert!(active["total"].as_u64().unwrap() < expected as u64);
}

#[test]
fn jira_user_search_is_a_bare_array_with_private_emails_hidden() {
    let s = Sim::start();
    let (visible_scim, visible) = s.create_user("zoe.visible@acme.com");
    let (hidden_scim, hidden) = s.create_user("zoe.hidden@acme.com");
    for (id, name) in [(visible_scim, "Zoe Visible"), (hidden_scim, "Zoe Hidden")] {
        let ops = crate::common::patch_op(
            json!([{"op": "replace", "path": "displayName", "value": name}]),
        );
        assert_eq!(
            send(s.scim(Method::PATCH, &format!("/Users/{id}")).json(&ops)).0,
            200
        );
    }
    s.sim
        .state()
        .store
        .write()
        .set_email_visible(&hidden, false);
    let (status, found) = send(
        s.admin(Method::GET, "/rest/api/3/user/search")
            .query(&[("query", "zoe")]),
    );
    assert_eq!(status, 200);
    let found = found.as_array().expect("a bare array");
    assert_eq!(found.len(), 2);
    let by_id = |id: &str| found.iter().find(|u| u["accountId"] == id).unwrap().clone();
    assert_eq!(by_id(&visible)["emailAddress"], "zoe.visible@acme.com");
    assert!(by_id(&hidden).get("emailAddress").is_none());
    // Prefix match on the email only where it is visible.
    let (_, by_email) = send(
        s.admin(Method::GET, "/rest/api/3/user/search")
            .query(&[("query", "zoe.")]),
    );
    assert_eq!(by_email.as_array().unwrap().len(), 1);
    let (status, _) = send(s.admin(Method::GET, "/rest/api/3/user/search"));
    assert_eq!(status, 400);
    let (_, roles) = send(s.admin(Method::GET, "/rest/api/3/applicationrole"));
    assert_eq!(roles[0]["key"], "jira-software");
    assert_eq!(roles[0]["defaultGroups"], json!(["jira-software-users"]));
    // The groups that give Jira Software; a legacy site's suffixed look-alike gives nothing.
    assert_eq!(roles[0]["groups"], json!(["jira-software-users"]));
}

#[test]
fn synced_groups_are_read_only_on_the_sites() {
    let s = Sim::start();
    let (scim_user, account) = s.create_user("synced@acme.com");
    let group = s.create_group("idp-team", &[&scim_user]);
    let (_, other) = s.create_user("other@acme.com");
    let _ = other;
    // Visible on both sites, with the member mapped to its account.
    let (_, members) = send(
        s.admin(Method::GET, "/rest/api/3/group/member")
            .query(&[("groupId", &group)]),
    );
    assert_eq!(members["values"][0]["accountId"], account.as_str());
    let (_, members) = send(s.admin(
        Method::GET,
        &format!("/wiki/rest/api/group/{group}/membersByGroupId"),
    ));
    assert_eq!(members["results"][0]["accountId"], account.as_str());
    // Writes refused by both.
    let (status, err) = send(
        s.admin(Method::POST, "/rest/api/3/group/user")
            .query(&[("groupId", &group)])
            .json(&json!({"accountId": account})),
    );
    assert_eq!(status, 400);
    assert!(
        err["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("synced from an identity provider"),
        "{err}"
    );
    let status = s
        .admin(Method::DELETE, "/wiki/rest/api/group/userByGroupId")
        .query(&[("groupId", group.as_str()), ("accountId", account.as_str())])
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 400);
    let status = s
        .admin(Method::DELETE, "/rest/api/3/group")
        .query(&[("groupId", &group)])
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 400);
}

#[test]
fn confluence_groups_and_members() {
    let s = Sim::start();
    let (_, ada) = s.create_user("ada@acme.com");
    let (_, list) = send(
        s.admin(Method::GET, "/wiki/rest/api/group")
            .query(&[("limit", "200")]),
    );
    let names: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name");
    assert!(names.contains(&"confluence-users") && names.contains(&"confluence-users-acme"));
    let (_, two) = send(
        s.admin(Method::GET, "/wiki/rest/api/group")
            .query(&[("limit", "2")]),
    );
    assert!(two["_links"]["next"].is_string());

    let (status, group) = send(
        s.admin(Method::GET, "/wiki/rest/api/group/by-name")
            .query(&[("name", "confluence-users")]),
    );
    assert_eq!(status, 200);
    assert_eq!(group["type"], "group");
    let id = group["id"].as_str().unwrap().to_owned();
    let (_, by_id) = send(
        s.admin(Method::GET, "/wiki/rest/api/group/by-id")
            .query(&[("id", &id)]),
    );
    assert_eq!(by_id["name"], "confluence-users");
    let (status, err) = send(
        s.admin(Method::GET, "/wiki/rest/api/group/by-name")
            .query(&[("name", "nope")]),
    );
    assert_eq!((status, err["statusCode"].clone()), (404, json!(404)));

    let add = || {
        s.admin(Method::POST, "/wiki/rest/api/group/userByGroupId")
            .query(&[("groupId", &id)])
            .json(&json!({"accountId": ada}))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(add(), 201);
    let (_, members) = send(
        s.admin(
            Method::GET,
            &format!("/wiki/rest/api/group/{id}/membersByGroupId"),
        )
        .query(&[("shouldReturnTotalSize", "true")]),
    );
    assert_eq!(members["totalSize"], 1);
    assert_eq!(members["results"][0]["email"], "ada@acme.com");
    let (status, _) = send(
        s.admin(
            Method::GET,
            &format!("/wiki/rest/api/group/{id}/membersByGroupId"),
        )
        .query(&[("limit", "201")]),
    );
    assert_eq!(status, 400, "the member limit is 200");
    let remove = || {
        s.admin(Method::DELETE, "/wiki/rest/api/group/userByGroupId")
            .query(&[("groupId", id.as_str()), ("accountId", ada.as_str())])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(remove(), 204);
    assert_eq!(remove(), 204, "204 even for a non-member");
    let status = s
        .admin(Method::DELETE, "/wiki/rest/api/group/userByGroupId")
        .query(&[("groupId", "nope"), ("accountId", ada.as_str())])
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 404);
    // A membership granted through Confluence is visible through Jira: one organization.
    assert_eq!(add(), 201);
    let (_, jira) = send(
        s.admin(Method::GET, "/rest/api/3/group/member")
            .query(&[("groupId", &id)]),
    );
    assert_eq!(jira["values"][0]["accountId"], ada.as_str());
}

#[test]
fn scim_writes_reach_the_sites_after_the_propagation_delay() {
    let s = Sim::start();
    let (status, _) = send(
        s.control(Method::PUT, "/settings")
            .json(&json!({"propagation_delay_ms": 400})),
    );
    assert_eq!(status, 200);
    let (_, account) = s.create_user("late@acme.com");
    let created = Instant::now();
    let lookup = || {
        send(
            s.admin(Method::GET, "/rest/api/3/user")
                .query(&[("accountId", &account)]),
        )
        .0
    };
    assert_eq!(lookup(), 404, "not yet propagated");
    let group = s.group_id("jira-software-users");
    let (status, _) = send(
        s.admin(Method::POST, "/rest/api/3/group/user")
            .query(&[("groupId", &group)])
            .json(&json!({"accountId": account})),
    );
    assert_eq!(
        status, 404,
        "a grant before propagation fails as for an unknown user"
    );
    let mut polls = 0;
    while lookup() != 200 {
        polls += 1;
        assert!(
            polls < 100 && created.elapsed() < Duration::from_secs(5),
            "never propagated"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = send(
        s.admin(Method::POST, "/rest/api/3/group/user")
            .query(&[("groupId", &group)])
            .json(&json!({"accountId": account})),
    );
    assert_eq!(status, 201);
}
