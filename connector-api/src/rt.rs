//! The async kit (feature `tokio`): the connector's own runtime, each call run on it under the
//! call's deadline and cancellation, and log lines from any of the call's tasks reaching the host.
//!
//! A connector library carries its own copy of tokio; no runtime handle or future ever crosses
//! to the host. The host calls on its own threads and lends the [`Context`] for the call only,
//! so the loop every async connector needs is this one:
//!
//! ```no_run
//! # use connector_api::{Context, Result};
//! # use connector_api::ops::{OpGet, RpGet};
//! # async fn fetch(op: OpGet) -> Result<RpGet> { unimplemented!() }
//! fn get(ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
//!     connector_api::rt::block_on(ctx, connector_api::rt::Effect::Reads, fetch(op))
//! }
//! ```
//!
//! [`block_on`] runs the future on the runtime until it finishes, the deadline passes
//! ([`ErrorKind::Timeout`]) or the host cancels ([`ErrorKind::Cancelled`]); dropping the
//! future then cancels the requests in flight. Meanwhile the lines logged with [`log`], in this
//! task or in any task started with [`spawn`], are handed to [`Context::log`] on the calling
//! thread as they come. Outside a call (a unit test, a background task of the runtime's own) a
//! line goes nowhere.
//!
//! The runtime is built on first use with two worker threads, named `connector-rt`, and is
//! never dropped: a library is never unloaded.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use crate::author::{Context, LogLevel};
use crate::error::{ConnectorError, ErrorKind, Result};

/// How often a call polls the host's cancellation flag: the host cannot wake the runtime.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// The connector's runtime, or why it could not be built.
pub fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("connector-rt")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            ConnectorError::internal(format!("the connector's runtime could not start: {e}"))
        })
}

/// What a call does to the target: decides what a passed deadline tells the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// It only reads: a passed deadline changed nothing.
    Reads,
    /// It writes: a change in flight may or may not have been applied.
    Writes,
}

impl Effect {
    fn timeout(self) -> ConnectorError {
        let message = match self {
            Effect::Reads => "the operation's deadline passed; nothing was changed",
            Effect::Writes => {
                "the operation's deadline passed; a change in flight may or may not have been applied"
            }
        };
        ConnectorError::new(ErrorKind::Timeout, message)
    }
}

/// The instant a call must be done by: the host's deadline or `at_most` from now, whichever
/// comes first. For a connector whose configuration bounds each operation.
pub fn deadline(ctx: &Context<'_>, at_most: Duration) -> Instant {
    let ours = Instant::now() + at_most;
    ctx.deadline().map_or(ours, |host| host.min(ours))
}

/// Runs `work` until it finishes, the host's deadline passes or the host cancels.
///
/// # Errors
///
/// `work`'s own error; [`ErrorKind::Timeout`] once [`Context::deadline`] passed (saying, from
/// `effect`, whether a change may have been applied); [`ErrorKind::Cancelled`] when the host
/// cancelled; [`ErrorKind::Internal`] when the runtime could not start.
pub fn block_on<T>(
    ctx: &Context<'_>,
    effect: Effect,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    run(ctx, ctx.deadline(), effect, work)
}

/// [`block_on`] with an explicit deadline, such as one from [`deadline`].
///
/// # Errors
///
/// As [`block_on`], with `deadline` in place of the host's.
pub fn block_on_until<T>(
    ctx: &Context<'_>,
    deadline: Instant,
    effect: Effect,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    run(ctx, Some(deadline), effect, work)
}

fn run<T>(
    ctx: &Context<'_>,
    deadline: Option<Instant>,
    effect: Effect,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let (sink, mut lines) = channel(ctx.max_log_level());
    runtime()?.block_on(async {
        let work = SINK.scope(sink, async {
            match deadline {
                Some(at) => tokio::time::timeout_at(at.into(), work)
                    .await
                    .unwrap_or_else(|_| Err(effect.timeout())),
                None => work.await,
            }
        });
        tokio::pin!(work);
        let mut cancel_poll = tokio::time::interval(CANCEL_POLL);
        let result = loop {
            tokio::select! {
                biased;
                Some(line) = lines.recv() => ctx.log(line.level, line.message),
                result = &mut work => break result,
                _ = cancel_poll.tick() => if ctx.is_cancelled() {
                    break Err(ConnectorError::new(
                        ErrorKind::Cancelled,
                        "the host cancelled the operation",
                    ));
                },
            }
        };
        while let Ok(line) = lines.try_recv() {
            ctx.log(line.level, line.message);
        }
        result
    })
}

/// One line on its way to the host.
#[derive(Debug)]
struct Line {
    level: LogLevel,
    message: String,
}

/// Where the call in progress sends its lines, and the most verbose level the host records.
#[derive(Debug, Clone)]
struct Sink {
    lines: UnboundedSender<Line>,
    max_level: LogLevel,
}

tokio::task_local! {
    static SINK: Sink;
}

fn channel(max_level: LogLevel) -> (Sink, UnboundedReceiver<Line>) {
    let (lines, receiver) = unbounded_channel();
    (Sink { lines, max_level }, receiver)
}

/// Writes a line to the log of the call in progress. `message` is built only when the host
/// records `level`, so a costly line costs nothing when it is filtered. Never log a secret.
pub fn log(level: LogLevel, message: impl FnOnce() -> String) {
    let _ = SINK.try_with(|sink| {
        if level <= sink.max_level {
            // Once the call returned its receiver is gone: no one is left to read the line.
            let _ = sink.lines.send(Line {
                level,
                message: message(),
            });
        }
    });
}

/// `tokio::spawn` on the connector's runtime, with the spawning call's log carried into the
/// task. Call it from inside [`block_on`]'s future (it panics outside a runtime, as tokio's
/// does); keep the handle, or the task outlives the call.
pub fn spawn<F>(work: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match SINK.try_with(Sink::clone) {
        Ok(sink) => tokio::spawn(SINK.scope(sink, work)),
        Err(_) => tokio::spawn(work),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::author::HostLink;
    use crate::wire::Event;

    #[derive(Default)]
    struct Host {
        lines: Mutex<Vec<String>>,
        cancelled: AtomicBool,
    }

    impl HostLink for Host {
        fn emit(&self, event: &Event) -> bool {
            if let Event::Log { level, message } = event {
                self.lines
                    .lock()
                    .unwrap()
                    .push(format!("{level}: {message}"));
            }
            true
        }
        fn is_cancelled(&self) -> bool {
            self.cancelled.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn lines_from_the_call_and_its_tasks_reach_the_host_and_filtered_ones_are_never_built() {
        let host = Host::default();
        let ctx = Context::new(None, LogLevel::Info, &host);
        let built = AtomicBool::new(false);
        let answer = block_on(&ctx, Effect::Reads, async {
            log(LogLevel::Info, || "in the call".into());
            let task = spawn(async {
                log(LogLevel::Warn, || "in a task".into());
                7
            });
            log(LogLevel::Debug, || {
                built.store(true, Ordering::SeqCst);
                "filtered".into()
            });
            Ok(task.await.unwrap())
        });
        assert_eq!(answer.unwrap(), 7);
        assert_eq!(
            *host.lines.lock().unwrap(),
            ["info: in the call", "warn: in a task"]
        );
        assert!(!built.load(Ordering::SeqCst), "a filtered line was built");
        log(LogLevel::Error, || "outside a call: nowhere".into());
    }

    #[test]
    fn a_passed_deadline_times_out_saying_whether_a_write_may_have_happened() {
        let host = Host::default();
        let ctx = Context::new(Some(Duration::from_millis(50)), LogLevel::Trace, &host);
        for (effect, says) in [
            (Effect::Reads, "nothing was changed"),
            (Effect::Writes, "may or may not"),
        ] {
            let error = block_on(&ctx, effect, async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            })
            .unwrap_err();
            assert_eq!(error.kind, ErrorKind::Timeout);
            assert!(error.message.contains(says), "{}", error.message);
        }
        let sooner = deadline(&ctx, Duration::from_secs(3600));
        assert!(sooner <= ctx.deadline().unwrap());
    }

    #[test]
    fn a_cancelled_call_ends_cancelled() {
        let host = Host::default();
        let ctx = Context::new(None, LogLevel::Trace, &host);
        let cancelling = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            host.cancelled.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        };
        let error = block_on(&ctx, Effect::Writes, cancelling).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Cancelled);
    }
}
