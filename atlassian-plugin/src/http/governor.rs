//! The rate governor of one credential: how many requests are in flight and how fast they
//! start, per credential and per endpoint, adapted to the 429s the target answers.
//!
//! Without throttling it only bounds the requests in flight by the configured concurrency. A
//! 429 cuts one [`Pace`]: the endpoint's when the server says its limit is per endpoint
//! (Jira's `RateLimit-Reason: jira-burst-based`, "one tenant, one endpoint, one HTTP method …
//! slow down requests to that endpoint only", developer.atlassian.com "Build an app that
//! respects rate limits"), the credential's otherwise (a tenant-wide quota, or a server that
//! does not say). A cut pace starts requests no faster than that pace; every request waits for
//! both its credential's pace and its endpoint's, so a 429 storm on member reads leaves grants
//! alone, and a credential-wide limit still slows everything.
//!
//! A cut marks the rate the target refused (the ceiling) and sets the pace to 95% of the lower
//! of the pace and the rate observed over the last second (or the time observed so far, if
//! shorter), never below 90% of the ceiling learnt before; a burst of 429s counts once
//! (200 ms). Without 429s the pace climbs back: quickly
//! (+30% a second) while below 95% of the ceiling, then slowly (+3% of the ceiling a second) to
//! probe whether the limit rose. A slower probe (+1%) left a run that had learnt its ceiling in
//! a lull below the limit for half a minute (`bench provision` 0.76 of the allowed rate once in
//! three); this one averages about 98% of a steady limit, for a 429 every few seconds. The
//! refused request itself waits for the server's `Retry-After` (see `retry`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use tokio::sync::Notify;

/// The share of the refused rate a cut paces at: close to the limit, since a token bucket
/// refuses only what exceeds it, and each cut costs a tenth of a second's worth of requests
/// at most.
const CUT: f64 = 0.95;
/// How fast the pace probes above the cut, a share of the ceiling a second.
const PROBE: f64 = 0.03;

/// Endpoints paced apart at most; more share the credential's pace (a bound, not a cache).
const MAX_ENDPOINTS: usize = 64;

/// What a 429 limits, as the server says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Only the endpoint and method it answered for.
    Endpoint,
    /// Everything the credential sends.
    Credential,
}

impl Scope {
    /// The scope a 429's headers state: `RateLimit-Reason` (or its `X-` and `X-Beta-` forms)
    /// naming a burst or per-resource limit is per endpoint; anything else, or nothing, is the
    /// credential's.
    pub(crate) fn of(headers: &HeaderMap) -> Scope {
        let reason = [
            "ratelimit-reason",
            "x-ratelimit-reason",
            "x-beta-ratelimit-reason",
        ]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok());
        match reason.map(str::to_ascii_lowercase) {
            Some(r) if r.ends_with("burst-based") || r.ends_with("per-issue-on-write") => {
                Scope::Endpoint
            }
            _ => Scope::Credential,
        }
    }
}

/// The governor of one credential.
#[derive(Debug)]
pub(crate) struct Governor {
    max_in_flight: usize,
    state: Mutex<State>,
    released: Notify,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    credential: Pace,
    endpoints: HashMap<String, Pace>,
}

impl State {
    /// The pace of `endpoint`, made on first use while there is room.
    fn endpoint(&mut self, endpoint: &str, now: Instant) -> Option<&mut Pace> {
        if !self.endpoints.contains_key(endpoint) && self.endpoints.len() < MAX_ENDPOINTS {
            self.endpoints.insert(endpoint.to_owned(), Pace::new(now));
        }
        self.endpoints.get_mut(endpoint)
    }
}

/// How fast requests may start, for a credential or an endpoint.
#[derive(Debug)]
struct Pace {
    /// Requests per second, once throttled.
    rate: Option<f64>,
    /// The rate at which the target last refused a request.
    ceiling: f64,
    last_cut: Option<Instant>,
    last_raise: Instant,
    next_start: Instant,
    recent: VecDeque<Instant>,
    first_success: Option<Instant>,
}

impl Pace {
    fn new(now: Instant) -> Self {
        Pace {
            rate: None,
            ceiling: f64::MAX,
            last_cut: None,
            last_raise: now,
            next_start: now,
            recent: VecDeque::new(),
            first_success: None,
        }
    }

    /// Takes a start: the next one is due a period later, with no credit for idle time beyond
    /// a short burst.
    fn start(&mut self, now: Instant) {
        if let Some(rate) = self.rate {
            self.next_start = self.next_start.max(now - Duration::from_millis(20))
                + Duration::from_secs_f64(1.0 / rate);
        }
    }

    fn on_success(&mut self, now: Instant) {
        self.first_success.get_or_insert(now);
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if let Some(rate) = self.rate {
            let dt = now.duration_since(self.last_raise).as_secs_f64();
            let raised = if rate < CUT * self.ceiling {
                rate * (1.0 + 0.3 * dt)
            } else {
                rate + PROBE * self.ceiling * dt
            };
            self.rate = Some(raised);
            self.last_raise = now;
        }
    }

    fn on_throttle(&mut self, now: Instant) -> Option<f64> {
        if self
            .last_cut
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return None;
        }
        // Successes per second over the last second, or over the time observed so far when the
        // first 429 comes sooner (an over-estimate is corrected by the next cuts).
        let window = self
            .first_success
            .map_or(1.0, |t| now.duration_since(t).as_secs_f64().clamp(0.1, 1.0));
        let observed = self.recent.len() as f64 / window;
        // A lull on the client's side (requests waiting out a Retry-After) makes the observed
        // rate low; one such cut must not collapse the limit learnt before, only lower it.
        let learnt = match self.ceiling < f64::MAX {
            true => 0.9 * self.ceiling,
            false => 0.0,
        };
        let refused_at = self
            .rate
            .map_or(observed, |r| r.min(observed.max(1.0)))
            .max(learnt);
        self.ceiling = refused_at.max(1.0);
        self.rate = Some((refused_at * CUT).max(0.5));
        self.last_cut = Some(now);
        self.last_raise = now;
        self.rate
    }
}

/// A started request; dropping it frees its slot.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    governor: &'a Governor,
    /// The pace it waited for before it started, if any.
    pub paced_by: Option<Scope>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self
            .governor
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.governor.released.notify_one();
    }
}

impl Governor {
    /// A governor allowing `max_in_flight` requests at once.
    pub fn new(max_in_flight: usize) -> Self {
        Governor {
            max_in_flight: max_in_flight.max(1),
            state: Mutex::new(State {
                in_flight: 0,
                credential: Pace::new(Instant::now()),
                endpoints: HashMap::new(),
            }),
            released: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pace in force for `endpoint` (its own, else the credential's), if throttled.
    #[cfg(test)]
    pub fn rate(&self, endpoint: &str) -> Option<f64> {
        let s = self.state();
        s.endpoints
            .get(endpoint)
            .and_then(|p| p.rate)
            .or(s.credential.rate)
    }

    /// Waits for a slot and for the paces of the credential and of `endpoint`; answers the
    /// permit.
    pub async fn acquire(&self, endpoint: &str) -> Permit<'_> {
        let mut paced_by = None;
        loop {
            let released = self.released.notified();
            let wait = {
                let mut guard = self.state();
                let s = &mut *guard;
                let now = Instant::now();
                let own = s.endpoint(endpoint, now).map_or(now, |p| p.next_start);
                let shared = s.credential.next_start;
                if s.in_flight >= self.max_in_flight {
                    None
                } else if own.max(shared) > now {
                    paced_by = Some(match own > shared {
                        true => Scope::Endpoint,
                        false => Scope::Credential,
                    });
                    Some(own.max(shared))
                } else {
                    s.in_flight += 1;
                    s.credential.start(now);
                    if let Some(pace) = s.endpoint(endpoint, now) {
                        pace.start(now);
                    }
                    return Permit {
                        governor: self,
                        paced_by,
                    };
                }
            };
            match wait {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => released.await,
            }
        }
    }

    /// A request to `endpoint` succeeded: the paces climb back.
    pub fn on_success(&self, endpoint: &str) {
        let mut s = self.state();
        let now = Instant::now();
        s.credential.on_success(now);
        if let Some(pace) = s.endpoint(endpoint, now) {
            pace.on_success(now);
        }
    }

    /// The target refused a request to `endpoint` for its rate limit of `scope`: that pace
    /// goes lower. Answers the new pace, in requests per second, or `None` when this 429
    /// belongs to a burst already paced for.
    pub fn on_throttle(&self, endpoint: &str, scope: Scope) -> Option<f64> {
        let mut s = self.state();
        let now = Instant::now();
        match scope {
            Scope::Endpoint => match s.endpoint(endpoint, now) {
                Some(pace) => pace.on_throttle(now),
                None => s.credential.on_throttle(now),
            },
            Scope::Credential => s.credential.on_throttle(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn bounds_in_flight_and_paces_after_a_throttle() {
        let g = Governor::new(2);
        let a = g.acquire("GET /a").await;
        let _b = g.acquire("GET /a").await;
        let third = tokio::time::timeout(Duration::from_millis(50), g.acquire("GET /b")).await;
        assert!(third.is_err(), "a third permit waits for a slot");
        drop(a);
        let _c = tokio::time::timeout(Duration::from_millis(50), g.acquire("GET /a"))
            .await
            .expect("a freed slot is taken");
        for _ in 0..20 {
            g.on_success("GET /a");
        }
        let rate = g
            .on_throttle("GET /a", Scope::Credential)
            .expect("throttled");
        assert_eq!(
            g.rate("GET /b"),
            Some(rate),
            "the credential's pace is everyone's"
        );
        // 20 successes within the shortest window (0.1 s) observed: 200/s, paced at 95%.
        assert!(
            (rate - 190.0).abs() < 1e-6,
            "95% of the 200/s observed: {rate}"
        );
        assert_eq!(
            g.on_throttle("GET /a", Scope::Credential),
            None,
            "one burst of 429s cuts once"
        );
        assert_eq!(g.rate("GET /a"), Some(rate));
    }

    #[test]
    fn a_lull_before_a_cut_does_not_collapse_the_learnt_limit() {
        let g = Governor::new(8);
        for _ in 0..20 {
            g.on_success("GET /a");
        }
        let first = g.on_throttle("GET /a", Scope::Credential).expect("cut");
        std::thread::sleep(Duration::from_millis(250));
        // No success since: the observed rate is near nothing, the limit is not.
        let second = g
            .on_throttle("GET /a", Scope::Credential)
            .expect("cut again");
        // The ceiling was first / CUT; the second cut paces at 95% of 90% of it.
        assert!((second - 0.9 * first).abs() < 1e-6, "{first} then {second}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_burst_limit_on_one_endpoint_leaves_the_others_alone() {
        let g = Governor::new(8);
        for _ in 0..20 {
            g.on_success("GET /members");
        }
        let rate = g.on_throttle("GET /members", Scope::Endpoint).expect("cut");
        assert_eq!(g.rate("GET /members"), Some(rate));
        assert_eq!(
            g.rate("POST /members"),
            None,
            "another method, another limit"
        );
        // Every start of the throttled endpoint pushes its next one a period away; the other
        // endpoint never waits.
        drop(
            g.acquire("GET /members")
                .now_or_never()
                .expect("the first start is due"),
        );
        assert!(
            g.acquire("GET /members").now_or_never().is_none(),
            "the throttled endpoint waits for its pace"
        );
        for _ in 0..10 {
            drop(
                g.acquire("POST /members")
                    .now_or_never()
                    .expect("grants are not slowed"),
            );
        }
    }

    #[test]
    fn the_scope_comes_from_the_reason_header() {
        let with = |name: &'static str, value: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().expect("a header value"));
            Scope::of(&h)
        };
        assert_eq!(
            with("ratelimit-reason", "jira-burst-based"),
            Scope::Endpoint
        );
        assert_eq!(
            with("x-ratelimit-reason", "Jira-Burst-Based"),
            Scope::Endpoint
        );
        assert_eq!(
            with("ratelimit-reason", "jira-quota-tenant-based"),
            Scope::Credential
        );
        assert_eq!(Scope::of(&HeaderMap::new()), Scope::Credential);
    }
}
