//! The typed client's checks before a call crosses the ABI.

use tracing_subscriber::EnvFilter;

use super::*;

fn level_under(filter: &str) -> LogLevel {
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, recorded_log_level)
}

#[test]
fn the_plugin_is_told_the_level_the_host_records() {
    assert_eq!(level_under("warn"), LogLevel::Warn);
    assert_eq!(level_under("warn,connector=debug"), LogLevel::Debug);
    assert_eq!(level_under("trace"), LogLevel::Trace);
    assert_eq!(level_under("info,connector=off"), LogLevel::Error);
    assert_eq!(level_under("connector=info"), LogLevel::Info);
}
