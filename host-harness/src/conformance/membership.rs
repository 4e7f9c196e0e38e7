//! Membership checks: a member added to and removed from a group, seen from both sides.

use connector_api::AttributeDelta;
use connector_api::ops::{OpGet, OpUpdate};
use serde_json::{Value, json};

use super::check::{Check, CheckResult, Outcome, ensure};
use super::ctx::Ctx;

/// The membership checks.
pub fn checks() -> Vec<Check> {
    vec![Check::new(
        "membership.add_remove_both_sides",
        add_remove_both_sides,
    )]
}

fn contains(object: &connector_api::ConnectorObject, attribute: &str, uid: &str) -> bool {
    object
        .attributes
        .get(attribute)
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == uid))
}

fn add_remove_both_sides(ctx: &mut Ctx) -> CheckResult {
    let Some((group_class, membership)) = ctx
        .suite
        .classes
        .iter()
        .find_map(|(c, s)| s.members.clone().map(|m| (c.clone(), m)))
    else {
        return Ok(Outcome::skip("the suite declares no class with members"));
    };
    for class in [&group_class, &membership.class] {
        let caps = ctx
            .manifest()
            .capabilities
            .class(class)
            .copied()
            .unwrap_or_default();
        if !(caps.create && caps.update && caps.get) {
            return Ok(Outcome::skip(format!(
                "capabilities create, update and get not all declared for `{class}`"
            )));
        }
    }
    let (_, member) = ctx.create_sample(&membership.class)?;
    let (_, group) = ctx.create_sample(&group_class)?;
    let read = |ctx: &mut Ctx, class: &str, uid: &connector_api::Uid| {
        ctx.client
            .get(&OpGet::new(class, uid.clone()))
            .map(|r| r.object)
            .map_err(|e| format!("get {class}: {e}"))
    };
    let update = |ctx: &mut Ctx, delta: AttributeDelta| {
        ctx.client
            .update(&OpUpdate::new(group_class.as_str(), group.clone()).delta(delta))
            .map_err(|e| format!("membership update: {e}"))
    };

    update(
        ctx,
        AttributeDelta::add(&membership.attribute, [json!(member.0)]),
    )?;
    let g = read(ctx, &group_class, &group)?;
    ensure(contains(&g, &membership.attribute, member.as_str()), || {
        format!(
            "after add, the group's `{}` lacks the member",
            membership.attribute
        )
    })?;
    if let Some(reverse) = &membership.reverse {
        let m = read(ctx, &membership.class, &member)?;
        ensure(contains(&m, reverse, group.as_str()), || {
            format!("after add, the member's `{reverse}` lacks the group")
        })?;
    }
    update(
        ctx,
        AttributeDelta::remove(&membership.attribute, [json!(member.0)]),
    )?;
    let g = read(ctx, &group_class, &group)?;
    ensure(
        !contains(&g, &membership.attribute, member.as_str()),
        || "after remove, the group still lists the member".into(),
    )?;
    if let Some(reverse) = &membership.reverse {
        let m = read(ctx, &membership.class, &member)?;
        ensure(!contains(&m, reverse, group.as_str()), || {
            format!("after remove, the member's `{reverse}` still lists the group")
        })?;
    }
    update(
        ctx,
        AttributeDelta::remove(&membership.attribute, [json!(member.0)]),
    )?;
    let sides = if membership.reverse.is_some() {
        "both sides"
    } else {
        "the group's side"
    };
    Ok(Outcome::pass(format!(
        "add and remove seen from {sides}; removing a non-member succeeds"
    )))
}
