//! Completeness: under each way a server may answer a paged read (shorter later pages, ignored
//! `startIndex` or filter, wrong totals, objects inserted during the read, missing ids,
//! oversized or empty pages), every full and filtered search either returns exactly what a
//! clean read returns or fails with a typed, retryable error. A short read called complete
//! fails the check.
//!
//! The faults are the simulator's listing faults (see `sim::faults`), so these checks run only
//! against the simulator.

use std::collections::BTreeMap;

use connector_api::ops::OpSearch;
use connector_api::{ConnectorObject, ErrorKind, Filter};

use super::check::{Broken, Check, CheckResult, Outcome};
use super::ctx::Ctx;
use crate::sim::faults::{FaultKind, FaultPlan, FaultRule};

/// Pages this small make even a small directory span several.
const PAGE: u32 = 7;

/// Each listing fault, the name of its check, and its size.
const FAULTS: [(FaultKind, &str, Option<u64>); 10] = [
    (FaultKind::ShortPages, "completeness.short_pages", Some(2)),
    (
        FaultKind::IgnoredStartIndex,
        "completeness.ignored_start_index",
        None,
    ),
    (
        FaultKind::TotalTooLow,
        "completeness.total_too_low",
        Some(1),
    ),
    (FaultKind::TotalTooHigh, "completeness.total_too_high", None),
    (FaultKind::TotalHuge, "completeness.total_huge", None),
    (
        FaultKind::InsertAhead,
        "completeness.inserts_during_the_read",
        Some(3),
    ),
    (FaultKind::MissingIds, "completeness.missing_ids", None),
    (
        FaultKind::OversizedPage,
        "completeness.oversized_page",
        None,
    ),
    (
        FaultKind::IgnoredFilter,
        "completeness.ignored_filter",
        None,
    ),
    (FaultKind::EmptyPages, "completeness.empty_pages", None),
];

/// The completeness checks, one per listing fault.
pub fn checks() -> Vec<Check> {
    FAULTS
        .iter()
        .map(|&(kind, name, limit)| Check::new(name, move |ctx| under(ctx, kind, limit)))
        .collect()
}

type Objects = BTreeMap<String, ConnectorObject>;

fn read(ctx: &Ctx, op: &OpSearch) -> Result<Objects, connector_api::ConnectorError> {
    let mut objects = Objects::new();
    for o in ctx.client.search_all(op)? {
        objects.insert(o.uid.0.clone(), o);
    }
    Ok(objects)
}

/// What one read under a fault gave, for the check's line.
fn verdict(
    what: &str,
    clean: &Objects,
    got: Result<Objects, connector_api::ConnectorError>,
    grows: bool,
) -> Result<String, Broken> {
    match got {
        Ok(got) if &got == clean => Ok(format!("{what}: the clean read ({})", got.len())),
        // Objects inserted during the read may or may not come; every other one must.
        Ok(got) if grows && clean.iter().all(|(uid, o)| got.get(uid) == Some(o)) => Ok(format!(
            "{what}: every existing object ({} of {})",
            clean.len(),
            got.len()
        )),
        Ok(got) => Err(Broken(format!(
            "{what}: {} objects returned as complete, the clean read has {}{}",
            got.len(),
            clean.len(),
            if got.len() == clean.len() {
                " (with other values)"
            } else {
                ""
            }
        ))),
        Err(e) if e.kind == ErrorKind::ConnectionFailed && e.retryable => {
            Ok(format!("{what}: a typed error ({})", e.kind))
        }
        Err(e) => Err(Broken(format!(
            "{what}: failed with `{}`{}: {e}",
            e.kind,
            if e.retryable { "" } else { ", not retryable" }
        ))),
    }
}

fn under(ctx: &mut Ctx, kind: FaultKind, limit: Option<u64>) -> CheckResult {
    let Some(faults) = ctx.faults else {
        return Ok(Outcome::skip(
            "the target cannot inject listing faults (run against the simulator)",
        ));
    };
    let classes = ctx.classes_with("search");
    if classes.is_empty() {
        return Ok(Outcome::skip("capability `search` not declared"));
    }
    let mut lines = Vec::new();
    for class in classes {
        let max = ctx
            .manifest()
            .capabilities
            .class(&class)
            .and_then(|c| c.page_size_max)
            .unwrap_or(PAGE);
        let full = OpSearch::new(class.as_str()).page_size(PAGE.min(max));
        let clean = read(ctx, &full).map_err(|e| format!("{class}: a clean read failed: {e}"))?;
        let named = clean.values().nth(clean.len() / 2).map(|o| {
            let by_name = OpSearch::new(class.as_str()).filter(Filter::name(&o.name));
            let want: Objects = clean
                .values()
                .filter(|c| c.name.eq_ignore_ascii_case(&o.name))
                .map(|c| (c.uid.0.clone(), c.clone()))
                .collect();
            (by_name, want)
        });
        let mut rule = FaultRule::new(kind, 1.0);
        rule.limit = limit;
        faults.set_faults(FaultPlan {
            seed: 1,
            rules: vec![rule],
            rate_limit: None,
        });
        let grows = kind == FaultKind::InsertAhead;
        let outcome =
            verdict(&format!("{class} full"), &clean, read(ctx, &full), grows).and_then(|line| {
                match &named {
                    Some((op, want)) => {
                        let by_name =
                            verdict(&format!("{class} by name"), want, read(ctx, op), false);
                        by_name.map(|named| format!("{line}, {named}"))
                    }
                    None => Ok(line),
                }
            });
        faults.clear();
        lines.push(outcome?);
    }
    Ok(Outcome::pass(lines.join("; ")))
}
