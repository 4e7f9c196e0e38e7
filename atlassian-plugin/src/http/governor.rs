//! The rate governor of one credential: how many requests are in flight and how fast they
//! start, adapted to the 429s the target answers.
//!
//! Without throttling it only bounds the requests in flight by the configured concurrency. A
//! 429 marks the rate the target refused (the ceiling) and sets the pace to 90% of the lower of
//! the pace and the rate observed over the last second (or the time observed so far, if
//! shorter); a burst of 429s counts once (200 ms).
//! Without 429s the pace climbs back: quickly (+30% a second) while below 90% of the ceiling,
//! then slowly (+3% of the ceiling a second) to probe whether the limit rose. The refused
//! request itself waits for the server's `Retry-After` (see `retry`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

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

/// A started request; dropping it frees its slot.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    governor: &'a Governor,
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
        let now = Instant::now();
        Governor {
            max_in_flight: max_in_flight.max(1),
            state: Mutex::new(State {
                in_flight: 0,
                rate: None,
                ceiling: f64::MAX,
                last_cut: None,
                last_raise: now,
                next_start: now,
                recent: VecDeque::new(),
                first_success: None,
            }),
            released: Notify::new(),
        }
    }

    /// The pace in force, if throttled.
    #[cfg(test)]
    pub fn rate(&self) -> Option<f64> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).rate
    }

    /// Waits for a slot and for the pace; answers the permit.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let released = self.released.notified();
            let wait = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if s.in_flight >= self.max_in_flight {
                    None
                } else if s.next_start > now {
                    Some(s.next_start)
                } else {
                    s.in_flight += 1;
                    if let Some(rate) = s.rate {
                        // No credit for idle time beyond a short burst.
                        s.next_start = s.next_start.max(now - Duration::from_millis(20))
                            + Duration::from_secs_f64(1.0 / rate);
                    }
                    return Permit { governor: self };
                }
            };
            match wait {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => released.await,
            }
        }
    }

    /// A request succeeded: the pace climbs back.
    pub fn on_success(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        s.first_success.get_or_insert(now);
        s.recent.push_back(now);
        while s
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            s.recent.pop_front();
        }
        if let Some(rate) = s.rate {
            let dt = now.duration_since(s.last_raise).as_secs_f64();
            let raised = if rate < 0.9 * s.ceiling {
                rate * (1.0 + 0.3 * dt)
            } else {
                rate + 0.03 * s.ceiling * dt
            };
            s.rate = Some(raised);
            s.last_raise = now;
        }
    }

    /// The target refused a request for its rate limit: pace lower. Answers the new pace, in
    /// requests per second, or `None` when this 429 belongs to a burst already paced for.
    pub fn on_throttle(&self) -> Option<f64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if s.last_cut
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return None;
        }
        // Successes per second over the last second, or over the time observed so far when the
        // first 429 comes sooner (an over-estimate is corrected by the next cuts).
        let window = s
            .first_success
            .map_or(1.0, |t| now.duration_since(t).as_secs_f64().clamp(0.1, 1.0));
        let observed = s.recent.len() as f64 / window;
        let refused_at = s.rate.map_or(observed, |r| r.min(observed.max(1.0)));
        s.ceiling = refused_at.max(1.0);
        s.rate = Some((refused_at * 0.9).max(0.5));
        s.last_cut = Some(now);
        s.last_raise = now;
        s.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn bounds_in_flight_and_paces_after_a_throttle() {
        let g = Governor::new(2);
        let a = g.acquire().await;
        let _b = g.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), g.acquire()).await;
        assert!(third.is_err(), "a third permit waits for a slot");
        drop(a);
        let _c = tokio::time::timeout(Duration::from_millis(50), g.acquire())
            .await
            .expect("a freed slot is taken");
        for _ in 0..20 {
            g.on_success();
        }
        let rate = g.on_throttle().expect("throttled");
        assert_eq!(g.rate(), Some(rate));
        // 20 successes within the shortest window (0.1 s) observed: 200/s, paced at 90%.
        assert!(
            (rate - 180.0).abs() < 1e-6,
            "90% of the 200/s observed: {rate}"
        );
        assert_eq!(g.on_throttle(), None, "one burst of 429s cuts once");
        assert_eq!(g.rate(), Some(rate));
    }
}
