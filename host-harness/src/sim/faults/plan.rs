//! A fault plan: which requests its rules select (route classes, listings, schedules) and what
//! each rule does to them; what the control API reads and writes.

use axum::http::Method;
use serde::{Deserialize, Serialize};

use super::Listing;

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

    pub(super) fn is_write(self) -> bool {
        matches!(self, RouteClass::ScimWrite | RouteClass::SiteWrite)
    }
}

/// What a rule does to a request it selects.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
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
    /// `latency_ms` plus up to `jitter_ms` on the answer: a read is answered that long after it
    /// arrives (or once computed, if later), a write waits that long before it applies.
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
    /// The snake_case name used in plans and in the request log (serde's, through strum).
    pub fn name(self) -> &'static str {
        self.into()
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

    pub(super) fn applies_to(&self, class: RouteClass, listing: Option<Listing>) -> bool {
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

/// A token bucket per credential, or per credential and endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests per second allowed in the long run.
    pub per_second: f64,
    /// Requests allowed at once.
    pub burst: f64,
    /// What one bucket counts.
    #[serde(default)]
    pub per: RateScope,
}

impl RateLimit {
    /// One bucket for everything a credential sends.
    pub fn per_credential(per_second: f64, burst: f64) -> Self {
        RateLimit {
            per_second,
            burst,
            per: RateScope::Credential,
        }
    }
}

/// What one token bucket of a [`RateLimit`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateScope {
    /// Every request of a credential; the 429 states no reason (SCIM documents none, and a
    /// tenant-wide limit concerns every endpoint).
    #[default]
    Credential,
    /// The requests of a credential to one route and method, as Jira's burst limits count
    /// ("one tenant, one endpoint, one HTTP method"); the 429 says
    /// `RateLimit-Reason: jira-burst-based` (developer.atlassian.com, "Build an app that
    /// respects rate limits").
    Endpoint,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_name_in_plans_and_in_the_log() {
        use strum::IntoEnumIterator;
        for kind in FaultKind::iter() {
            let serde = serde_json::to_value(kind).unwrap();
            assert_eq!(serde.as_str(), Some(kind.name()));
        }
    }
}
