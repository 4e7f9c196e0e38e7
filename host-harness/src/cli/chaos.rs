//! `host-harness chaos`: a realistic workload through the real library while the simulator
//! injects a fault mix; afterwards the store is compared with the intended end state.
//!
//! The workload runs one operation at a time, so that the same seed gives the same faults and
//! the same result; only the count of the token bucket's 429s follows how fast the machine runs. The host retries what the connector says is retryable, as IDHub does, up
//! to a budget. An operation that still fails must fail with a typed error, and any difference
//! between the intended and the actual state must be explained by such a failure. Lost
//! operations (reported done, not done) and duplicates must be zero.
//!
//! Over 500 lines: the workload, its intended end state and the comparison belong together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use connector_api::host::ConnectorClient;
use connector_api::ops::{OpCreate, OpDelete, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, ConnectorError, ErrorKind};
use serde::Serialize;
use serde_json::{Value, json};

use super::CliError;
use crate::plugin;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule, RateLimit, RouteClass};
use crate::sim::{SimConfig, Simulator};

/// Fault campaign: a realistic workload through the Atlassian plugin while the embedded
/// simulator injects 429, 500, 503, dropped connections, truncated bodies, latency spikes
/// and lost responses; then the store is compared with the intended end state.
///
/// Exits non-zero if anything was lost, duplicated or left unexplained. Same seed, same
/// result (the workload runs one operation at a time).
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
}

/// What a user should be at the end.
#[derive(Debug, Clone, PartialEq)]
struct Intended {
    uid: Option<String>,
    exists: bool,
    title: String,
    enabled: bool,
    /// Whether an operation on this user failed: its state is uncertain, not lost.
    uncertain: bool,
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

/// A group's intended end: its uid, its members, whether an operation on it failed.
type IntendedGroup = (Option<String>, BTreeSet<String>, bool);

/// The campaign's workload against one connector: each phase runs its operations one at a
/// time, retried by the host as IDHub would, and records what the end state should be.
struct Workload<'a> {
    client: &'a ConnectorClient,
    host_retries: u32,
    report: ChaosReport,
    users: BTreeMap<String, Intended>,
    groups: BTreeMap<String, IntendedGroup>,
}

impl Workload<'_> {
    /// Runs `op`, retrying what is retryable up to the host's budget; counts every outcome.
    fn run(
        &mut self,
        op: &dyn Fn(&ConnectorClient) -> Result<Value, ConnectorError>,
    ) -> Result<Value, ConnectorError> {
        self.report.attempted += 1;
        let mut tries = 0;
        loop {
            match op(self.client) {
                Ok(v) => {
                    self.report.succeeded += 1;
                    return Ok(v);
                }
                Err(e) if e.retryable && tries < self.host_retries => {
                    tries += 1;
                    self.report.retried += 1;
                }
                Err(e) => {
                    self.report.failed_typed += 1;
                    *self
                        .report
                        .failures
                        .entry(e.kind.as_str().to_owned())
                        .or_default() += 1;
                    return Err(e);
                }
            }
        }
    }

    /// The users created so far whose uid is known, by name.
    fn known(&self) -> Vec<(String, String)> {
        self.users
            .iter()
            .filter_map(|(n, u)| u.uid.clone().map(|uid| (n.clone(), uid)))
            .collect()
    }

    fn create_users(&mut self, count: usize) {
        for i in 0..count {
            let n = format!("chaos{i:05}@acme.example.com");
            let outcome = self.run(&|c| {
                c.create(
                    &OpCreate::new("user", &n)
                        .attr("email", n.as_str())
                        .attr("title", "new"),
                )
                .map(|r| json!(r.uid))
            });
            let (uid, uncertain) = match outcome {
                Ok(uid) => (uid.as_str().map(str::to_owned), false),
                Err(e) => (e.details["uid"].as_str().map(str::to_owned), true),
            };
            let intended = Intended {
                uid,
                exists: true,
                title: "new".into(),
                enabled: true,
                uncertain,
            };
            self.users.insert(n, intended);
        }
    }

    fn update_titles(&mut self, known: &[(String, String)], count: usize) {
        for (n, uid) in known.iter().take(count) {
            let title = format!("updated-{}", &uid[..8.min(uid.len())]);
            let outcome = self.run(&|c| {
                c.update(
                    &OpUpdate::new("user", uid.as_str())
                        .delta(AttributeDelta::replace("title", [json!(title)])),
                )
                .map(|_| Value::Null)
            });
            let u = self.users.get_mut(n).expect("known");
            match outcome {
                Ok(_) => u.title = title,
                Err(_) => u.uncertain = true,
            }
        }
    }

    fn disable(&mut self, known: &[(String, String)], count: usize) {
        for (n, uid) in known.iter().rev().take(count) {
            let outcome = self.run(&|c| {
                c.update(&OpUpdate::new("user", uid.as_str()).enabled(false))
                    .map(|_| Value::Null)
            });
            let u = self.users.get_mut(n).expect("known");
            match outcome {
                Ok(_) => u.enabled = false,
                Err(_) => u.uncertain = true,
            }
        }
    }

    fn delete(&mut self, known: &[(String, String)], skip: usize, count: usize) {
        for (n, uid) in known.iter().skip(skip).take(count) {
            let outcome = self.run(&|c| {
                c.delete(&OpDelete::new("user", uid.as_str()))
                    .map(|_| Value::Null)
            });
            let u = self.users.get_mut(n).expect("known");
            match outcome {
                Ok(_) => u.exists = false,
                // A delete retried after a lost response meets a user already gone.
                Err(e) if e.kind == ErrorKind::UnknownUid => u.exists = false,
                Err(_) => u.uncertain = true,
            }
        }
    }

    /// Creates `count` groups, adds 20 members to each and removes 5 of them.
    fn groups(&mut self, count: usize) {
        let members: Vec<String> = self
            .users
            .values()
            .filter(|u| u.exists && !u.uncertain)
            .filter_map(|u| u.uid.clone())
            .collect();
        for g in 0..count {
            let gname = format!("chaos-team-{g:03}");
            let outcome = self.run(&|c| {
                c.create(&OpCreate::new("group", &gname))
                    .map(|r| json!(r.uid))
            });
            let Ok(uid) = outcome else {
                self.groups.insert(gname, (None, BTreeSet::new(), true));
                continue;
            };
            let uid = uid.as_str().unwrap_or_default().to_owned();
            let chosen: Vec<String> = members.iter().skip(g * 7).take(20).cloned().collect();
            let gone: Vec<String> = chosen.iter().take(5).cloned().collect();
            let change = |delta: fn(&str, Vec<Value>) -> AttributeDelta, ids: &[String]| {
                let ids: Vec<Value> = ids.iter().map(|m| json!(m)).collect();
                let op = OpUpdate::new("group", uid.as_str()).delta(delta("members", ids));
                move |c: &ConnectorClient| c.update(&op).map(|_| Value::Null)
            };
            let add = self.run(&change(AttributeDelta::add, &chosen));
            let mut set: BTreeSet<String> = match add {
                Ok(_) => chosen.iter().cloned().collect(),
                Err(_) => BTreeSet::new(),
            };
            let remove = self.run(&change(AttributeDelta::remove, &gone));
            if remove.is_ok() {
                for m in &gone {
                    set.remove(m);
                }
            }
            self.groups
                .insert(gname, (Some(uid), set, add.is_err() || remove.is_err()));
        }
    }

    /// Reads every user back through the plugin, under the same faults.
    fn reconcile(&mut self) {
        let reconciled = self.run(&|c| {
            c.search_all(&OpSearch::new("user").attributes(&["title"]))
                .map(|all| json!(all.len()))
        });
        if reconciled.is_err() {
            self.report
                .unexplained
                .push("the final reconciliation failed".into());
        }
    }
}

/// Runs the campaign.
pub fn campaign(args: &ChaosArgs) -> Result<ChaosReport, CliError> {
    let sim = Simulator::start(SimConfig {
        seed: args.seed,
        ..SimConfig::default()
    })?;
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(1);
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

    let mut work = Workload {
        client: &client,
        host_retries: args.host_retries,
        report: ChaosReport {
            seed: args.seed,
            ..ChaosReport::default()
        },
        users: BTreeMap::new(),
        groups: BTreeMap::new(),
    };
    work.create_users(args.creates);
    let known = work.known();
    work.update_titles(&known, args.updates);
    work.disable(&known, args.disables);
    work.delete(&known, args.updates, args.deletes);
    work.groups(args.groups);
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
    compare(&sim, &work.users, &work.groups, &mut report);
    Ok(report)
}

/// Compares the simulator's store with the intended state.
fn compare(
    sim: &Simulator,
    users: &BTreeMap<String, Intended>,
    groups: &BTreeMap<String, (Option<String>, BTreeSet<String>, bool)>,
    report: &mut ChaosReport,
) {
    let store = sim.state().store.read().dump();
    let mut actual: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for u in store["users"].as_array().into_iter().flatten() {
        actual
            .entry(
                u["attrs"]["userName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
            )
            .or_default()
            .push(u);
    }
    for (name, found) in &actual {
        if found.len() > 1 || !users.contains_key(name) {
            report.duplicated += found.len() as u64 - u64::from(users.contains_key(name));
        }
    }
    for (name, intended) in users {
        let found = actual.get(name).and_then(|f| f.first());
        let difference = match (intended.exists, found) {
            (true, None) => Some("missing".to_owned()),
            (false, Some(_)) => Some("still present".to_owned()),
            (true, Some(u)) => {
                let title = u["attrs"]["title"].as_str().unwrap_or_default();
                let active = u["attrs"]["active"].as_bool().unwrap_or(true);
                if title != intended.title {
                    Some(format!("title `{title}`, intended `{}`", intended.title))
                } else if active != intended.enabled {
                    Some(format!("active {active}, intended {}", intended.enabled))
                } else {
                    None
                }
            }
            (false, None) => None,
        };
        match (difference, intended.uncertain) {
            (None, _) => {}
            (Some(_), true) => report.explained += 1,
            (Some(d), false) => {
                report.lost += 1;
                report.unexplained.push(format!("{name}: {d}"));
            }
        }
    }
    let stored: BTreeMap<String, BTreeSet<String>> = store["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["source"] == "scim")
        .map(|g| {
            (
                g["name"].as_str().unwrap_or_default().to_owned(),
                g["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect();
    let account_of: BTreeMap<String, String> = store["users"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["id"].as_str().unwrap_or_default().to_owned(),
                u["account_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (name, (uid, members, uncertain)) in groups {
        let intended: BTreeSet<String> = members
            .iter()
            .filter_map(|m| account_of.get(m).cloned())
            .collect();
        let difference = match stored.get(name) {
            None if uid.is_some() => Some("group missing".to_owned()),
            Some(actual) if *actual != intended => Some(format!(
                "{} members, intended {}",
                actual.len(),
                intended.len()
            )),
            _ => None,
        };
        match (difference, uncertain) {
            (None, _) => {}
            (Some(_), true) => report.explained += 1,
            (Some(d), false) => {
                report.lost += 1;
                report.unexplained.push(format!("{name}: {d}"));
            }
        }
    }
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
        println!("fault campaign, seed {}", report.seed);
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
