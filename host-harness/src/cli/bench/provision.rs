//! `provision`: creates with default-group grants from many host threads under a rate limit.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use connector_api::ops::OpCreate;

use super::{BenchArgs, Figures, Scenario, atlassian_plugin, open, sim_with};
use serde_json::json;

use crate::cli::CliError;
use crate::sim::faults::{FaultPlan, RateLimit};

pub(super) fn provision(args: &BenchArgs) -> Result<Figures, CliError> {
    let sim = sim_with(0, 0)?;
    let burst = (args.rate / 10.0).max(1.0);
    sim.set_faults(FaultPlan {
        seed: 1,
        rules: vec![],
        rate_limit: Some(RateLimit::per_credential(args.rate, burst)),
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
    // A scoped token reaches the site through the API gateway, which the log tells apart.
    let count = |route: &str, status: &str| {
        [route.to_owned(), format!("{route} via gateway")]
            .iter()
            .map(|r| stats["routes"][r][status].as_u64().unwrap_or(0) as f64)
            .sum::<f64>()
    };
    let scim_ok = count("POST /scim/directory/{directoryId}/Users", "201");
    let site_ok = count("POST /rest/api/3/group/user", "201");
    let throttled = stats["rate_limited"].as_u64().unwrap_or(0) as f64;
    // Every request the site credential had answered (the grants, the lookups that wait for a
    // new account, route discovery): what the limit counts. The tenant info carries none.
    let site_all: f64 = stats["routes"]
        .as_object()
        .map(|routes| {
            routes
                .iter()
                .filter(|(route, _)| !route.contains("/scim/") && !route.contains("/_edge/"))
                .flat_map(|(_, statuses)| statuses.as_object().into_iter().flatten())
                .filter(|(status, _)| status.as_str() != "429")
                .map(|(_, n)| n.as_u64().unwrap_or(0) as f64)
                .sum()
        })
        .unwrap_or(0.0);
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
    // The site credential carries two grants per user and the lookups before them: it is the
    // one the limit binds.
    let achieved = site_all / secs;
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
            ("of which grants/s".into(), site_ok / secs),
            ("share of allowed".into(), share),
            ("429s".into(), throttled),
            ("failed operations".into(), failed.len() as f64),
            ("duplicates".into(), duplicates as f64),
        ],
        target: ">= 97% of the allowed rate, 0 failed, 0 duplicates".into(),
        unmeasured: None,
        met: share >= 0.97
            && failed.is_empty()
            && duplicates == 0
            && names.len() == args.provision_users,
    })
}
