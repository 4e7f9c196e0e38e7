//! The Atlassian plugin's groups, searches and HTTP behaviour through the real library, against
//! the simulator: memberships batched, renames refused, filters translated or evaluated, paging
//! across the caps, each HTTP status mapped to its error kind, retries inside the deadline.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crate::common::{Sim, atlassian, send};
use connector_api::host::CallOptions;
use connector_api::ops::{OpCreate, OpDelete, OpGet, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, CheckStatus, ErrorKind, Filter, special};
use host_harness::sim::SimConfig;
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RouteClass};
use reqwest::Method;
use serde_json::{Value, json};

#[test]
fn groups_lifecycle_with_batched_members() {
    let s = Sim::with(SimConfig {
        users: 150,
        ..crate::common::legacy()
    });
    let c = atlassian(&s, json!({}));
    let all: Vec<String> = c
        .search_all(&OpSearch::new("user").attributes(&["email"]))
        .unwrap()
        .into_iter()
        .map(|u| u.uid.0)
        .collect();
    assert_eq!(all.len(), 150);
    let g = c
        .create(&OpCreate::new("group", "engineers").attr("members", json!(all[..2])))
        .unwrap()
        .uid;
    let got = c.get(&OpGet::new("group", g.clone())).unwrap().object;
    assert_eq!(got.name, "engineers");
    assert_eq!(got.attributes["members"].as_array().unwrap().len(), 2);

    let ids: Vec<Value> = all.iter().map(|u| json!(u)).collect();
    c.update(&OpUpdate::new("group", g.clone()).delta(AttributeDelta::add("members", ids.clone())))
        .unwrap();
    let got = c.get(&OpGet::new("group", g.clone())).unwrap().object;
    assert_eq!(got.attributes["members"].as_array().unwrap().len(), 150);
    let patches = s.requests()["routes"]["PATCH /scim/directory/{directoryId}/Groups/{id}"]["200"]
        .as_u64()
        .unwrap();
    assert_eq!(patches, 2, "150 members in batches of 100");
    // Visible from the member's side.
    let member = c.get(&OpGet::new("user", all[0].as_str())).unwrap().object;
    assert_eq!(member.attributes["groups"], json!([g.as_str()]));

    c.update(
        &OpUpdate::new("group", g.clone())
            .delta(AttributeDelta::remove("members", ids[..140].to_vec())),
    )
    .unwrap();
    let got = c.get(&OpGet::new("group", g.clone())).unwrap().object;
    assert_eq!(got.attributes["members"].as_array().unwrap().len(), 10);
    c.update(
        &OpUpdate::new("group", g.clone())
            .delta(AttributeDelta::remove("members", [json!(all[0])])),
    )
    .unwrap();

    let found = c
        .search_all(&OpSearch::new("group").filter(Filter::name("engineers")))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uid, g);

    let err = c
        .call(&OpUpdate::new("group", g.clone()).rename("builders"))
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Unsupported,
        "refused before crossing: rename is not declared"
    );
    // The name is a group's identity: a second create adopts the group, adding its members.
    let again = c
        .create(&OpCreate::new("group", "engineers").attr("members", json!([all[149]])))
        .unwrap();
    assert_eq!((again.uid.clone(), again.adopted), (g.clone(), true));
    let got = c.get(&OpGet::new("group", g.clone())).unwrap().object;
    assert!(
        got.attributes["members"]
            .as_array()
            .unwrap()
            .contains(&json!(all[149]))
    );
    let err = c
        .create(&OpCreate::new("group", "jira-software-users"))
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::AlreadyExists,
        "a default group cannot be synced: {err}"
    );
    let err = c
        .create(&OpCreate::new("group", "ghosts").attr("members", json!(["no-such-user"])))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidAttributeValue, "{err}");
    let err = c
        .update(
            &OpUpdate::new("group", g.clone())
                .delta(AttributeDelta::add("members", [json!("no-such-user")])),
        )
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("members"))
    );

    c.delete(&OpDelete::new("group", g.clone())).unwrap();
    assert_eq!(
        c.get(&OpGet::new("group", g.clone())).unwrap_err().kind,
        ErrorKind::UnknownUid
    );
    assert_eq!(
        c.delete(&OpDelete::new("group", g)).unwrap_err().kind,
        ErrorKind::UnknownUid
    );
}

#[test]
fn searches_translate_or_evaluate_every_filter() {
    let s = Sim::with(SimConfig {
        users: 40,
        ..crate::common::legacy()
    });
    let c = atlassian(&s, json!({}));
    let find = |f: Filter| c.search_all(&OpSearch::new("user").filter(f)).unwrap();
    let one = find(Filter::name("USER000007@acme.example.com"));
    assert_eq!(
        one.len(),
        1,
        "userName eq is answered by SCIM, case-insensitively"
    );
    let uid = one[0].uid.clone();
    assert_eq!(
        find(Filter::uid(uid.as_str()))[0].name,
        "user000007@acme.example.com"
    );
    assert!(find(Filter::uid("no-such-uid")).is_empty());
    assert_eq!(find(Filter::eq("external_id", "ext-7-000007"))[0].uid, uid);
    assert!(find(Filter::eq("external_id", "EXT-7-000007")).is_empty());
    assert_eq!(
        find(Filter::and([
            Filter::name("user000007@acme.example.com"),
            Filter::eq("display_name", "User 000007")
        ]))
        .len(),
        1
    );
    assert!(
        find(Filter::and([
            Filter::name("user000007@acme.example.com"),
            Filter::eq("display_name", "someone else")
        ]))
        .is_empty()
    );
    // Evaluated here, over the whole directory.
    assert_eq!(find(Filter::eq("display_name", "User 000011")).len(), 1);
    let disabled = find(Filter::eq(special::ENABLED, false));
    assert!(disabled.iter().all(|u| u.enabled == Some(false)));
    assert_eq!(
        find(Filter::eq(special::ENABLED, true)).len() + disabled.len(),
        40
    );
    let err = c
        .search_all(&OpSearch::new("user").filter(Filter::eq("shoe_size", "9")))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidFilter);
}

#[test]
fn full_searches_page_across_the_caps_with_no_gap_and_no_duplicate() {
    let s = Sim::with(SimConfig {
        users: 230,
        groups: 5,
        ..crate::common::legacy()
    });
    let c = atlassian(&s, json!({"page_size": 100}));
    for page in [1u32, 7, 1000] {
        let mut uids = Vec::new();
        let mut batches = 0;
        let mut largest = 0;
        let reply = c
            .search_with(
                &OpSearch::new("user").page_size(page),
                &CallOptions::default(),
                |batch| {
                    batches += 1;
                    largest = largest.max(batch.len());
                    uids.extend(batch.into_iter().map(|u| u.uid.0));
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert!(reply.complete);
        assert_eq!(uids.len(), 230, "page {page}");
        assert_eq!(
            uids.iter().collect::<BTreeSet<_>>().len(),
            230,
            "duplicates at page {page}"
        );
        assert!(
            largest <= page.min(100) as usize,
            "page {page}: a batch of {largest}"
        );
        assert!(
            batches >= 230usize.div_ceil(page.min(100) as usize),
            "page {page}: {batches} batches"
        );
    }
    // Every user carries its SCIM groups and its default-group memberships.
    let all = c.search_all(&OpSearch::new("user")).unwrap();
    let store = s.store();
    let in_jira: BTreeSet<&str> = store["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "jira-software-users")
        .unwrap()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for u in &all {
        let account = u.attributes["account_id"].as_str().unwrap();
        let has = u.attributes["product_access"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "jira-software-users");
        assert_eq!(has, in_jira.contains(account), "{}", u.name);
        assert!(u.attributes["groups"].is_array());
    }
    // Early stop.
    let mut seen = 0;
    let mut seen_before_stop = 0;
    let mut batches_after_stop = 0;
    let reply = c
        .search_with(
            &OpSearch::new("user").page_size(10),
            &CallOptions::default(),
            |b| {
                seen += b.len();
                batches_after_stop += usize::from(seen_before_stop >= 20);
                seen_before_stop = seen;
                if seen >= 20 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
    assert!(!reply.complete);
    // Pages of 10 overlapping by one: 10, then 9 new each; the host stopped at 20 or more.
    assert!((20..30).contains(&seen), "{seen}");
    assert_eq!(batches_after_stop, 0, "no batch after the host said stop");
    let groups = c.search_all(&OpSearch::new("group").page_size(2)).unwrap();
    assert_eq!(groups.len(), 5);
}

#[test]
fn test_connection_names_each_wrong_credential_and_permission() {
    let s = Sim::start();
    let check = |overrides: Value, name: &str| -> (CheckStatus, String) {
        let report = atlassian(&s, overrides).test().unwrap();
        let c = report
            .check(name)
            .unwrap_or_else(|| panic!("no check {name} in {report:?}"));
        (
            c.status,
            format!("{} {}", c.message, c.hint.clone().unwrap_or_default()),
        )
    };
    let report = atlassian(&s, json!({})).test().unwrap();
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.checks.len(), 7);

    let (status, text) = check(
        json!({"directory_api_key": "wrong-key-Mb7Qd2Wn5Xs9"}),
        "scim.directory_api_key",
    );
    assert_eq!(status, CheckStatus::Failed);
    assert!(
        text.contains("Identity providers") && !text.contains("wrong-key-Mb7Qd2Wn5Xs9"),
        "{text}"
    );

    let (status, text) = check(
        json!({"account_security_api_key": "wrong-token-Fh4Jt8Lc3Vz6"}),
        "site.credentials",
    );
    assert_eq!(status, CheckStatus::Failed);
    assert!(
        text.contains("Create and manage API tokens") && !text.contains("wrong-token-Fh4Jt8Lc3Vz6"),
        "{text}"
    );
    assert_eq!(
        check(
            json!({"account_security_api_key": "wrong-token-Fh4Jt8Lc3Vz6"}),
            "site.admin_permission"
        )
        .0,
        CheckStatus::Skipped
    );

    let creds = s.sim.credentials().clone();
    let plain =
        json!({"admin_email": creds.user_email, "account_security_api_key": creds.user_api_token});
    for name in [
        "site.admin_permission",
        "jira.product_admin",
        "confluence.product_admin",
    ] {
        let (status, text) = check(plain.clone(), name);
        assert_eq!(status, CheckStatus::Failed, "{name}");
        assert!(
            text.contains("admin.atlassian.com") && text.contains(&creds.user_email),
            "{text}"
        );
    }
    assert_eq!(
        check(plain.clone(), "site.credentials").0,
        CheckStatus::Passed
    );

    let (status, text) = check(
        json!({"default_group_names": ["jira-software-users", "confluence-users-old"]}),
        "default_group.confluence-users-old",
    );
    assert_eq!(status, CheckStatus::Failed);
    assert!(text.contains("Manage product"), "{text}");

    let dir = s.sim.credentials().directory_api_key.clone();
    let other_dir = json!({"scim_url": s.sim.scim_url().replace("2fb21891-7bee-4c2d-a61a-ade3834c8b2b", "d-2"), "directory_id": "d-2"});
    let (status, text) = check(other_dir, "scim.directory_api_key");
    assert_eq!(status, CheckStatus::Failed);
    assert!(
        text.contains("Directory ID") && !text.contains(&dir),
        "{text}"
    );
}

#[test]
fn each_http_status_maps_to_its_error_kind() {
    let s = Sim::start();
    let creds = s.sim.credentials().clone();
    let err = atlassian(&s, json!({"directory_api_key": "wrong-Kc2Vb6Nm9Zx4"}))
        .get(&OpGet::new("user", "x"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidCredentials);
    assert!(err.message.contains("Directory API Key"), "{err}");
    // A plain user's grant is refused with 403: the create is a partial success carrying it.
    let plain = atlassian(
        &s,
        json!({"admin_email": creds.user_email, "account_security_api_key": creds.user_api_token}),
    );
    let err = plain
        .create(&OpCreate::new("user", "p@acme.com").attr("email", "p@acme.com"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PartialSuccess);
    assert_eq!(
        err.details["missing"][0]["error"]["kind"],
        "permission_denied"
    );
    // 429 beyond the deadline: rate limited, retryable.
    let mut rule = FaultRule::new(FaultKind::RateLimited, 1.0).on(&[RouteClass::ScimRead]);
    rule.retry_after_secs = 30;
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![rule],
        rate_limit: None,
    });
    let started = Instant::now();
    let err = atlassian(&s, json!({"deadline_secs": 2}))
        .get(&OpGet::new("user", "x"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited, "{err}");
    assert!(err.retryable);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a Retry-After beyond the deadline is not waited for"
    );
    // 429 and 500 within the deadline: retried to success, honouring Retry-After.
    let mut rule = FaultRule::new(FaultKind::RateLimited, 0.0)
        .on(&[RouteClass::ScimRead])
        .first(1);
    rule.retry_after_secs = 1;
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![
            rule,
            FaultRule::new(FaultKind::ServerError, 0.0)
                .on(&[RouteClass::ScimRead])
                .first(2),
        ],
        rate_limit: None,
    });
    let c = atlassian(&s, json!({}));
    assert_eq!(send(s.control(Method::DELETE, "/requests")).0, 200);
    let started = Instant::now();
    assert_eq!(
        c.search_all(&OpSearch::new("user")).unwrap().len(),
        1,
        "the partially created user"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured"
    );
    let log = s.requests();
    assert_eq!(log["faults"]["rate_limited"], 1);
    assert_eq!(log["faults"]["server_error"], 2);
    // A retry budget of 0 gives up at once.
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![FaultRule::new(FaultKind::Unavailable, 1.0)],
        rate_limit: None,
    });
    let err = atlassian(&s, json!({"retry_budget": 0}))
        .get(&OpGet::new("user", "x"))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.retryable),
        (ErrorKind::ConnectionFailed, true)
    );
    s.set_faults(FaultPlan::default());
    // A dead endpoint fails fast with connection_failed.
    let dead = atlassian(
        &s,
        json!({"scim_url": "http://127.0.0.1:9/scim/directory/2fb21891-7bee-4c2d-a61a-ade3834c8b2b", "retry_budget": 1}),
    );
    let started = Instant::now();
    let err = dead.get(&OpGet::new("user", "x")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConnectionFailed, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
