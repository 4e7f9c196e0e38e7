//! A modern Atlassian organization, as the simulator models it, against the real plugin: rights
//! proven by capability (never by group names), scoped service-account tokens through the API
//! gateway, default groups found by access and kept by id across renames, expired tokens, and
//! the EXPERIMENTAL `/group/bulk` withdrawn.

use connector_api::ops::{OpCreate, OpGet, OpUpdate};
use connector_api::{AttributeDelta, CheckStatus, TestReport};
use host_harness::sim::SimConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Sim, atlassian, jira_members, send};

fn modern() -> Sim {
    Sim::with(SimConfig::default())
}

fn check(report: &TestReport, name: &str) -> (CheckStatus, String) {
    let c = report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#?}"));
    (
        c.status,
        format!("{} {}", c.message, c.hint.clone().unwrap_or_default()),
    )
}

/// How many requests the simulator received through the API gateway.
fn gateway_requests(s: &Sim) -> u64 {
    let stats = s.requests();
    stats["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| route.ends_with("via gateway"))
        .flat_map(|(_, counts)| counts.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap_or(0))
        .sum()
}

fn settings(s: &Sim, body: Value) {
    let (status, _) = send(s.control(Method::PUT, "/settings").json(&body));
    assert_eq!(status, 200);
}

#[test]
fn a_service_account_with_a_scoped_token_passes_through_the_gateway() {
    let s = modern();
    let report = atlassian(&s, json!({})).test().unwrap();
    assert!(report.passed(), "{report:#?}");
    let (_, text) = check(&report, "site.credentials");
    assert!(text.contains("API gateway"), "{text}");
    for name in [
        "site.admin_permission",
        "jira.product_admin",
        "confluence.product_admin",
    ] {
        let (status, text) = check(&report, name);
        assert_eq!(status, CheckStatus::Passed, "{name}: {text}");
        assert!(
            text.contains("by role") || text.contains("as a site"),
            "{text}"
        );
    }
    assert!(gateway_requests(&s) > 0);

    // Provisioning works the same way: the grant lands in the suffixed default group.
    let c = atlassian(&s, json!({}));
    let [jira, _] = s.sim.default_groups();
    let created = c
        .create(&OpCreate::new("user", "ada@acme.com").attr("email", "ada@acme.com"))
        .unwrap();
    let account = c
        .get(&OpGet::new("user", created.uid))
        .unwrap()
        .object
        .attributes["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(jira_members(&s, &jira).contains(&account));
}

#[test]
fn each_site_api_mode_reaches_the_site_its_token_allows() {
    let s = modern();
    let creds = s.sim.credentials().clone();
    // A scoped token at the Site URL only: refused, and the hint names scoped tokens and expiry.
    let report = atlassian(&s, json!({"site_api": "site"})).test().unwrap();
    let (status, text) = check(&report, "site.credentials");
    assert_eq!(status, CheckStatus::Failed);
    assert!(
        text.contains("scoped") && text.contains("expire") && text.contains("gateway"),
        "{text}"
    );
    assert!(!text.contains(&creds.service_account_token), "{text}");
    // A user's unscoped token: `auto` stays at the site, `gateway` goes through the gateway.
    let user_token = json!({"admin_email": creds.admin_email, "account_security_api_key": creds.admin_api_token});
    let before = gateway_requests(&s);
    let report = atlassian(&s, user_token.clone()).test().unwrap();
    assert!(report.passed(), "{report:#?}");
    assert!(check(&report, "site.credentials").1.contains("Site URL"));
    assert_eq!(
        gateway_requests(&s),
        before,
        "auto with a user token stays at the site"
    );
    let mut through_gateway = user_token;
    through_gateway["site_api"] = json!("gateway");
    let report = atlassian(&s, through_gateway).test().unwrap();
    assert!(report.passed(), "{report:#?}");
    assert!(gateway_requests(&s) > before);
}

#[test]
fn an_expired_token_is_named_as_a_possible_cause() {
    let s = modern();
    let creds = s.sim.credentials().clone();
    settings(&s, json!({"expired_tokens": [creds.service_account_email]}));
    let report = atlassian(&s, json!({})).test().unwrap();
    let (status, text) = check(&report, "site.credentials");
    assert_eq!(status, CheckStatus::Failed);
    assert!(text.contains("expire"), "{text}");
    assert_eq!(
        check(&report, "site.admin_permission").0,
        CheckStatus::Skipped
    );
}

#[test]
fn a_member_of_org_admins_without_the_role_is_no_admin() {
    // Since the Units rollout `org-admins` grants nothing; the plain user sits in it.
    let s = modern();
    let creds = s.sim.credentials().clone();
    let plain =
        json!({"admin_email": creds.user_email, "account_security_api_key": creds.user_api_token});
    let report = atlassian(&s, plain).test().unwrap();
    assert_eq!(check(&report, "site.credentials").0, CheckStatus::Passed);
    for name in [
        "site.admin_permission",
        "jira.product_admin",
        "confluence.product_admin",
    ] {
        let (status, text) = check(&report, name);
        assert_eq!(status, CheckStatus::Failed, "{name}: {text}");
        assert!(text.contains(&creds.user_email), "{text}");
    }
}

#[test]
fn a_default_group_that_does_not_exist_or_gives_nothing_lists_the_right_ones() {
    let s = modern();
    let [jira, confluence] = s.sim.default_groups();
    // The historical names, which a modern organization does not have.
    let report = atlassian(
        &s,
        json!({"default_group_names": ["jira-software-users", "org-admins"]}),
    )
    .test()
    .unwrap();
    let (status, text) = check(&report, "default_group.jira-software-users");
    assert_eq!(status, CheckStatus::Failed);
    assert!(text.contains(&jira) && text.contains(&confluence), "{text}");
    // A group that exists but gives no product is not a default group.
    let (status, text) = check(&report, "default_group.org-admins");
    assert_eq!(status, CheckStatus::Failed, "{text}");
    assert!(
        text.contains("no product access") && text.contains(&jira),
        "{text}"
    );
    // A grant to a name the site does not have is a configuration error naming the right one.
    let c = atlassian(&s, json!({"default_group_names": ["jira-software-users"]}));
    let err = c
        .create(&OpCreate::new("user", "bo@acme.com").attr("email", "bo@acme.com"))
        .unwrap_err();
    assert_eq!(err.kind, connector_api::ErrorKind::PartialSuccess, "{err}");
    let missing = err.details["missing"].to_string();
    assert!(missing.contains(&jira), "{missing}");
}

#[test]
fn a_renamed_default_group_keeps_working_by_id() {
    let s = modern();
    let [jira, _] = s.sim.default_groups();
    let jira_id = s.group_id(&jira);
    let c = atlassian(&s, json!({}));
    let uid = c
        .create(&OpCreate::new("user", "cy@acme.com").attr("email", "cy@acme.com"))
        .unwrap()
        .uid;
    let (status, _) = send(
        s.control(Method::POST, "/rename-group")
            .json(&json!({"from": jira, "to": "jsw-users"})),
    );
    assert_eq!(status, 200);
    // The open connector resolved the id before the rename: reads and writes go on.
    let read = |c: &connector_api::host::ConnectorClient| {
        c.get(&OpGet::new("user", uid.clone()).attributes(&["product_access"]))
            .unwrap()
            .object
            .attributes["product_access"]
            .clone()
    };
    assert_eq!(read(&c)[0], json!(jira));
    c.update(
        &OpUpdate::new("user", uid.clone())
            .delta(AttributeDelta::remove("product_access", [json!(jira)])),
    )
    .unwrap();
    assert!(!read(&c).as_array().unwrap().contains(&json!(jira)));
    // A new connector configured by the old name is told the new one; by id, it works.
    let report = atlassian(&s, json!({})).test().unwrap();
    let (status, text) = check(&report, &format!("default_group.{jira}"));
    assert_eq!(status, CheckStatus::Failed);
    assert!(text.contains("jsw-users"), "{text}");
    let by_id = atlassian(&s, json!({"default_group_names": [jira_id.clone()]}));
    let report = by_id.test().unwrap();
    let (status, text) = check(&report, &format!("default_group.{jira_id}"));
    assert_eq!(status, CheckStatus::Passed, "{text}");
    assert!(text.contains("jsw-users"), "{text}");
    by_id
        .update(
            &OpUpdate::new("user", uid.clone())
                .delta(AttributeDelta::add("product_access", [json!(jira_id)])),
        )
        .unwrap();
    assert_eq!(read(&by_id), json!([jira_id]));
}

#[test]
fn product_access_works_when_group_bulk_is_withdrawn() {
    let s = modern();
    settings(&s, json!({"group_bulk": false}));
    let [jira, confluence] = s.sim.default_groups();
    let c = atlassian(&s, json!({}));
    let uid = c
        .create(&OpCreate::new("user", "di@acme.com").attr("email", "di@acme.com"))
        .unwrap()
        .uid;
    let access = c
        .get(&OpGet::new("user", uid).attributes(&["product_access"]))
        .unwrap()
        .object
        .attributes["product_access"]
        .clone();
    assert_eq!(access, json!([jira, confluence]));
    // Test connection still proves each group gives its product (application roles, Confluence).
    let report = c.test().unwrap();
    assert!(report.passed(), "{report:#?}");
    let stats = s.requests();
    assert!(
        stats["routes"]
            .as_object()
            .unwrap()
            .keys()
            .any(|r| r.contains("groups/picker"))
    );
}

#[test]
fn the_simulated_site_answers_access_lookups_and_the_gateway_as_documented() {
    let s = modern();
    let creds = s.sim.credentials().clone();
    let cloud_id = send(
        s.http
            .get(format!("{}/_edge/tenant_info", s.sim.site_url())),
    )
    .1["cloudId"]
        .as_str()
        .unwrap()
        .to_owned();
    let scoped = |path: &str| {
        s.http
            .get(format!("{}{path}", s.sim.site_url()))
            .basic_auth(
                &creds.service_account_email,
                Some(&creds.service_account_token),
            )
    };
    assert_eq!(send(scoped("/rest/api/3/myself")).0, 401);
    assert_eq!(
        send(scoped(&format!("/ex/jira/{cloud_id}/rest/api/3/myself"))).0,
        200
    );
    assert_eq!(
        send(scoped(
            "/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/myself"
        ))
        .0,
        404
    );
    let (status, user) = send(scoped(&format!(
        "/ex/confluence/{cloud_id}/wiki/rest/api/user/current?expand=operations"
    )));
    assert_eq!(status, 200);
    assert!(user["operations"].to_string().contains("administer"));
    // accessType: the suffixed product-admin group, no site-admin group at all.
    let bulk = |query: &str| {
        let (status, page) = send(s.admin(Method::GET, &format!("/rest/api/3/group/bulk?{query}")));
        assert_eq!(status, 200);
        page["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(bulk("accessType=admin"), ["jira-admins-acme"]);
    assert!(bulk("accessType=site-admin").is_empty());
    assert_eq!(
        bulk("accessType=user&applicationKey=jira-software"),
        ["jira-software-users-acme"]
    );
    let (status, _) = send(s.admin(Method::GET, "/rest/api/3/group/bulk?accessType=owner"));
    assert_eq!(status, 400);
    let (_, groups) = send(s.admin(Method::GET, "/wiki/rest/api/group?accessType=admin"));
    assert_eq!(groups["results"][0]["name"], "confluence-admins-acme");
    let (status, perms) = send(s.plain_user(
        Method::GET,
        "/rest/api/3/mypermissions?permissions=ADMINISTER,SYSTEM_ADMIN",
    ));
    assert_eq!(status, 200);
    assert_eq!(perms["permissions"]["ADMINISTER"]["havePermission"], false);
    let (status, _) = send(s.admin(Method::GET, "/rest/api/3/mypermissions"));
    assert_eq!(status, 400);
}
