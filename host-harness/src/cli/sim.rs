//! `host-harness sim`: serve the Atlassian Cloud simulator on 127.0.0.1 until interrupted.

use std::path::PathBuf;
use std::time::Duration;

use super::CliError;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit, RouteClass};
use crate::sim::{SimConfig, Simulator};

/// What `sim` serves.
#[derive(Debug, Default)]
pub struct SimArgs {
    /// The port; 0 for a free one.
    pub port: u16,
    /// Seeded users.
    pub users: usize,
    /// Seeded groups.
    pub groups: usize,
    /// The seed.
    pub seed: u64,
    /// The SCIM page cap.
    pub page_cap: usize,
    /// The SCIM-to-site propagation delay in milliseconds.
    pub propagation_delay_ms: u64,
    /// `RATE` or `RATE/BURST` requests per second per credential.
    pub rate_limit: Option<String>,
    /// `KIND[:CLASS,...]=PROBABILITY` fault rules.
    pub faults: Vec<String>,
    /// `MS` or `MS+JITTER` latency on every request.
    pub latency: Option<String>,
    /// A JSON fault plan file (the control API's format); flags add to it.
    pub faults_file: Option<PathBuf>,
    /// Where to write a ready-to-use Atlassian plugin configuration.
    pub write_config: Option<PathBuf>,
}

/// Parses `KIND[:CLASS,...]=PROBABILITY`, e.g. `rate_limited:scim_read=0.1` or `drop=0.01`.
pub fn parse_fault(spec: &str) -> Result<FaultRule, String> {
    let (target, p) = spec
        .split_once('=')
        .ok_or_else(|| format!("--fault {spec}: expected KIND[:CLASSES]=PROBABILITY"))?;
    let probability: f64 = p
        .parse()
        .map_err(|_| format!("--fault {spec}: {p} is not a probability"))?;
    let (kind, classes) = match target.split_once(':') {
        Some((k, c)) => (k, Some(c)),
        None => (target, None),
    };
    let kind: FaultKind = serde_json::from_value(serde_json::Value::String(kind.to_owned())).map_err(|_| {
        format!("--fault {spec}: unknown kind `{kind}` (rate_limited, server_error, unavailable, drop, truncate, lost_response, invalid_json, wrong_types, missing_fields, huge_body, html_body, redirect)")
    })?;
    let routes = classes
        .map(|c| {
            c.split(',')
                .map(|class| {
                    serde_json::from_value::<RouteClass>(serde_json::Value::String(class.trim().to_owned())).map_err(|_| {
                        format!("--fault {spec}: unknown route class `{class}` (scim_read, scim_write, site_read, site_write)")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(FaultRule::new(kind, probability).on(&routes))
}

/// Builds the fault plan from a file and flags.
pub fn fault_plan(args: &SimArgs) -> Result<FaultPlan, CliError> {
    let mut plan = match &args.faults_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::Usage(format!(
                    "{}: cannot read the fault plan: {e}",
                    path.display()
                ))
            })?;
            serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!("{}: not a fault plan: {e}", path.display()))
            })?
        }
        None => FaultPlan::default(),
    };
    plan.seed = args.seed;
    for spec in &args.faults {
        plan.rules.push(parse_fault(spec).map_err(CliError::Usage)?);
    }
    if let Some(latency) = &args.latency {
        let (fixed, jitter) = latency.split_once('+').unwrap_or((latency, "0"));
        let ms = |s: &str| {
            s.trim().parse::<u64>().map_err(|_| {
                CliError::Usage(format!("--latency {latency}: expected MS or MS+JITTER"))
            })
        };
        let mut rule = FaultRule::new(FaultKind::Latency, 1.0);
        rule.latency_ms = ms(fixed)?;
        rule.jitter_ms = ms(jitter)?;
        plan.rules.push(rule);
    }
    if let Some(rate) = &args.rate_limit {
        let (per_second, burst) = rate.split_once('/').unwrap_or((rate, ""));
        let per_second: f64 = per_second.parse().map_err(|_| {
            CliError::Usage(format!("--rate-limit {rate}: expected RATE or RATE/BURST"))
        })?;
        let burst: f64 = if burst.is_empty() {
            per_second.max(1.0)
        } else {
            burst.parse().map_err(|_| {
                CliError::Usage(format!("--rate-limit {rate}: expected RATE or RATE/BURST"))
            })?
        };
        plan.rate_limit = Some(RateLimit { per_second, burst });
    }
    plan.validated().map_err(CliError::Usage)
}

/// Starts the simulator, prints where it is and what it accepts, and serves until interrupted.
pub fn run(args: SimArgs) -> Result<(), CliError> {
    let plan = fault_plan(&args)?;
    let sim = Simulator::start(SimConfig {
        port: args.port,
        users: args.users,
        groups: args.groups,
        seed: args.seed,
        scim_page_cap: args.page_cap,
        propagation_delay: Duration::from_millis(args.propagation_delay_ms),
        faults: plan.clone(),
        ..SimConfig::default()
    })?;
    let creds = sim.credentials();
    println!("Atlassian Cloud simulator on http://{}", sim.addr());
    println!(
        "  seeded        {} users, {} groups in {:.2?} (seed {})",
        args.users,
        args.groups,
        sim.seeded_in(),
        args.seed
    );
    println!("  SCIM URL      {}", sim.scim_url());
    println!(
        "  site URL      {}   (Jira /rest/api/3, Confluence /wiki/rest/api)",
        sim.site_url()
    );
    println!(
        "  control API   {}   (requests, store, faults, settings, seed)",
        sim.control_url()
    );
    println!("credentials accepted (generated for this run)");
    println!(
        "  SCIM          Authorization: Bearer {}",
        creds.directory_api_key
    );
    println!(
        "  site admin    {} : {}",
        creds.admin_email, creds.admin_api_token
    );
    println!(
        "  plain user    {} : {}   (no admin permission)",
        creds.user_email, creds.user_api_token
    );
    if !plan.rules.is_empty() || plan.rate_limit.is_some() {
        println!(
            "faults          {}",
            serde_json::to_string(&plan).unwrap_or_default()
        );
    }
    if let Some(path) = &args.write_config {
        let text = serde_json::to_string_pretty(&sim.plugin_config()).unwrap_or_default();
        std::fs::write(path, text + "\n")?;
        println!("plugin config   written to {}", path.display());
    }
    println!("serving until interrupted (Ctrl-C)");
    loop {
        std::thread::park();
    }
}
