//! Sleeps that end when they should, for the latency model.
//!
//! Tokio's timer wheel ticks once a millisecond and fires a sleep at the first tick after its
//! deadline, so a 20 ms latency took 20.5 to 21.5 ms: 4% more than the model says, which the
//! latency bench then counted against the connector. One thread here waits on a condition
//! variable until the earliest deadline (the OS's timer slack, tens of microseconds) and wakes
//! the sleepers whose time has come.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::oneshot;

/// The sleepers by deadline, and a sequence number so that deadlines may repeat.
#[derive(Default)]
struct Due {
    sleepers: BTreeMap<(Instant, u64), oneshot::Sender<()>>,
    next: u64,
}

/// The sleepers, and the signal that an earlier one arrived.
#[derive(Default)]
struct Timers {
    due: Mutex<Due>,
    changed: Condvar,
}

impl Timers {
    /// The timers of the process, with their thread started on first use.
    fn get() -> &'static Timers {
        static TIMERS: OnceLock<&'static Timers> = OnceLock::new();
        TIMERS.get_or_init(|| {
            let timers: &'static Timers = Box::leak(Box::default());
            std::thread::Builder::new()
                .name("sim-timers".into())
                .spawn(move || timers.run())
                .expect("the simulator's timer thread starts");
            timers
        })
    }

    fn run(&self) {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            while let Some(entry) = due.sleepers.first_entry().filter(|e| e.key().0 <= now) {
                // A sleeper that went away (its request was dropped) is simply not woken.
                let _ = entry.remove().send(());
            }
            due = match due.sleepers.keys().next().map(|(at, _)| *at) {
                Some(at) => {
                    let wait = at.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(due, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.changed.wait(due).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// Waits until `deadline`, to within the OS's timer slack rather than tokio's millisecond.
pub(crate) async fn sleep_until(deadline: tokio::time::Instant) {
    let deadline = deadline.into_std();
    if deadline <= Instant::now() {
        return;
    }
    let timers = Timers::get();
    let (wake, woken) = oneshot::channel();
    {
        let mut due = timers.due.lock().unwrap_or_else(|e| e.into_inner());
        let seq = due.next;
        due.next += 1;
        let earliest = due
            .sleepers
            .keys()
            .next()
            .is_none_or(|(at, _)| deadline < *at);
        due.sleepers.insert((deadline, seq), wake);
        if earliest {
            timers.changed.notify_one();
        }
    }
    let _ = woken.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sleepers_wake_at_their_deadline_in_order_and_not_before() {
        let start = tokio::time::Instant::now();
        let delays = [30u64, 5, 20, 5, 12];
        let woke: Vec<Duration> =
            futures_util::future::join_all(delays.iter().map(|ms| async move {
                sleep_until(start + Duration::from_millis(*ms)).await;
                start.elapsed()
            }))
            .await;
        for (ms, at) in delays.iter().zip(&woke) {
            let asked = Duration::from_millis(*ms);
            assert!(*at >= asked, "woke at {at:?}, before {asked:?}");
        }
        // A deadline in the past returns at once.
        let before = tokio::time::Instant::now();
        sleep_until(start).await;
        assert!(before.elapsed() < Duration::from_millis(5));
    }
}
