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
pub(crate) struct Line {
    /// Its level.
    pub level: LogLevel,
    /// Its text, with no secret in it.
    pub message: String,
}

/// Where the call in progress sends its lines, and the most verbose level the host records.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    lines: UnboundedSender<Line>,
    max_level: LogLevel,
}

tokio::task_local! {
    static SINK: Sink;
}

/// The two ends of a call's log; lines above `max_level` are dropped before they are built.
pub(crate) fn channel(max_level: LogLevel) -> (Sink, UnboundedReceiver<Line>) {
    let (lines, receiver) = unbounded_channel();
    (Sink { lines, max_level }, receiver)
}

/// Runs `work` with `sink` as the log of every line it writes.
pub async fn scope<F: Future>(sink: Sink, work: F) -> F::Output {
    SINK.scope(sink, work).await
}

/// Writes a line to the current call's log; `message` is only built when the host records
/// `level`.
pub(crate) fn log(level: LogLevel, message: impl FnOnce() -> String) {
    let _ = SINK.try_with(|sink| {
        if level <= sink.max_level {
            // The receiver is gone once the call returned: no one is left to read the line.
            let _ = sink.lines.send(Line {
                level,
                message: message(),
            });
        }
    });
}

/// `tokio::spawn`, with the spawning call's log carried into the task.
pub(crate) fn spawn<F>(work: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match SINK.try_with(Sink::clone) {
        Ok(sink) => tokio::spawn(scope(sink, work)),
        Err(_) => tokio::spawn(work),
    }
}
