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

/// Reconciles every user through the plugin; answers (objects, seconds).
pub(super) fn plugin_recon(client: &ConnectorClient) -> Result<(u64, f64), CliError> {
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
pub(super) fn limit_recon(sim: &Simulator, concurrency: usize) -> Result<(u64, f64), CliError> {
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

pub(super) fn recon(args: &BenchArgs) -> Result<Figures, CliError> {
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
        let before = sim.state().faults.stats()["total"].as_u64().unwrap_or(0);
        let (objects, secs) = plugin_recon(&client)?;
        let requests = sim.state().faults.stats()["total"].as_u64().unwrap_or(0) - before;
        Ok((objects, secs, requests))
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
            "wall <= 1.3 x theoretical, >= 6 x faster than one request at a time (concurrency {})",
            args.concurrency
        ),
        met: vs_limit <= 1.3 && speedup >= 6.0,
    })
}
