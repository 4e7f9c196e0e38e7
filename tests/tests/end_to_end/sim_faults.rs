//! The simulator's fault layer and control API over real HTTP: each fault kind, the rate limit,
//! determinism from the seed, and the request log and store dump that prove what happened.

use crate::common::{Sim, decode, send};
use host_harness::sim::SimConfig;
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit, RouteClass};
use reqwest::Method;
use serde_json::{Value, json};

fn plan(rules: Vec<FaultRule>) -> FaultPlan {
    FaultPlan {
        seed: 11,
        rules,
        rate_limit: None,
    }
}

fn user_body(name: &str) -> Value {
    json!({"userName": name, "emails": [{"value": name, "primary": true}]})
}

#[test]
fn rate_limited_answers_429_with_every_header() {
    let s = Sim::start();
    let mut rule = FaultRule::new(FaultKind::RateLimited, 0.0)
        .on(&[RouteClass::ScimRead])
        .first(1);
    rule.retry_after_secs = 3;
    s.set_faults(plan(vec![rule]));
    let r = s.scim(Method::GET, "/Users").send().unwrap();
    assert_eq!(r.status(), 429);
    let h = r.headers().clone();
    assert_eq!(h["retry-after"], "3");
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(h.contains_key(name), "{name} missing");
    }
    // Atlassian's minute-precision reset: 2023-10-11T12:34Z
    let reset = h["x-ratelimit-reset"].to_str().unwrap();
    assert_eq!(reset.len(), 17, "{reset}");
    assert!(reset.ends_with('Z') && reset.as_bytes()[10] == b'T');
    let (status, body) = decode(r);
    assert_eq!((status, body["status"].as_str()), (429, Some("429")));
    // Only the first request was selected; site routes were never touched.
    assert_eq!(s.scim(Method::GET, "/Users").send().unwrap().status(), 200);
    assert_eq!(
        s.admin(Method::GET, "/rest/api/3/group/bulk")
            .send()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn server_errors_carry_each_apis_body() {
    let s = Sim::start();
    s.set_faults(plan(vec![
        FaultRule::new(FaultKind::ServerError, 0.0)
            .on(&[RouteClass::ScimRead])
            .first(1),
        FaultRule::new(FaultKind::Unavailable, 0.0)
            .on(&[RouteClass::SiteRead])
            .first(1),
    ]));
    let (status, body) = send(s.scim(Method::GET, "/Users"));
    assert_eq!((status, body["status"].as_str()), (500, Some("500")));
    let r = s
        .admin(Method::GET, "/rest/api/3/group/bulk")
        .send()
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let (_, body) = decode(r);
    assert!(body["errorMessages"][0].as_str().unwrap().contains("retry"));
}

#[test]
fn a_dropped_connection_applies_nothing() {
    let s = Sim::start();
    s.set_faults(plan(vec![
        FaultRule::new(FaultKind::Drop, 0.0)
            .on(&[RouteClass::ScimWrite])
            .first(1),
    ]));
    let err = s
        .scim(Method::POST, "/Users")
        .json(&user_body("dropped@acme.com"))
        .send()
        .unwrap_err();
    assert!(
        err.is_request() || err.is_connect() || err.to_string().contains("connection"),
        "{err:?}"
    );
    assert_eq!(s.store()["users"], json!([]), "nothing was created");
    // The server keeps serving.
    let (status, _) = send(
        s.scim(Method::POST, "/Users")
            .json(&user_body("dropped@acme.com")),
    );
    assert_eq!(status, 201);
}

#[test]
fn a_lost_response_is_applied_once() {
    let s = Sim::start();
    s.set_faults(plan(vec![
        FaultRule::new(FaultKind::LostResponse, 0.0)
            .on(&[RouteClass::ScimWrite])
            .first(1),
    ]));
    assert!(
        s.scim(Method::POST, "/Users")
            .json(&user_body("lost@acme.com"))
            .send()
            .is_err()
    );
    let users = s.store()["users"].clone();
    assert_eq!(users.as_array().unwrap().len(), 1, "the write was applied");
    // A retry meets the record: 409, never a second user.
    let (status, body) = send(
        s.scim(Method::POST, "/Users")
            .json(&user_body("lost@acme.com")),
    );
    assert_eq!(
        (status, body["scimType"].as_str()),
        (409, Some("uniqueness"))
    );
    assert_eq!(s.store()["users"].as_array().unwrap().len(), 1);
    // Reads are never "lost after applying": the rule applies to writes only.
    s.set_faults(plan(vec![FaultRule::new(FaultKind::LostResponse, 1.0)]));
    assert_eq!(s.scim(Method::GET, "/Users").send().unwrap().status(), 200);
}

#[test]
fn a_truncated_body_fails_to_decode() {
    let s = Sim::with(SimConfig {
        users: 20,
        ..crate::common::legacy()
    });
    s.set_faults(plan(vec![
        FaultRule::new(FaultKind::Truncate, 0.0)
            .on(&[RouteClass::ScimRead])
            .first(1),
    ]));
    let result = s.scim(Method::GET, "/Users").send().and_then(|r| r.text());
    match result {
        Err(_) => {}
        Ok(text) => assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "a whole body arrived"
        ),
    }
    let (status, page) = send(s.scim(Method::GET, "/Users"));
    assert_eq!((status, page["totalResults"].as_u64()), (200, Some(20)));
}

#[test]
fn the_rate_limit_is_a_token_bucket_per_credential() {
    let s = Sim::start();
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![],
        rate_limit: Some(RateLimit::per_credential(0.5, 5.0)),
    });
    let statuses: Vec<u16> = (0..8)
        .map(|_| {
            s.scim(Method::GET, "/Users")
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(&statuses[..5], [200; 5], "the burst passes");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = s.scim(Method::GET, "/Users").send().unwrap();
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Another credential has its own bucket.
    assert_eq!(
        s.admin(Method::GET, "/rest/api/3/group/bulk")
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(s.requests()["rate_limited"], 4);
}

#[test]
fn latency_is_applied_and_counted() {
    let s = Sim::start();
    let mut rule = FaultRule::new(FaultKind::Latency, 1.0).on(&[RouteClass::SiteRead]);
    rule.latency_ms = 5;
    rule.jitter_ms = 5;
    s.set_faults(plan(vec![rule]));
    for _ in 0..3 {
        assert_eq!(
            s.admin(Method::GET, "/rest/api/3/group/bulk")
                .send()
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(s.scim(Method::GET, "/Users").send().unwrap().status(), 200);
    assert_eq!(s.requests()["faults"]["latency"], 3);
}

/// Latency is the time an answer takes: a read is answered that long after it arrived (the
/// simulator's own work inside it, not added), a write waits that long before it applies.
#[test]
fn a_read_is_answered_after_the_latency_and_a_write_applies_after_it() {
    use std::time::{Duration, Instant};
    let s = Sim::start();
    let mut rule =
        FaultRule::new(FaultKind::Latency, 1.0).on(&[RouteClass::ScimRead, RouteClass::ScimWrite]);
    rule.latency_ms = 400;
    s.set_faults(plan(vec![rule]));
    let started = Instant::now();
    assert_eq!(s.scim(Method::GET, "/Users").send().unwrap().status(), 200);
    let read = started.elapsed();
    assert!(
        read >= Duration::from_millis(400),
        "answered after {read:?}"
    );

    let names = |s: &Sim| s.store()["users"].to_string();
    std::thread::scope(|scope| {
        let write = scope.spawn(|| {
            s.scim(Method::POST, "/Users")
                .json(&user_body("late@example.com"))
                .send()
                .unwrap()
                .status()
        });
        std::thread::sleep(Duration::from_millis(150));
        assert!(
            !names(&s).contains("late@example.com"),
            "applied before the latency"
        );
        assert_eq!(write.join().unwrap(), 201);
    });
    assert!(names(&s).contains("late@example.com"));
}

#[test]
fn the_same_seed_gives_the_same_faults() {
    let run = || {
        let s = Sim::start();
        s.set_faults(plan(vec![
            FaultRule::new(FaultKind::ServerError, 0.2),
            FaultRule::new(FaultKind::Unavailable, 0.1).every(7),
        ]));
        (0..60)
            .map(|_| {
                s.scim(Method::GET, "/Users")
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
            .collect::<Vec<u16>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let errors = a.iter().filter(|s| **s == 500).count();
    assert!((3..=25).contains(&errors), "{errors} errors in 60 at p=0.2");
    assert!(a.contains(&503));
}

#[test]
fn the_control_api_reports_and_changes_everything() {
    let s = Sim::start();
    let (id, _) = s.create_user("counted@acme.com");
    let _ = send(s.scim(Method::GET, &format!("/Users/{id}")));
    let _ = send(s.scim(Method::GET, "/Users/a1b2c3d4-0000-0000-0000-000000000000"));
    let log = s.requests();
    assert_eq!(
        log["routes"]["POST /scim/directory/{directoryId}/Users"]["201"],
        1
    );
    assert_eq!(
        log["routes"]["GET /scim/directory/{directoryId}/Users/{id}"]["200"],
        1
    );
    assert_eq!(
        log["routes"]["GET /scim/directory/{directoryId}/Users/{id}"]["404"],
        1
    );
    assert_eq!(log["total"], 3);
    assert_eq!(send(s.control(Method::DELETE, "/requests")).0, 200);
    assert_eq!(s.requests()["total"], 0);

    let (status, body) = send(
        s.control(Method::PUT, "/faults")
            .json(&json!({"rules": [{"kind": "server_error", "probability": 2.0}]})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("probability"));
    let (status, _) = send(
        s.control(Method::PUT, "/faults")
            .json(&json!({"rules": [{"kind": "server_error", "first": 1}]})),
    );
    assert_eq!(status, 200);
    let (_, current) = send(s.control(Method::GET, "/faults"));
    assert_eq!(current["plan"]["rules"][0]["kind"], "server_error");
    // The control API itself is never faulted.
    assert_eq!(send(s.control(Method::GET, "/health")).0, 200);
    assert_eq!(s.scim(Method::GET, "/Users").send().unwrap().status(), 500);

    let (status, seeded) = send(
        s.control(Method::POST, "/seed")
            .json(&json!({"users": 50, "groups": 2, "seed": 5})),
    );
    assert_eq!((status, seeded["users"].as_u64()), (200, Some(51)));
    let (_, seeded) = send(
        s.control(Method::POST, "/seed")
            .json(&json!({"users": 50, "seed": 5})),
    );
    assert_eq!(seeded["users"], 101, "seeding twice adds, never collides");
    let store = s.store();
    assert_eq!(store["users"].as_array().unwrap().len(), 101);
    assert!(
        store["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "team-0001")
    );
}

#[test]
fn seeding_is_deterministic() {
    let dump = || {
        let s = Sim::with(SimConfig {
            users: 500,
            groups: 10,
            seed: 42,
            ..crate::common::legacy()
        });
        let mut store = s.store();
        // Timestamps and the server's own address differ between runs; ids and data do not.
        for u in store["users"].as_array_mut().unwrap() {
            u.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "created" && k != "last_modified");
        }
        for g in store["groups"].as_array_mut().unwrap() {
            g.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "created" && k != "last_modified");
        }
        store
    };
    assert_eq!(dump(), dump());
}
