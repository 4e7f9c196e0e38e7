//! `host-harness probe`: what a live tenant answers where Atlassian's documentation is silent,
//! recorded as facts, and compared with what the simulator answers.
//!
//! Read-only by default (`observe.rs`); `--write` adds probes that create, change and delete
//! one user and two groups of the probe's own (`write.rs`). The report (`report.rs`) holds
//! facts that do not depend on the tenant's data, so `--compare REPORT` runs the same probe
//! against an embedded simulator and prints every fact on which the two disagree.

mod observe;
mod report;
mod target;
mod write;

use std::path::PathBuf;

use crate::cli::CliError;
use crate::sim::{OrgProfile, SimConfig, Simulator};
pub use report::{Difference, Observation, ProbeReport, compare};
pub use target::{ProbeConfig, Target};

/// Probe a live Atlassian tenant, or compare a probe's report with the simulator.
///
/// With --config: the tenant of an Atlassian plugin configuration is probed, read-only unless
/// --write (which creates, changes and deletes one user and two groups named
/// idhub-probe-RANDOM), and the report is written as JSON with every credential removed.
/// With --compare: the same probe runs against an embedded simulator (--org), and each fact on
/// which the report and the simulator disagree is printed; exit 1 when any does.
///
/// Examples:
///   host-harness probe --config atlassian.json --out probe.json
///   host-harness probe --config atlassian.json --write --out probe.json
///   host-harness probe --compare probe.json --org modern
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ProbeArgs {
    /// The Atlassian plugin configuration of the tenant to probe.
    #[arg(long, short, conflicts_with = "compare")]
    pub config: Option<PathBuf>,
    /// Also run the write probes (they clean up after themselves).
    #[arg(long)]
    pub write: bool,
    /// Where to write the report; default: stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A report to compare with the simulator.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// The simulated organization to compare with.
    #[arg(long, value_enum, default_value_t = OrgProfile::Modern)]
    pub org: OrgProfile,
}

/// Probes `config`'s tenant; `target` names it in the report.
pub fn probe(config: ProbeConfig, write: bool, target: &str) -> Result<ProbeReport, CliError> {
    let tenant = Target::new(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut observations = runtime.block_on(async {
        let reads = observe::reads(&tenant).await;
        let mut observations = reads.observations;
        if write {
            write::writes(&tenant, reads.jira.as_ref(), &mut observations).await;
        }
        observations
    });
    let headers: Vec<String> = tenant
        .rate_limit_headers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .cloned()
        .collect();
    observations.push(Observation {
        name: "rate_limit_headers".into(),
        request: "every answer above".into(),
        status: 0,
        facts: [("seen".to_owned(), serde_json::json!(headers))].into(),
        measured: Default::default(),
    });
    Ok(ProbeReport {
        target: target.into(),
        write,
        observations,
    })
}

/// Probes a simulator of `org` as `reference` probed its tenant: with the same writes, and with
/// a user's unscoped token where the reference's token worked at the Site URL (else the
/// organization's own service-account credential).
pub fn probe_simulator(org: OrgProfile, reference: &ProbeReport) -> Result<ProbeReport, CliError> {
    let sim = Simulator::start(SimConfig {
        users: 5,
        groups: 2,
        org,
        ..SimConfig::default()
    })?;
    let mut config = sim.plugin_config();
    let unscoped = reference
        .observations
        .iter()
        .any(|o| o.name == "site.myself" && o.status == 200);
    if unscoped {
        let creds = sim.credentials();
        config["admin_email"] = serde_json::json!(creds.admin_email);
        config["account_security_api_key"] = serde_json::json!(creds.admin_api_token);
    }
    let config: ProbeConfig = serde_json::from_value(config)
        .map_err(|e| CliError::Failed(format!("the simulator's configuration: {e}")))?;
    probe(
        config,
        reference.write,
        &format!("simulator ({})", org.name()),
    )
}

/// Runs the command.
pub fn run(args: ProbeArgs) -> Result<(), CliError> {
    if let Some(path) = &args.compare {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::Usage(format!("{}: cannot read the report: {e}", path.display()))
        })?;
        let reference: ProbeReport = serde_json::from_str(&text)
            .map_err(|e| CliError::Usage(format!("{}: not a probe report: {e}", path.display())))?;
        let simulated = probe_simulator(args.org, &reference)?;
        let differences = compare(&reference, &simulated);
        for d in &differences {
            println!("{:<40} {}", d.name, d.what);
        }
        return match differences.len() {
            0 => {
                println!(
                    "the simulator ({}) answers as {} does",
                    args.org.name(),
                    reference.target
                );
                Ok(())
            }
            n => Err(CliError::Failed(format!(
                "{n} difference(s) between {} and the simulator ({})",
                reference.target,
                args.org.name()
            ))),
        };
    }
    let Some(path) = &args.config else {
        return Err(CliError::Usage(
            "give --config FILE to probe, or --compare REPORT".into(),
        ));
    };
    let value = crate::plugin::read_config(path)?;
    let config: ProbeConfig = serde_json::from_value(value).map_err(|e| {
        CliError::Usage(format!(
            "{}: not an Atlassian configuration: {e}",
            path.display()
        ))
    })?;
    let secrets = Target::new(config.clone())?.secrets();
    let report = probe(config, args.write, "live")?;
    let text = report.redacted_json(&secrets);
    match &args.out {
        Some(out) => {
            std::fs::write(out, &text)?;
            eprintln!(
                "{} observations written to {}",
                report.observations.len(),
                out.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
