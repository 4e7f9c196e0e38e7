//! `host-harness call`: open a connector with a configuration and run one operation.

use std::io::Read;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use connector_api::host::CallOptions;
use connector_api::ops::{OpSearch, Operation};
use serde_json::{Value, json};

use super::CliError;
use crate::plugin;

/// Open a connector with a configuration and run one operation.
///
/// The result is printed as JSON on stdout; an error is printed as JSON (kind, message,
/// retryable, details) on stderr, with exit code 1.
///
/// Examples:
///   host-harness call lib.so --config c.json validate
///   host-harness call lib.so --config c.json test
///   host-harness call lib.so --config c.json create '{"class":"user","name":"ada","attributes":{"email":"ada@example.com"}}'
///   host-harness call lib.so --config c.json search '{"class":"user","filter":{"eq":{"attribute":"__name__","value":"ada"}}}'
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CallArgs {
    /// The connector library.
    pub plugin: PathBuf,
    /// The connector configuration, a JSON file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// validate, test, schema, create, get, update, delete or search.
    pub operation: String,
    /// The request as JSON, `@FILE` to read it from a file, or `-` for standard input.
    pub input: Option<String>,
    /// The time the operation may take, in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = super::seconds)]
    pub timeout: Option<Duration>,
}

/// Runs the operation and prints its JSON result on stdout.
pub fn run(args: &CallArgs) -> Result<(), CliError> {
    let library = plugin::load(&args.plugin)?;
    let config = plugin::read_config(&args.config)?;
    let request = read_input(args.input.as_deref())?;
    tracing::debug!(operation = %args.operation, "calling the connector");
    let started = std::time::Instant::now();
    let result = if args.operation == "validate" {
        library.validate(&config)?;
        json!({ "valid": true })
    } else {
        let client = library.open(&config)?;
        let options = CallOptions::default().with_timeout(args.timeout);
        if args.operation == OpSearch::NAME {
            let op: OpSearch = serde_json::from_value(request)
                .map_err(|e| CliError::Usage(format!("the search request is malformed: {e}")))?;
            let mut objects = Vec::new();
            let reply = client.search_with(&op, &options, |batch| {
                objects.extend(batch);
                ControlFlow::Continue(())
            })?;
            json!({ "objects": objects, "count": reply.count, "complete": reply.complete })
        } else {
            client.call_json(&args.operation, &request, &options)?
        }
    };
    tracing::info!(
        operation = %args.operation,
        ms = started.elapsed().as_millis() as u64,
        "the connector answered"
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&result).unwrap_or_default()
    );
    Ok(())
}

fn read_input(input: Option<&str>) -> Result<Value, CliError> {
    let text = match input {
        None => return Ok(json!({})),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
        Some(file) if file.starts_with('@') => {
            std::fs::read_to_string(&file[1..]).map_err(|e| {
                CliError::Usage(format!("cannot read the input file {}: {e}", &file[1..]))
            })?
        }
        Some(inline) => inline.to_owned(),
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("the input is not valid JSON: {e}")))
}
