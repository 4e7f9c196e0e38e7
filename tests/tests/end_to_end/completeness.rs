//! Reads that are complete and right, or a typed error: the Atlassian plugin, through the real
//! library, against a simulator whose listings answer as servers legally (or brokenly) may.
//!
//! Every listing fault is tried on the listing it reshapes (SCIM users, SCIM groups, Jira
//! members of the default groups); a read either returns exactly what a clean read returns, or
//! fails `connection_failed`, retryable. Never short and successful.

use std::collections::BTreeMap;

use crate::common::{Sim, atlassian};
use connector_api::host::ConnectorClient;
use connector_api::ops::OpSearch;
use connector_api::{ErrorKind, Filter};
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
        ..SimConfig::default()
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
            // read: a typed error then, never a short read.
            Err(e) if inserted == 30 && listing == Listing::Members => {
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
                assert_eq!(now, access, "{listing:?}: the product access of `{name}`");
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
