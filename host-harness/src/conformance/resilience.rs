//! Resilience checks, where the target can inject faults: 429 with Retry-After honoured, 5xx
//! retried, a lost create not duplicated; and, from the suite's configurations, bad credentials
//! mapped to their kinds and a dead endpoint failing fast.

use std::time::{Duration, Instant};

use connector_api::ops::{OpGet, OpSearch};
use connector_api::{ErrorKind, Filter};

use super::check::{Check, Outcome, ensure};
use super::ctx::Ctx;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule, RouteClass};

/// The resilience checks.
pub fn checks() -> Vec<Check> {
    vec![
        Check::new("resilience.retry_after_honoured", |ctx| {
            let Some((class, faults)) = target(ctx) else {
                return Ok(no_faults());
            };
            let mut rule = FaultRule::new(FaultKind::RateLimited, 0.0).first(1);
            rule.retry_after_secs = 1;
            faults.set_faults(FaultPlan {
                seed: 1,
                rules: vec![rule],
                rate_limit: None,
            });
            let started = Instant::now();
            expect_unknown(ctx, &class)?;
            let elapsed = started.elapsed();
            ensure(elapsed >= Duration::from_millis(900), || {
                format!("retried after {elapsed:?}, before the 1 s Retry-After")
            })?;
            Ok(Outcome::pass(format!(
                "a 429 with Retry-After: 1 was waited out ({} ms) and the call succeeded",
                elapsed.as_millis()
            )))
        }),
        Check::new("resilience.server_errors_retried", |ctx| {
            let Some((class, faults)) = target(ctx) else {
                return Ok(no_faults());
            };
            faults.set_faults(FaultPlan {
                seed: 1,
                rules: vec![
                    FaultRule::new(FaultKind::ServerError, 0.0).first(1),
                    FaultRule::new(FaultKind::Unavailable, 0.0).first(1),
                ],
                rate_limit: None,
            });
            expect_unknown(ctx, &class)?;
            Ok(Outcome::pass(
                "a 500 then a 503 were retried and the call succeeded",
            ))
        }),
        Check::new("resilience.lost_create_not_duplicated", |ctx| {
            let Some((_, faults)) = target(ctx) else {
                return Ok(no_faults());
            };
            let creatable = ctx.classes_with("create");
            let Some(class) = creatable
                .iter()
                .find(|c| ctx.suite.classes.contains_key(c.as_str()))
                .cloned()
            else {
                return Ok(match creatable.first() {
                    None => Outcome::skip("no class declares `create`"),
                    Some(c) => Outcome::unsampled(format!(
                        "declared `create` for class `{c}`, but the suite has no `classes.{c}` sample"
                    )),
                });
            };
            let op = ctx.sample(&class).ok_or("no sample")?;
            let adopts = ctx
                .manifest()
                .capabilities
                .class(&class)
                .is_some_and(|c| c.create_adopts_existing);
            faults.set_faults(FaultPlan {
                seed: 1,
                rules: vec![
                    FaultRule::new(FaultKind::LostResponse, 0.0)
                        .on(&[RouteClass::ScimWrite, RouteClass::SiteWrite])
                        .first(1),
                ],
                rate_limit: None,
            });
            let outcome = ctx.client.create(&op);
            faults.clear();
            let found = ctx
                .client
                .search_all(&OpSearch::new(class.as_str()).filter(Filter::name(&op.name)))
                .map_err(|e| e.to_string())?;
            for o in &found {
                ctx.track(&class, &o.uid);
            }
            ensure(found.len() <= 1, || {
                format!(
                    "{} objects after one create whose response was lost",
                    found.len()
                )
            })?;
            match outcome {
                Ok(reply) => {
                    ensure(found.len() == 1 && found[0].uid == reply.uid, || {
                        "the created object is not the one found".into()
                    })?;
                    Ok(Outcome::pass(format!(
                        "the lost response was recovered ({}); exactly one object",
                        if reply.adopted {
                            "adopted on retry"
                        } else {
                            "created"
                        }
                    )))
                }
                Err(e) if e.kind == ErrorKind::Timeout => Ok(Outcome::pass(
                    "the lost response surfaced as timeout (outcome unknown); no duplicate",
                )),
                Err(e)
                    if e.kind == ErrorKind::AlreadyExists
                        && !adopts
                        && found.len() == 1
                        && e.existing_uid() == Some(found[0].uid.as_str()) =>
                {
                    Ok(Outcome::pass(
                        "the retried create answered already_exists with the uid of the one object",
                    ))
                }
                Err(e) => Err(format!(
                    "a create whose response was lost answered `{}`: {e}",
                    e.kind
                )
                .into()),
            }
        }),
        Check::new("resilience.adoption_verified", |ctx| {
            let Some((_, faults)) = target(ctx) else {
                return Ok(no_faults());
            };
            let Some(class) = ctx.classes_with("create").into_iter().find(|c| {
                ctx.suite.classes.contains_key(c) && ctx.classes_with("search").contains(c)
            }) else {
                return Ok(Outcome::skip(
                    "no class with `create`, `search` and a suite sample",
                ));
            };
            let everyone = |ctx: &Ctx| {
                ctx.client
                    .search_all(&OpSearch::new(class.as_str()))
                    .map_err(|e| e.to_string())
            };
            let before = everyone(ctx)?;
            let op = ctx.sample(&class).ok_or("no sample")?;
            // The create is refused as a duplicate, and the lookup that follows gets every
            // object, whatever it asked: the connector must adopt none of them.
            faults.set_faults(FaultPlan {
                seed: 1,
                rules: vec![
                    FaultRule::new(FaultKind::Conflict, 0.0)
                        .on(&[RouteClass::ScimWrite, RouteClass::SiteWrite])
                        .first(1),
                    FaultRule::new(FaultKind::IgnoredFilter, 1.0),
                ],
                rate_limit: None,
            });
            let outcome = ctx.client.create(&op);
            faults.clear();
            if let Ok(reply) = &outcome {
                ctx.track(&class, &reply.uid);
            }
            let after = everyone(ctx)?;
            ensure(after == before, || {
                let changed = after.iter().filter(|a| !before.contains(a)).count();
                format!(
                    "{changed} existing {class} object(s) changed after a 409 whose lookup ignored its filter"
                )
            })?;
            match outcome {
                Err(e) => {
                    ctx.record_error(&e);
                    Ok(Outcome::pass(format!(
                        "a 409 with a lookup that returned all {} objects answered `{}`; none was written",
                        before.len(),
                        e.kind
                    )))
                }
                Ok(reply) => Err(format!(
                    "a create answered 409, none of the objects the lookup returned is the one asked for, yet it succeeded ({}, adopted: {})",
                    reply.uid, reply.adopted
                )
                .into()),
            }
        }),
        Check::new("resilience.credentials_mapped", |ctx| {
            let cases: Vec<_> = ctx
                .suite
                .bad_configs
                .iter()
                .filter(|b| b.error_kind.is_some())
                .cloned()
                .collect();
            let Some(class) = ctx.classes_with("get").into_iter().next() else {
                return Ok(Outcome::skip("capability `get` not declared"));
            };
            if cases.is_empty() {
                return Ok(Outcome::skip(
                    "the suite lists no bad configuration with an error_kind",
                ));
            }
            for bad in &cases {
                let want = bad.error_kind.clone().unwrap_or_default();
                let client = ctx
                    .open_with(&bad.patch)
                    .map_err(|e| format!("{}: did not open: {e}", bad.name))?;
                match client.get(&OpGet::new(class.as_str(), "conformance-no-such-uid")) {
                    Err(e) if e.kind.as_str() == want => ctx.record_error(&e),
                    other => {
                        return Err(
                            format!("{}: expected `{want}`, got {other:?}", bad.name).into()
                        );
                    }
                }
            }
            Ok(Outcome::pass(format!(
                "{} bad credentials each answered their error kind",
                cases.len()
            )))
        }),
        Check::new("resilience.dead_endpoint_fails_fast", |ctx| {
            let Some(patch) = ctx.suite.dead_config.clone() else {
                return Ok(Outcome::skip("the suite gives no dead_config"));
            };
            let Some(class) = ctx.classes_with("get").into_iter().next() else {
                return Ok(Outcome::skip("capability `get` not declared"));
            };
            let client = ctx
                .open_with(&patch)
                .map_err(|e| format!("did not open: {e}"))?;
            let started = Instant::now();
            let result = client.get(&OpGet::new(class.as_str(), "conformance-no-such-uid"));
            let elapsed = started.elapsed();
            match result {
                Err(e) if e.kind == ErrorKind::ConnectionFailed => {
                    ensure(elapsed < Duration::from_secs(10), || {
                        format!("took {elapsed:?}")
                    })?;
                    Ok(Outcome::pass(format!(
                        "connection_failed after {} ms",
                        elapsed.as_millis()
                    )))
                }
                other => Err(format!("expected connection_failed, got {other:?}").into()),
            }
        }),
    ]
}

fn target<'a>(ctx: &Ctx<'a>) -> Option<(String, &'a dyn super::FaultControl)> {
    let class = ctx.classes_with("get").into_iter().next()?;
    Some((class, ctx.faults?))
}

fn no_faults() -> Outcome {
    Outcome::skip("the target cannot inject faults (run against the simulator)")
}

fn expect_unknown(ctx: &mut Ctx, class: &str) -> Result<(), super::check::Broken> {
    match ctx
        .client
        .get(&OpGet::new(class, "conformance-no-such-uid"))
    {
        Err(e) if e.kind == ErrorKind::UnknownUid => Ok(()),
        other => Err(format!("expected unknown_uid once the faults passed, got {other:?}").into()),
    }
}
