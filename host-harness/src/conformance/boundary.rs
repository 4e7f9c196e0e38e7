//! Boundary checks: the library, its manifest and config schema, panics, threads, deadlines.

use std::time::{Duration, Instant};

use connector_api::__private::PANIC_PROBE_OPERATION;
use connector_api::ErrorKind;
use connector_api::host::{CallOptions, CancelToken, ConnectorClient};
use connector_api::ops::OpGet;
use serde_json::{Value, json};

use super::check::{Check, CheckResult, Outcome, ensure};
use super::ctx::Ctx;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule};

/// The boundary checks.
pub fn checks() -> Vec<Check> {
    vec![
        Check::new("boundary.loads", |ctx| {
            Ok(Outcome::pass(format!(
                "{} loads through the real loader",
                ctx.library.path().display()
            )))
        }),
        Check::new("boundary.manifest_complete", |ctx| {
            let missing = ctx.manifest().missing_fields();
            ensure(missing.is_empty(), || {
                format!("the manifest lacks {}", missing.join(", "))
            })?;
            Ok(Outcome::pass(format!(
                "{} {} by {}",
                ctx.manifest().name,
                ctx.manifest().version,
                ctx.manifest().vendor
            )))
        }),
        Check::new("boundary.api_version", |ctx| {
            let m = ctx.manifest();
            let host = connector_api::API_VERSION;
            fn same_minor(v: &str) -> Vec<&str> {
                v.split('.').take(2).collect()
            }
            ensure(same_minor(&m.api_version) == same_minor(host), || {
                format!(
                    "built with connector-api {}, this host uses {host}",
                    m.api_version
                )
            })?;
            ensure(
                m.protocol_version == connector_api::abi::PROTOCOL_VERSION,
                || format!("protocol {}", m.protocol_version),
            )?;
            Ok(Outcome::pass(format!(
                "connector-api {}, protocol {}",
                m.api_version, m.protocol_version
            )))
        }),
        Check::new("boundary.config_schema_valid", |ctx| {
            let schema = &ctx.manifest().config_schema;
            ensure(
                schema["$schema"] == "https://json-schema.org/draft/2020-12/schema",
                || format!("$schema is {}", schema["$schema"]),
            )?;
            jsonschema::draft202012::meta::validate(schema)
                .map_err(|e| format!("not a valid JSON Schema 2020-12: {e}"))?;
            let fields = schema["properties"].as_object().map_or(0, |p| p.len());
            Ok(Outcome::pass(format!(
                "valid JSON Schema 2020-12 with {fields} fields"
            )))
        }),
        Check::new("boundary.secrets_marked", |ctx| {
            let schema = ctx.manifest().config_schema.clone();
            let props = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let mut secrets = Vec::new();
            for (name, p) in &props {
                let p = resolve(&schema, p);
                let write_only = p["writeOnly"] == true;
                let looks_secret = ["key", "token", "password", "secret"]
                    .iter()
                    .any(|w| name.to_lowercase().contains(w));
                ensure(!looks_secret || write_only, || {
                    format!("`{name}` looks like a secret but is not writeOnly")
                })?;
                if write_only {
                    ensure(p["format"] == "password", || {
                        format!("secret `{name}` lacks format: password")
                    })?;
                    secrets.push(name.clone());
                }
            }
            Ok(Outcome::pass(format!(
                "secrets marked writeOnly: {}",
                if secrets.is_empty() {
                    "none".into()
                } else {
                    secrets.join(", ")
                }
            )))
        }),
        Check::new("boundary.config_form_ready", |ctx| {
            let manifest = ctx.manifest();
            let found =
                super::form_ready::problems(&manifest.config_schema, &manifest.config_ui_schema);
            ensure(found.is_empty(), || {
                format!(
                    "stock form libraries would render it badly: {}",
                    found.join("; ")
                )
            })?;
            Ok(Outcome::pass(
                "renders in stock form libraries: no $ref siblings, standard formats, typed and titled options, secrets masked and non-empty",
            ))
        }),
        Check::new("boundary.sample_config_valid", |ctx| {
            let schema = &ctx.manifest().config_schema;
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(schema)
                .map_err(|e| e.to_string())?;
            if let Some(error) = validator.iter_errors(ctx.config).next() {
                return Err(format!(
                    "the suite's configuration fails the schema at {}: {error}",
                    error.instance_path()
                )
                .into());
            }
            ctx.library
                .validate(ctx.config)
                .map_err(|e| format!("validate refused the suite's configuration: {e}"))?;
            Ok(Outcome::pass(
                "the suite's configuration passes the schema and validate",
            ))
        }),
        Check::new(
            "boundary.invalid_configs_rejected",
            invalid_configs_rejected,
        ),
        Check::new("boundary.panic_contained", |ctx| {
            let err = ctx
                .client
                .call_unchecked(PANIC_PROBE_OPERATION, &json!({}), &CallOptions::default())
                .err()
                .ok_or("the panic probe answered without an error")?;
            ctx.record_error(&err);
            ensure(err.kind == ErrorKind::Internal, || {
                format!("a panic became `{}`, not `internal`", err.kind)
            })?;
            let after = ctx.client.call_unchecked(
                "conformance.unknown_operation",
                &json!({}),
                &CallOptions::default(),
            );
            ensure(
                matches!(&after, Err(e) if e.kind == ErrorKind::Unsupported),
                || format!("after the panic the connector answered {after:?}"),
            )?;
            Ok(Outcome::pass(
                "a panic in an operation became an internal error; the host and the connector kept working",
            ))
        }),
        Check::new("boundary.concurrent_calls", concurrent_calls),
        Check::new("boundary.timeout_honoured", |ctx| slow_call(ctx, false)),
        Check::new("boundary.cancellation_honoured", |ctx| slow_call(ctx, true)),
    ]
}

/// Follows a local `$ref`.
fn resolve(root: &Value, schema: &Value) -> Value {
    match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => root.pointer(pointer).cloned().unwrap_or(Value::Null),
        None => schema.clone(),
    }
}

fn invalid_configs_rejected(ctx: &mut Ctx) -> CheckResult {
    let schema = ctx.manifest().config_schema.clone();
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut cases: Vec<(String, Value, Option<String>)> = Vec::new();
    for field in &required {
        cases.push((
            format!("without `{field}`"),
            json!({ field: null }),
            Some(field.clone()),
        ));
        cases.push((
            format!("`{field}` of the wrong type"),
            json!({ field: [1, 2] }),
            Some(field.clone()),
        ));
    }
    if schema["additionalProperties"] == false {
        cases.push((
            "an unknown field".into(),
            json!({ "conformance_unknown_field": true }),
            Some("conformance_unknown_field".into()),
        ));
    }
    for bad in &ctx.suite.bad_configs {
        if let Some(field) = &bad.offline_field {
            cases.push((bad.name.clone(), bad.patch.clone(), Some(field.clone())));
        }
    }
    ensure(!cases.is_empty(), || {
        "no invalid configuration to try".into()
    })?;
    for (what, patch, field) in &cases {
        let config = ctx.config_with(patch);
        let started = Instant::now();
        match ctx.library.validate(&config) {
            Ok(()) => return Err(format!("validate accepted a configuration {what}").into()),
            Err(e) => {
                ctx.record_error(&e);
                ensure(e.kind == ErrorKind::InvalidConfiguration, || {
                    format!("{what}: `{}`, not invalid_configuration", e.kind)
                })?;
                if let Some(field) = field {
                    ensure(
                        e.message.contains(field.as_str()) || e.field() == Some(field.as_str()),
                        || format!("{what}: the error does not name `{field}`: {}", e.message),
                    )?;
                }
                ensure(started.elapsed() < Duration::from_secs(2), || {
                    format!(
                        "{what}: validate took {:?}; it must stay offline",
                        started.elapsed()
                    )
                })?;
            }
        }
    }
    Ok(Outcome::pass(format!(
        "{} invalid configurations refused offline, each naming its field",
        cases.len()
    )))
}

fn probe_class(ctx: &Ctx) -> Option<String> {
    ctx.classes_with("get").into_iter().next()
}

fn concurrent_calls(ctx: &mut Ctx) -> CheckResult {
    let Some(class) = probe_class(ctx) else {
        return Ok(Outcome::skip("capability `get` not declared for any class"));
    };
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let client = ctx.client.clone();
            let class = class.clone();
            std::thread::spawn(move || -> Result<(), String> {
                for i in 0..10 {
                    match client.get(&OpGet::new(
                        class.as_str(),
                        format!("conformance-missing-{t}-{i}"),
                    )) {
                        Err(e) if e.kind == ErrorKind::UnknownUid => {}
                        other => {
                            return Err(format!("thread {t}: expected unknown_uid, got {other:?}"));
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "a calling thread panicked")??;
    }
    Ok(Outcome::pass(format!(
        "8 threads x 10 calls on one instance ({class} get), all answered correctly"
    )))
}

/// A client on which every call takes seconds: the suite's slow config, or simulator latency.
fn slow_client(ctx: &mut Ctx) -> Result<Option<ConnectorClient>, String> {
    if let Some(patch) = ctx.suite.slow_config.clone() {
        return ctx.open_with(&patch).map(Some).map_err(|e| e.to_string());
    }
    if let Some(faults) = ctx.faults {
        let mut rule = FaultRule::new(FaultKind::Latency, 1.0);
        rule.latency_ms = 3000;
        faults.set_faults(FaultPlan {
            seed: 1,
            rules: vec![rule],
            rate_limit: None,
        });
        return Ok(Some(ctx.client.clone()));
    }
    Ok(None)
}

fn slow_call(ctx: &mut Ctx, cancel: bool) -> CheckResult {
    let Some(class) = probe_class(ctx) else {
        return Ok(Outcome::skip("capability `get` not declared for any class"));
    };
    let Some(client) = slow_client(ctx)? else {
        return Ok(Outcome::skip(
            "the target cannot be slowed: give the suite a `slow_config`, or run against the simulator",
        ));
    };
    let op = OpGet::new(class.as_str(), "conformance-slow");
    let started = Instant::now();
    let result = if cancel {
        let token = CancelToken::new();
        let trigger = token.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            trigger.cancel();
        });
        let r = client.call_with(&op, &CallOptions::default().with_cancel(token));
        let _ = canceller.join();
        r
    } else {
        client.call_with(&op, &CallOptions::timeout(Duration::from_millis(300)))
    };
    let elapsed = started.elapsed();
    let (want, label) = if cancel {
        (ErrorKind::Cancelled, "cancelled at 200 ms")
    } else {
        (ErrorKind::Timeout, "a 300 ms timeout")
    };
    match result {
        Err(e) if e.kind == want => {
            ensure(elapsed < Duration::from_millis(2000), || {
                format!("{label} took {elapsed:?} to take effect")
            })?;
            Ok(Outcome::pass(format!(
                "{label}: answered `{}` after {} ms",
                e.kind,
                elapsed.as_millis()
            )))
        }
        other => Err(format!("{label}: expected `{want}`, got {other:?} after {elapsed:?}").into()),
    }
}
