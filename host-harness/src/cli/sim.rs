//! `host-harness sim`: serve the Atlassian Cloud simulator on 127.0.0.1 until interrupted.

use std::path::PathBuf;
use std::time::Duration;

use super::CliError;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit, RateScope, RouteClass};
use crate::sim::{OrgProfile, SimConfig, Simulator};

/// Serve the Atlassian Cloud simulator on 127.0.0.1 until interrupted.
///
/// Prints the SCIM and site URLs and the credentials it accepts. Faults come from flags or a
/// JSON plan (--faults-file), and change at run time through the control API
/// (PUT /__sim/faults); GET /__sim/requests and /__sim/store report what was received.
///
/// Examples:
///   host-harness sim --users 100000 --groups 1000 --seed 7 --write-config atlassian.json
///   host-harness sim --rate-limit 50/10 --fault rate_limited:scim_read=0.05 --latency 20+5
///   host-harness sim --fault lost_response:scim_write=0.1 --fault drop=0.01
#[derive(Debug, Clone, Default, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SimArgs {
    /// The organization modelled: modern (roles without groups, site-suffixed default groups,
    /// a service account with a scoped token for the API gateway) or legacy.
    #[arg(long, value_enum, default_value_t = OrgProfile::Modern)]
    pub org: OrgProfile,
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// SCIM users to seed.
    #[arg(long, default_value_t = 0)]
    pub users: usize,
    /// SCIM groups to seed.
    #[arg(long, default_value_t = 0)]
    pub groups: usize,
    /// Seed one more SCIM group, `large-group`, with this many members (users are seeded up to
    /// this many).
    #[arg(long, default_value_t = 0)]
    pub group_members: usize,
    /// Seed of ids, data, credentials and faults: same seed, same run.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The most SCIM resources per page.
    #[arg(long, default_value_t = 100)]
    pub page_cap: usize,
    /// Delay before SCIM writes show on the Jira and Confluence APIs, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub propagation_delay_ms: u64,
    /// Token bucket per credential: RATE or RATE/BURST requests per second; `@endpoint` for a
    /// bucket per credential and endpoint, as Jira's burst limits (429 with
    /// `RateLimit-Reason: jira-burst-based`).
    #[arg(long, value_parser = parse_rate_limit)]
    pub rate_limit: Option<RateLimit>,
    /// A fault rule KIND[:CLASS,...]=PROBABILITY, repeatable; kinds as in README (e.g.
    /// rate_limited, server_error, drop, lost_response, short_pages); classes scim_read,
    /// scim_write, site_read, site_write.
    #[arg(long = "fault", value_parser = parse_fault)]
    pub faults: Vec<FaultRule>,
    /// Latency on every request: MS or MS+JITTER.
    #[arg(long, value_parser = parse_latency)]
    pub latency: Option<FaultRule>,
    /// A JSON fault plan, as PUT /__sim/faults takes it; the flags add to it.
    #[arg(long)]
    pub faults_file: Option<PathBuf>,
    /// Write a ready-to-use Atlassian plugin configuration to this file.
    #[arg(long)]
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
    let kind: FaultKind = serde_json::from_value(serde_json::Value::String(kind.to_owned()))
        .map_err(|_| format!("--fault {spec}: unknown kind `{kind}` (see README, Faults)"))?;
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

/// Parses `MS` or `MS+JITTER` into a latency rule on every request.
pub fn parse_latency(spec: &str) -> Result<FaultRule, String> {
    let (fixed, jitter) = spec.split_once('+').unwrap_or((spec, "0"));
    let ms = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{spec}`: expected MS or MS+JITTER"))
    };
    let mut rule = FaultRule::new(FaultKind::Latency, 1.0);
    rule.latency_ms = ms(fixed)?;
    rule.jitter_ms = ms(jitter)?;
    Ok(rule)
}

/// Parses `RATE` or `RATE/BURST` requests per second, per credential; with `@endpoint`, per
/// credential and endpoint.
pub fn parse_rate_limit(spec: &str) -> Result<RateLimit, String> {
    let bad =
        || format!("`{spec}`: expected RATE, RATE/BURST, RATE@endpoint or RATE/BURST@endpoint");
    let (rate, per) = match spec.split_once('@') {
        None => (spec, RateScope::Credential),
        Some((rate, "endpoint")) => (rate, RateScope::Endpoint),
        Some(_) => return Err(bad()),
    };
    let (per_second, burst) = rate.split_once('/').unwrap_or((rate, ""));
    let per_second: f64 = per_second.parse().map_err(|_| bad())?;
    let burst: f64 = match burst {
        "" => per_second.max(1.0),
        b => b.parse().map_err(|_| bad())?,
    };
    Ok(RateLimit {
        per_second,
        burst,
        per,
    })
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
    plan.rules.extend(args.faults.iter().cloned());
    plan.rules.extend(args.latency.clone());
    if let Some(rate) = &args.rate_limit {
        plan.rate_limit = Some(rate.clone());
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
        group_members: args.group_members,
        seed: args.seed,
        scim_page_cap: args.page_cap,
        propagation_delay: Duration::from_millis(args.propagation_delay_ms),
        faults: plan.clone(),
        org: args.org,
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
    let cloud_id = sim.state().store.read().settings.cloud_id.clone();
    println!("  organization  {} (cloudId {cloud_id})", args.org.name());
    println!("  SCIM URL      {}", sim.scim_url());
    println!(
        "  site URL      {}   (Jira /rest/api/3, Confluence /wiki/rest/api)",
        sim.site_url()
    );
    println!(
        "  API gateway   {0}/ex/jira/{cloud_id}, {0}/ex/confluence/{cloud_id}",
        sim.site_url()
    );
    let [jira_group, confluence_group] = sim.default_groups();
    println!("  default groups {jira_group}, {confluence_group}");
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
    if args.org == OrgProfile::Modern {
        println!(
            "  service acct  {} : {}   (scoped token: API gateway only)",
            creds.service_account_email, creds.service_account_token
        );
    }
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
