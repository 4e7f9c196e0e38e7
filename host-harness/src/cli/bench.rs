//! `host-harness bench`: measured figures, never timed assertions. Scenarios so far: `ffi`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use connector_api::ops::OpGet;
use serde::Serialize;
use serde_json::json;

use super::CliError;
use crate::plugin;

/// The round trip of a trivial operation through a connector library.
#[derive(Debug, Serialize)]
pub struct FfiFigures {
    /// The library measured.
    pub plugin: PathBuf,
    /// Calls measured (after the warm-up).
    pub calls: usize,
    /// Fastest call, in microseconds.
    pub min_us: f64,
    /// Median call, in microseconds.
    pub median_us: f64,
    /// 99th percentile, in microseconds.
    pub p99_us: f64,
    /// Calls per second over the whole run.
    pub calls_per_sec: f64,
}

/// The example connector built beside this executable (`target/<profile>/examples`).
pub fn bundled_memory_connector() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let name = if cfg!(target_os = "windows") {
        "memory_connector.dll"
    } else if cfg!(target_os = "macos") {
        "libmemory_connector.dylib"
    } else {
        "libmemory_connector.so"
    };
    [
        dir.join("examples").join(name),
        dir.parent()?.join("examples").join(name),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// Measures `calls` round trips of `get` on one object of the example connector.
pub fn ffi(plugin_path: Option<&Path>, calls: usize) -> Result<FfiFigures, CliError> {
    let path = match plugin_path {
        Some(p) => p.to_path_buf(),
        None => bundled_memory_connector().ok_or_else(|| {
            CliError::Usage(
                "the example connector is not built beside this binary; run `cargo build --release --workspace --examples` or pass --plugin"
                    .into(),
            )
        })?,
    };
    let library = plugin::load(&path)?;
    let client =
        library.open(&json!({"tenant": "bench", "api_token": "bench", "seed_users": 1}))?;
    let op = OpGet::new("user", "u-00000001");
    for _ in 0..calls.min(1000) {
        client.get(&op)?;
    }
    let mut samples = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        client.get(&op)?;
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    Ok(FfiFigures {
        plugin: path,
        calls,
        min_us: us(samples[0]),
        median_us: us(at(0.5)),
        p99_us: us(at(0.99)),
        calls_per_sec: calls as f64 / total.as_secs_f64(),
    })
}

/// Runs `bench ffi` and prints a table or JSON.
pub fn run_ffi(plugin_path: Option<&Path>, calls: usize, json_out: bool) -> Result<(), CliError> {
    if calls == 0 {
        return Err(CliError::Usage("--calls must be at least 1".into()));
    }
    let f = ffi(plugin_path, calls)?;
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "ffi": f })).unwrap_or_default()
        );
    } else {
        println!("scenario  calls    min (us)  median (us)  p99 (us)  calls/s");
        println!(
            "ffi       {:<8} {:<9.2} {:<12.2} {:<9.2} {:.0}",
            f.calls, f.min_us, f.median_us, f.p99_us, f.calls_per_sec
        );
        println!("plugin    {}", f.plugin.display());
    }
    Ok(())
}
