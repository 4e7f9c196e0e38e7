//! The rate governor: how many requests are in flight and how fast they start, adapted to 429s.
//!
//! Every request of a connector instance takes a permit. Without throttling the governor only
//! bounds the requests in flight by the configured concurrency. On the first 429 it starts
//! pacing at 90% of the rate it observed over the last second; each further 429 lowers the rate
//! by 10% (at most once per 200 ms, so one burst of 429s counts once), and every second without
//! one raises it by 10% of the rate it had before the cut: additive increase, multiplicative
//! decrease. The throttled request itself waits for the server's `Retry-After` (see `retry`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The governor of one connector instance.
#[derive(Debug)]
pub struct Governor {
    max_in_flight: usize,
    state: Mutex<State>,
    released: Notify,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    /// Requests per second, once throttled.
    rate: Option<f64>,
    /// The rate just before the last cut, the step of the additive increase.
    step_base: f64,
    last_cut: Option<Instant>,
    last_raise: Instant,
    next_start: Instant,
    recent: VecDeque<Instant>,
}

/// A started request; dropping it frees its slot.
#[derive(Debug)]
pub struct Permit<'a> {
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
                step_base: 0.0,
                last_cut: None,
                last_raise: now,
                next_start: now,
                recent: VecDeque::new(),
            }),
            released: Notify::new(),
        }
    }

    /// The pacing rate in force, if throttled.
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
                        s.next_start = s.next_start.max(now - Duration::from_millis(50))
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

    /// A request succeeded: the rate climbs back.
    pub fn on_success(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
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
            s.rate = Some(rate + 0.1 * s.step_base * dt);
            s.last_raise = now;
        }
    }

    /// The server refused a request for its rate limit: pace lower.
    pub fn on_throttle(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if s.last_cut
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return;
        }
        let base = s.rate.unwrap_or_else(|| (s.recent.len() as f64).max(1.0));
        s.step_base = base;
        s.rate = Some((base * 0.9).max(0.5));
        s.last_cut = Some(now);
        s.last_raise = now;
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
        g.on_throttle();
        let rate = g.rate().expect("throttled");
        assert!(
            (rate - 18.0).abs() < 1e-6,
            "90% of the 20/s observed: {rate}"
        );
        g.on_throttle();
        assert_eq!(g.rate(), Some(rate), "one burst of 429s cuts once");
    }
}
