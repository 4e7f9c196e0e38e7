//! Pacing per endpoint, through the real library: Jira's burst limits count one endpoint and
//! method, so a 429 storm on member reads slows member reads and nothing else; a limit that
//! states no scope still slows everything the credential sends.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Sim, atlassian, legacy};
use connector_api::AttributeDelta;
use connector_api::host::CallOptions;
use connector_api::ops::{OpCreate, OpGet, OpSearch, OpUpdate};
use host_harness::sim::SimConfig;
use host_harness::sim::faults::{FaultPlan, RateLimit, RateScope};
use serde_json::{Value, json};

/// Status counts per route, from the simulator's request log.
fn statuses(s: &Sim, route: &str) -> Value {
    s.requests()["routes"][route].clone()
}

#[test]
fn a_429_storm_on_member_reads_does_not_slow_grants() {
    let s = Sim::with(SimConfig {
        users: 2_000,
        ..legacy()
    });
    let [jira_group, _] = s.sim.default_groups();
    let c = atlassian(&s, json!({"concurrency": 8, "retry_budget": 20}));
    let uids: Vec<String> = (0..8)
        .map(|i| {
            let name = format!("paced{i}@acme.com");
            let op = OpCreate::new("user", name.as_str())
                .attr("email", name.as_str())
                .attr("product_access", json!([]));
            c.create(&op).expect("created").uid.0
        })
        .collect();
    // Every credential, route and method its own bucket, as Jira counts burst limits: eight
    // member pages at once overflow theirs on any machine; grants, one at a time, never do.
    s.set_faults(FaultPlan {
        seed: 11,
        rules: vec![],
        rate_limit: Some(RateLimit {
            per_second: 50.0,
            burst: 10.0,
            per: RateScope::Endpoint,
        }),
    });
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let recon = {
        let seen = lines.clone();
        let c = c.with_log_observer(Arc::new(move |_, line| {
            seen.lock().unwrap().push(format!("recon: {line}"));
        }));
        std::thread::spawn(move || {
            let mut objects = 0;
            let reply = c
                .search_with(&OpSearch::new("user"), &CallOptions::default(), |batch| {
                    objects += batch.len();
                    ControlFlow::Continue(())
                })
                .expect("the reconciliation completes under the storm");
            (objects, reply.complete)
        })
    };
    // The grants start once the storm has: a bounded wait for the first 429.
    let started = Instant::now();
    while s.requests()["rate_limited"].as_u64().unwrap_or(0) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no 429 came");
        std::thread::sleep(Duration::from_millis(10));
    }
    let grants = {
        let seen = lines.clone();
        c.with_log_observer(Arc::new(move |_, line| {
            seen.lock().unwrap().push(format!("grant: {line}"));
        }))
    };
    for uid in &uids {
        grants
            .update(
                &OpUpdate::new("user", uid.clone())
                    .delta(AttributeDelta::add("product_access", [json!(jira_group)])),
            )
            .expect("granted");
    }
    let (objects, complete) = recon.join().expect("the recon thread");
    assert!(complete);
    assert_eq!(objects, 2_008);
    for uid in &uids {
        let user = c
            .get(&OpGet::new("user", uid.clone()).attributes(&["product_access"]))
            .expect("read back")
            .object;
        assert_eq!(
            user.attributes["product_access"],
            json!([jira_group]),
            "{uid}"
        );
    }
    let members = statuses(&s, "GET /rest/api/3/group/member");
    assert!(
        members["429"].as_u64().unwrap_or(0) > 0,
        "a storm: {members}"
    );
    for route in ["POST /rest/api/3/group/user", "GET /rest/api/3/user/groups"] {
        let answered = statuses(&s, route);
        assert!(answered.get("429").is_none(), "{route}: {answered}");
    }
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("recon: ") && l.contains("for GET rest/api/3/group/member only")),
        "the recon paced the member reads alone:\n{}",
        lines.join("\n")
    );
    let slowed: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("grant: ") && l.contains(" pace"))
        .collect();
    assert!(slowed.is_empty(), "grants waited for a pace: {slowed:?}");
}

#[test]
fn a_limit_of_unstated_scope_paces_every_request() {
    let s = Sim::with(SimConfig {
        users: 1_500,
        ..legacy()
    });
    s.set_faults(FaultPlan {
        seed: 12,
        rules: vec![],
        rate_limit: Some(RateLimit::per_credential(40.0, 4.0)),
    });
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = lines.clone();
    let c = atlassian(&s, json!({"concurrency": 8, "retry_budget": 20})).with_log_observer(
        Arc::new(move |_, line| seen.lock().unwrap().push(line.to_owned())),
    );
    let mut objects = 0;
    c.search_with(&OpSearch::new("user"), &CallOptions::default(), |batch| {
        objects += batch.len();
        ControlFlow::Continue(())
    })
    .expect("complete");
    assert_eq!(objects, 1_500);
    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("pacing every request at")),
        "a credential-wide pace:\n{}",
        lines.join("\n")
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(" only: pacing that endpoint"))
    );
}
