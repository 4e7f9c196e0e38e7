//! The log of the call in progress: lines written in any of the call's tasks reach the host.
//!
//! The host's log callback is borrowed by the thread that made the call, while requests run
//! in tasks on the plugin's runtime. So lines travel over a channel scoped to the call, which
//! [`crate::runtime::run`] drains on the calling thread into [`connector_api::Context::log`].
//! Outside a call (unit tests, the runtime's own tasks) a line goes nowhere.

use std::future::Future;

use connector_api::LogLevel;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// One line for the host's log.
#[derive(Debug)]
pub struct Line {
    /// Its level.
    pub level: LogLevel,
    /// Its text, with no secret in it.
    pub message: String,
}

tokio::task_local! {
    static SINK: UnboundedSender<Line>;
}

/// The two ends of a call's log.
pub fn channel() -> (UnboundedSender<Line>, UnboundedReceiver<Line>) {
    unbounded_channel()
}

/// Runs `work` with `sink` as the log of every line it writes.
pub async fn scope<F: Future>(sink: UnboundedSender<Line>, work: F) -> F::Output {
    SINK.scope(sink, work).await
}

/// Writes a line to the current call's log; `message` is only built inside a call.
pub fn log(level: LogLevel, message: impl FnOnce() -> String) {
    let _ = SINK.try_with(|sink| {
        // The receiver is gone once the call returned: the line has no one left to read it.
        let _ = sink.send(Line {
            level,
            message: message(),
        });
    });
}

/// `tokio::spawn`, with the spawning call's log carried into the task.
pub fn spawn<F>(work: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match SINK.try_with(UnboundedSender::clone) {
        Ok(sink) => tokio::spawn(scope(sink, work)),
        Err(_) => tokio::spawn(work),
    }
}
