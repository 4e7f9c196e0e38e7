//! The fault layer: one middleware over every Atlassian route, unknown to the handlers.
//!
//! It counts every request per route and method, enforces a token-bucket rate limit per
//! credential (429 with `Retry-After` and the `X-RateLimit-*` headers), and applies the fault
//! plan: 429, 500, 503, latency (fixed plus jitter), dropped connections, truncated bodies,
//! "applied, then the response is lost" on writes, and malformed answers (invalid JSON, wrong
//! types, missing fields, huge bodies, HTML, redirects to another host). Each rule fires by probability, on every Nth
//! or on the first N matching requests of its route classes; random draws derive from the plan's
//! seed and the rule's own request counter, so a sequential workload replays identically.
//! Listing faults (`listing`) reshape paged reads as servers legally may.

mod listing;

pub use listing::Listing;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::credential_key;
use super::error::{Confluence, Jira, Scim, SimError};
use super::store::Store;

/// Which requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteClass {
    /// SCIM GET.
    ScimRead,
    /// SCIM POST, PUT, PATCH, DELETE.
    ScimWrite,
    /// Jira or Confluence GET.
    SiteRead,
    /// Jira or Confluence writes.
    SiteWrite,
}

impl RouteClass {
    /// The class of a request, or `None` for the control API.
    pub fn of(method: &Method, path: &str) -> Option<RouteClass> {
        let read = method == Method::GET || method == Method::HEAD;
        if path.starts_with("/scim/") {
            Some(if read {
                RouteClass::ScimRead
            } else {
                RouteClass::ScimWrite
            })
        } else if path.starts_with("/rest/") || path.starts_with("/wiki/") {
            Some(if read {
                RouteClass::SiteRead
            } else {
                RouteClass::SiteWrite
            })
        } else {
            None
        }
    }

    fn is_write(self) -> bool {
        matches!(self, RouteClass::ScimWrite | RouteClass::SiteWrite)
    }
}

/// What a rule does to a request it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After` and `X-RateLimit-*` headers; nothing is applied.
    RateLimited,
    /// 500; nothing is applied.
    ServerError,
    /// 503 with `Retry-After`; nothing is applied.
    Unavailable,
    /// The connection closes before any response; nothing is applied.
    Drop,
    /// The request is applied; the body is cut in half and the connection closes.
    Truncate,
    /// Writes only: the request is applied, then the connection closes without a response.
    LostResponse,
    /// The response is delayed by `latency_ms` plus up to `jitter_ms`.
    Latency,
    /// 200 with a body that is not JSON; nothing is applied.
    InvalidJson,
    /// 200 with JSON whose fields have the wrong types; nothing is applied.
    WrongTypes,
    /// 200 with an empty JSON object; nothing is applied.
    MissingFields,
    /// 200 with a 40 MiB JSON body; nothing is applied.
    HugeBody,
    /// 200 with an HTML page (a proxy's login page); nothing is applied.
    HtmlBody,
    /// 307 to another loopback host; nothing is applied.
    Redirect,
    /// The request's credentials repeated, raw and decoded, at several offsets: in a 400 body,
    /// in a header, and in the 200 answers of the test-connection endpoints; nothing is applied.
    EchoCredentials,
    /// Text that attacks a terminal (ESC sequences, BEL, CR, a forged status line) in error
    /// bodies and in the account name a test of the connection shows; nothing is applied.
    HostileText,
    /// 409 in the API's shape, nothing applied: as when another record holds a unique value
    /// of the request (an email, a name).
    Conflict,
    /// Listings: pages after the first hold at most `limit` objects (default 10), as RFC 7644
    /// §3.4.2.4 allows.
    ShortPages,
    /// Listings: `startIndex` (`startAt`) is dropped, as by a cache; every page is the first,
    /// though it says it is the one asked for.
    IgnoredStartIndex,
    /// Listings: the total is `limit` (default 0), below what the page holds.
    TotalTooLow,
    /// Listings: the total is `limit` (default 1,000) more than exists.
    TotalTooHigh,
    /// Listings: the total is 2^64 - 1.
    TotalHuge,
    /// Listings: before the page is read, `limit` new objects (default 5) join the listing
    /// ahead of the cursor.
    InsertAhead,
    /// Listings: objects without their id.
    MissingIds,
    /// Listings: the page holds three times the objects asked for.
    OversizedPage,
    /// Listings: the filter is dropped, as by a cache; every object matches.
    IgnoredFilter,
    /// Listings: pages after the first are empty, the total unchanged.
    EmptyPages,
}

impl FaultKind {
    /// The snake_case name used in plans and in the request log.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::RateLimited => "rate_limited",
            FaultKind::ServerError => "server_error",
            FaultKind::Unavailable => "unavailable",
            FaultKind::Drop => "drop",
            FaultKind::Truncate => "truncate",
            FaultKind::LostResponse => "lost_response",
            FaultKind::Latency => "latency",
            FaultKind::InvalidJson => "invalid_json",
            FaultKind::WrongTypes => "wrong_types",
            FaultKind::MissingFields => "missing_fields",
            FaultKind::HugeBody => "huge_body",
            FaultKind::HtmlBody => "html_body",
            FaultKind::Redirect => "redirect",
            FaultKind::EchoCredentials => "echo_credentials",
            FaultKind::Conflict => "conflict",
            FaultKind::HostileText => "hostile_text",
            FaultKind::ShortPages => "short_pages",
            FaultKind::IgnoredStartIndex => "ignored_start_index",
            FaultKind::TotalTooLow => "total_too_low",
            FaultKind::TotalTooHigh => "total_too_high",
            FaultKind::TotalHuge => "total_huge",
            FaultKind::InsertAhead => "insert_ahead",
            FaultKind::MissingIds => "missing_ids",
            FaultKind::OversizedPage => "oversized_page",
            FaultKind::IgnoredFilter => "ignored_filter",
            FaultKind::EmptyPages => "empty_pages",
        }
    }
}

/// One rule of a fault plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What the rule does.
    pub kind: FaultKind,
    /// The route classes it applies to; empty for all.
    #[serde(default)]
    pub routes: Vec<RouteClass>,
    /// The chance that a matching request is selected (0 to 1).
    #[serde(default)]
    pub probability: f64,
    /// Selects every Nth matching request (the Nth, 2Nth, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Selects the first N matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    /// For 429 and 503: the `Retry-After` in seconds.
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u64,
    /// For latency: the fixed part in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// For latency: the random part's upper bound in milliseconds.
    #[serde(default)]
    pub jitter_ms: u64,
    /// For listing faults: the listing they reshape; all three when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<Listing>,
    /// For listing faults: their size (objects per later page, the claimed total, objects
    /// inserted); each kind's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

fn default_retry_after() -> u64 {
    1
}

impl FaultRule {
    /// A rule of `kind` selecting matching requests with `probability`.
    pub fn new(kind: FaultKind, probability: f64) -> Self {
        FaultRule {
            kind,
            routes: Vec::new(),
            probability,
            every: None,
            first: None,
            retry_after_secs: 1,
            latency_ms: 0,
            jitter_ms: 0,
            listing: None,
            limit: None,
        }
    }

    /// Restricts a listing fault to one listing.
    pub fn listing(mut self, listing: Listing) -> Self {
        self.listing = Some(listing);
        self
    }

    /// Sets a listing fault's size.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Restricts the rule to route classes.
    pub fn on(mut self, routes: &[RouteClass]) -> Self {
        self.routes = routes.to_vec();
        self
    }

    /// Selects every Nth matching request instead of by probability.
    pub fn every(mut self, n: u64) -> Self {
        self.every = Some(n);
        self
    }

    /// Selects the first N matching requests instead of by probability.
    pub fn first(mut self, n: u64) -> Self {
        self.first = Some(n);
        self
    }

    fn applies_to(&self, class: RouteClass, listing: Option<Listing>) -> bool {
        let listing_ok = match (self.kind.is_listing(), listing) {
            (false, _) => true,
            (true, None) => false,
            (true, Some(l)) => self.listing.is_none_or(|wanted| wanted == l),
        };
        (self.routes.is_empty() || self.routes.contains(&class))
            && (self.kind != FaultKind::LostResponse || class.is_write())
            && listing_ok
    }
}

/// A token bucket per credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests per second allowed in the long run.
    pub per_second: f64,
    /// Requests allowed at once.
    pub burst: f64,
}

/// Everything the fault layer does, changeable at run time through the control API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// The seed of every random draw.
    #[serde(default)]
    pub seed: u64,
    /// The rules, applied in order: latency rules add up; the first other rule that fires
    /// decides the request, and later non-latency rules do not see (or count) it.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// The rate limit per credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

impl FaultPlan {
    /// A plan whose rules are checked for sense.
    pub fn validated(self) -> Result<Self, String> {
        for (i, r) in self.rules.iter().enumerate() {
            if !(0.0..=1.0).contains(&r.probability) {
                return Err(format!(
                    "rule {i}: probability {} is not between 0 and 1",
                    r.probability
                ));
            }
            if r.every == Some(0) {
                return Err(format!("rule {i}: every must be at least 1"));
            }
            if r.probability == 0.0 && r.every.is_none() && r.first.is_none() {
                return Err(format!(
                    "rule {i}: it never fires (set probability, every or first)"
                ));
            }
        }
        if let Some(rl) = &self.rate_limit {
            if rl.per_second <= 0.0 || rl.burst < 1.0 {
                return Err("rate_limit: per_second must be positive and burst at least 1".into());
            }
        }
        Ok(self)
    }
}

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
    stats: Mutex<RequestStats>,
    sequence: AtomicU64,
    /// The organization, for faults that change it (objects inserted during a read).
    store: std::sync::OnceLock<Store>,
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
            store: std::sync::OnceLock::new(),
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

    fn record(&self, route: &str, outcome: &str, fault: Option<FaultKind>) {
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
    fn take_token(&self, limit: &RateLimit, credential: &str) -> Result<f64, Duration> {
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
    fn decide(&self, class: RouteClass, listing: Option<Listing>) -> (Duration, Option<FaultRule>) {
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

/// An error body in the API family of `path`.
fn family_error(path: &str, error: SimError) -> Response {
    if path.starts_with("/scim/") {
        Scim(error).into_response()
    } else if path.starts_with("/wiki/") {
        Confluence(error).into_response()
    } else {
        Jira(error).into_response()
    }
}

/// `X-RateLimit-Reset` in Atlassian's minute-precision format.
fn reset_header(wait: Duration) -> String {
    let at = chrono::Utc::now()
        + chrono::Duration::from_std(wait).unwrap_or_default()
        + chrono::Duration::seconds(59);
    at.format("%Y-%m-%dT%H:%MZ").to_string()
}

fn rate_limit_headers(
    headers: &mut HeaderMap,
    retry_after: u64,
    limit: f64,
    remaining: f64,
    reset: Duration,
) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("retry-after", retry_after.to_string());
    set("x-ratelimit-limit", format!("{}", limit.round() as u64));
    set(
        "x-ratelimit-remaining",
        format!("{}", remaining.floor().max(0.0) as u64),
    );
    set("x-ratelimit-reset", reset_header(reset));
    set("x-ratelimit-nearlimit", "true".into());
    set("ratelimit-reason", "jira-burst-based".into());
}

fn too_many(path: &str, retry_after: u64, limit: f64, remaining: f64, reset: Duration) -> Response {
    let mut response = family_error(
        path,
        SimError {
            status: 429,
            scim_type: Some("tooMany"),
            detail: "Too many requests: rate limit exceeded".into(),
        },
    );
    rate_limit_headers(response.headers_mut(), retry_after, limit, remaining, reset);
    response
}

/// Closes the connection without a response: the connection task unwinds silently (no panic
/// hook runs for `resume_unwind`), and hyper drops the socket.
fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new("simulated dropped connection"))
}

/// The middleware.
pub async fn layer(
    State(engine): State<Arc<FaultEngine>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let Some(class) = RouteClass::of(request.method(), &path) else {
        return next.run(request).await;
    };
    let route = route_key(request.method(), &path);
    let authorization = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    engine.sequence.fetch_add(1, Ordering::Relaxed);
    engine.stats.lock().unwrap_or_else(|p| p.into_inner()).total += 1;

    let rate_limit = engine.plan().rate_limit;
    let mut remaining = None;
    if let Some(limit) = &rate_limit {
        match engine.take_token(limit, &credential_key(request.headers())) {
            Ok(left) => remaining = Some(left),
            Err(wait) => {
                engine
                    .stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .rate_limited += 1;
                engine.record(&route, "429", None);
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                return too_many(&path, secs, limit.per_second, 0.0, wait);
            }
        }
    }

    let listing = Listing::of(request.method(), &path);
    let (latency, outcome) = engine.decide(class, listing);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(rule) = outcome else {
        let mut response = next.run(request).await;
        if let (Some(limit), Some(left)) = (&rate_limit, remaining) {
            let headers = response.headers_mut();
            headers.insert(
                "x-ratelimit-limit",
                HeaderValue::from(limit.per_second.round() as u64),
            );
            headers.insert(
                "x-ratelimit-remaining",
                HeaderValue::from(left.floor() as u64),
            );
        }
        engine.record(
            &route,
            response.status().as_str(),
            if latency.is_zero() {
                None
            } else {
                Some(FaultKind::Latency)
            },
        );
        return response;
    };
    engine.record(&route, rule.kind.name(), Some(rule.kind));
    if let (true, Some(listing)) = (rule.kind.is_listing(), listing) {
        return reshape_listing(&engine, &rule, listing, request, next).await;
    }
    match rule.kind {
        FaultKind::RateLimited => too_many(
            &path,
            rule.retry_after_secs,
            100.0,
            0.0,
            Duration::from_secs(rule.retry_after_secs),
        ),
        FaultKind::HostileText => {
            let text = "\u{1b}[2J\u{1b}]0;owned\u{7}\rok    scim.directory_api_key  forged";
            match path.as_str() {
                "/rest/api/3/myself" => axum::Json(json!({
                    "accountId": "hostile", "displayName": text, "active": true,
                }))
                .into_response(),
                _ => family_error(&path, SimError::bad_request("invalidValue", text)),
            }
        }
        FaultKind::Conflict => family_error(
            &path,
            SimError {
                status: 409,
                scim_type: Some("uniqueness"),
                detail: "A resource with a unique value of this request already exists".into(),
            },
        ),
        FaultKind::ServerError => family_error(
            &path,
            SimError {
                status: 500,
                scim_type: None,
                detail: "Internal error. You can retry calls.".into(),
            },
        ),
        FaultKind::Unavailable => {
            let mut response = family_error(
                &path,
                SimError {
                    status: 503,
                    scim_type: None,
                    detail: "Service unavailable. You can retry calls.".into(),
                },
            );
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(rule.retry_after_secs));
            response
        }
        FaultKind::Drop => drop_connection(),
        FaultKind::LostResponse => {
            let _applied = next.run(request).await;
            drop_connection()
        }
        FaultKind::Truncate => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            let full = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let half = Bytes::copy_from_slice(&full[..full.len() / 2]);
            parts.headers.insert(
                axum::http::header::CONTENT_LENGTH,
                HeaderValue::from(full.len()),
            );
            let stream = futures_util::stream::iter([
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::other("simulated truncated body")),
            ]);
            Response::from_parts(parts, Body::from_stream(stream))
        }
        FaultKind::Latency => unreachable!("latency rules never become the outcome"),
        FaultKind::ShortPages
        | FaultKind::IgnoredStartIndex
        | FaultKind::TotalTooLow
        | FaultKind::TotalTooHigh
        | FaultKind::TotalHuge
        | FaultKind::InsertAhead
        | FaultKind::MissingIds
        | FaultKind::OversizedPage
        | FaultKind::IgnoredFilter
        | FaultKind::EmptyPages => unreachable!("listing faults only select listings"),
        FaultKind::InvalidJson => corrupt(
            "application/json",
            Body::from("{\"schemas\": [\"urn:ietf:params:scim\" ::: not json"),
        ),
        FaultKind::WrongTypes => corrupt(
            "application/json",
            Body::from(
                r#"{"totalResults":"many","Resources":{"id":7},"userName":["x"],"id":42,"values":"none","isLast":"maybe","accountId":1,"name":null}"#,
            ),
        ),
        FaultKind::MissingFields => corrupt("application/json", Body::from("{}")),
        FaultKind::HugeBody => {
            // A valid JSON document, too large to be read: a string of 40 MiB, streamed.
            let chunk = Bytes::from(vec![b'a'; 1 << 20]);
            let parts = std::iter::once(Bytes::from_static(b"{\"detail\":\""))
                .chain(std::iter::repeat_n(chunk, 40))
                .chain(std::iter::once(Bytes::from_static(b"\"}")))
                .map(Ok::<Bytes, std::io::Error>);
            corrupt(
                "application/json",
                Body::from_stream(futures_util::stream::iter(parts)),
            )
        }
        FaultKind::HtmlBody => corrupt(
            "text/html",
            Body::from("<html><body><h1>Sign in to continue</h1></body></html>"),
        ),
        FaultKind::EchoCredentials => echo_credentials(&path, &authorization),
        FaultKind::Redirect => {
            let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
            response.headers_mut().insert(
                axum::http::header::LOCATION,
                HeaderValue::from_static("http://127.0.0.2:9/elsewhere"),
            );
            response
        }
    }
}

/// Runs a listing request with `rule`'s change to the request or to the page.
async fn reshape_listing(
    engine: &FaultEngine,
    rule: &FaultRule,
    listing: Listing,
    mut request: Request,
    next: Next,
) -> Response {
    let query = request.uri().query().unwrap_or_default().to_owned();
    if rule.kind == FaultKind::InsertAhead {
        if let Some(store) = engine.store.get() {
            listing::insert_ahead(store, listing, &query, rule.limit);
        }
        return next.run(request).await;
    }
    let seen = listing::rewrite_query(rule.kind, listing, &query);
    if seen != query {
        let uri = format!("{}?{seen}", request.uri().path());
        if let Ok(uri) = uri.parse() {
            *request.uri_mut() = uri;
        }
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let Ok(mut page) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    listing::reshape(rule.kind, listing, &query, rule.limit, &mut page);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&page).unwrap_or_default()),
    )
}

/// What a hostile or careless server does with the credentials it received: repeats them,
/// raw and decoded, at offsets that straddle where clients cut server text (200 and 500
/// characters), in a header, and in the 200 answers a test of the connection reads (the
/// account's display name and email, its groups, the service provider's configuration).
fn echo_credentials(path: &str, authorization: &str) -> Response {
    use base64::Engine;
    let decoded = authorization
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let raw = authorization
        .strip_prefix("Bearer ")
        .map(str::to_owned)
        .or_else(|| decoded.split_once(':').map(|(_, token)| token.to_owned()))
        .unwrap_or_default();
    let pad = |n: usize| "x".repeat(n);
    let detail = format!(
        "Rejected request with Authorization: {authorization} ({decoded}); {}{raw}; {}{raw} {}",
        pad(180),
        pad(290),
        serde_json::to_string(&raw).unwrap_or_default(),
    );
    let mut response = match path {
        "/rest/api/3/myself" => axum::Json(json!({
            "accountId": "echo-account",
            "displayName": format!("{decoded} {raw}"),
            "emailAddress": format!("{}{raw}", pad(190)),
            "active": true,
        }))
        .into_response(),
        "/rest/api/3/user/groups" => {
            axum::Json(json!([{ "name": raw, "groupId": decoded }])).into_response()
        }
        p if p.ends_with("/ServiceProviderConfig") => {
            axum::Json(json!({ "documentationUri": detail })).into_response()
        }
        _ => family_error(path, SimError::bad_request("invalidValue", detail)),
    };
    if let Ok(value) = HeaderValue::from_str(authorization) {
        response.headers_mut().insert("x-request-echo", value);
    }
    response
}

/// A 200 response carrying `body` as `content_type`, for the corruption faults.
fn corrupt(content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

/// The JSON of the control API's fault endpoint: the plan, or why it was refused.
pub fn describe(engine: &FaultEngine) -> Value {
    json!({ "plan": engine.plan() })
}

/// A 400 for a refused plan.
pub fn refused(reason: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": reason })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

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
