//! Hygiene checks, always run last: everything the suite created is removed, and no configured
//! secret appears in any error, report or message the run produced.

use connector_api::ops::OpSearch;
use connector_api::redact::Redactor;
use serde_json::Value;

use super::check::{Check, Outcome, ensure};
use super::ctx::Ctx;

/// The hygiene checks.
pub fn checks() -> Vec<Check> {
    vec![
        Check::new("hygiene.cleanup", |ctx| {
            let (deleted, failures) = ctx.cleanup();
            ensure(failures.is_empty(), || {
                format!("could not delete: {}", failures.join("; "))
            })?;
            let mut left = Vec::new();
            for class in ctx.classes_with("search") {
                let Ok(all) = ctx.client.search_all(&OpSearch::new(class.as_str())) else {
                    continue;
                };
                let prefixed = all
                    .iter()
                    .filter(|o| o.name.starts_with(&ctx.suite.prefix) && o.enabled != Some(false))
                    .count();
                if prefixed > 0 {
                    left.push(format!("{prefixed} {class}"));
                }
            }
            ensure(left.is_empty(), || {
                format!(
                    "objects named `{}*` remain enabled: {}",
                    ctx.suite.prefix,
                    left.join(", ")
                )
            })?;
            Ok(Outcome::pass(format!(
                "{deleted} objects created by the suite were removed"
            )))
        }),
        Check::new("hygiene.no_secret_leaked", |ctx| {
            let secrets = secret_values(ctx);
            if secrets.is_empty() {
                return Ok(Outcome::skip("the configuration has no writeOnly field"));
            }
            // What an attacker would look for: each secret, its JSON, percent and base64 forms,
            // the Basic form with any other configured string as the user, and any 8 of its
            // characters in a row.
            let finder = Redactor::for_config(ctx.config, &ctx.manifest().config_schema);
            let leaking = |texts: &[String]| texts.iter().filter(|t| finder.finds(t)).count();
            let log_lines = ctx.log_lines.lock().unwrap_or_else(|p| p.into_inner());
            let (leaks, log_leaks) = (leaking(&ctx.transcript), leaking(&log_lines));
            ensure(leaks + log_leaks == 0, || {
                format!("{leaks} outputs and {log_leaks} log lines contain a configured secret")
            })?;
            Ok(Outcome::pass(format!(
                "{} outputs and {} log lines scanned for {} secrets, their encodings and fragments: none found",
                ctx.transcript.len(),
                log_lines.len(),
                secrets.len()
            )))
        }),
    ]
}

/// The configured values of the schema's writeOnly fields.
pub fn secret_values(ctx: &Ctx) -> Vec<String> {
    let schema = &ctx.manifest().config_schema;
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    props
        .iter()
        .filter(|(_, p)| {
            let p = match p
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(pointer) => schema.pointer(pointer).cloned().unwrap_or(Value::Null),
                None => (*p).clone(),
            };
            p["writeOnly"] == true
        })
        .filter_map(|(name, _)| {
            ctx.config
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|s| s.len() >= 4)
        .collect()
}
