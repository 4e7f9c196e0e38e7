//! `load`: 16 host threads calling one instance with mixed reads and updates for a bounded
//! time: errors, and resident memory after warm-up against the end.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_api::AttributeDelta;
use connector_api::host::CallOptions;
use connector_api::ops::{OpGet, OpSearch, OpUpdate};

use super::{BenchArgs, Figures, Scenario, atlassian_plugin, current_rss_mib, open, sim_with};
use serde_json::json;

use crate::cli::CliError;

/// 16 threads of gets and title updates over a seeded directory, bounded to 20 s and 50,000
/// calls a thread. The directory does not grow, so resident memory should not either; it is
/// sampled after 5 s of warm-up and at the end.
pub(super) fn load(args: &BenchArgs) -> Result<Figures, CliError> {
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
    let mut figures = vec![
        ("threads".into(), THREADS as f64),
        ("calls".into(), calls as f64),
        ("calls/s".into(), calls as f64 / seconds),
        ("errors".into(), errors as f64),
    ];
    let growth = warm.zip(end).map(|(warm, end)| {
        figures.push(("RSS MiB after 5 s".into(), warm));
        figures.push(("RSS MiB at the end".into(), end));
        figures.push(("growth MiB".into(), end - warm));
        end - warm
    });
    Ok(Figures {
        scenario: Scenario::Load,
        figures,
        target: "0 errors, growth < 20 MB".into(),
        unmeasured: crate::process_memory::UNMEASURED.map(str::to_owned),
        met: errors == 0 && growth.is_some_and(|growth| growth * 1.048_576 < 20.0),
    })
}
