//! Reconciliation under concurrency, through the real library against the simulator: user and
//! group pages fetched concurrently still give exactly the directory, in order, while 429s are
//! injected;
//! and a search racing creates and deletes returns no duplicate and every user that lived
//! through it.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::{Sim, atlassian, send};
use connector_api::host::CallOptions;
use connector_api::ops::OpSearch;
use host_harness::sim::SimConfig;
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit, RouteClass};
use reqwest::Method;
use serde_json::json;

fn directory_order(s: &Sim) -> Vec<String> {
    s.store()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn concurrent_pages_give_exactly_the_directory_in_order_under_429s() {
    let s = Sim::with(SimConfig {
        users: 1_234,
        groups: 3,
        ..crate::common::legacy()
    });
    let expected = directory_order(&s);
    // A token bucket per credential, as Atlassian limits: eight pages at once overflow it on any
    // machine, so 429s come however fast or slow the run.
    s.set_faults(FaultPlan {
        seed: 3,
        rules: vec![],
        rate_limit: Some(RateLimit::per_credential(40.0, 4.0)),
    });
    let c = atlassian(&s, json!({"concurrency": 8, "retry_budget": 20}));
    for page in [100, 37] {
        let mut got = Vec::new();
        let reply = c
            .search_with(
                &OpSearch::new("user").page_size(page),
                &CallOptions::default(),
                |batch| {
                    got.extend(batch.into_iter().map(|u| u.uid.0));
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert!(reply.complete);
        assert_eq!(
            got, expected,
            "page size {page}: not exactly the directory in order"
        );
    }
    let log = s.requests();
    assert!(
        log["rate_limited"].as_u64().unwrap() > 5,
        "429s were injected: {log}"
    );
}

/// Every group id in SCIM's own listing order, read one page at a time.
fn scim_group_order(s: &Sim) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let path = format!("/Groups?startIndex={}&count=100", ids.len() + 1);
        let (status, page) = send(s.scim(Method::GET, &path));
        assert_eq!(status, 200, "{page}");
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        if resources.is_empty() {
            return ids;
        }
        ids.extend(
            resources
                .iter()
                .map(|g| g["id"].as_str().unwrap().to_owned()),
        );
    }
}

#[test]
fn concurrent_group_pages_give_exactly_the_groups_in_order_under_429s() {
    let s = Sim::with(SimConfig {
        users: 20,
        groups: 450,
        ..crate::common::legacy()
    });
    let expected = scim_group_order(&s);
    assert!(expected.len() >= 450, "{} groups", expected.len());
    // A bucket small enough that eight pages at once overflow it on any machine.
    s.set_faults(FaultPlan {
        seed: 5,
        rules: vec![],
        rate_limit: Some(RateLimit::per_credential(10.0, 2.0)),
    });
    let c = atlassian(&s, json!({"concurrency": 8, "retry_budget": 20}));
    for page in [100, 37] {
        let mut got = Vec::new();
        let reply = c
            .search_with(
                &OpSearch::new("group").page_size(page),
                &CallOptions::default(),
                |batch| {
                    got.extend(batch.into_iter().map(|g| g.uid.0));
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert!(reply.complete);
        assert_eq!(
            got, expected,
            "page size {page}: not exactly the groups in order"
        );
    }
    assert!(
        s.requests()["rate_limited"].as_u64().unwrap() > 0,
        "429s were injected"
    );
}

#[test]
fn a_search_racing_creates_and_deletes_has_no_duplicate_and_no_gap() {
    let s = Sim::with(SimConfig {
        users: 600,
        ..crate::common::legacy()
    });
    let initial = directory_order(&s);
    // Every SCIM read takes a little while, so the search spans the churn.
    let mut latency = FaultRule::new(FaultKind::Latency, 1.0).on(&[RouteClass::ScimRead]);
    latency.latency_ms = 15;
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![latency],
        rate_limit: None,
    });
    let c = atlassian(&s, json!({"concurrency": 4}));

    let stop = Arc::new(AtomicBool::new(false));
    let deleted: Vec<String> = initial.iter().step_by(37).take(12).cloned().collect();
    let churn = {
        let stop = stop.clone();
        let deleted = deleted.clone();
        let http = s.http.clone();
        let scim = s.sim.scim_url();
        let key = s.sim.credentials().directory_api_key.clone();
        std::thread::spawn(move || {
            for (i, id) in deleted.iter().enumerate() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let name = format!("churn{i}@acme.example.com");
                let body = json!({"userName": name, "emails": [{"value": name, "primary": true}]});
                let _ = http
                    .post(format!("{scim}/Users"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send();
                let _ = http
                    .delete(format!("{scim}/Users/{id}"))
                    .bearer_auth(&key)
                    .send();
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut got = Vec::new();
    c.search_with(
        &OpSearch::new("user").page_size(20),
        &CallOptions::default(),
        |batch| {
            got.extend(batch.into_iter().map(|u| u.uid.0));
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    churn.join().unwrap();

    let unique: BTreeSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "duplicates in the result");
    let survivors: Vec<&String> = initial.iter().filter(|id| !deleted.contains(id)).collect();
    let missing: Vec<&&String> = survivors
        .iter()
        .filter(|id| !unique.contains(**id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} users that lived through the search are missing",
        missing.len()
    );
    let _ = send(s.control(Method::GET, "/health"));
}
