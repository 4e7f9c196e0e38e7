//! `host-harness validate` and `host-harness test`: a configuration checked offline, or the
//! connection tested check by check.

use std::path::Path;

use connector_api::CheckStatus;

use super::CliError;
use crate::inert::for_terminal;
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
    let mut config = plugin::read_config(config)?;
    let client = library.open(&config)?;
    crate::no_dumps::wipe_secrets(&mut config, &library.manifest().config_schema);
    let report = client.test()?;
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
            // Server text is shown, never executed: a status line cannot be forged.
            let (name, message) = (for_terminal(&c.name), for_terminal(&c.message));
            println!("{status}  {name:<width$}  {message}");
            if let Some(hint) = &c.hint {
                println!("      {:<width$}  fix: {}", "", for_terminal(hint));
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
