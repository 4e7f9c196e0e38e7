//! The plugin's own tokio runtime, and how one connector call runs on it within its deadline.
//!
//! The library has its own copy of tokio: no runtime handle or future ever crosses to the host.
//! The runtime is built on first use and never dropped (libraries are never unloaded). Each call
//! blocks the host's thread on its future, so borrowed host callbacks are used on that thread.

use std::future::Future;
use std::time::{Duration, Instant};

use connector_api::{ConnectorError, Context, ErrorKind, Result};
use once_cell::sync::Lazy;
use tokio::runtime::Runtime;

use crate::call_log;

/// The plugin's runtime, built on first use (or the reason it could not be).
static RUNTIME: Lazy<std::result::Result<Runtime, String>> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("atlassian-plugin")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
});

fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .as_ref()
        .map_err(|e| ConnectorError::internal(format!("the plugin's runtime could not start: {e}")))
}

/// The instant a call must be done by: the host's deadline or the configured one, whichever
/// comes first.
pub(crate) fn deadline(ctx: &Context<'_>, configured: Duration) -> Instant {
    let ours = Instant::now() + configured;
    ctx.deadline().map_or(ours, |host| host.min(ours))
}

/// Whether an operation changes the target, for what a passed deadline may have left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Reads only: a passed deadline changed nothing.
    Reads,
    /// Writes: a change in flight may or may not have been applied.
    Writes,
}

/// Runs `work` on the plugin's runtime until it finishes, the deadline passes, or the host
/// cancels; dropping the future cancels the requests in flight. Meanwhile the lines `work`
/// logs (see [`call_log`]) are handed to the host on this thread, as they come.
pub(crate) fn run<T>(
    ctx: &Context<'_>,
    deadline: Instant,
    effect: Effect,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let passed = match effect {
        Effect::Reads => "the operation's deadline passed; nothing was changed",
        Effect::Writes => {
            "the operation's deadline passed; a change in flight may or may not have been applied"
        }
    };
    let (sink, mut lines) = call_log::channel(ctx.max_log_level());
    runtime()?.block_on(async {
        let work = call_log::scope(sink, tokio::time::timeout_at(deadline.into(), work));
        tokio::pin!(work);
        let mut cancel_poll = tokio::time::interval(Duration::from_millis(20));
        let result = loop {
            tokio::select! {
                biased;
                Some(line) = lines.recv() => ctx.log(line.level, line.message),
                result = &mut work => break result.unwrap_or_else(|_| {
                    Err(ConnectorError::new(ErrorKind::Timeout, passed))
                }),
                _ = cancel_poll.tick() => if ctx.is_cancelled() {
                    break Err(ConnectorError::new(ErrorKind::Cancelled, "the host cancelled the operation"));
                },
            }
        };
        while let Ok(line) = lines.try_recv() {
            ctx.log(line.level, line.message);
        }
        result
    })
}
