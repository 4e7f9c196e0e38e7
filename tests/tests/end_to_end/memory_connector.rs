//! Every operation of the example connector round-trips through the real library and loader.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::Duration;

use connector_api::host::{CallOptions, CancelToken, ConnectorClient};
use connector_api::ops::{OpCreate, OpDelete, OpGet, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, CheckStatus, ErrorKind, Filter, special};
use connector_tests::{load, memory_connector};
use serde_json::{Value, json};

fn client_with(extra: Value) -> ConnectorClient {
    let mut config = json!({"tenant": "acme", "api_token": "s3cr3t-token"});
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    load(&memory_connector()).open(&config).unwrap()
}

fn client() -> ConnectorClient {
    client_with(json!({}))
}

fn user(client: &ConnectorClient, name: &str) -> String {
    client
        .create(&OpCreate::new("user", name).attr("email", format!("{name}@example.com")))
        .unwrap()
        .uid
        .0
}

#[test]
fn test_and_schema() {
    let c = client();
    let report = c.test().unwrap();
    assert!(report.passed());
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.status == CheckStatus::Passed)
    );
    let schema = c.schema().unwrap();
    let user = schema.class("user").unwrap();
    assert!(user.attribute("email").unwrap().required);
    assert!(!user.attribute("groups").unwrap().updatable);
    assert!(
        schema
            .class("group")
            .unwrap()
            .attribute("members")
            .unwrap()
            .multi_valued
    );
    for class in &schema.classes {
        for attribute in &class.attributes {
            assert!(
                attribute.flag_problems().is_empty(),
                "{:?}",
                attribute.flag_problems()
            );
        }
    }
}

#[test]
fn create_get_update_delete_a_user() {
    let c = client();
    let created = c
        .create(
            &OpCreate::new("user", "ada")
                .attr("email", "ada@example.com")
                .attr("title", "Countess")
                .attr("phone_numbers", json!(["+44 1"])),
        )
        .unwrap();
    assert!(!created.adopted);
    let uid = created.uid.clone();

    let got = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(got.name, "ada");
    assert_eq!(got.enabled, Some(true));
    assert_eq!(got.attributes["title"], "Countess");

    // Duplicate create: already exists, carrying the existing uid.
    let dup = c
        .create(&OpCreate::new("user", "ADA").attr("email", "a2@example.com"))
        .unwrap_err();
    assert_eq!(dup.kind, ErrorKind::AlreadyExists);
    assert_eq!(dup.existing_uid(), Some(uid.as_str()));

    // Replace, add, remove (removing an absent value succeeds), disable, rename.
    c.update(
        &OpUpdate::new("user", uid.clone())
            .delta(AttributeDelta::replace("title", [json!("Analyst")]))
            .delta(AttributeDelta::add("phone_numbers", [json!("+44 2")]))
            .delta(AttributeDelta::remove(
                "phone_numbers",
                [json!("+44 1"), json!("absent")],
            ))
            .enabled(false)
            .rename("ada.lovelace"),
    )
    .unwrap();
    let got = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(got.name, "ada.lovelace");
    assert_eq!(got.enabled, Some(false));
    assert_eq!(got.attributes["title"], "Analyst");
    assert_eq!(got.attributes["phone_numbers"], json!(["+44 2"]));

    // A disabled user is still found; enable round-trips.
    let found = c
        .search_all(&OpSearch::new("user").filter(Filter::uid(uid.as_str())))
        .unwrap();
    assert_eq!(found.len(), 1);
    c.update(&OpUpdate::new("user", uid.clone()).enabled(true))
        .unwrap();
    assert_eq!(
        c.get(&OpGet::new("user", uid.clone()))
            .unwrap()
            .object
            .enabled,
        Some(true)
    );

    // attributes_to_get is honoured.
    let some = c
        .get(&OpGet::new("user", uid.clone()).attributes(&["email"]))
        .unwrap()
        .object;
    assert_eq!(some.attributes.keys().collect::<Vec<_>>(), ["email"]);

    c.delete(&OpDelete::new("user", uid.clone())).unwrap();
    for err in [
        c.get(&OpGet::new("user", uid.clone())).unwrap_err(),
        c.delete(&OpDelete::new("user", uid.clone())).unwrap_err(),
        c.update(&OpUpdate::new("user", uid.clone()).enabled(true))
            .unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::UnknownUid, "{err}");
    }
}

#[test]
fn bad_input_names_the_attribute() {
    let c = client();
    let err = c
        .create(
            &OpCreate::new("user", "x")
                .attr("email", "x@example.com")
                .attr("shoe_size", 9),
        )
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("shoe_size"))
    );
    let err = c
        .create(&OpCreate::new("user", "x").attr("email", "not-an-email"))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("email"))
    );
    let err = c.create(&OpCreate::new("user", "x")).unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("email"))
    );
    let err = c
        .search_all(&OpSearch::new("user").filter(Filter::eq("shoe_size", 9)))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidFilter);
    // A malformed request names the offending field.
    let err = c
        .call_json(
            "create",
            &json!({"class": "user", "name": 7}),
            &CallOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("name"))
    );
}

#[test]
fn undeclared_classes_and_operations_are_refused() {
    let c = client();
    // Refused by the client before crossing the ABI.
    let err = c.create(&OpCreate::new("printer", "p1")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert_eq!(err.details["declared_classes"], json!(["group", "user"]));
    let err = c
        .update(&OpUpdate::new("group", "g-1").enabled(true))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert_eq!(err.details["needs"], "enable", "{err}");
    // The same request as JSON, as a command line sends it, is checked the same way.
    let update = json!({"class": "group", "uid": "g-1", "enabled": true});
    let err = c
        .call_json("update", &update, &CallOptions::default())
        .unwrap_err();
    assert_eq!(
        (err.kind, &err.details["needs"]),
        (ErrorKind::Unsupported, &json!("enable")),
        "{err}"
    );
    // Answered by the connector's dispatcher.
    let err = c
        .call_json("frobnicate", &json!({}), &CallOptions::default())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert!(err.message.contains("frobnicate"), "{err}");
}

#[test]
fn groups_and_membership_visible_from_both_sides() {
    let c = client();
    let ada = user(&c, "ada");
    let grace = user(&c, "grace");
    let group = c
        .create(&OpCreate::new("group", "engineers").attr("members", json!([ada])))
        .unwrap()
        .uid;
    c.update(
        &OpUpdate::new("group", group.clone())
            .delta(AttributeDelta::add("members", [json!(grace)])),
    )
    .unwrap();
    let g = c.get(&OpGet::new("group", group.clone())).unwrap().object;
    assert_eq!(g.attributes["members"], json!([ada, grace]));
    let u = c.get(&OpGet::new("user", ada.as_str())).unwrap().object;
    assert_eq!(u.attributes["groups"], json!([group.as_str()]));

    c.update(
        &OpUpdate::new("group", group.clone())
            .delta(AttributeDelta::remove("members", [json!(ada)])),
    )
    .unwrap();
    let u = c.get(&OpGet::new("user", ada.as_str())).unwrap().object;
    assert!(!u.attributes.contains_key("groups"));
    // A deleted user leaves its groups.
    c.delete(&OpDelete::new("user", grace.as_str())).unwrap();
    let g = c.get(&OpGet::new("group", group.clone())).unwrap().object;
    assert!(!g.attributes.contains_key("members"));
    let err = c
        .update(
            &OpUpdate::new("group", group)
                .delta(AttributeDelta::add("members", [json!("u-missing")])),
        )
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("members"))
    );
}

#[test]
fn search_filters_pages_and_stops_early() {
    let c = client_with(json!({"seed_users": 250, "page_size_max": 50}));
    let ada = user(&c, "ada");
    let all_uids = |page: Option<u32>| {
        let mut op = OpSearch::new("user");
        if let Some(p) = page {
            op = op.page_size(p);
        }
        let mut batches = 0;
        let mut uids = Vec::new();
        let reply = c
            .search_with(&op, &CallOptions::default(), |batch| {
                batches += 1;
                uids.extend(batch.into_iter().map(|o| o.uid.0));
                ControlFlow::Continue(())
            })
            .unwrap();
        assert!(reply.complete);
        assert_eq!(reply.count as usize, uids.len());
        (uids, batches)
    };
    for page in [Some(1), Some(7), Some(1000), None] {
        let (uids, batches) = all_uids(page);
        assert_eq!(uids.len(), 251, "page {page:?}");
        assert_eq!(
            uids.iter().collect::<BTreeSet<_>>().len(),
            251,
            "duplicates at page {page:?}"
        );
        let expected_batches = 251usize.div_ceil(page.unwrap_or(50).min(50) as usize);
        assert_eq!(batches, expected_batches, "page {page:?}");
    }

    let eq = |f: Filter| c.search_all(&OpSearch::new("user").filter(f)).unwrap();
    assert_eq!(eq(Filter::name("ada")).len(), 1);
    assert_eq!(eq(Filter::uid(&ada))[0].name, "ada");
    assert_eq!(
        eq(Filter::and([
            Filter::name("ada"),
            Filter::eq("email", "ada@example.com")
        ]))
        .len(),
        1
    );
    assert!(
        eq(Filter::and([
            Filter::name("ada"),
            Filter::eq("email", "x@example.com")
        ]))
        .is_empty()
    );
    assert!(eq(Filter::name("nobody")).is_empty());
    assert_eq!(eq(Filter::eq(special::ENABLED, true)).len(), 251);

    // Early stop: the connector stops after the batch the host refused.
    let mut seen = 0;
    let reply = c
        .search_with(
            &OpSearch::new("user").page_size(10),
            &CallOptions::default(),
            |batch| {
                seen += batch.len();
                if seen >= 30 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
    assert_eq!(seen, 30);
    assert!(!reply.complete);
    assert_eq!(reply.count, 30);

    let some = c
        .search_all(
            &OpSearch::new("user")
                .filter(Filter::name("ada"))
                .attributes(&["title"]),
        )
        .unwrap();
    assert!(some[0].attributes.is_empty());
}

#[test]
fn timeouts_and_cancellation_are_honoured() {
    let c = client_with(json!({"simulated_latency_ms": 2000}));
    let started = std::time::Instant::now();
    let err = c
        .call_with(
            &OpGet::new("user", "u-1"),
            &CallOptions::timeout(Duration::from_millis(100)),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500));

    let token = CancelToken::new();
    let cancel = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        cancel.cancel();
    });
    let err = c
        .call_with(
            &OpGet::new("user", "u-1"),
            &CallOptions::default().with_cancel(token),
        )
        .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
}

#[test]
fn eight_threads_share_one_connector() {
    let c = client();
    let threads: Vec<_> =
        (0..8)
            .map(|t| {
                let c = c.clone();
                std::thread::spawn(move || {
                    let mut uids = Vec::new();
                    for i in 0..50 {
                        let name = format!("t{t}-u{i}");
                        let uid = user(&c, &name);
                        let got = c.get(&OpGet::new("user", uid.as_str())).unwrap().object;
                        assert_eq!(got.name, name);
                        c.update(&OpUpdate::new("user", uid.as_str()).delta(
                            AttributeDelta::replace("title", [json!(format!("team {t}"))]),
                        ))
                        .unwrap();
                        uids.push(uid);
                    }
                    uids
                })
            })
            .collect();
    let uids: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(uids.iter().collect::<BTreeSet<_>>().len(), 400);
    let all = c.search_all(&OpSearch::new("user")).unwrap();
    assert_eq!(all.len(), 400);
    assert!(all.iter().all(|u| u.attributes.contains_key("title")));
}
