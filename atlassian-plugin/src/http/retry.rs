//! When to retry a request and how long to wait: `Retry-After`, then `X-RateLimit-Reset`, then
//! jittered exponential backoff, never past the operation's deadline or the retry budget.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The retry policy of one connector instance.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// Retries allowed per request.
    pub budget: u32,
    /// The first backoff.
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
}

impl RetryPolicy {
    /// A policy with `budget` retries, backing off from 200 ms up to 20 s.
    pub fn new(budget: u32) -> Self {
        RetryPolicy {
            budget,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(20),
        }
    }

    /// Full-jitter exponential backoff for the `attempt`-th retry (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let ceiling = exp.min(self.cap);
        // At least a quarter of the ceiling, so that retries never hammer the target.
        let floor = ceiling / 4;
        floor + ceiling.mul_f64(fastrand::f64() * 0.75)
    }
}

/// Whether a status is worth retrying.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The wait the server asked for: `Retry-After` (seconds or an HTTP date), else
/// `X-RateLimit-Reset` (ISO 8601, Atlassian's minute-precision `2023-10-11T12:34Z` included).
pub(crate) fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = text("retry-after") {
        if let Ok(secs) = value.parse::<f64>() {
            if secs.is_finite() && secs >= 0.0 {
                return Some(Duration::from_secs_f64(secs.min(3600.0)));
            }
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc2822(value) {
            return Some(until(at.with_timezone(&chrono::Utc)));
        }
    }
    let reset = text("x-ratelimit-reset")?;
    let at = chrono::DateTime::parse_from_rfc3339(reset)
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(reset, "%Y-%m-%dT%H:%MZ").map(|n| n.and_utc())
        })
        .ok()?;
    Some(until(at))
}

fn until(at: chrono::DateTime<chrono::Utc>) -> Duration {
    (at - chrono::Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO)
        .min(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_wins_then_reset_then_nothing() {
        assert_eq!(
            server_wait(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(90))
            .format("%Y-%m-%dT%H:%MZ")
            .to_string();
        let wait = server_wait(&headers(&[("x-ratelimit-reset", &soon)])).unwrap();
        assert!(wait <= Duration::from_secs(90), "{wait:?}");
        let rfc = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
        let wait = server_wait(&headers(&[("x-ratelimit-reset", &rfc)])).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        let past = server_wait(&headers(&[("x-ratelimit-reset", "2001-01-01T00:00Z")]));
        assert_eq!(past, Some(Duration::ZERO));
        assert_eq!(server_wait(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(server_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy::new(5);
        for attempt in 0..20 {
            let d = p.backoff(attempt);
            let ceiling = p.base.saturating_mul(1 << attempt.min(16)).min(p.cap);
            assert!(d >= ceiling / 4 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
    }
}
