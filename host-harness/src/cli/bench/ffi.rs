//! `ffi`: the round trip of a trivial operation through a connector library.

use std::time::{Duration, Instant};

use connector_api::ops::OpGet;
use serde_json::{Value, json};

use super::{BenchArgs, Figures, Scenario, example_connector, open};
use crate::cli::CliError;

/// The sorted round trips of `calls` gets of one user, after a warm-up.
fn round_trips(config: Value, calls: usize) -> Result<Vec<Duration>, CliError> {
    let client = open(&example_connector()?, config)?;
    let op = OpGet::new("user", "u-00000001");
    for _ in 0..calls.min(1000) {
        client.get(&op)?;
    }
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls.max(1) {
        let t = Instant::now();
        client.get(&op)?;
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    Ok(samples)
}

pub(super) fn ffi(args: &BenchArgs) -> Result<Figures, CliError> {
    // A token like a real one, which no reply contains: the common path.
    let config = |token: &str| json!({"tenant": "bench", "api_token": token, "seed_users": 1});
    let samples = round_trips(config("ffi-bench-token-7f3a9c"), args.ffi_calls)?;
    // A token that is also a word of every reply (the tenant's name): each reply is parsed
    // and cleaned by the SDK's redaction before it leaves, shown for comparison.
    let redacted = round_trips(config("bench"), args.ffi_calls)?;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let median = us(samples[samples.len() / 2]);
    Ok(Figures {
        scenario: Scenario::Ffi,
        figures: vec![
            ("calls".into(), samples.len() as f64),
            ("min us".into(), us(samples[0])),
            ("median us".into(), median),
            ("p99 us".into(), us(samples[(samples.len() - 1) * 99 / 100])),
            (
                "median us, every reply redacted".into(),
                us(redacted[redacted.len() / 2]),
            ),
        ],
        target: "median < 3 us".into(),
        unmeasured: None,
        met: median < 3.0,
    })
}
