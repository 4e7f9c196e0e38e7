//! `large-group`: one SCIM group of N members (200,000 by default) read completely by a child
//! `host-harness recon --class group`, with its time and the child's peak resident memory.
//!
//! Atlassian allows up to 290,000 members per group and embeds every member in each group it
//! answers; this is what the plugin's adaptive group pages and larger group body cap are for.

use std::io::BufRead;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use super::{BenchArgs, Figures, Scenario, atlassian_plugin};
use crate::cli::CliError;
use crate::sim::{SimConfig, Simulator};

pub(super) fn large_group(args: &BenchArgs) -> Result<Figures, CliError> {
    let members = args.group_members;
    let sim = Simulator::start(SimConfig {
        group_members: members,
        seed: 7,
        worker_threads: 2,
        ..SimConfig::default()
    })?;
    let mut config = sim.plugin_config();
    config["concurrency"] = json!(args.concurrency);
    let dir = tempfile::tempdir()?;
    let (config_path, out_path) = (
        dir.path().join("config.json"),
        dir.path().join("groups.jsonl"),
    );
    std::fs::write(&config_path, config.to_string())?;
    let started = Instant::now();
    let out = Command::new(std::env::current_exe()?)
        .args([
            "recon",
            &atlassian_plugin(args)?.to_string_lossy(),
            "--class",
            "group",
        ])
        .arg("--config")
        .arg(&config_path)
        .arg("--out")
        .arg(&out_path)
        .env("HOST_HARNESS_REPORT_PEAK_RSS", "1")
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(CliError::Failed(format!(
            "the recon child failed: {stderr}"
        )));
    }
    let peak_mib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| {
            CliError::Failed(format!("the recon child reported no peak memory: {stderr}"))
        })?
        / 1024.0;
    // The group as read: every member, each once.
    let mut read = 0usize;
    for line in std::io::BufReader::new(std::fs::File::open(&out_path)?).lines() {
        let object: Value = serde_json::from_str(&line?).unwrap_or(Value::Null);
        if object["name"] == "large-group" {
            let ids = object["attributes"]["members"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let distinct: std::collections::HashSet<&str> =
                ids.iter().filter_map(Value::as_str).collect();
            read = distinct.len().min(ids.len());
        }
    }
    Ok(Figures {
        scenario: Scenario::LargeGroup,
        figures: vec![
            ("members".into(), members as f64),
            ("members read".into(), read as f64),
            ("seconds".into(), seconds),
            ("peak MiB".into(), peak_mib),
        ],
        target: "every member read".into(),
        unmeasured: None,
        met: read == members,
    })
}
