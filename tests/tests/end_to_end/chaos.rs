//! The fault campaign at a small size: nothing lost, nothing duplicated, every difference
//! explained, and the same seed gives the same result (but for the token bucket's 429s, which
//! follow the machine's speed).

use host_harness::cli::chaos::{ChaosArgs, campaign};

#[test]
fn the_campaign_loses_nothing_and_replays_from_its_seed() {
    let args = ChaosArgs {
        creates: 60,
        updates: 25,
        disables: 12,
        deletes: 6,
        groups: 2,
        seed: 11,
        host_retries: 3,
        plugin: Some(connector_tests::atlassian_plugin()),
        json: false,
    };
    let first = campaign(&args).expect("the campaign runs");
    assert_eq!(first.lost, 0, "{first:?}");
    assert_eq!(first.duplicated, 0, "{first:?}");
    assert!(first.unexplained.is_empty(), "{first:?}");
    assert!(first.attempted >= 60 + 25 + 12 + 6 + 2, "{first:?}");
    let injected: u64 = first
        .faults
        .iter()
        .filter(|(k, _)| k.as_str() != "latency")
        .map(|(_, v)| v)
        .sum();
    assert!(injected > 0, "faults were injected: {first:?}");
    let mut second = campaign(&args).expect("the campaign runs again");
    second.rate_limited = first.rate_limited;
    assert_eq!(first, second, "the same seed gives the same result");
}
