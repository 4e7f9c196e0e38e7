//! `host-harness recon`: stream every object of a class to JSON Lines, with progress and a
//! summary; or, given what IDHub expects, the findings of the comparison (see [`crate::drift`]).

use std::io::{BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use connector_api::host::{CallOptions, CancelToken, SearchEvent};
use connector_api::ops::OpSearch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::CliError;
use crate::drift::{DriftCounts, Expected};
use crate::plugin;

/// Reconcile: stream every object of a class to JSON Lines, with a progress bar on a
/// terminal (objects, rate, ETA once the connector announces a total) and a summary.
///
/// With --expected (JSON Lines of objects, as recon writes them, uid optional), write the
/// findings instead: `differs` (with each value expected and found), `unmatched` (in the
/// target only) and `missing` (expected only, after a complete read). Objects correlate by
/// uid, then by name (case-insensitive); only the attributes the expectation states are
/// compared. --out FILE is written as FILE.partial and renamed once the read is complete.
///
/// Examples:
///   host-harness recon target/release/libatlassian_plugin.so --config atlassian.json --out users.jsonl
///   host-harness recon target/release/libatlassian_plugin.so --config atlassian.json --expected idhub.jsonl
///   host-harness recon target/release/libatlassian_plugin.so --config atlassian.json --attributes email,active
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReconArgs {
    /// The connector library.
    pub plugin: PathBuf,
    /// The configuration, a JSON file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The object class.
    #[arg(long, default_value = "user")]
    pub class: String,
    /// Write JSON Lines here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The page size to ask the connector for.
    #[arg(long)]
    pub page_size: Option<u32>,
    /// Only these attributes, comma-separated (default: those the class returns by default).
    /// Fewer can mean fewer requests: the Atlassian plugin reads default-group members only
    /// for `product_access`.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub attributes: Option<Vec<String>>,
    /// The time the whole reconciliation may take, in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = super::seconds)]
    pub timeout: Option<Duration>,
    /// What IDHub expects, JSON Lines of objects: write the findings of the comparison.
    #[arg(long, value_name = "FILE")]
    pub expected: Option<PathBuf>,
}

/// What a reconciliation did.
#[derive(Debug, Clone, Copy)]
pub struct ReconSummary {
    /// Objects written.
    pub objects: u64,
    /// The total the connector announced, if any.
    pub total: Option<u64>,
    /// Whether the search ran to the end.
    pub complete: bool,
    /// How long it took.
    pub elapsed: Duration,
    /// The comparison's counts, when objects were compared with an expectation.
    pub drift: Option<DriftCounts>,
}

fn progress(to_terminal: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        None,
        if to_terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {human_pos} objects  {per_sec}  {wide_bar} {percent}%  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// SIGINT and SIGTERM during a read: noticed, the read cancelled, the exit code chosen.
struct Interrupts {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Interrupts {
    fn watch() -> Interrupts {
        let (int, term) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        // Without the handlers, a signal ends the process as it always does.
        let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, int.clone());
        let _ = signal_hook::flag::register(signal_hook::consts::SIGTERM, term.clone());
        Interrupts { int, term }
    }

    /// The signal received, and its exit code.
    fn received(&self) -> Option<(&'static str, u8)> {
        if self.int.load(Ordering::Relaxed) {
            Some(("SIGINT", 130))
        } else if self.term.load(Ordering::Relaxed) {
            Some(("SIGTERM", 143))
        } else {
            None
        }
    }
}

/// `<out>.partial`: where a read writes until it is known complete.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Whether `out` is written through `<out>.partial`: a new or regular file is; a device or
/// pipe (`/dev/null`, `/dev/stdout`) is written in place, since renaming onto it would
/// replace the device with a file (as root, `/dev/null` for every process after).
fn staged(out: &Path) -> bool {
    std::fs::metadata(out).map_or(true, |m| m.is_file())
}

/// Streams every object of the class to `out` (or stdout). A file is written as
/// `<out>.partial` and renamed to `out` only once the read is complete; a failed or
/// interrupted read leaves the `.partial` file and says so.
pub fn reconcile(args: &ReconArgs) -> Result<ReconSummary, CliError> {
    let library = plugin::load(&args.plugin)?;
    let mut config = plugin::read_config(&args.config)?;
    let client = library.open(&config)?;
    crate::no_dumps::wipe_secrets(&mut config, &library.manifest().config_schema);
    let mut expected = args.expected.as_deref().map(Expected::read).transpose()?;
    let partial = args
        .out
        .as_deref()
        .filter(|out| staged(out))
        .map(partial_path);
    let sink: Box<dyn Write + Send> = match partial.as_deref().or(args.out.as_deref()) {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| CliError::Usage(format!("{}: cannot write: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let interrupts = Interrupts::watch();
    let cancel = CancelToken::new();
    let mut out = BufWriter::with_capacity(1 << 16, sink);
    let bar = progress(std::io::stderr().is_terminal());
    let started = Instant::now();
    let mut op = OpSearch::new(args.class.as_str());
    op.attributes_to_get.clone_from(&args.attributes);
    if let Some(p) = args.page_size {
        op = op.page_size(p);
    }
    let (mut objects, mut total, mut write_error) = (0u64, None, None);
    let reading = AtomicBool::new(true);
    let reply = std::thread::scope(|scope| {
        // Signals are noticed within 50 ms, even while a request is in flight.
        scope.spawn(|| {
            while reading.load(Ordering::Relaxed) {
                if interrupts.received().is_some() {
                    cancel.cancel();
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let options = CallOptions::default()
            .with_timeout(args.timeout)
            .with_cancel(cancel.clone());
        let reply = client.search_stream(&op, &options, |event| {
            match event {
                SearchEvent::Total(n) => {
                    total = Some(n);
                    bar.set_length(n);
                }
                SearchEvent::Objects(batch) => {
                    for object in &batch {
                        let line = match expected.as_mut() {
                            Some(expected) => match expected.observe(object) {
                                Some(finding) => serde_json::to_string(&finding),
                                None => continue,
                            },
                            None => serde_json::to_string(object),
                        }
                        .unwrap_or_default();
                        if let Err(e) = writeln!(out, "{line}") {
                            write_error = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                    objects += batch.len() as u64;
                    bar.set_position(objects);
                }
                _ => {}
            }
            ControlFlow::Continue(())
        });
        reading.store(false, Ordering::Relaxed);
        reply
    });
    bar.finish_and_clear();
    let left = |what: String| match &partial {
        Some(path) => format!("{what}; the objects read so far are in {}", path.display()),
        None => what,
    };
    if let Some((signal, code)) = interrupts.received() {
        let _ = out.flush();
        return Err(CliError::Interrupted {
            code,
            message: left(format!(
                "recon interrupted by {signal} after {objects} {} objects; the read is incomplete",
                args.class
            )),
        });
    }
    if let Some(e) = write_error {
        return Err(CliError::Io(e));
    }
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            let _ = out.flush();
            if partial.is_some() {
                eprintln!(
                    "{}",
                    left(format!("the read failed after {objects} objects"))
                );
            }
            return Err(e.into());
        }
    };
    // Missing means absent from a complete read: an incomplete one proves nothing.
    if let Some(expected) = expected.as_mut().filter(|_| reply.complete) {
        for finding in expected.missing() {
            writeln!(
                out,
                "{}",
                serde_json::to_string(&finding).unwrap_or_default()
            )?;
        }
    }
    out.flush()?;
    drop(out);
    if let (Some(partial), Some(out), true) = (&partial, &args.out, reply.complete) {
        std::fs::rename(partial, out)?;
    }
    Ok(ReconSummary {
        objects,
        total,
        complete: reply.complete,
        elapsed: started.elapsed(),
        drift: expected.map(|e| e.counts()),
    })
}

/// Runs `recon` and prints the summary on stderr.
pub fn run(args: ReconArgs) -> Result<(), CliError> {
    let summary = reconcile(&args)?;
    // For `bench memory`, which measures this process from outside the simulator's.
    if std::env::var_os("HOST_HARNESS_REPORT_PEAK_RSS").is_some() {
        match crate::process_memory::peak_kib() {
            Some(kib) => eprintln!("peak_rss_kib={kib}"),
            None => eprintln!("peak_rss_kib=unmeasured"),
        }
    }
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    let dest = args
        .out
        .as_deref()
        .map_or_else(|| "stdout".to_owned(), |p: &Path| p.display().to_string());
    let written = if summary.drift.is_some() {
        "read; findings to"
    } else {
        "to"
    };
    eprintln!(
        "{} {} objects {written} {} in {:.2} s ({:.0} objects/s){}{}",
        summary.objects,
        args.class,
        dest,
        secs,
        summary.objects as f64 / secs,
        summary
            .total
            .map_or(String::new(), |t| format!("; the connector announced {t}")),
        if summary.complete { "" } else { "; INCOMPLETE" },
    );
    if let Some(d) = summary.drift {
        eprintln!(
            "compared with {}: {} in sync, {} differ, {} unmatched (target only), {}",
            args.expected.as_deref().unwrap_or(Path::new("?")).display(),
            d.in_sync,
            d.differs,
            d.unmatched,
            if summary.complete {
                format!("{} missing (expected only)", d.missing)
            } else {
                "missing unknown (the read was incomplete)".to_owned()
            }
        );
    }
    Ok(())
}
