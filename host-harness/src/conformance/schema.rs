//! Schema checks: classes have a uid and a name, flags are consistent, the schema agrees with
//! the manifest, and undeclared classes and operations are refused as `unsupported`.

use connector_api::ErrorKind;
use connector_api::host::CallOptions;
use serde_json::json;

use super::check::{Check, CheckResult, Outcome, ensure};
use super::ctx::Ctx;

/// The schema checks.
pub fn checks() -> Vec<Check> {
    vec![
        Check::new("schema.classes_have_uid_and_name", |ctx| {
            let Some(schema) = read(ctx)? else {
                return Ok(Outcome::skip("capability `schema` not declared"));
            };
            for class in &schema.classes {
                ensure(
                    !class.uid_description.is_empty() && !class.name_description.is_empty(),
                    || {
                        format!(
                            "class `{}` does not say what its uid and name are",
                            class.name
                        )
                    },
                )?;
            }
            let declared: Vec<&str> = ctx
                .manifest()
                .capabilities
                .classes
                .keys()
                .map(|c| c.as_str())
                .collect();
            for name in &declared {
                ensure(schema.class(name).is_some(), || {
                    format!("class `{name}` is declared but not in the schema")
                })?;
            }
            Ok(Outcome::pass(format!(
                "{} classes, each with a uid and a name",
                schema.classes.len()
            )))
        }),
        Check::new("schema.flags_consistent", |ctx| {
            let Some(schema) = read(ctx)? else {
                return Ok(Outcome::skip("capability `schema` not declared"));
            };
            let problems: Vec<String> = schema
                .classes
                .iter()
                .flat_map(|c| c.attributes.iter().flat_map(|a| a.flag_problems()))
                .collect();
            ensure(problems.is_empty(), || problems.join("; "))?;
            let n: usize = schema.classes.iter().map(|c| c.attributes.len()).sum();
            Ok(Outcome::pass(format!(
                "{n} attributes with consistent flags"
            )))
        }),
        Check::new("schema.undeclared_class_unsupported", |ctx| {
            let request = json!({ "class": "conformance-undeclared-class", "uid": "x" });
            refused(ctx, "get", &request, "an undeclared class")
        }),
        Check::new("schema.undeclared_operation_unsupported", |ctx| {
            refused(
                ctx,
                "conformance.undeclared_operation",
                &json!({}),
                "an undeclared operation",
            )
        }),
    ]
}

fn read(ctx: &mut Ctx) -> Result<Option<connector_api::Schema>, super::check::Broken> {
    if !ctx.manifest().capabilities.schema {
        return Ok(None);
    }
    let schema = ctx
        .client
        .schema()
        .map_err(|e| format!("schema failed: {e}"))?;
    Ok(Some(schema))
}

fn refused(ctx: &mut Ctx, operation: &str, request: &serde_json::Value, what: &str) -> CheckResult {
    match ctx
        .client
        .call_unchecked(operation, request, &CallOptions::default())
    {
        Err(e) if e.kind == ErrorKind::Unsupported => {
            ctx.record_error(&e);
            Ok(Outcome::pass(format!(
                "{what} is refused by the connector itself: {}",
                e.message
            )))
        }
        other => Err(format!("{what}: expected `unsupported`, got {other:?}").into()),
    }
}
