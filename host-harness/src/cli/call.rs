//! `host-harness call`: open a connector with a configuration and run one operation.

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use connector_api::host::CallOptions;
use connector_api::ops::{OpSearch, Operation};
use serde_json::{Value, json};

use super::CliError;
use crate::plugin;

/// What `call` runs.
#[derive(Debug)]
pub struct CallArgs<'a> {
    /// The plugin library.
    pub plugin: &'a Path,
    /// The configuration file.
    pub config: &'a Path,
    /// The operation name (`validate`, `test`, `schema`, `create`, `get`, `update`, `delete`,
    /// `search`, or any name the connector answers).
    pub operation: &'a str,
    /// The request: inline JSON, `@FILE`, or `-` for standard input; `{}` when absent.
    pub input: Option<&'a str>,
    /// The operation's timeout.
    pub timeout: Option<Duration>,
}

/// Runs the operation and prints its JSON result on stdout.
pub fn run(args: &CallArgs<'_>) -> Result<(), CliError> {
    let library = plugin::load(args.plugin)?;
    let config = plugin::read_config(args.config)?;
    let request = read_input(args.input)?;
    tracing::debug!(operation = args.operation, "calling the connector");
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
            client.call_json(args.operation, &request, &options)?
        }
    };
    tracing::info!(
        operation = args.operation,
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
