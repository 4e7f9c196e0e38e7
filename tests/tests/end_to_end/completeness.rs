//! Reads that are complete and right, or a typed error: the Atlassian plugin, through the real
//! library, against a simulator whose listings answer as servers legally (or brokenly) may.
//!
//! Every listing fault is tried on the listing it reshapes (SCIM users, SCIM groups, Jira
//! members of the default groups); a read either returns exactly what a clean read returns, or
//! fails `connection_failed`, retryable. Never short and successful.

use std::collections::BTreeMap;

use crate::common::{Sim, atlassian};
use connector_api::host::ConnectorClient;
use connector_api::ops::{OpCreate, OpDelete, OpGet, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, ErrorKind, Filter};
use host_harness::sim::SimConfig;
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, Listing};
use serde_json::{Value, json};

/// uid to (name, product access) of a full read.
type Read = BTreeMap<String, (String, Value)>;

fn read(c: &ConnectorClient, class: &str) -> connector_api::Result<Read> {
    let objects = c.search_all(&OpSearch::new(class))?;
    let mut read = Read::new();
    for o in objects {
        let access = o
            .attributes
            .get("product_access")
            .cloned()
            .unwrap_or(Value::Null);
        assert!(
            read.insert(o.uid.0.clone(), (o.name.clone(), access))
                .is_none(),
            "{} delivered twice",
            o.uid.0
        );
    }
    Ok(read)
}

fn with_fault(s: &Sim, rule: FaultRule) {
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![rule],
        rate_limit: None,
    });
}

fn sim() -> Sim {
    Sim::with(SimConfig {
        users: 250,
        groups: 130,
        ..crate::common::legacy()
    })
}

/// What each fault must give: the clean read, or a typed error.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Same,
    Error,
}

#[test]
fn every_listing_fault_gives_the_clean_read_or_a_typed_error() {
    use FaultKind::*;
    let s = sim();
    let c = atlassian(&s, json!({"concurrency": 4, "retry_budget": 1}));
    let clean_users = read(&c, "user").unwrap();
    let clean_groups = read(&c, "group").unwrap();
    assert_eq!(clean_users.len(), 250);
    assert!(clean_groups.len() > 100, "groups take more than one page");
    let cases: &[(FaultKind, Option<u64>, Expect)] = &[
        (ShortPages, Some(10), Expect::Same),
        (ShortPages, Some(1), Expect::Same),
        (IgnoredStartIndex, None, Expect::Error),
        (TotalTooLow, Some(0), Expect::Error),
        (TotalTooLow, Some(50), Expect::Error),
        (TotalTooHigh, None, Expect::Error),
        (TotalHuge, None, Expect::Error),
        (MissingIds, None, Expect::Error),
        (OversizedPage, None, Expect::Error),
        (EmptyPages, None, Expect::Error),
    ];
    for (listing, class, clean) in [
        (Listing::Users, "user", &clean_users),
        (Listing::Groups, "group", &clean_groups),
        (Listing::Members, "user", &clean_users),
    ] {
        for &(kind, limit, expect) in cases {
            let mut rule = FaultRule::new(kind, 1.0).listing(listing);
            rule.limit = limit;
            with_fault(&s, rule);
            let got = read(&c, class);
            s.set_faults(FaultPlan::default());
            let case = format!("{listing:?} under {kind:?} {limit:?}");
            match (expect, got) {
                (Expect::Same, Ok(got)) => assert!(&got == clean, "{case}: not the clean read"),
                (Expect::Error, Err(e)) => {
                    assert_eq!(e.kind, ErrorKind::ConnectionFailed, "{case}: {e}");
                    assert!(e.retryable, "{case}: {e}");
                    assert!(
                        !e.message.contains("may have been applied"),
                        "{case}: a read says a change may have been applied: {e}"
                    );
                }
                (Expect::Same, Err(e)) => panic!("{case}: failed: {e}"),
                (Expect::Error, Ok(got)) => {
                    panic!(
                        "{case}: {} of {} objects, reported complete",
                        got.len(),
                        clean.len()
                    )
                }
            }
        }
    }
}

#[test]
fn objects_inserted_during_a_read_never_hide_existing_ones() {
    let s = sim();
    // Users and groups grow at the end of the listing, ahead of the cursor; Jira lists members
    // in order of their account ids, so new members land anywhere, behind the cursor too.
    for (listing, class, inserted, concurrency) in [
        (Listing::Users, "user", 30, 4),
        (Listing::Groups, "group", 30, 4),
        (Listing::Members, "user", 5, 1),
        (Listing::Members, "user", 30, 4),
    ] {
        let c = atlassian(&s, json!({ "concurrency": concurrency }));
        let before = read(&c, class).unwrap();
        let rule = FaultRule::new(FaultKind::InsertAhead, 1.0).listing(listing);
        with_fault(&s, rule.limit(inserted));
        let during = read(&c, class);
        s.set_faults(FaultPlan::default());
        let during = match during {
            Ok(during) => during,
            // Thirty members anywhere per page read, four pages at once, may outrun any
            // read: a typed error then, never a short read. New users join the default
            // groups too, anywhere in their member listings, read at the same time.
            Err(e)
                if (inserted == 30 && listing == Listing::Members)
                    || (listing == Listing::Users && e.message.contains("members")) =>
            {
                assert!(e.kind == ErrorKind::ConnectionFailed && e.retryable, "{e}");
                continue;
            }
            Err(e) => panic!("{listing:?} with {inserted} inserted per read: {e}"),
        };
        for (uid, (name, access)) in &before {
            let Some((_, now)) = during.get(uid) else {
                panic!("{listing:?}: `{name}` existed before the read and was not returned");
            };
            if listing == Listing::Members {
                assert_eq!(
                    now, access,
                    "{listing:?}, {inserted} per read, concurrency {concurrency}: the product access of `{name}`"
                );
            }
        }
    }
}

#[test]
fn lookups_check_what_a_server_that_ignores_the_filter_returns() {
    let s = sim();
    let c = atlassian(&s, json!({}));
    let all = read(&c, "user").unwrap();
    let (uid, (name, _)) = all.iter().nth(17).unwrap();
    with_fault(&s, FaultRule::new(FaultKind::IgnoredFilter, 1.0));
    for filter in [Filter::name(name), Filter::name(&name.to_uppercase())] {
        let found = c.search_all(&OpSearch::new("user").filter(filter)).unwrap();
        let uids: Vec<&str> = found.iter().map(|o| o.uid.as_str()).collect();
        assert_eq!(
            uids,
            [uid.as_str()],
            "exactly the user named, compared as SCIM does"
        );
    }
    let group = read(&c, "group").unwrap().into_values().nth(3).unwrap().0;
    let found = c
        .search_all(&OpSearch::new("group").filter(Filter::name(&group)))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, group);
    let none = c
        .search_all(&OpSearch::new("user").filter(Filter::name("nobody@nowhere.example")))
        .unwrap();
    assert!(
        none.is_empty(),
        "no match is no match, whatever the server returned"
    );
}

/// Requests the simulator received on `route`, by outcome.
fn received(s: &Sim, route: &str) -> u64 {
    s.requests()["routes"][route]
        .as_object()
        .map_or(0, |by| by.values().filter_map(Value::as_u64).sum())
}

#[test]
fn a_409_whose_lookup_ignores_the_filter_never_writes_to_a_stranger() {
    let s = sim();
    let c = atlassian(&s, json!({}));
    let stranger = c
        .create(&OpCreate::new("user", "ada@acme.com").attr("email", "shared@acme.com"))
        .unwrap();
    let before = c
        .get(&OpGet::new("user", stranger.uid.clone()))
        .unwrap()
        .object;
    with_fault(&s, FaultRule::new(FaultKind::IgnoredFilter, 1.0));
    let patches = received(&s, "PATCH /scim/directory/{directoryId}/Users/{id}");
    let err = c
        .create(
            &OpCreate::new("user", "newhire@acme.com")
                .attr("email", "shared@acme.com")
                .attr("external_id", "E-NEW"),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        received(&s, "PATCH /scim/directory/{directoryId}/Users/{id}"),
        patches,
        "no record was written"
    );
    s.set_faults(FaultPlan::default());
    let after = c
        .get(&OpGet::new("user", stranger.uid.clone()))
        .unwrap()
        .object;
    assert_eq!(after, before, "the stranger is untouched");
    // The same person (same userName, any case) is still adopted through the ignoring lookup.
    with_fault(&s, FaultRule::new(FaultKind::IgnoredFilter, 1.0));
    let again = c
        .create(&OpCreate::new("user", "ADA@acme.com").attr("email", "shared@acme.com"))
        .unwrap();
    assert!(again.adopted);
    assert_eq!(again.uid, stranger.uid);
    // A group name SCIM refuses (a site group) is not adopted onto some other group.
    let team = c
        .create(&OpCreate::new("group", "team-idhub-verify"))
        .unwrap();
    let group_patches = received(&s, "PATCH /scim/directory/{directoryId}/Groups/{id}");
    let err = c
        .create(
            &OpCreate::new("group", "jira-software-users")
                .attr("members", json!([stranger.uid.as_str()])),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        received(&s, "PATCH /scim/directory/{directoryId}/Groups/{id}"),
        group_patches
    );
    let adopted = c
        .create(&OpCreate::new("group", "TEAM-idhub-verify"))
        .unwrap();
    assert!(adopted.adopted);
    assert_eq!(adopted.uid, team.uid);
}

#[test]
fn uids_that_are_not_one_resource_never_become_urls() {
    let s = sim();
    let c = atlassian(&s, json!({}));
    let calls = || s.requests()["total"].as_u64().unwrap();
    let before = calls();
    for uid in ["..", ".", "a/b", "..\\x", "\u{7}"] {
        for class in ["user", "group"] {
            let err = c.delete(&OpDelete::new(class, uid)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnknownUid, "{class} {uid:?}: {err}");
            let err = c.get(&OpGet::new(class, uid)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnknownUid, "{class} {uid:?}: {err}");
            let update = OpUpdate::new(class, uid)
                .delta(AttributeDelta::replace("external_id", [json!("x")]));
            let err = c.update(&update).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnknownUid, "{class} {uid:?}: {err}");
            let found = c
                .search_all(&OpSearch::new(class).filter(Filter::uid(uid)))
                .unwrap();
            assert!(found.is_empty(), "{class} {uid:?}");
        }
    }
    assert_eq!(calls(), before, "no request was sent for any of them");
    // The empty uid is refused by the SDK on the host's side, before the library is called.
    let err = c.delete(&OpDelete::new("user", "")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownUid, "{err}");
    // ...and by the SDK's guard in the library, for a host that sends the JSON itself.
    let err = c
        .call_unchecked(
            "delete",
            &json!({"class": "user", "uid": ""}),
            &Default::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownUid, "{err}");
    assert_eq!(calls(), before);
}

#[test]
fn duplicate_product_access_values_become_one_grant_each() {
    let s = sim();
    let c = atlassian(&s, json!({}));
    let grants = || received(&s, "POST /rest/api/3/group/user");
    let before = grants();
    let copies: Vec<Value> = (0..200)
        .map(|i| {
            json!(if i % 2 == 0 {
                "jira-software-users"
            } else {
                "JIRA-SOFTWARE-USERS"
            })
        })
        .collect();
    let created = c
        .create(
            &OpCreate::new("user", "dup@acme.com")
                .attr("email", "dup@acme.com")
                .attr("product_access", json!(copies)),
        )
        .unwrap();
    assert_eq!(
        grants() - before,
        1,
        "one grant for one group, however often it is named"
    );
    let too_many: Vec<Value> = (0..1_001).map(|_| json!("confluence-users")).collect();
    let err = c
        .update(
            &OpUpdate::new("user", created.uid)
                .delta(AttributeDelta::add("product_access", too_many)),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidAttributeValue, "{err}");
    assert_eq!(err.attribute(), Some("product_access"), "{err}");
}

#[test]
fn the_host_refuses_a_search_announced_longer_than_it_was() {
    let library = connector_tests::load(&connector_tests::broken_connector());
    let c = library
        .open(&json!({"api_token": "bfx-Z3xC7vB1nM5qW8eR", "overstate_total": 5}))
        .unwrap();
    for i in 0..3 {
        c.create(&OpCreate::new("user", &format!("u{i}"))).unwrap();
    }
    let err = c.search_all(&OpSearch::new("user")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConnectionFailed, "{err}");
    assert!(
        err.message.contains("announced 8") && err.message.contains("3 arrived"),
        "{err}"
    );
    // Stopped early by the host, a search is not held to its total.
    let mut first = None;
    let reply = c
        .search_with(
            &OpSearch::new("user").page_size(1),
            &Default::default(),
            |batch| {
                first = batch.into_iter().next();
                std::ops::ControlFlow::Break(())
            },
        )
        .unwrap();
    assert!(!reply.complete && first.is_some());
}

#[test]
fn a_read_that_runs_out_of_time_says_nothing_was_changed() {
    let s = sim();
    let c = atlassian(&s, json!({"deadline_secs": 1, "request_timeout_secs": 5}));
    let slow = FaultRule {
        latency_ms: 1_500,
        ..FaultRule::new(FaultKind::Latency, 1.0)
    };
    with_fault(&s, slow);
    let err = c.search_all(&OpSearch::new("user")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(!err.message.contains("may have been applied"), "{err}");
}
