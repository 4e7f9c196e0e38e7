//! `host-harness chaos`: a realistic workload through the real library while the simulator
//! injects a fault mix; afterwards the store is compared with the intended end state.
//!
//! The workload runs on `--threads` host threads calling one connector instance, each thread
//! owning its users and groups (creates, updates, disables, deletes and memberships interleave
//! across threads; no object is touched by two), so the end state is defined whatever the
//! order. The host retries what the connector says is retryable, as IDHub does, up to a budget.
//! An operation that still fails must fail with a typed error, and any difference between the
//! intended and the actual state must be explained by such a failure. Lost operations
//! (reported done, not done) and duplicates must be zero.
//!
//! On one thread the same seed gives the same faults and the same result; only the count of
//! the token bucket's 429s follows how fast the machine runs. On several, faults are drawn in
//! the order requests arrive, so the same seed gives the same store ([`ChaosReport::store`],
//! ids and order aside) when no operation ended in a failure, not the same requests.
//!
//! Files: `workload.rs` one thread's operations and intended state, `compare.rs` the
//! comparison and the store's canonical digest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;

use super::CliError;
use crate::plugin;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit, RouteClass};
use crate::sim::{SimConfig, Simulator};

mod compare;
mod workload;

use workload::Workload;

/// Fault campaign: a realistic workload through the Atlassian plugin while the embedded
/// simulator injects 429, 500, 503, dropped connections, truncated bodies, latency spikes
/// and lost responses; then the store is compared with the intended end state.
///
/// Exits non-zero if anything was lost, duplicated or left unexplained. On one thread, same
/// seed, same result; on --threads N, the operations interleave across N host threads on one
/// connector instance, and the same seed gives the same store.
#[derive(Debug, Clone, clap::Args)]
pub struct ChaosArgs {
    /// Users created (with default-group grants).
    #[arg(long, default_value_t = 5_000)]
    pub creates: usize,
    /// Users updated.
    #[arg(long, default_value_t = 2_000)]
    pub updates: usize,
    /// Users disabled.
    #[arg(long, default_value_t = 1_000)]
    pub disables: usize,
    /// Users deleted.
    #[arg(long, default_value_t = 500)]
    pub deletes: usize,
    /// Groups created, each with members added and some removed.
    #[arg(long, default_value_t = 20)]
    pub groups: usize,
    /// The seed of the faults.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Host threads calling the one connector instance, each owning its users and groups.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Retries per operation by the host after a retryable error.
    #[arg(long, default_value_t = 3)]
    pub host_retries: u32,
    /// The Atlassian plugin; default: beside this binary.
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What the campaign found.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct ChaosReport {
    /// The seed.
    pub seed: u64,
    /// Operations attempted.
    pub attempted: u64,
    /// Host retries after a retryable error.
    pub retried: u64,
    /// Operations that succeeded.
    pub succeeded: u64,
    /// Operations that failed in the end, each with a typed error.
    pub failed_typed: u64,
    /// Failures by kind.
    pub failures: BTreeMap<String, u64>,
    /// Operations reported done whose effect is missing.
    pub lost: u64,
    /// Objects present more than once, or present but never intended.
    pub duplicated: u64,
    /// Differences between intended and actual state not explained by a failed operation.
    pub unexplained: Vec<String>,
    /// Differences explained by a failed operation.
    pub explained: u64,
    /// Faults the simulator injected at random from the seed, by kind.
    pub faults: BTreeMap<String, u64>,
    /// 429s from the token bucket: they follow the request rate, so the machine's speed, not
    /// the seed.
    pub rate_limited: u64,
    /// Host threads.
    pub threads: usize,
    /// The store at the end without ids or order, hashed: the same seed gives the same one.
    pub store: String,
}

impl ChaosReport {
    /// Adds what another thread counted.
    fn absorb(&mut self, other: ChaosReport) {
        self.attempted += other.attempted;
        self.retried += other.retried;
        self.succeeded += other.succeeded;
        self.failed_typed += other.failed_typed;
        for (kind, n) in other.failures {
            *self.failures.entry(kind).or_default() += n;
        }
        self.unexplained.extend(other.unexplained);
    }
}

/// The fault mix: random 500, 503, drops, truncations, lost responses and latency spikes; and
/// 429s (with `Retry-After` and the `X-RateLimit-*` headers) from a token bucket per
/// credential, as Atlassian rate-limits, rather than at random.
pub fn fault_mix(seed: u64) -> FaultPlan {
    let mut spike = FaultRule::new(FaultKind::Latency, 0.05);
    spike.latency_ms = 50;
    spike.jitter_ms = 100;
    FaultPlan {
        seed,
        rules: vec![
            spike,
            FaultRule::new(FaultKind::ServerError, 0.02),
            FaultRule::new(FaultKind::Unavailable, 0.01),
            FaultRule::new(FaultKind::Drop, 0.01),
            FaultRule::new(FaultKind::Truncate, 0.01)
                .on(&[RouteClass::ScimRead, RouteClass::SiteRead]),
            FaultRule::new(FaultKind::LostResponse, 0.02),
        ],
        rate_limit: Some(RateLimit::per_credential(150.0, 20.0)),
    }
}

/// Runs the campaign.
pub fn campaign(args: &ChaosArgs) -> Result<ChaosReport, CliError> {
    let sim = Simulator::start(SimConfig {
        seed: args.seed,
        ..SimConfig::default()
    })?;
    let mut config = sim.plugin_config();
    // One request at a time on one thread keeps the run reproducible; many host threads
    // share the connector's concurrency, as IDHub's do.
    config["concurrency"] = json!(if args.threads > 1 { 8 } else { 1 });
    config["deprovisioning"] = json!("delete");
    config["retry_budget"] = json!(6);
    let path = args
        .plugin
        .clone()
        .or_else(plugin::bundled_atlassian_plugin)
        .ok_or_else(|| {
            CliError::Usage("the Atlassian plugin is not built beside this binary".into())
        })?;
    let client = plugin::load(&path)?.open(&config)?;
    sim.set_faults(fault_mix(args.seed));

    let threads = args.threads.max(1);
    let workload = |thread: usize| Workload {
        client: &client,
        host_retries: args.host_retries,
        thread,
        threads,
        report: ChaosReport::default(),
        users: BTreeMap::new(),
        groups: BTreeMap::new(),
    };
    let mut work = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads)
            .map(|t| {
                let mut work = workload(t);
                scope.spawn(move || {
                    work.run_all(args);
                    work
                })
            })
            .collect();
        let mut all = workload(0);
        for thread in running {
            let done = thread.join().expect("a workload thread does not panic");
            all.report.absorb(done.report);
            all.users.extend(done.users);
            all.groups.extend(done.groups);
        }
        all
    });
    work.report.seed = args.seed;
    work.report.threads = threads;
    work.reconcile();

    let mut report = work.report;
    let stats = sim.state().faults.stats();
    report.faults = stats["faults"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    report.rate_limited = stats["rate_limited"].as_u64().unwrap_or(0);
    compare::compare(&sim, &work.users, &work.groups, &mut report);
    report.store = format!("{:016x}", compare::store_digest(&sim));
    Ok(report)
}

/// Runs `chaos` and prints the table (or JSON); fails when anything was lost or duplicated.
pub fn run(args: ChaosArgs) -> Result<(), CliError> {
    let report = campaign(&args)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        println!(
            "fault campaign, seed {}, {} host thread(s)",
            report.seed, report.threads
        );
        for (label, value) in [
            ("operations attempted", report.attempted),
            ("retried by the host", report.retried),
            ("succeeded", report.succeeded),
            ("failed with a typed error", report.failed_typed),
            ("lost (must be 0)", report.lost),
            ("duplicated (must be 0)", report.duplicated),
            ("differences explained by a failure", report.explained),
            (
                "differences unexplained (must be 0)",
                report.unexplained.len() as u64,
            ),
        ] {
            println!("  {label:<38} {value}");
        }
        println!(
            "  failures by kind                       {:?}",
            report.failures
        );
        println!(
            "  faults injected                        {:?}",
            report.faults
        );
        println!(
            "  429s from the token bucket             {}",
            report.rate_limited
        );
        println!("  store (ids and order aside)            {}", report.store);
        for d in &report.unexplained {
            println!("  unexplained: {d}");
        }
    }
    if report.lost == 0 && report.duplicated == 0 && report.unexplained.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(
            "the campaign lost, duplicated or left unexplained differences".into(),
        ))
    }
}
