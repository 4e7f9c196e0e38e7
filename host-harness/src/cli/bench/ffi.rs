//! `ffi`: the round trip of a trivial operation through a connector library.

use std::time::{Duration, Instant};

use connector_api::ops::OpGet;

use super::{BenchArgs, Figures, Scenario, example_connector, open};
use serde_json::json;

use crate::cli::CliError;

pub(super) fn ffi(args: &BenchArgs) -> Result<Figures, CliError> {
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
        target: "median < 3 us".into(),
        unmeasured: None,
        met: median < 3.0,
    })
}
