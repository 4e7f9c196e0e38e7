//! The fault engine: the plan in force, each rule's request counter, the rate-limit buckets and
//! the counts of what was received; which rules fire for a request, deterministically.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::Method;
use serde::Serialize;
use serde_json::Value;

use super::{FaultKind, FaultPlan, FaultRule, Listing, RateLimit, RouteClass};
use crate::sim::store::Store;

/// Counts per route and method, per status, and per injected fault.
#[derive(Debug, Default, Serialize)]
pub struct RequestStats {
    /// `"METHOD /route"` to counts by status (or `dropped`).
    pub routes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Fault kind to times injected.
    pub faults: BTreeMap<String, u64>,
    /// Requests throttled by the rate limit.
    pub rate_limited: u64,
    /// Every request to the Atlassian routes.
    pub total: u64,
}

/// The fault layer's state.
#[derive(Debug)]
pub struct FaultEngine {
    plan: RwLock<FaultPlan>,
    counters: Mutex<HashMap<usize, u64>>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    pub(super) stats: Mutex<RequestStats>,
    pub(super) sequence: AtomicU64,
    /// The organization, for faults that change it (objects inserted during a read).
    pub(super) store: once_cell::sync::OnceCell<Store>,
}

impl FaultEngine {
    /// An engine running `plan`.
    pub fn new(plan: FaultPlan) -> Self {
        FaultEngine {
            plan: RwLock::new(plan),
            counters: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            stats: Mutex::new(RequestStats::default()),
            sequence: AtomicU64::new(0),
            store: once_cell::sync::OnceCell::new(),
        }
    }

    /// Gives the engine the organization its faults may change.
    pub fn attach(&self, store: Store) {
        let _ = self.store.set(store);
    }

    /// The plan in force.
    pub fn plan(&self) -> FaultPlan {
        self.plan.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the plan; rule counters and rate-limit buckets start afresh.
    pub fn set_plan(&self, plan: FaultPlan) {
        *self.plan.write().unwrap_or_else(|p| p.into_inner()) = plan;
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The counts so far.
    pub fn stats(&self) -> Value {
        serde_json::to_value(&*self.stats.lock().unwrap_or_else(|p| p.into_inner()))
            .unwrap_or(Value::Null)
    }

    /// Forgets the counts.
    pub fn reset_stats(&self) {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner()) = RequestStats::default();
    }

    pub(super) fn record(&self, route: &str, outcome: &str, fault: Option<FaultKind>) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        *stats
            .routes
            .entry(route.to_owned())
            .or_default()
            .entry(outcome.to_owned())
            .or_default() += 1;
        if let Some(kind) = fault {
            let name = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            *stats.faults.entry(name).or_default() += 1;
        }
    }

    /// Takes a token for `credential`; on exhaustion, the wait until the next one.
    pub(super) fn take_token(&self, limit: &RateLimit, credential: &str) -> Result<f64, Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (tokens, at) = buckets
            .entry(credential.to_owned())
            .or_insert((limit.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * limit.per_second).min(limit.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(*tokens)
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / limit.per_second))
        }
    }

    /// The rules that fire for this request: the summed latency and the first outcome fault.
    pub(super) fn decide(
        &self,
        class: RouteClass,
        listing: Option<Listing>,
    ) -> (Duration, Option<FaultRule>) {
        let plan = self.plan.read().unwrap_or_else(|p| p.into_inner());
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut latency = Duration::ZERO;
        let mut outcome = None;
        for (i, rule) in plan.rules.iter().enumerate() {
            // A request taken by an earlier outcome rule never reaches the later ones, so each
            // rule's schedule counts only the requests it could act on.
            let is_latency = rule.kind == FaultKind::Latency;
            if !rule.applies_to(class, listing) || (outcome.is_some() && !is_latency) {
                continue;
            }
            let n = counters.entry(i).or_default();
            *n += 1;
            let fires = match (rule.first, rule.every) {
                (Some(first), _) => *n <= first,
                (None, Some(every)) => *n % every == 0,
                (None, None) => unit(plan.seed, i as u64, *n, 0) < rule.probability,
            };
            if !fires {
                continue;
            }
            if is_latency {
                let jitter = (unit(plan.seed, i as u64, *n, 1) * rule.jitter_ms as f64) as u64;
                latency += Duration::from_millis(rule.latency_ms + jitter);
            } else {
                outcome = Some(rule.clone());
            }
        }
        (latency, outcome)
    }
}

/// A uniform draw in [0, 1) from (seed, rule, request number, stream): SplitMix64 finalizer.
fn unit(seed: u64, rule: u64, n: u64, stream: u64) -> f64 {
    let mut z = seed
        ^ rule.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ stream.wrapping_mul(0x94D0_49BB_1331_11EB);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// `"METHOD /route"` with ids replaced by `{id}`, so that counts group by endpoint.
pub fn route_key(method: &Method, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = Vec::with_capacity(segments.len());
    for (i, s) in segments.iter().enumerate() {
        let is_directory = i == 2 && segments.first() == Some(&"scim");
        let is_id = s.len() >= 20 && s.contains('-') && s.chars().any(|c| c.is_ascii_digit());
        let is_group_name = i > 0
            && segments.get(i - 1) == Some(&"group")
            && segments.first() == Some(&"wiki")
            && ![
                "by-name",
                "by-id",
                "userByGroupId",
                "member",
                "picker",
                "user",
            ]
            .contains(s);
        if is_directory {
            out.push("{directoryId}");
        } else if is_id || is_group_name {
            out.push("{id}");
        } else {
            out.push(s);
        }
    }
    format!("{method} /{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::faults::FaultKind;

    #[test]
    fn route_keys_group_ids() {
        let m = Method::GET;
        assert_eq!(
            route_key(
                &m,
                "/scim/directory/d-1/Users/2fb21891-7bee-4c2d-a61a-ade3834c8b2b"
            ),
            "GET /scim/directory/{directoryId}/Users/{id}"
        );
        assert_eq!(
            route_key(&m, "/rest/api/3/group/member"),
            "GET /rest/api/3/group/member"
        );
        assert_eq!(
            route_key(
                &m,
                "/wiki/rest/api/group/2fb21891-7bee-4c2d-a61a-ade3834c8b2b/membersByGroupId"
            ),
            "GET /wiki/rest/api/group/{id}/membersByGroupId"
        );
        assert_eq!(
            route_key(&m, "/wiki/rest/api/group/by-id"),
            "GET /wiki/rest/api/group/by-id"
        );
    }

    #[test]
    fn draws_are_uniform_and_reproducible() {
        let draws: Vec<f64> = (0..10_000).map(|n| unit(7, 0, n, 0)).collect();
        assert_eq!(
            draws,
            (0..10_000).map(|n| unit(7, 0, n, 0)).collect::<Vec<_>>()
        );
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
    }

    #[test]
    fn schedules_fire_as_written() {
        let engine = FaultEngine::new(FaultPlan {
            seed: 1,
            rules: vec![
                FaultRule::new(FaultKind::ServerError, 0.0)
                    .on(&[RouteClass::ScimRead])
                    .first(2),
                FaultRule::new(FaultKind::Unavailable, 0.0).every(3),
            ],
            rate_limit: None,
        });
        let kinds: Vec<Option<FaultKind>> = (0..6)
            .map(|_| engine.decide(RouteClass::ScimRead, None).1.map(|r| r.kind))
            .collect();
        use FaultKind::*;
        // Requests 1 and 2 are taken by the first rule, so the second counts from request 3.
        assert_eq!(
            kinds,
            [
                Some(ServerError),
                Some(ServerError),
                None,
                None,
                Some(Unavailable),
                None
            ]
        );
        assert!(engine.decide(RouteClass::SiteWrite, None).1.is_none());
    }
}
