//! Search checks per class: `eq` on uid and name, `and`, empty results, everything found,
//! paging with no gap and no duplicate at any page size, early stop, attributes to get.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use connector_api::host::CallOptions;
use connector_api::ops::OpSearch;
use connector_api::{ConnectorObject, Filter, Manifest};
use serde_json::Value;

use super::check::{Broken, Check, CheckResult, Outcome, ensure};
use super::ctx::Ctx;

/// A check body run for one class.
type ClassCheck = fn(&mut Ctx, &str) -> CheckResult;

/// The search checks of every class the manifest declares.
pub fn checks(manifest: &Manifest) -> Vec<Check> {
    let mut checks = Vec::new();
    for class in manifest.capabilities.classes.keys() {
        let class = class.0.clone();
        let names: [(&str, ClassCheck); 6] = [
            ("eq_uid_and_name", eq_uid_and_name),
            ("and_filter", and_filter),
            ("empty_result", empty_result),
            ("all_includes_created", all_includes_created),
            ("paging", paging),
            ("early_stop_and_attributes", early_stop_and_attributes),
        ];
        for (what, f) in names {
            let c = class.clone();
            checks.push(Check::new(format!("search.{class}.{what}"), move |ctx| {
                let caps = ctx.manifest().capabilities.class(&c).copied().unwrap_or_default();
                if !caps.search {
                    return Ok(Outcome::skip(format!("capability `search` not declared for `{c}`")));
                }
                if !caps.create {
                    return Ok(Outcome::skip(format!("`{c}` objects cannot be created for the check (capability `create` not declared)")));
                }
                if !ctx.suite.classes.contains_key(&c) {
                    return Ok(Outcome::unsampled(format!("declared `search` and `create` for class `{c}`, but the suite has no `classes.{c}` sample")));
                }
                f(ctx, &c)
            }));
        }
    }
    checks
}

fn find(ctx: &mut Ctx, class: &str, filter: Filter) -> Result<Vec<ConnectorObject>, Broken> {
    ctx.client
        .search_all(&OpSearch::new(class).filter(filter))
        .map_err(|e| {
            ctx.record_error(&e);
            Broken(format!("search failed: {e}"))
        })
}

fn all(
    ctx: &mut Ctx,
    class: &str,
    page: Option<u32>,
) -> Result<(Vec<String>, usize, bool), Broken> {
    let mut op = OpSearch::new(class);
    if let Some(p) = page {
        op = op.page_size(p);
    }
    let mut uids = Vec::new();
    let mut batches = 0;
    let reply = ctx
        .client
        .search_with(&op, &CallOptions::default(), |batch| {
            batches += 1;
            uids.extend(batch.into_iter().map(|o| o.uid.0));
            ControlFlow::Continue(())
        })
        .map_err(|e| format!("search failed: {e}"))?;
    Ok((uids, batches, reply.complete))
}

fn eq_uid_and_name(ctx: &mut Ctx, class: &str) -> CheckResult {
    let (op, uid) = ctx.create_sample(class)?;
    let by_uid = find(ctx, class, Filter::uid(uid.as_str()))?;
    ensure(by_uid.len() == 1 && by_uid[0].uid == uid, || {
        format!("eq on uid found {} objects", by_uid.len())
    })?;
    let by_name = find(ctx, class, Filter::name(&op.name))?;
    ensure(by_name.len() == 1 && by_name[0].uid == uid, || {
        format!("eq on name found {} objects", by_name.len())
    })?;
    Ok(Outcome::pass(
        "eq on uid and on name each find exactly the object",
    ))
}

fn and_filter(ctx: &mut Ctx, class: &str) -> CheckResult {
    let (op, uid) = ctx.create_sample(class)?;
    let Some((attribute, value)) = op
        .attributes
        .iter()
        .find(|(_, v)| v.is_string())
        .map(|(k, v)| (k.clone(), v.clone()))
    else {
        return Ok(Outcome::skip(format!(
            "the `{class}` sample has no string attribute to combine with"
        )));
    };
    let hit = find(
        ctx,
        class,
        Filter::and([Filter::name(&op.name), Filter::eq(&attribute, value)]),
    )?;
    ensure(hit.len() == 1 && hit[0].uid == uid, || {
        format!("name AND {attribute} found {} objects", hit.len())
    })?;
    let miss = find(
        ctx,
        class,
        Filter::and([
            Filter::name(&op.name),
            Filter::eq(&attribute, "conformance-other-value"),
        ]),
    )?;
    ensure(miss.is_empty(), || {
        format!("name AND a wrong {attribute} found {} objects", miss.len())
    })?;
    Ok(Outcome::pass(format!(
        "`and` of name and `{attribute}` matches local evaluation"
    )))
}

fn empty_result(ctx: &mut Ctx, class: &str) -> CheckResult {
    let name = format!("{}no-such-object", ctx.suite.prefix);
    let found = find(ctx, class, Filter::name(&name))?;
    ensure(found.is_empty(), || {
        format!("a search for a name nobody has found {}", found.len())
    })?;
    Ok(Outcome::pass(
        "a search with no match answers an empty result, not an error",
    ))
}

fn all_includes_created(ctx: &mut Ctx, class: &str) -> CheckResult {
    let (before, _, _) = all(ctx, class, None)?;
    let (_, a) = ctx.create_sample(class)?;
    let (_, b) = ctx.create_sample(class)?;
    let (after, _, complete) = all(ctx, class, None)?;
    ensure(complete, || {
        "the full search reported itself incomplete".into()
    })?;
    let after_set: BTreeSet<&String> = after.iter().collect();
    ensure(after_set.len() == after.len(), || {
        "the full search returned duplicates".into()
    })?;
    ensure(before.iter().all(|u| after_set.contains(u)), || {
        "objects found before are missing now".into()
    })?;
    ensure(after_set.contains(&a.0) && after_set.contains(&b.0), || {
        "the created objects are missing".into()
    })?;
    ensure(after.len() == before.len() + 2, || {
        format!("{} before, {} after creating 2", before.len(), after.len())
    })?;
    Ok(Outcome::pass(format!(
        "no filter: {} objects = {} before + 2 created",
        after.len(),
        before.len()
    )))
}

fn paging(ctx: &mut Ctx, class: &str) -> CheckResult {
    let (mut base, _, _) = all(ctx, class, None)?;
    while base.len() < 9 {
        let (_, uid) = ctx.create_sample(class)?;
        base.push(uid.0);
    }
    let expected: BTreeSet<String> = base.iter().cloned().collect();
    let cap = ctx
        .manifest()
        .capabilities
        .class(class)
        .and_then(|c| c.page_size_max)
        .unwrap_or(1000);
    let mut seen = Vec::new();
    for page in [1, 7, cap + 1] {
        let (uids, batches, complete) = all(ctx, class, Some(page))?;
        let set: BTreeSet<String> = uids.iter().cloned().collect();
        ensure(set.len() == uids.len(), || {
            format!("page size {page}: {} duplicates", uids.len() - set.len())
        })?;
        ensure(set == expected, || {
            format!(
                "page size {page}: {} objects, expected {}",
                set.len(),
                expected.len()
            )
        })?;
        ensure(complete, || {
            format!("page size {page}: reported incomplete")
        })?;
        seen.push(format!("{page}: {batches} batches"));
    }
    Ok(Outcome::pass(format!(
        "{} objects, no gap, no duplicate at page sizes {}",
        expected.len(),
        seen.join(", ")
    )))
}

fn early_stop_and_attributes(ctx: &mut Ctx, class: &str) -> CheckResult {
    let (op, uid) = ctx.create_sample(class)?;
    let _ = ctx.create_sample(class)?;
    let mut batches = 0;
    let reply = ctx
        .client
        .search_with(
            &OpSearch::new(class).page_size(1),
            &CallOptions::default(),
            |_| {
                batches += 1;
                ControlFlow::Break(())
            },
        )
        .map_err(|e| format!("search failed: {e}"))?;
    ensure(batches == 1, || {
        format!("the connector sent {batches} batches after being told to stop")
    })?;
    ensure(!reply.complete, || {
        "a stopped search reported itself complete".into()
    })?;
    let Some(attribute) = op.attributes.keys().next().cloned() else {
        return Ok(Outcome::pass(
            "early stop honoured (no sample attribute to project)",
        ));
    };
    let found = ctx
        .client
        .search_all(
            &OpSearch::new(class)
                .filter(Filter::uid(uid.as_str()))
                .attributes(&[attribute.as_str()]),
        )
        .map_err(|e| format!("search with attributes_to_get failed: {e}"))?;
    let object = found.first().ok_or("the object was not found by uid")?;
    let extra: Vec<&String> = object
        .attributes
        .keys()
        .filter(|k| **k != attribute)
        .collect();
    ensure(extra.is_empty(), || {
        format!("asked for `{attribute}` only, also got {extra:?}")
    })?;
    ensure(
        object
            .attributes
            .get(&attribute)
            .is_some_and(|v| *v != Value::Null),
        || format!("asked for `{attribute}`, did not get it"),
    )?;
    Ok(Outcome::pass(format!(
        "early stop honoured after one batch; attributes_to_get [{attribute}] honoured"
    )))
}
