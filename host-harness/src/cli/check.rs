//! `host-harness validate` and `host-harness test`: a configuration checked offline, or the
//! connection tested check by check.

use std::path::PathBuf;

use connector_api::CheckStatus;

use super::CliError;
use crate::inert::for_terminal;
use crate::plugin;

/// Check a configuration offline: the error names the field and the fix.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// The connector library.
    pub plugin: PathBuf,
    /// The configuration, a JSON file.
    #[arg(long, short)]
    pub config: PathBuf,
}

/// Test the connection: each credential and permission, with the fix for each failure.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// The connector library.
    pub plugin: PathBuf,
    /// The configuration, a JSON file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Validates a configuration offline; prints `valid` or fails with the error naming the field.
pub fn validate(args: &ValidateArgs) -> Result<(), CliError> {
    let (plugin_path, config) = (&args.plugin, &args.config);
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
pub fn test(args: &TestArgs) -> Result<(), CliError> {
    let (plugin_path, config, json) = (&args.plugin, &args.config, args.json);
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
