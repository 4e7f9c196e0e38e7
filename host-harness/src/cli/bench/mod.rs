//! `host-harness bench`: figures measured against the embedded simulator, never timed tests.
//!
//! Scenarios, in one process and one run so that ratios are fair:
//! - `recon`: a full user reconciliation through the plugin and the ABI, against the limit: a
//!   plain HTTP client fetching the same pages with the same concurrency and only parsing them.
//! - `recon-latency`: the same under injected latency, against the theoretical limit
//!   (pages x latency / concurrency) and against one-request-at-a-time paging.
//! - `memory`: peak resident memory of a reconciliation, for 10,000 and for N users (a child
//!   `host-harness recon` process, so the simulator's own memory is not counted).
//! - `provision`: creates with default-group grants from many host threads under a simulator
//!   rate limit: achieved rate against the allowed one, failures, duplicates.
//! - `load`: 16 host threads calling one instance with mixed reads and updates over a seeded
//!   directory for a bounded time: errors, and resident memory after warm-up against the end.
//! - `ffi`: the round trip of a trivial operation through a connector library.
//!
//! Each scenario states its target; `bench` exits 1 when any is missed, after printing all.

use std::path::{Path, PathBuf};

use connector_api::host::ConnectorClient;
use serde::Serialize;
use serde_json::Value;

use super::CliError;
use crate::plugin;
use crate::sim::{SimConfig, Simulator};

mod ffi;
mod large_group;
mod load;
mod memory;
mod provision;
mod recon;

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Plugin reconciliation against a plain client.
    Recon,
    /// Reconciliation under latency against the theoretical limit.
    ReconLatency,
    /// Peak memory for 10,000 and for N users.
    Memory,
    /// Creates with grants under a rate limit.
    Provision,
    /// 16 threads of mixed operations on one instance: errors and memory over time.
    Load,
    /// The round trip of a trivial operation through the library.
    Ffi,
    /// One SCIM group of N members read completely: time and peak memory.
    LargeGroup,
}

/// Measure against the embedded simulator: figures and ratios, in one process and one run.
///
/// Scenarios (all when none is named): recon (plugin vs a plain client fetching the same
/// pages), recon-latency (vs pages x latency / concurrency, and vs one request at a time),
/// memory (peak RSS at 10,000 and N users), provision (creates with grants under a rate
/// limit), load (16 threads of mixed calls), ffi (round trip of a trivial operation),
/// large-group (one group of --group-members members read completely).
///
/// Example:
///   host-harness bench recon memory --users 100000 --json
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    /// The scenarios to run; all when none is named.
    #[arg(value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Users for recon and memory.
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Groups seeded.
    #[arg(long, default_value_t = 1_000)]
    pub groups: usize,
    /// Users for recon-latency.
    #[arg(long, default_value_t = 20_000)]
    pub latency_users: usize,
    /// Latency per request in recon-latency, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Users created in provision.
    #[arg(long, default_value_t = 2_000)]
    pub provision_users: usize,
    /// Allowed requests per second per credential in provision.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Host threads calling create in provision.
    #[arg(long, default_value_t = 16)]
    pub threads: usize,
    /// Members of the group read in large-group.
    #[arg(long, default_value_t = 200_000)]
    pub group_members: usize,
    /// Calls measured in ffi.
    #[arg(long = "calls", default_value_t = 100_000)]
    pub ffi_calls: usize,
    /// The Atlassian plugin; default: beside this binary.
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One scenario's figures.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// The scenario.
    pub scenario: Scenario,
    /// Named figures, in order.
    pub figures: Vec<(String, f64)>,
    /// The target, as text, and whether it was met.
    pub target: String,
    /// Why the target could not be judged on this platform (no memory figure off Linux, say):
    /// such a scenario is never counted as met.
    pub unmeasured: Option<String>,
    /// Whether the target was met.
    pub met: bool,
}

fn atlassian_plugin(args: &BenchArgs) -> Result<PathBuf, CliError> {
    args.plugin
        .clone()
        .or_else(plugin::bundled_atlassian_plugin)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{} is not built beside this binary; run `cargo build --release --workspace`",
                plugin::library_file(plugin::ATLASSIAN_PLUGIN)
            ))
        })
}

fn open(path: &Path, config: Value) -> Result<ConnectorClient, CliError> {
    Ok(plugin::load(path)?.open(&config)?)
}

fn sim_with(users: usize, groups: usize) -> Result<Simulator, CliError> {
    Ok(Simulator::start(SimConfig {
        users,
        groups,
        seed: 7,
        worker_threads: 2,
        ..SimConfig::default()
    })?)
}

/// The example connector built beside this executable (`target/<profile>/examples`).
pub fn bundled_memory_connector() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let name = plugin::library_file("memory_connector");
    [
        dir.join("examples").join(&name),
        dir.parent()?.join("examples").join(&name),
    ]
    .into_iter()
    .find(|p| p.exists())
}

fn example_connector() -> Result<PathBuf, CliError> {
    bundled_memory_connector().ok_or_else(|| {
        CliError::Usage(
            "ffi measures the example connector, which is not built beside this binary; run `cargo build --release --workspace --lib --bins --examples`".into(),
        )
    })
}

/// This process's resident memory now, in MiB, where the platform tells.
fn current_rss_mib() -> Option<f64> {
    crate::process_memory::resident_kib().map(|kib| kib as f64 / 1024.0)
}

/// Runs the scenarios and prints a table or JSON.
pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let scenarios = if args.scenarios.is_empty() {
        vec![
            Scenario::Recon,
            Scenario::ReconLatency,
            Scenario::Memory,
            Scenario::Provision,
            Scenario::Load,
            Scenario::Ffi,
            Scenario::LargeGroup,
        ]
    } else {
        args.scenarios.clone()
    };
    // Find every library before measuring anything: a missing one must not end a long run.
    if scenarios.iter().any(|s| *s != Scenario::Ffi) {
        atlassian_plugin(&args)?;
    }
    if scenarios.contains(&Scenario::Ffi) {
        example_connector()?;
    }
    let mut results = Vec::new();
    for scenario in scenarios {
        let figures = match scenario {
            Scenario::Recon => recon::recon(&args),
            Scenario::ReconLatency => recon::recon_latency(&args),
            Scenario::Memory => memory::memory(&args),
            Scenario::Provision => provision::provision(&args),
            Scenario::Load => load::load(&args),
            Scenario::Ffi => ffi::ffi(&args),
            Scenario::LargeGroup => large_group::large_group(&args),
        }?;
        if !args.json {
            let name = serde_json::to_value(figures.scenario)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            println!(
                "{name}  (target: {}; {})",
                figures.target,
                match (&figures.unmeasured, figures.met) {
                    (Some(why), _) => format!("NOT MEASURED here: {why}"),
                    (None, true) => "met".into(),
                    (None, false) => "MISSED".into(),
                }
            );
            for (label, value) in &figures.figures {
                let shown = if value.fract() == 0.0 && value.abs() < 1e12 {
                    format!("{value:.0}")
                } else {
                    format!("{value:.3}")
                };
                println!("  {label:<32} {shown}");
            }
        }
        results.push(figures);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).unwrap_or_default()
        );
    }
    let missed: Vec<String> = results
        .iter()
        .filter(|f| !f.met)
        .filter_map(|f| {
            let name = serde_json::to_value(f.scenario).ok()?.as_str()?.to_owned();
            Some(match f.unmeasured {
                Some(_) => format!("{name} (not measured here)"),
                None => name,
            })
        })
        .collect();
    if missed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "target not met: {}",
            missed.join(", ")
        )))
    }
}
