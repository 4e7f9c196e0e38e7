//! `memory`: the peak resident memory of a reconciliation of 10,000 and of N users, measured in
//! a child `host-harness recon` so that the simulator's own memory is not counted.

use std::process::{Command, Stdio};

use super::{BenchArgs, Figures, Scenario, atlassian_plugin, sim_with};
use serde_json::json;

use crate::cli::CliError;

/// Peak RSS of a child `host-harness recon` of `users` users, in MiB; `None` where the
/// platform gives no figure.
pub(super) fn child_peak(args: &BenchArgs, users: usize) -> Result<Option<f64>, CliError> {
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
        ])
        // The objects go to stdout, discarded: no device path (`/dev/null`, `NUL`) to name.
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env("HOST_HARNESS_REPORT_PEAK_RSS", "1")
        .output()?;
    std::fs::remove_file(&config_path).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(CliError::Failed(format!(
            "the recon child failed: {stderr}"
        )));
    }
    let reported = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .map(str::trim)
        .ok_or_else(|| {
            CliError::Failed(format!("the recon child reported no peak memory: {stderr}"))
        })?;
    if reported == "unmeasured" {
        return Ok(None);
    }
    let kib: f64 = reported.parse().map_err(|_| {
        CliError::Failed(format!(
            "the recon child reported `{reported}` as its peak memory"
        ))
    })?;
    Ok(Some(kib / 1024.0))
}

pub(super) fn memory(args: &BenchArgs) -> Result<Figures, CliError> {
    let target = "growth < 5 MB".to_owned();
    let (Some(small), Some(large)) = (child_peak(args, 10_000)?, child_peak(args, args.users)?)
    else {
        return Ok(Figures {
            scenario: Scenario::Memory,
            figures: Vec::new(),
            target,
            unmeasured: Some(
                crate::process_memory::UNMEASURED
                    .unwrap_or("the recon child gave no memory figure")
                    .to_owned(),
            ),
            met: false,
        });
    };
    let growth = large - small;
    Ok(Figures {
        scenario: Scenario::Memory,
        figures: vec![
            ("peak MiB at 10,000".into(), small),
            (format!("peak MiB at {}", args.users), large),
            ("growth MiB".into(), growth),
        ],
        target,
        unmeasured: None,
        met: growth * 1.048_576 < 5.0,
    })
}
