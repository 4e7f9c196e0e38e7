//! Configuration and connection checks: test passes with the good configuration and fails,
//! naming the failing check, for each bad credential the suite lists.

use connector_api::{CheckStatus, ErrorKind};

use super::check::{Check, CheckResult, Outcome, ensure};
use super::ctx::Ctx;

/// The connection checks.
pub fn checks() -> Vec<Check> {
    vec![
        Check::new("connection.test_passes", |ctx| {
            if !ctx.manifest().capabilities.test {
                return Ok(Outcome::skip("capability `test` not declared"));
            }
            let report = ctx.client.test().map_err(|e| format!("test failed: {e}"))?;
            ctx.record(serde_json::to_string(&report).unwrap_or_default());
            let failed: Vec<String> = report
                .failures()
                .map(|c| format!("{}: {}", c.name, c.message))
                .collect();
            ensure(failed.is_empty(), || {
                format!("with the good configuration: {}", failed.join("; "))
            })?;
            ensure(!report.checks.is_empty(), || {
                "the report has no check".into()
            })?;
            Ok(Outcome::pass(format!(
                "{} checks passed",
                report.checks.len()
            )))
        }),
        Check::new("connection.bad_credentials_named", bad_credentials_named),
    ]
}

fn bad_credentials_named(ctx: &mut Ctx) -> CheckResult {
    let cases: Vec<_> = ctx
        .suite
        .bad_configs
        .iter()
        .filter(|b| b.failing_check.is_some())
        .cloned()
        .collect();
    if cases.is_empty() {
        return Ok(Outcome::skip(
            "the suite lists no bad configuration with a failing_check",
        ));
    }
    if !ctx.manifest().capabilities.test {
        return Ok(Outcome::skip("capability `test` not declared"));
    }
    for bad in &cases {
        let expected = bad.failing_check.as_deref().unwrap_or_default();
        let client = match ctx.open_with(&bad.patch) {
            Ok(client) => client,
            Err(e) if e.kind == ErrorKind::InvalidConfiguration => continue,
            Err(e) => return Err(format!("{}: the connector did not open: {e}", bad.name).into()),
        };
        let report = client
            .test()
            .map_err(|e| format!("{}: test failed as a whole: {e}", bad.name))?;
        ctx.record(serde_json::to_string(&report).unwrap_or_default());
        let check = report
            .check(expected)
            .ok_or_else(|| format!("{}: the report has no check `{expected}`", bad.name))?;
        ensure(check.status == CheckStatus::Failed, || {
            format!(
                "{}: `{expected}` is {:?}, not failed",
                bad.name, check.status
            )
        })?;
        ensure(check.hint.as_deref().is_some_and(|h| !h.is_empty()), || {
            format!("{}: `{expected}` says no fix", bad.name)
        })?;
    }
    Ok(Outcome::pass(format!(
        "{} bad configurations each failed the named check, with a fix",
        cases.len()
    )))
}
