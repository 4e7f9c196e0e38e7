//! `recon` and `recon-latency`: a full reconciliation through the plugin and the ABI, against
//! a plain client fetching the same pages, and under latency against the theoretical limit.

use std::ops::ControlFlow;
use std::time::Instant;

use connector_api::host::{CallOptions, ConnectorClient};
use connector_api::ops::OpSearch;
use futures_util::{StreamExt, stream};
use serde_json::Value;

use super::{BenchArgs, Figures, Scenario, atlassian_plugin, open, sim_with};
use serde_json::json;

use crate::cli::CliError;
use crate::sim::Simulator;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule};

/// Reconciles every user through the plugin, with the default attributes or only
/// `attributes`; answers (objects, seconds).
pub(super) fn plugin_recon(
    client: &ConnectorClient,
    attributes: Option<&[String]>,
) -> Result<(u64, f64), CliError> {
    let started = Instant::now();
    let mut objects = 0u64;
    let mut op = OpSearch::new("user");
    op.attributes_to_get = attributes.map(<[String]>::to_vec);
    client.search_with(&op, &CallOptions::default(), |batch| {
        objects += batch.len() as u64;
        ControlFlow::Continue(())
    })?;
    Ok((objects, started.elapsed().as_secs_f64()))
}

/// The limit: the same SCIM pages (and the Jira member pages when `members`), same
/// concurrency, only parsed into their SCIM and Jira types (no mapping to connector objects, no
/// ABI, no join, no checks).
pub(super) fn limit_recon(
    sim: &Simulator,
    concurrency: usize,
    members: bool,
) -> Result<(u64, f64), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let creds = sim.credentials().clone();
    let (scim, site) = (sim.scim_url(), sim.site_url());
    let groups: Vec<String> = sim
        .default_groups()
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
        for group in groups.iter().filter(|_| members) {
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

/// One side of a comparison: objects a second and requests per 1,000 objects, best of three.
#[derive(Debug, Clone, Copy)]
struct Side {
    objects: u64,
    secs: f64,
    requests: u64,
}

impl Side {
    fn rate(&self) -> f64 {
        self.objects as f64 / self.secs
    }

    fn requests_per_1000(&self) -> f64 {
        self.requests as f64 * 1000.0 / self.objects.max(1) as f64
    }

    /// The best of `runs`: the fastest time, the requests of any (they are the same).
    fn best(runs: &[Side]) -> Side {
        let mut best = runs[0];
        for run in runs {
            best.secs = best.secs.min(run.secs);
        }
        best
    }
}

/// Requests the simulator has answered so far.
fn requests(sim: &Simulator) -> u64 {
    sim.state().faults.stats()["total"].as_u64().unwrap_or(0)
}

/// Runs `read` and counts what it asked of the simulator.
fn measured(
    sim: &Simulator,
    read: impl FnOnce() -> Result<(u64, f64), CliError>,
) -> Result<Side, CliError> {
    let before = requests(sim);
    let (objects, secs) = read()?;
    Ok(Side {
        objects,
        secs,
        requests: requests(sim) - before,
    })
}

/// The default user attributes but `product_access`: a reconciliation that needs no member.
fn without_product_access(client: &ConnectorClient) -> Result<Vec<String>, CliError> {
    let schema = client.schema()?;
    let user = schema
        .class("user")
        .ok_or_else(|| CliError::Failed("the plugin declares no class `user`".into()))?;
    Ok(user
        .attributes
        .iter()
        .filter(|a| a.returned_by_default && a.name != "product_access")
        .map(|a| a.name.clone())
        .collect())
}

pub(super) fn recon(args: &BenchArgs) -> Result<Figures, CliError> {
    let sim = sim_with(args.users, args.groups)?;
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(args.concurrency);
    let client = open(&atlassian_plugin(args)?, config)?;
    let without = without_product_access(&client)?;
    let mut figures = vec![("users".into(), args.users as f64)];
    let mut ratios = Vec::new();
    for (label, attributes, members) in [
        ("default attributes", None, true),
        ("without product_access", Some(without.as_slice()), false),
    ] {
        // Each side three times, alternating, best run of each: no side profits from the
        // other's warm-up, and a burst of noise from elsewhere hits one run, not the figure.
        let (mut limit, mut plugin) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            limit.push(measured(&sim, || {
                limit_recon(&sim, args.concurrency, members)
            })?);
            plugin.push(measured(&sim, || plugin_recon(&client, attributes))?);
        }
        let (limit, plugin) = (Side::best(&limit), Side::best(&plugin));
        if plugin.objects != args.users as u64 || limit.objects != args.users as u64 {
            return Err(CliError::Failed(format!(
                "recon ({label}) returned {} users, the limit {}, of {}",
                plugin.objects, limit.objects, args.users
            )));
        }
        let ratio = plugin.rate() / limit.rate();
        ratios.push(ratio);
        figures.extend([
            (format!("{label}: plugin objects/s"), plugin.rate()),
            (format!("{label}: limit objects/s"), limit.rate()),
            (format!("{label}: ratio"), ratio),
            (
                format!("{label}: plugin requests/1000"),
                plugin.requests_per_1000(),
            ),
            (
                format!("{label}: limit requests/1000"),
                limit.requests_per_1000(),
            ),
        ]);
    }
    Ok(Figures {
        scenario: Scenario::Recon,
        figures,
        target: "plugin >= 0.95 x limit, with and without product_access".into(),
        unmeasured: None,
        met: ratios.iter().all(|r| *r >= 0.95),
    })
}

pub(super) fn recon_latency(args: &BenchArgs) -> Result<Figures, CliError> {
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
        let side = measured(&sim, || plugin_recon(&client, None))?;
        Ok((side.objects, side.secs, side.requests))
    };
    let (objects, concurrent, requests) = run(args.concurrency)?;
    let (_, sequential, _) = run(1)?;
    let store = sim.state().store.read();
    let members: u64 = sim
        .default_groups()
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
            "wall <= 1.1 x theoretical, >= 7 x faster than one request at a time (concurrency {})",
            args.concurrency
        ),
        unmeasured: None,
        met: vs_limit <= 1.1 && speedup >= 7.0,
    })
}
