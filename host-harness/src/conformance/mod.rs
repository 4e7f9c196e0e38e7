//! The conformance suite: one suite, any connector, driven only through the real ABI.
//!
//! Checks live one file per area (`boundary`, `connection`, `schema`, `lifecycle`,
//! `membership`, `search`, `resilience`, `completeness`, `hygiene`); each is named, gated on what the manifest
//! declares (a skip says which capability is missing), and timed. [`run`] executes them in order
//! and always runs the cleanup, even after failures.
//!
//! Objects the suite creates are named with the suite's prefix and deleted at the end: point it
//! at the simulator or a test tenant, never at production.

pub mod boundary;
pub mod check;
pub mod completeness;
pub mod connection;
mod ctx;
mod form_ready;
pub mod hygiene;
pub mod lifecycle;
pub mod membership;
pub mod report;
pub mod resilience;
pub mod schema;
pub mod search;
mod suite;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use connector_api::Manifest;
use connector_api::host::PluginLibrary;
use serde_json::Value;

use crate::sim::faults::FaultPlan;
use check::{Check, CheckReport, Outcome, Status};
pub use ctx::Ctx;
use ctx::keep_log_lines;
pub use ctx::patch_config;
pub use report::Report;
pub use suite::{AttributeValue, AttributeValues, BadConfig, ClassSamples, Membership, Suite};

/// A target that can inject faults (the simulator can).
pub trait FaultControl {
    /// Replaces the fault plan.
    fn set_faults(&self, plan: FaultPlan);
    /// Stops injecting faults.
    fn clear(&self) {
        self.set_faults(FaultPlan::default());
    }
}

impl FaultControl for crate::sim::Simulator {
    fn set_faults(&self, plan: FaultPlan) {
        crate::sim::Simulator::set_faults(self, plan);
    }
}

/// What one run needs: the library, a good configuration, the suite data, fault control.
#[allow(missing_debug_implementations)] // holds a `dyn FaultControl`
pub struct Target<'a> {
    /// The loaded library.
    pub library: PluginLibrary,
    /// A configuration that works.
    pub config: Value,
    /// The suite data.
    pub suite: Suite,
    /// Fault injection, when the target offers it.
    pub faults: Option<&'a dyn FaultControl>,
}

/// Which checks to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Run only checks whose name contains this.
    pub only: Option<String>,
    /// Append each check's name to this file once it ran: how a parent learns how far a
    /// child that crashed got (`conform --isolate`).
    pub progress: Option<std::path::PathBuf>,
    /// Skip, rather than fail, the checks of declared capabilities the suite gives no data
    /// for ([`Outcome::unsampled`]).
    pub lenient: bool,
}

impl Selection {
    /// Records that `check` ran, where the selection asks; a failure to write is only logged.
    fn ran(&self, check: &str) {
        use std::io::Write;
        let Some(path) = &self.progress else { return };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{check}"));
        if let Err(e) = written {
            tracing::warn!("cannot record progress in {}: {e}", path.display());
        }
    }
}

impl Selection {
    fn selects(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|p| name.contains(p))
    }
}

/// Every check, in the order they run.
pub fn all_checks(manifest: &Manifest) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(boundary::checks());
    checks.extend(connection::checks());
    checks.extend(schema::checks());
    checks.extend(lifecycle::checks(manifest));
    checks.extend(membership::checks());
    checks.extend(search::checks(manifest));
    checks.extend(resilience::checks());
    checks.extend(completeness::checks());
    checks
}

/// Runs the suite against `target`; the cleanup and the secret scan always run last.
pub fn run(target: Target<'_>, selection: &Selection) -> Report {
    let started = Instant::now();
    let manifest = target.library.manifest().clone();
    let mut report = Report::new(&manifest, target.library.path());
    let client = match target.library.open(&target.config) {
        Ok(client) => client,
        Err(e) => {
            report.push(CheckReport {
                name: "boundary.open".into(),
                status: Status::Fail,
                reason: format!("the connector does not open with the suite's configuration: {e}"),
                duration: started.elapsed(),
            });
            return report.finish(started.elapsed());
        }
    };
    let log_lines = Arc::new(Mutex::new(Vec::new()));
    let mut ctx = Ctx {
        library: &target.library,
        client: keep_log_lines(&client, &log_lines),
        config: &target.config,
        suite: &target.suite,
        faults: target.faults,
        created: Vec::new(),
        transcript: Vec::new(),
        log_lines,
        counter: 0,
    };
    for check in all_checks(&manifest)
        .into_iter()
        .filter(|c| selection.selects(&c.name))
    {
        let t = Instant::now();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (check.run)(&mut ctx)))
                .unwrap_or_else(|_| Err(check::Broken("the check itself panicked".into())));
        if let Some(faults) = ctx.faults {
            faults.clear();
        }
        let Outcome { status, reason, .. } = outcome
            .unwrap_or_else(|b| Outcome::fail(b.0))
            .judged(selection.lenient);
        tracing::debug!(check = %check.name, ?status, ms = t.elapsed().as_millis() as u64, "conformance check done");
        selection.ran(&check.name);
        ctx.transcript.push(reason.clone());
        report.push(CheckReport {
            name: check.name,
            status,
            reason,
            duration: t.elapsed(),
        });
    }
    for check in hygiene::checks() {
        let t = Instant::now();
        let Outcome { status, reason, .. } = (check.run)(&mut ctx)
            .unwrap_or_else(|b| Outcome::fail(b.0))
            .judged(selection.lenient);
        report.push(CheckReport {
            name: check.name,
            status,
            reason,
            duration: t.elapsed(),
        });
    }
    // Reasons quote the connector's errors; whatever the connector leaked stays out of the report.
    let redactor =
        connector_api::redact::Redactor::for_config(ctx.config, &ctx.manifest().config_schema);
    for check in &mut report.checks {
        check.reason = redactor.clean(&check.reason).into_owned();
    }
    report.finish(started.elapsed())
}
