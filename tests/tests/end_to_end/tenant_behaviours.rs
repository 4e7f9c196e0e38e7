//! What a real tenant may do that our own simulator did not, each a simulator switch, against
//! the real plugin: no-op membership answers (400, 409, success), permission problems worded as
//! 404, unlinked accounts, immutable or ignored renames, large membership replaces (which must
//! never dip), and the waits a grant makes or must not make.

use std::time::{Duration, Instant};

use connector_api::ops::{OpCreate, OpDelete, OpGet, OpUpdate};
use connector_api::{AttributeDelta, ErrorKind};
use host_harness::sim::{NoOpAnswer, SimConfig, Switches, UserNameChange};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Sim, atlassian, jira_members, legacy, send};

fn with_switches(switches: Switches) -> Sim {
    Sim::with(SimConfig {
        switches,
        ..legacy()
    })
}

fn new_user(name: &str) -> OpCreate {
    OpCreate::new("user", name).attr("email", name)
}

fn access(c: &connector_api::host::ConnectorClient, uid: &str) -> Value {
    c.get(&OpGet::new("user", uid).attributes(&["product_access"]))
        .unwrap()
        .object
        .attributes["product_access"]
        .clone()
}

#[test]
fn membership_writes_that_change_nothing_succeed_whatever_jira_answers() {
    for answer in [
        NoOpAnswer::BadRequest,
        NoOpAnswer::Conflict,
        NoOpAnswer::Success,
    ] {
        let s = with_switches(Switches {
            jira_no_op: answer,
            ..Switches::default()
        });
        let c = atlassian(&s, json!({}));
        let uid = c.create(&new_user("nop@acme.com")).unwrap().uid;
        // Granting what it has, and revoking twice: each is "already so".
        for delta in [
            AttributeDelta::add("product_access", [json!("jira-software-users")]),
            AttributeDelta::remove("product_access", [json!("confluence-users")]),
            AttributeDelta::remove("product_access", [json!("confluence-users")]),
        ] {
            c.update(&OpUpdate::new("user", uid.clone()).delta(delta))
                .unwrap_or_else(|e| panic!("{answer:?}: {e}"));
        }
        assert_eq!(
            access(&c, uid.as_str()),
            json!(["jira-software-users"]),
            "{answer:?}"
        );
    }
}

#[test]
fn a_permission_problem_worded_as_404_is_permission_denied_at_once() {
    let s = with_switches(Switches {
        forbidden_as_404: true,
        ..Switches::default()
    });
    let creds = s.sim.credentials().clone();
    let admin = atlassian(&s, json!({"default_group_names": []}));
    let uid = admin.create(&new_user("perm@acme.com")).unwrap().uid;
    let plain = atlassian(
        &s,
        json!({"admin_email": creds.user_email, "account_security_api_key": creds.user_api_token}),
    );
    let started = Instant::now();
    let err = plain
        .update(
            &OpUpdate::new("user", uid.clone()).delta(AttributeDelta::add(
                "product_access",
                [json!("jira-software-users")],
            )),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PartialSuccess, "{err}");
    assert_eq!(
        err.details["missing"][0]["error"]["kind"], "permission_denied",
        "{err}"
    );
    assert!(!err.retryable, "{err}");
    // No propagation wait for an account the site can see.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_unlinked_record_is_refused_with_how_to_relink_it() {
    let s = Sim::start();
    let c = atlassian(&s, json!({"default_group_names": []}));
    let uid = c.create(&new_user("moved@acme.com")).unwrap().uid;
    let (status, _) = send(
        s.control(Method::POST, "/unlink")
            .json(&json!({"id": uid.as_str(), "created_minutes_ago": 60})),
    );
    assert_eq!(status, 200);
    let c = atlassian(&s, json!({}));
    let started = Instant::now();
    let err = c
        .update(
            &OpUpdate::new("user", uid.clone()).delta(AttributeDelta::add(
                "product_access",
                [json!("jira-software-users")],
            )),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidAttributeValue, "{err}");
    assert!(!err.retryable);
    assert!(
        err.message.contains("unlinked") && err.message.contains("get-scim-links-for-email"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_create_that_grants_nothing_never_waits_for_the_account() {
    let s = with_switches(Switches {
        account_id_in_create_response: false,
        ..Switches::default()
    });
    let c = atlassian(&s, json!({"default_group_names": []}));
    let before = s.requests()["total"].as_u64().unwrap();
    c.create(&new_user("quick@acme.com")).unwrap();
    // The POST alone: no re-read waiting for an account id nobody needs.
    assert_eq!(s.requests()["total"].as_u64().unwrap() - before, 1);
}

#[test]
fn a_grant_that_outwaits_its_budget_says_when_to_retry() {
    let s = Sim::with(SimConfig {
        propagation_delay: Duration::from_secs(20),
        ..legacy()
    });
    let c = atlassian(&s, json!({"propagation_wait_secs": 1}));
    let started = Instant::now();
    let err = c.create(&new_user("slow@acme.com")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PartialSuccess, "{err}");
    assert!(err.retryable);
    assert!(
        err.details["retry_after_secs"].as_u64().unwrap() >= 1,
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn renames_are_proven_or_refused() {
    for change in [UserNameChange::Refused, UserNameChange::Ignored] {
        let s = with_switches(Switches {
            user_name_change: change,
            ..Switches::default()
        });
        let c = atlassian(&s, json!({"default_group_names": []}));
        let uid = c.create(&new_user("old@acme.com")).unwrap().uid;
        let err = c
            .update(&OpUpdate::new("user", uid.clone()).rename("new@acme.com"))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported, "{change:?}: {err}");
        assert!(err.message.contains("new@acme.com"), "{err}");
        let name = c.get(&OpGet::new("user", uid)).unwrap().object.name;
        assert_eq!(name, "old@acme.com");
    }
    // Where renames work, they are done and read back.
    let s = Sim::start();
    let c = atlassian(&s, json!({"default_group_names": []}));
    let uid = c.create(&new_user("before@acme.com")).unwrap().uid;
    c.update(&OpUpdate::new("user", uid.clone()).rename("after@acme.com"))
        .unwrap();
    assert_eq!(
        c.get(&OpGet::new("user", uid)).unwrap().object.name,
        "after@acme.com"
    );
}

#[test]
fn a_large_members_replace_never_drops_anyone_who_stays() {
    let s = Sim::start();
    let users: Vec<String> = (0..230)
        .map(|i| s.create_user(&format!("m{i:03}@acme.com")).0)
        .collect();
    let c = atlassian(&s, json!({}));
    let group = c
        .create(&OpCreate::new("group", "big-team").attr("members", json!(users[..150].to_vec())))
        .unwrap()
        .uid;
    let log_len = send(s.control(Method::GET, "/membership-log"))
        .1
        .as_array()
        .unwrap()
        .len();
    // Keep 100..150, drop 0..100, add 150..230: 130 members, more than one request holds;
    // the newcomers first, so that "replace with the first 100, add the rest" would drop
    // stayers in between.
    let want: Vec<Value> = users[150..230]
        .iter()
        .chain(&users[100..150])
        .map(|u| json!(u))
        .collect();
    c.update(
        &OpUpdate::new("group", group.clone()).delta(AttributeDelta::replace("members", want)),
    )
    .unwrap();
    let members = c
        .get(&OpGet::new("group", group.clone()))
        .unwrap()
        .object
        .attributes["members"]
        .clone();
    assert_eq!(members.as_array().unwrap().len(), 130);
    let store = s.store();
    let account_of = |scim_id: &str| {
        store["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == scim_id)
            .unwrap()["account_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let stayed: Vec<String> = users[100..150].iter().map(|u| account_of(u)).collect();
    let log = send(s.control(Method::GET, "/membership-log")).1;
    let during = &log.as_array().unwrap()[log_len..];
    assert!(!during.is_empty());
    for change in during {
        let account = change["account"].as_str().unwrap();
        assert!(
            change["joined"] == true || !stayed.iter().any(|a| a == account),
            "a member who stays was removed during the replace: {change}"
        );
    }
    let _ = c.delete(&OpDelete::new("group", group));
}

#[test]
fn revoke_access_keeps_the_account_and_removes_the_access() {
    let s = Sim::start();
    let c = atlassian(&s, json!({"deprovisioning": "revoke_access"}));
    let uid = c.create(&new_user("leaver@acme.com")).unwrap().uid;
    let account = c
        .get(&OpGet::new("user", uid.clone()))
        .unwrap()
        .object
        .attributes["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(jira_members(&s, "jira-software-users").contains(&account));
    c.delete(&OpDelete::new("user", uid.clone())).unwrap();
    let user = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(user.enabled, Some(true));
    assert_eq!(user.attributes["product_access"], json!([]));
    assert!(!jira_members(&s, "jira-software-users").contains(&account));
    // Again: nothing left to revoke, still done.
    c.delete(&OpDelete::new("user", uid)).unwrap();
}

#[test]
fn a_scim_create_answers_its_location() {
    let s = Sim::start();
    let response = s
        .scim(Method::POST, "/Users")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "where@acme.com",
            "emails": [{"value": "where@acme.com", "type": "work", "primary": true}],
        }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().unwrap();
    assert_eq!(location, body["meta"]["location"].as_str().unwrap());
    let (_, schemas) = send(s.scim(Method::GET, "/Schemas"));
    let user = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "User")
        .unwrap();
    let groups = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "groups")
        .unwrap();
    let subs: Vec<&str> = groups["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(subs, ["value", "display", "type", "$ref"]);
}

#[test]
fn a_strict_scim_server_gets_the_rfc_forms_after_one_refusal() {
    let s = with_switches(Switches {
        strict_patch: true,
        ..Switches::default()
    });
    let c = atlassian(&s, json!({"default_group_names": []}));
    let uid = c
        .create(&new_user("strict@acme.com").attr("title", "Boss"))
        .unwrap()
        .uid;
    let update = |delta: AttributeDelta| {
        c.update(&OpUpdate::new("user", uid.clone()).delta(delta))
            .unwrap_or_else(|e| panic!("{e}"));
    };
    // `remove` of title, refused: `replace ""` instead; a mobile phone where none is: `add`.
    update(AttributeDelta::replace("title", []));
    update(AttributeDelta::replace(
        "phone_mobile",
        [json!("+1 555 0100")],
    ));
    update(AttributeDelta::replace("department", []));
    let user = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(user.attributes.get("title").filter(|t| *t != ""), None);
    assert_eq!(user.attributes["phone_mobile"], "+1 555 0100");
    let refused = |s: &Sim| {
        s.requests()["routes"]["PATCH /scim/directory/{directoryId}/Users/{id}"]["400"]
            .as_u64()
            .unwrap_or(0)
    };
    // Refused once, then the strict form is sent first.
    assert_eq!(refused(&s), 1, "{}", s.requests());
    // Member removal as `members[value eq "…"]`.
    let group = c
        .create(&OpCreate::new("group", "strict-team").attr("members", json!([uid.as_str()])))
        .unwrap()
        .uid;
    c.update(
        &OpUpdate::new("group", group.clone())
            .delta(AttributeDelta::remove("members", [json!(uid.as_str())])),
    )
    .unwrap();
    let members = c
        .get(&OpGet::new("group", group))
        .unwrap()
        .object
        .attributes["members"]
        .clone();
    assert!(members.as_array().is_none_or(|m| m.is_empty()), "{members}");
}

#[test]
fn a_group_patch_404_tells_a_gone_group_from_an_unknown_member() {
    let s = Sim::start();
    let c = atlassian(&s, json!({"default_group_names": []}));
    let group = c.create(&OpCreate::new("group", "g404")).unwrap().uid;
    let err = c
        .update(
            &OpUpdate::new("group", group.clone())
                .delta(AttributeDelta::add("members", [json!("no-such-user")])),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidAttributeValue, "{err}");
    assert_eq!(err.attribute(), Some("members"));
    c.delete(&OpDelete::new("group", group.clone())).unwrap();
    let err = c
        .update(
            &OpUpdate::new("group", group)
                .delta(AttributeDelta::add("members", [json!("no-such-user")])),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownUid, "{err}");
}

#[test]
fn a_large_group_is_read_whole_by_search_and_get() {
    let s = Sim::with(SimConfig {
        group_members: 30_000,
        ..legacy()
    });
    let c = atlassian(&s, json!({"default_group_names": []}));
    let groups = c
        .search_all(&connector_api::ops::OpSearch::new("group"))
        .unwrap();
    let large = groups.iter().find(|g| g.name == "large-group").unwrap();
    let members = large.attributes["members"].as_array().unwrap();
    assert_eq!(members.len(), 30_000);
    let distinct: std::collections::HashSet<&str> =
        members.iter().filter_map(Value::as_str).collect();
    assert_eq!(distinct.len(), 30_000);
    let got = c
        .get(&OpGet::new("group", large.uid.clone()))
        .unwrap()
        .object;
    assert_eq!(got.attributes["members"].as_array().unwrap().len(), 30_000);
}
