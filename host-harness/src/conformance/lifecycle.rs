//! Lifecycle checks per declared class: create and read back, duplicates, bad attributes,
//! updates by delta, unknown uids, delete (hard or soft), enable and disable.

use connector_api::ops::{OpDelete, OpGet, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, ConnectorObject, ErrorKind, Filter, Manifest, Uid};
use serde_json::{Value, json};

use super::check::{Broken, Check, CheckResult, Outcome, ensure};
use super::ctx::Ctx;

/// The lifecycle checks of every class the manifest declares.
pub fn checks(manifest: &Manifest) -> Vec<Check> {
    let mut checks = Vec::new();
    for (class, caps) in &manifest.capabilities.classes {
        let class = class.0.clone();
        let c = class.clone();
        checks.push(Check::new(
            format!("lifecycle.{class}.create_and_read_back"),
            move |ctx| create_and_read_back(ctx, &c),
        ));
        let c = class.clone();
        checks.push(Check::new(
            format!("lifecycle.{class}.duplicate_create"),
            move |ctx| duplicate_create(ctx, &c),
        ));
        let c = class.clone();
        checks.push(Check::new(
            format!("lifecycle.{class}.invalid_attribute"),
            move |ctx| invalid_attribute(ctx, &c),
        ));
        let c = class.clone();
        checks.push(Check::new(
            format!("lifecycle.{class}.update_deltas"),
            move |ctx| update_deltas(ctx, &c),
        ));
        let c = class.clone();
        checks.push(Check::new(
            format!("lifecycle.{class}.unknown_uid"),
            move |ctx| unknown_uid(ctx, &c),
        ));
        let c = class.clone();
        checks.push(Check::new(
            format!("lifecycle.{class}.delete"),
            move |ctx| delete(ctx, &c),
        ));
        if caps.enable {
            let c = class.clone();
            checks.push(Check::new(
                format!("lifecycle.{class}.enable_disable"),
                move |ctx| enable_disable(ctx, &c),
            ));
        }
    }
    checks
}

fn needs(ctx: &Ctx, class: &str, operations: &[&str]) -> Option<Outcome> {
    let caps = ctx
        .manifest()
        .capabilities
        .class(class)
        .copied()
        .unwrap_or_default();
    if let Some(op) = operations.iter().find(|op| !caps.supports(op)) {
        return Some(Outcome::skip(format!(
            "capability `{op}` not declared for `{class}`"
        )));
    }
    if !ctx.suite.classes.contains_key(class) {
        return Some(Outcome::unsampled(format!(
            "declared `{}` for class `{class}`, but the suite has no `classes.{class}` sample",
            operations.join("`, `")
        )));
    }
    None
}

fn get(ctx: &mut Ctx, class: &str, uid: &Uid) -> Result<ConnectorObject, Broken> {
    ctx.client
        .get(&OpGet::new(class, uid.clone()))
        .map(|r| r.object)
        .map_err(|e| {
            ctx.record_error(&e);
            Broken(format!("get of {class} `{uid}` failed: {e}"))
        })
}

/// Whether a read value equals what was written (arrays compare as sets).
fn same(written: &Value, read: Option<&Value>) -> bool {
    match (written, read) {
        (Value::Array(w), Some(Value::Array(r))) => {
            w.len() == r.len() && w.iter().all(|v| r.contains(v))
        }
        (w, Some(r)) => w == r,
        (Value::Null, None) => true,
        (Value::Array(w), None) => w.is_empty(),
        _ => false,
    }
}

fn create_and_read_back(ctx: &mut Ctx, class: &str) -> CheckResult {
    if let Some(skip) = needs(ctx, class, &["create", "get"]) {
        return Ok(skip);
    }
    let (op, uid) = ctx.create_sample(class)?;
    ensure(!uid.0.is_empty(), || "create answered an empty uid".into())?;
    let object = get(ctx, class, &uid)?;
    ensure(object.uid == uid, || {
        format!("get answered uid `{}` for `{uid}`", object.uid)
    })?;
    ensure(object.name == op.name, || {
        format!("name `{}` read back as `{}`", op.name, object.name)
    })?;
    for (attribute, value) in &op.attributes {
        ensure(same(value, object.attributes.get(attribute)), || {
            format!(
                "`{attribute}` was written as {value} and read back as {}",
                object.attributes.get(attribute).unwrap_or(&Value::Null)
            )
        })?;
    }
    if ctx
        .manifest()
        .capabilities
        .class(class)
        .is_some_and(|c| c.search)
    {
        let found = ctx
            .client
            .search_all(&OpSearch::new(class).filter(Filter::name(&op.name)))
            .map_err(|e| format!("search by name failed: {e}"))?;
        ensure(found.len() == 1 && found[0].uid == uid, || {
            format!("search by name found {} objects", found.len())
        })?;
    }
    Ok(Outcome::pass(format!(
        "created `{}` ({uid}); {} attributes read back by uid and by name",
        op.name,
        op.attributes.len()
    )))
}

fn duplicate_create(ctx: &mut Ctx, class: &str) -> CheckResult {
    if let Some(skip) = needs(ctx, class, &["create", "search"]) {
        return Ok(skip);
    }
    let (op, uid) = ctx.create_sample(class)?;
    let adopts = ctx
        .manifest()
        .capabilities
        .class(class)
        .is_some_and(|c| c.create_adopts_existing);
    let outcome = match ctx.client.create(&op) {
        Ok(reply) => {
            ctx.track(class, &reply.uid);
            ensure(reply.uid == uid, || {
                format!("the duplicate create answered another uid `{}`", reply.uid)
            })?;
            ensure(adopts && reply.adopted, || {
                "a duplicate create succeeded without declaring or reporting adoption".into()
            })?;
            "adopted the existing object".to_owned()
        }
        Err(e) => {
            ctx.record_error(&e);
            ensure(e.kind == ErrorKind::AlreadyExists, || {
                format!("a duplicate create answered `{}`: {}", e.kind, e.message)
            })?;
            ensure(e.existing_uid().is_none_or(|u| u == uid.as_str()), || {
                format!(
                    "already_exists names uid `{:?}`, not `{uid}`",
                    e.existing_uid()
                )
            })?;
            format!(
                "already_exists{}",
                if e.existing_uid().is_some() {
                    " with the existing uid"
                } else {
                    ""
                }
            )
        }
    };
    let found = ctx
        .client
        .search_all(&OpSearch::new(class).filter(Filter::name(&op.name)))
        .map_err(|e| format!("search failed: {e}"))?;
    ensure(found.len() == 1, || {
        format!(
            "{} objects named `{}` after a duplicate create",
            found.len(),
            op.name
        )
    })?;
    Ok(Outcome::pass(format!(
        "a duplicate create {outcome}; never a second object"
    )))
}

fn invalid_attribute(ctx: &mut Ctx, class: &str) -> CheckResult {
    if let Some(skip) = needs(ctx, class, &["create"]) {
        return Ok(skip);
    }
    let mut tried = Vec::new();
    let op = ctx.sample(class).ok_or("no sample")?;
    let unknown = op.clone().attr("conformance_no_such_attribute", "x");
    let mut invalid = vec![("conformance_no_such_attribute".to_owned(), unknown)];
    if let Some(bad) = ctx.suite.classes[class].invalid.clone() {
        invalid.push((
            bad.attribute.clone(),
            ctx.sample(class)
                .ok_or("no sample")?
                .attr(&bad.attribute, bad.value.clone()),
        ));
    }
    for (attribute, op) in invalid {
        match ctx.client.create(&op) {
            Ok(reply) => {
                ctx.track(class, &reply.uid);
                return Err(format!("a create with a bad `{attribute}` succeeded").into());
            }
            Err(e) => {
                ctx.record_error(&e);
                ensure(e.kind == ErrorKind::InvalidAttributeValue, || {
                    format!(
                        "bad `{attribute}`: `{}`, not invalid_attribute_value",
                        e.kind
                    )
                })?;
                ensure(
                    e.attribute() == Some(attribute.as_str()) || e.message.contains(&attribute),
                    || format!("the error does not name `{attribute}`: {}", e.message),
                )?;
                tried.push(attribute);
            }
        }
    }
    Ok(Outcome::pass(format!(
        "refused, naming the attribute: {}",
        tried.join(", ")
    )))
}

fn update_deltas(ctx: &mut Ctx, class: &str) -> CheckResult {
    if let Some(skip) = needs(ctx, class, &["create", "update", "get"]) {
        return Ok(skip);
    }
    let samples = ctx.suite.classes[class].clone();
    if samples.update.is_none() && samples.multi.is_none() {
        return Ok(Outcome::unsampled(format!(
            "declared `update` for class `{class}`, but the suite gives no `classes.{class}.update` or `.multi` attribute"
        )));
    }
    let (_, uid) = ctx.create_sample(class)?;
    let mut done = Vec::new();
    if let Some(single) = &samples.update {
        for value in &single.values {
            let op = OpUpdate::new(class, uid.clone())
                .delta(AttributeDelta::replace(&single.attribute, [value.clone()]));
            ctx.client
                .update(&op)
                .map_err(|e| format!("replace `{}`: {e}", single.attribute))?;
            let got = get(ctx, class, &uid)?;
            ensure(got.attributes.get(&single.attribute) == Some(value), || {
                format!(
                    "replace `{}` with {value} read back {:?}",
                    single.attribute,
                    got.attributes.get(&single.attribute)
                )
            })?;
        }
        let absent = json!("conformance-absent-value");
        let op = OpUpdate::new(class, uid.clone())
            .delta(AttributeDelta::remove(&single.attribute, [absent]));
        ctx.client
            .update(&op)
            .map_err(|e| format!("removing an absent value failed: {e}"))?;
        let got = get(ctx, class, &uid)?;
        ensure(got.attributes.contains_key(&single.attribute), || {
            "removing an absent value cleared the attribute".into()
        })?;
        done.push(format!(
            "replace and remove-absent on `{}`",
            single.attribute
        ));
    }
    if let Some(multi) = &samples.multi {
        let values = multi.values.clone();
        let op = OpUpdate::new(class, uid.clone())
            .delta(AttributeDelta::add(&multi.attribute, values.clone()));
        ctx.client
            .update(&op)
            .map_err(|e| format!("add to `{}`: {e}", multi.attribute))?;
        let got = get(ctx, class, &uid)?;
        let now = got
            .attributes
            .get(&multi.attribute)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        ensure(values.iter().all(|v| now.contains(v)), || {
            format!("after add, `{}` is {now:?}", multi.attribute)
        })?;
        let op = OpUpdate::new(class, uid.clone()).delta(AttributeDelta::remove(
            &multi.attribute,
            [values[0].clone(), json!("conformance-absent")],
        ));
        ctx.client
            .update(&op)
            .map_err(|e| format!("remove from `{}`: {e}", multi.attribute))?;
        let got = get(ctx, class, &uid)?;
        let now = got
            .attributes
            .get(&multi.attribute)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        ensure(
            !now.contains(&values[0]) && values[1..].iter().all(|v| now.contains(v)),
            || format!("after remove, `{}` is {now:?}", multi.attribute),
        )?;
        done.push(format!("add and remove on `{}`", multi.attribute));
    }
    Ok(Outcome::pass(done.join("; ")))
}

fn unknown_uid(ctx: &mut Ctx, class: &str) -> CheckResult {
    let caps = ctx
        .manifest()
        .capabilities
        .class(class)
        .copied()
        .unwrap_or_default();
    let uid = Uid::from("conformance-no-such-uid-0000");
    let mut tried = Vec::new();
    let mut expect =
        |what: &str, result: Result<(), connector_api::ConnectorError>| -> Result<(), Broken> {
            match result {
                Err(e) if e.kind == ErrorKind::UnknownUid => {
                    tried.push(what.to_owned());
                    Ok(())
                }
                other => Err(Broken(format!(
                    "{what} of an unknown uid answered {other:?}"
                ))),
            }
        };
    if caps.get {
        expect(
            "get",
            ctx.client.get(&OpGet::new(class, uid.clone())).map(drop),
        )?;
    }
    if caps.update {
        let delta = ctx.suite.classes.get(class).and_then(|s| s.update.clone());
        let op = match delta {
            Some(d) => OpUpdate::new(class, uid.clone())
                .delta(AttributeDelta::replace(&d.attribute, [d.values[0].clone()])),
            None if caps.enable => OpUpdate::new(class, uid.clone()).enabled(true),
            None => OpUpdate::new(class, uid.clone()),
        };
        expect("update", ctx.client.update(&op).map(drop))?;
    }
    if caps.delete {
        expect(
            "delete",
            ctx.client
                .delete(&OpDelete::new(class, uid.clone()))
                .map(drop),
        )?;
    }
    if tried.is_empty() {
        return Ok(Outcome::skip(format!(
            "no get, update or delete declared for `{class}`"
        )));
    }
    Ok(Outcome::pass(format!(
        "{} of an unknown uid answer unknown_uid",
        tried.join(", ")
    )))
}

fn delete(ctx: &mut Ctx, class: &str) -> CheckResult {
    if let Some(skip) = needs(ctx, class, &["create", "delete", "get"]) {
        return Ok(skip);
    }
    let (_, uid) = ctx.create_sample(class)?;
    ctx.client
        .delete(&OpDelete::new(class, uid.clone()))
        .map_err(|e| format!("delete failed: {e}"))?;
    match ctx.client.get(&OpGet::new(class, uid.clone())) {
        Err(e) if e.kind == ErrorKind::UnknownUid => {
            let second = ctx.client.delete(&OpDelete::new(class, uid.clone()));
            ensure(
                matches!(&second, Err(e) if e.kind == ErrorKind::UnknownUid),
                || format!("a second delete answered {second:?}"),
            )?;
            Ok(Outcome::pass(
                "hard delete: the object is gone and a second delete answers unknown_uid",
            ))
        }
        Ok(reply) if reply.object.enabled == Some(false) => Ok(Outcome::pass(
            "soft delete: the object is kept, disabled (the connector's deprovisioning mode)",
        )),
        other => Err(format!("after delete, get answered {other:?}").into()),
    }
}

fn enable_disable(ctx: &mut Ctx, class: &str) -> CheckResult {
    if let Some(skip) = needs(ctx, class, &["create", "update", "get"]) {
        return Ok(skip);
    }
    let (op, uid) = ctx.create_sample(class)?;
    for enabled in [false, true] {
        ctx.client
            .update(&OpUpdate::new(class, uid.clone()).enabled(enabled))
            .map_err(|e| format!("setting enabled={enabled}: {e}"))?;
        let got = get(ctx, class, &uid)?;
        ensure(got.enabled == Some(enabled), || {
            format!("enabled={enabled} read back {:?}", got.enabled)
        })?;
        if !enabled
            && ctx
                .manifest()
                .capabilities
                .class(class)
                .is_some_and(|c| c.search)
        {
            let found = ctx
                .client
                .search_all(&OpSearch::new(class).filter(Filter::name(&op.name)))
                .map_err(|e| e.to_string())?;
            ensure(found.len() == 1, || {
                "a disabled object is not found by search".into()
            })?;
        }
    }
    Ok(Outcome::pass(
        "disable and enable round-trip; a disabled object is still found",
    ))
}
