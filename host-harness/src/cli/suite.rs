//! `host-harness suite`: the conformance suite file's JSON Schema, and a check of a suite file.

use std::path::PathBuf;

use super::CliError;
use crate::conformance::Suite;

/// The conformance suite file: print its JSON Schema, or check a suite file against it.
///
/// A suite file is JSON: the connector's working `config`, a sample per object class
/// (`classes`), configurations that must fail (`bad_configs`), and patches that slow the
/// connector down or point it at a dead endpoint. Every key, its type, its meaning and the
/// checks it enables are in the schema's descriptions; an unknown key is an error naming it.
///
/// Examples:
///   host-harness suite --schema > suite.schema.json
///   host-harness suite connector-api/examples/memory_connector.conformance.json
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SuiteArgs {
    /// A suite file to check.
    #[arg(required_unless_present = "schema")]
    pub file: Option<PathBuf>,
    /// Print the JSON Schema of suite files.
    #[arg(long)]
    pub schema: bool,
}

/// Prints the schema, or checks the file and says what it holds.
pub fn run(args: SuiteArgs) -> Result<(), CliError> {
    if args.schema {
        let schema = serde_json::to_string_pretty(&Suite::json_schema()).unwrap_or_default();
        println!("{schema}");
        return Ok(());
    }
    let Some(path) = args.file else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Usage(format!("{}: cannot read the suite: {e}", path.display())))?;
    let suite = Suite::parse(&text, path.parent())
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let classes: Vec<&str> = suite.classes.keys().map(String::as_str).collect();
    println!(
        "{}: a valid suite; classes sampled: {}; {} bad configuration(s); slow_config {}; dead_config {}",
        path.display(),
        if classes.is_empty() {
            "none".into()
        } else {
            classes.join(", ")
        },
        suite.bad_configs.len(),
        if suite.slow_config.is_some() {
            "given"
        } else {
            "absent"
        },
        if suite.dead_config.is_some() {
            "given"
        } else {
            "absent"
        },
    );
    Ok(())
}
