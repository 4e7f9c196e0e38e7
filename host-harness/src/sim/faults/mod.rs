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

mod engine;
mod listing;
mod plan;
mod precise_sleep;

pub use engine::{FaultEngine, RequestStats, route_key};
pub use listing::Listing;
pub use plan::{FaultKind, FaultPlan, FaultRule, RateLimit, RateScope, RouteClass};

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::auth::credential_key;
use super::error::{Confluence, Jira, Scim, SimError};

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
    reset: Duration,
    reason: Option<&'static str>,
) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("retry-after", retry_after.to_string());
    set("x-ratelimit-limit", format!("{}", limit.round() as u64));
    set("x-ratelimit-remaining", "0".into());
    set("x-ratelimit-reset", reset_header(reset));
    set("x-ratelimit-nearlimit", "true".into());
    if let Some(reason) = reason {
        set("ratelimit-reason", reason.into());
    }
}

/// The 429 of `path`; `reason`, when the limit says what it counts.
fn too_many(
    path: &str,
    retry_after: u64,
    limit: f64,
    reset: Duration,
    reason: Option<&'static str>,
) -> Response {
    let mut response = family_error(
        path,
        SimError {
            status: 429,
            scim_type: Some("tooMany"),
            detail: "Too many requests: rate limit exceeded".into(),
        },
    );
    rate_limit_headers(response.headers_mut(), retry_after, limit, reset, reason);
    response
}

/// Closes the connection without a response: the body fails before its first byte, so hyper
/// abandons the connection (no panic: a release build with `panic = "abort"` behaves alike).
fn drop_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("simulated dropped connection"))
    });
    let mut response = Response::new(Body::from_stream(failing));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// The middleware: admission (counts, the rate limit, which rules fire), then the response
/// (the handler's, or the fault's).
pub async fn layer(
    State(engine): State<Arc<FaultEngine>>,
    request: Request,
    next: Next,
) -> Response {
    let arrived = tokio::time::Instant::now();
    let path = request.uri().path().to_owned();
    let Some(class) = RouteClass::of(request.method(), &path) else {
        return next.run(request).await;
    };
    let mut route = route_key(request.method(), &path);
    if super::auth::via_gateway(request.headers()) {
        route.push_str(" via gateway");
    }
    let admitted = match admit(&engine, class, &route, &request) {
        Ok(admitted) => admitted,
        Err(throttled) => return *throttled,
    };
    // A read is answered `latency` after it arrived, or once computed if that takes longer, as
    // a server whose answers take that long: the simulator's own CPU (it shares the machine
    // with the connector it serves) is not added on top. A write waits first, as a slow server
    // applies it late.
    let read = request.method() == Method::GET;
    if !read && !admitted.latency.is_zero() {
        precise_sleep::sleep_until(arrived + admitted.latency).await;
    }
    let response = match admitted.rule.clone() {
        None => pass_through(&engine, &route, &admitted, request, next).await,
        Some(rule) => {
            engine.record(&route, rule.kind.name(), Some(rule.kind));
            match (rule.kind.is_listing(), admitted.listing) {
                (true, Some(listing)) => {
                    reshape_listing(&engine, &rule, listing, request, next).await
                }
                _ => respond(&rule, &path, request, next).await,
            }
        }
    };
    if read && !admitted.latency.is_zero() {
        precise_sleep::sleep_until(arrived + admitted.latency).await;
    }
    response
}

/// What admission decided for a request that is not throttled.
struct Admitted {
    latency: Duration,
    rule: Option<FaultRule>,
    listing: Option<Listing>,
    /// The rate limit in force and the tokens left, for the response's headers.
    limit: Option<(f64, f64)>,
}

/// Counts the request, takes a rate-limit token (or answers the 429) and decides the rules.
fn admit(
    engine: &FaultEngine,
    class: RouteClass,
    route: &str,
    request: &Request,
) -> Result<Admitted, Box<Response>> {
    engine.sequence.fetch_add(1, Ordering::Relaxed);
    engine.stats.lock().unwrap_or_else(|p| p.into_inner()).total += 1;
    let mut limit = None;
    if let Some(rate) = &engine.plan().rate_limit {
        let mut bucket = credential_key(request.headers());
        if rate.per == RateScope::Endpoint {
            bucket.push(' ');
            bucket.push_str(&route_key(request.method(), request.uri().path()));
        }
        match engine.take_token(rate, &bucket) {
            Ok(left) => limit = Some((rate.per_second, left)),
            Err(wait) => {
                engine
                    .stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .rate_limited += 1;
                engine.record(route, "429", None);
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                let path = request.uri().path();
                let reason = (rate.per == RateScope::Endpoint).then_some("jira-burst-based");
                return Err(Box::new(too_many(
                    path,
                    secs,
                    rate.per_second,
                    wait,
                    reason,
                )));
            }
        }
    }
    let listing = Listing::of(request.method(), request.uri().path());
    let (latency, rule) = engine.decide(class, listing);
    Ok(Admitted {
        latency,
        rule,
        listing,
        limit,
    })
}

/// The handler's response, with the rate-limit headers, counted.
async fn pass_through(
    engine: &FaultEngine,
    route: &str,
    admitted: &Admitted,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some((per_second, left)) = admitted.limit {
        let headers = response.headers_mut();
        headers.insert(
            "x-ratelimit-limit",
            HeaderValue::from(per_second.round() as u64),
        );
        headers.insert(
            "x-ratelimit-remaining",
            HeaderValue::from(left.floor() as u64),
        );
    }
    let delayed = (!admitted.latency.is_zero()).then_some(FaultKind::Latency);
    engine.record(route, response.status().as_str(), delayed);
    response
}

/// The response of a fault that replaces the handler's (or wraps it, for truncation and lost
/// responses).
async fn respond(rule: &FaultRule, path: &str, request: Request, next: Next) -> Response {
    let path = path.to_owned();
    let authorization = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match rule.kind {
        FaultKind::RateLimited => too_many(
            &path,
            rule.retry_after_secs,
            100.0,
            Duration::from_secs(rule.retry_after_secs),
            None,
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
