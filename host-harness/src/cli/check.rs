//! `host-harness validate` and `host-harness test`: a configuration checked offline, or the
//! connection tested check by check.

use std::path::Path;

use connector_api::CheckStatus;

use super::CliError;
use crate::plugin;

/// Validates a configuration offline; prints `valid` or fails with the error naming the field.
pub fn validate(plugin_path: &Path, config: &Path) -> Result<(), CliError> {
    let library = plugin::load(plugin_path)?;
    let config = plugin::read_config(config)?;
    library.validate(&config)?;
    println!(
        "valid: the configuration passes {}'s offline validation",
        library.manifest().name
    );
    Ok(())
}

/// Tests the connection; prints each check with its fix; fails when a check failed.
pub fn test(plugin_path: &Path, config: &Path, json: bool) -> Result<(), CliError> {
    let library = plugin::load(plugin_path)?;
    let config = plugin::read_config(config)?;
    let report = library.open(&config)?.test()?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let width = report
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(5);
        for c in &report.checks {
            let status = match c.status {
                CheckStatus::Passed => "ok  ",
                CheckStatus::Warning => "warn",
                CheckStatus::Failed => "FAIL",
                CheckStatus::Skipped => "skip",
            };
            println!("{status}  {:<width$}  {}", c.name, c.message);
            if let Some(hint) = &c.hint {
                println!("      {:<width$}  fix: {hint}", "");
            }
        }
    }
    if report.passed() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} check(s) failed",
            report.failures().count()
        )))
    }
}
