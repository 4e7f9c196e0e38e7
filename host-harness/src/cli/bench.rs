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

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_api::AttributeDelta;
use connector_api::host::{CallOptions, ConnectorClient};
use connector_api::ops::{OpCreate, OpGet, OpSearch, OpUpdate};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use serde_json::{Value, json};

use super::CliError;
use crate::plugin;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit};
use crate::sim::{SimConfig, Simulator};

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
}

/// Measure against the embedded simulator: figures and ratios, in one process and one run.
///
/// Scenarios (all when none is named): recon (plugin vs a plain client fetching the same
/// pages), recon-latency (vs pages x latency / concurrency, and vs one request at a time),
/// memory (peak RSS at 10,000 and N users), provision (creates with grants under a rate
/// limit), load (16 threads of mixed calls), ffi (round trip of a trivial operation).
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

/// Reconciles every user through the plugin; answers (objects, seconds).
fn plugin_recon(client: &ConnectorClient) -> Result<(u64, f64), CliError> {
    let started = Instant::now();
    let mut objects = 0u64;
    client.search_with(&OpSearch::new("user"), &CallOptions::default(), |batch| {
        objects += batch.len() as u64;
        ControlFlow::Continue(())
    })?;
    Ok((objects, started.elapsed().as_secs_f64()))
}

/// The limit: the same SCIM and Jira member pages, same concurrency, only parsed into their
/// SCIM and Jira types (no mapping to connector objects, no ABI, no join).
fn limit_recon(sim: &Simulator, concurrency: usize) -> Result<(u64, f64), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let creds = sim.credentials().clone();
    let (scim, site) = (sim.scim_url(), sim.site_url());
    let groups: Vec<String> = ["jira-software-users", "confluence-users"]
        .iter()
        .filter_map(|n| {
            sim.state()
                .store
                .read()
                .group_by_name(n)
                .map(|g| g.id.clone())
        })
        .collect();
    runtime.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency * 2).build().map_err(|e| CliError::Failed(e.to_string()))?;
        let started = Instant::now();
        /// A SCIM user or a Jira member: the fields a reconciliation reads, the rest skipped.
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            #[serde(default, alias = "accountId")]
            id: String,
            #[serde(default, rename = "userName")]
            user_name: Option<String>,
            #[serde(default)]
            emails: Vec<std::collections::HashMap<String, Value>>,
            #[serde(default)]
            name: Option<std::collections::HashMap<String, String>>,
            #[serde(default, rename = "displayName")]
            display_name: Option<String>,
            #[serde(default, rename = "externalId")]
            external_id: Option<String>,
            #[serde(default)]
            active: Option<bool>,
            #[serde(default)]
            groups: Vec<std::collections::HashMap<String, String>>,
            #[serde(default, rename = "urn:scim:schemas:extension:atlassian-external:1.0")]
            account: Option<std::collections::HashMap<String, String>>,
        }
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default, rename = "totalResults", alias = "total")]
            total: u64,
            #[serde(default, rename = "Resources", alias = "values")]
            items: Vec<Item>,
        }
        let get = |url: String, basic: bool| {
            let req = http.get(url);
            let req = if basic { req.basic_auth(&creds.admin_email, Some(&creds.admin_api_token)) } else { req.bearer_auth(&creds.directory_api_key) };
            async move {
                let body = req.send().await.and_then(|r| r.error_for_status()).map_err(|e| CliError::Failed(e.to_string()))?;
                let bytes = body.bytes().await.map_err(|e| CliError::Failed(e.to_string()))?;
                serde_json::from_slice::<Page>(&bytes).map_err(|e| CliError::Failed(e.to_string()))
            }
        };
        for group in &groups {
            let first = get(format!("{site}/rest/api/3/group/member?groupId={group}&startAt=0&maxResults=50&includeInactiveUsers=true"), true).await?;
            let total = first.total;
            let starts: Vec<u64> = (1..).map(|k| k * 50).take_while(|s| *s < total).collect();
            let mut pages = stream::iter(starts)
                .map(|s| get(format!("{site}/rest/api/3/group/member?groupId={group}&startAt={s}&maxResults=50&includeInactiveUsers=true"), true))
                .buffered(concurrency);
            while let Some(page) = pages.next().await {
                page?;
            }
        }
        let first = get(format!("{scim}/Users?startIndex=1&count=100"), false).await?;
        let total = first.total;
        let mut objects = first.items.len() as u64;
        let starts: Vec<u64> = (1..).map(|k| 1 + k * 100).take_while(|s| *s <= total).collect();
        let mut pages = stream::iter(starts).map(|s| get(format!("{scim}/Users?startIndex={s}&count=100"), false)).buffered(concurrency);
        while let Some(page) = pages.next().await {
            objects += page?.items.len() as u64;
        }
        Ok((objects, started.elapsed().as_secs_f64()))
    })
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

fn recon(args: &BenchArgs) -> Result<Figures, CliError> {
    let sim = sim_with(args.users, args.groups)?;
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(args.concurrency);
    let client = open(&atlassian_plugin(args)?, config)?;
    // Each side three times, alternating, best run of each: no side profits from the other's
    // warm-up, and a burst of noise from elsewhere on the machine hits one run, not the figure.
    let (mut limit_objects, mut limit_secs, mut objects, mut secs) = (0, f64::MAX, 0, f64::MAX);
    for _ in 0..3 {
        let (n, t) = limit_recon(&sim, args.concurrency)?;
        (limit_objects, limit_secs) = (n, limit_secs.min(t));
        let (n, t) = plugin_recon(&client)?;
        (objects, secs) = (n, secs.min(t));
    }
    if objects != args.users as u64 || limit_objects != args.users as u64 {
        return Err(CliError::Failed(format!(
            "recon returned {objects} users, the limit {limit_objects}, of {}",
            args.users
        )));
    }
    let (plugin_rate, limit_rate) = (objects as f64 / secs, limit_objects as f64 / limit_secs);
    let ratio = plugin_rate / limit_rate;
    Ok(Figures {
        scenario: Scenario::Recon,
        figures: vec![
            ("users".into(), objects as f64),
            ("plugin objects/s".into(), plugin_rate),
            ("limit objects/s".into(), limit_rate),
            ("ratio".into(), ratio),
        ],
        target: "plugin >= 0.8 x limit".into(),
        met: ratio >= 0.8,
    })
}

fn recon_latency(args: &BenchArgs) -> Result<Figures, CliError> {
    let sim = sim_with(args.latency_users, args.groups.min(100))?;
    let mut rule = FaultRule::new(FaultKind::Latency, 1.0);
    rule.latency_ms = args.latency_ms;
    sim.set_faults(FaultPlan {
        seed: 1,
        rules: vec![rule],
        rate_limit: None,
    });
    let plugin_path = atlassian_plugin(args)?;
    let run = |concurrency: usize| -> Result<(u64, f64, u64), CliError> {
        let mut config = sim.plugin_config();
        config["concurrency"] = json!(concurrency);
        let client = open(&plugin_path, config)?;
        let before = sim.state().faults.stats()["total"].as_u64().unwrap_or(0);
        let (objects, secs) = plugin_recon(&client)?;
        let requests = sim.state().faults.stats()["total"].as_u64().unwrap_or(0) - before;
        Ok((objects, secs, requests))
    };
    let (objects, concurrent, requests) = run(args.concurrency)?;
    let (_, sequential, _) = run(1)?;
    let store = sim.state().store.read();
    let members: u64 = ["jira-software-users", "confluence-users"]
        .iter()
        .filter_map(|n| store.group_by_name(n))
        .map(|g| g.members.len().div_ceil(50) as u64)
        .sum();
    drop(store);
    let pages = (objects as usize).div_ceil(100) as u64 + members;
    let theoretical = pages as f64 * args.latency_ms as f64 / 1000.0 / args.concurrency as f64;
    let (vs_limit, speedup) = (concurrent / theoretical, sequential / concurrent);
    Ok(Figures {
        scenario: Scenario::ReconLatency,
        figures: vec![
            ("users".into(), objects as f64),
            ("pages needed".into(), pages as f64),
            ("requests sent".into(), requests as f64),
            ("wall s".into(), concurrent),
            ("theoretical s".into(), theoretical),
            ("one-at-a-time s".into(), sequential),
            ("wall / theoretical".into(), vs_limit),
            ("speed-up vs one-at-a-time".into(), speedup),
        ],
        target: format!(
            "wall <= 1.3 x theoretical, >= 6 x faster than one request at a time (concurrency {})",
            args.concurrency
        ),
        met: vs_limit <= 1.3 && speedup >= 6.0,
    })
}

/// Peak RSS of a child `host-harness recon` of `users` users, in MiB.
fn child_peak(args: &BenchArgs, users: usize) -> Result<f64, CliError> {
    let sim = sim_with(users, args.groups.min(users / 10).max(1))?;
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(args.concurrency);
    let dir = std::env::temp_dir();
    let config_path = dir.join(format!("bench-memory-{}-{users}.json", std::process::id()));
    std::fs::write(&config_path, config.to_string())?;
    let out = Command::new(std::env::current_exe()?)
        .args([
            "recon",
            &atlassian_plugin(args)?.to_string_lossy(),
            "--config",
            &config_path.to_string_lossy(),
            "--out",
            "/dev/null",
        ])
        .env("HOST_HARNESS_REPORT_PEAK_RSS", "1")
        .output()?;
    std::fs::remove_file(&config_path).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(CliError::Failed(format!(
            "the recon child failed: {stderr}"
        )));
    }
    let kib: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            CliError::Failed(format!("the recon child reported no peak memory: {stderr}"))
        })?;
    Ok(kib / 1024.0)
}

fn memory(args: &BenchArgs) -> Result<Figures, CliError> {
    let small = child_peak(args, 10_000)?;
    let large = child_peak(args, args.users)?;
    let growth = large - small;
    Ok(Figures {
        scenario: Scenario::Memory,
        figures: vec![
            ("peak MiB at 10,000".into(), small),
            (format!("peak MiB at {}", args.users), large),
            ("growth MiB".into(), growth),
        ],
        target: "growth < 20 MB".into(),
        met: growth * 1.048_576 < 20.0,
    })
}

fn provision(args: &BenchArgs) -> Result<Figures, CliError> {
    let sim = sim_with(0, 0)?;
    let burst = (args.rate / 10.0).max(1.0);
    sim.set_faults(FaultPlan {
        seed: 1,
        rules: vec![],
        rate_limit: Some(RateLimit {
            per_second: args.rate,
            burst,
        }),
    });
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(args.concurrency);
    config["retry_budget"] = json!(20);
    let client = Arc::new(open(&atlassian_plugin(args)?, config)?);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..args.threads)
        .map(|_| {
            let (client, next, n) = (client.clone(), next.clone(), args.provision_users);
            std::thread::spawn(move || {
                let mut failed = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= n {
                        return failed;
                    }
                    let name = format!("bench{i:05}@acme.example.com");
                    if let Err(e) =
                        client.create(&OpCreate::new("user", &name).attr("email", name.as_str()))
                    {
                        failed.push(format!("{name}: {e}"));
                    }
                }
            })
        })
        .collect();
    let failed: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    let secs = started.elapsed().as_secs_f64();
    let stats = sim.state().faults.stats();
    let count =
        |route: &str, status: &str| stats["routes"][route][status].as_u64().unwrap_or(0) as f64;
    let scim_ok = count("POST /scim/directory/{directoryId}/Users", "201");
    let site_ok = count("POST /rest/api/3/group/user", "201");
    let throttled = stats["rate_limited"].as_u64().unwrap_or(0) as f64;
    let store = sim.state().store.read().dump();
    let names: Vec<&str> = store["users"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|u| u["attrs"]["userName"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let duplicates = names.len() - names.iter().collect::<BTreeSet<_>>().len();
    // The site credential carries two grants per user: it is the one the limit binds.
    let achieved = site_ok / secs;
    let share = achieved / args.rate;
    if let Some(first) = failed.first() {
        eprintln!("provision: {} failures, first: {first}", failed.len());
    }
    Ok(Figures {
        scenario: Scenario::Provision,
        figures: vec![
            ("users".into(), scim_ok),
            ("grants".into(), site_ok),
            ("seconds".into(), secs),
            ("allowed req/s per credential".into(), args.rate),
            ("achieved site req/s".into(), achieved),
            ("share of allowed".into(), share),
            ("429s".into(), throttled),
            ("failed operations".into(), failed.len() as f64),
            ("duplicates".into(), duplicates as f64),
        ],
        target: ">= 90% of the allowed rate, 0 failed, 0 duplicates".into(),
        met: share >= 0.9
            && failed.is_empty()
            && duplicates == 0
            && names.len() == args.provision_users,
    })
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

fn ffi(args: &BenchArgs) -> Result<Figures, CliError> {
    let path = example_connector()?;
    let client = open(
        &path,
        json!({"tenant": "bench", "api_token": "bench", "seed_users": 1}),
    )?;
    let op = OpGet::new("user", "u-00000001");
    for _ in 0..args.ffi_calls.min(1000) {
        client.get(&op)?;
    }
    let mut samples = Vec::with_capacity(args.ffi_calls);
    for _ in 0..args.ffi_calls.max(1) {
        let t = Instant::now();
        client.get(&op)?;
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let median = us(samples[samples.len() / 2]);
    Ok(Figures {
        scenario: Scenario::Ffi,
        figures: vec![
            ("calls".into(), samples.len() as f64),
            ("min us".into(), us(samples[0])),
            ("median us".into(), median),
            ("p99 us".into(), us(samples[(samples.len() - 1) * 99 / 100])),
        ],
        target: "median < 10 us".into(),
        met: median < 10.0,
    })
}

/// This process's resident memory now, in MiB.
fn current_rss_mib() -> f64 {
    crate::process_memory::kib("VmRSS").map_or(0.0, |kib| kib as f64 / 1024.0)
}

/// 16 threads of gets and title updates over a seeded directory, bounded to 20 s and 50,000
/// calls a thread. The directory does not grow, so resident memory should not either; it is
/// sampled after 5 s of warm-up and at the end.
fn load(args: &BenchArgs) -> Result<Figures, CliError> {
    const THREADS: usize = 16;
    let sim = sim_with(2_000, 20)?;
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(args.concurrency);
    let client = open(&atlassian_plugin(args)?, config)?;
    let mut uids = Vec::new();
    client.search_with(&OpSearch::new("user"), &CallOptions::default(), |batch| {
        uids.extend(batch.iter().map(|o| o.uid.0.clone()));
        ControlFlow::Continue(())
    })?;
    let uids = Arc::new(uids);
    let started = Instant::now();
    let until = started + Duration::from_secs(20);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, uids) = (client.clone(), uids.clone());
            std::thread::spawn(move || {
                let (mut calls, mut errors) = (0u64, 0u64);
                while Instant::now() < until && calls < 50_000 {
                    let uid = uids[(t * 131 + calls as usize * 17) % uids.len()].as_str();
                    let ok = if calls % 3 == 2 {
                        let title = format!("load {t} {calls}");
                        client
                            .update(
                                &OpUpdate::new("user", uid)
                                    .delta(AttributeDelta::replace("title", [json!(title)])),
                            )
                            .is_ok()
                    } else {
                        client.get(&OpGet::new("user", uid)).is_ok()
                    };
                    calls += 1;
                    errors += u64::from(!ok);
                }
                (calls, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(5));
    let warm = current_rss_mib();
    let (mut calls, mut errors) = (0u64, 0u64);
    for worker in workers {
        let (c, e) = worker
            .join()
            .map_err(|_| CliError::Failed("a load thread panicked".into()))?;
        calls += c;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    let end = current_rss_mib();
    let growth = end - warm;
    Ok(Figures {
        scenario: Scenario::Load,
        figures: vec![
            ("threads".into(), THREADS as f64),
            ("calls".into(), calls as f64),
            ("calls/s".into(), calls as f64 / seconds),
            ("errors".into(), errors as f64),
            ("RSS MiB after 5 s".into(), warm),
            ("RSS MiB at the end".into(), end),
            ("growth MiB".into(), growth),
        ],
        target: "0 errors, growth < 20 MB".into(),
        met: errors == 0 && growth * 1.048_576 < 20.0,
    })
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
            Scenario::Recon => recon(&args),
            Scenario::ReconLatency => recon_latency(&args),
            Scenario::Memory => memory(&args),
            Scenario::Provision => provision(&args),
            Scenario::Load => load(&args),
            Scenario::Ffi => ffi(&args),
        }?;
        if !args.json {
            let name = serde_json::to_value(figures.scenario)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            println!(
                "{name}  (target: {}; {})",
                figures.target,
                if figures.met { "met" } else { "MISSED" }
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
    Ok(())
}
