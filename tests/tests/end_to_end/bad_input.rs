//! Bad input of every kind, refused clearly: hostile configurations, malformed operation
//! inputs and malformed server answers, each through the real library, each with its expected
//! error kind and a fragment of its message; no panic, no secret in any error, and nothing
//! written that is not reported.

use crate::common::{Sim, atlassian};
use connector_api::host::{CallOptions, ConnectorClient};
use connector_api::ops::{OpCreate, OpGet, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, ConnectorError, ErrorKind, Filter};
use connector_tests::{atlassian_plugin, load};
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RouteClass};
use serde_json::{Value, json};

/// One case: what it is, the kind and message fragment expected, and the outcome.
struct Case {
    name: String,
    kind: ErrorKind,
    fragment: &'static str,
    outcome: Result<(), ConnectorError>,
}

fn case(
    name: &str,
    kind: ErrorKind,
    fragment: &'static str,
    outcome: Result<impl Sized, ConnectorError>,
) -> Case {
    Case {
        name: name.to_owned(),
        kind,
        fragment,
        outcome: outcome.map(drop),
    }
}

fn good_config() -> Value {
    json!({
        "site_url": "https://acme.atlassian.net",
        "scim_url": "https://api.atlassian.com/scim/directory/d-1",
        "account_security_api_key": "cst-Nw4Ek7Ru2Yi9Oa5",
        "admin_email": "svc@acme.com",
        "directory_id": "d-1",
        "directory_api_key": "cdk-Ua5Ls8Dj3Fh6Gm1",
    })
}

fn config_cases() -> Vec<Case> {
    let lib = load(&atlassian_plugin());
    let with = |patch: Value| {
        let mut c = good_config();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let invalid = ErrorKind::InvalidConfiguration;
    let mut cases = vec![
        (
            "a site URL of the wrong type",
            with(json!({"site_url": 7})),
            "site_url",
        ),
        (
            "a page size of the wrong type",
            with(json!({"page_size": "ten"})),
            "page_size",
        ),
        (
            "default groups as a string",
            with(json!({"default_group_names": "jira-software-users"})),
            "default_group_names",
        ),
        (
            "an unknown field",
            with(json!({"surprise": true})),
            "surprise",
        ),
        (
            "http to a remote site",
            with(json!({"site_url": "http://acme.atlassian.net"})),
            "https",
        ),
        (
            "http to a remote SCIM host",
            with(json!({"scim_url": "http://api.atlassian.com/scim/directory/d-1"})),
            "scim_url",
        ),
        (
            "a Directory ID that disagrees with the SCIM URL",
            with(json!({"directory_id": "d-2"})),
            "directory_id",
        ),
        (
            "a page size beyond u32",
            with(json!({"page_size": 1_000_000_000_000u64})),
            "page_size",
        ),
        (
            "a request timeout of 31 years",
            with(json!({"request_timeout_secs": 1_000_000_000u64})),
            "request_timeout_secs",
        ),
        (
            "a 100 kB site URL",
            with(json!({"site_url": format!("https://{}.atlassian.net", "a".repeat(100_000))})),
            "site_url",
        ),
        (
            "a malformed admin email",
            with(json!({"admin_email": "svc@@acme"})),
            "admin_email",
        ),
        (
            "an empty directory key",
            with(json!({"directory_api_key": ""})),
            "directory_api_key",
        ),
        (
            "a blank API token",
            with(json!({"account_security_api_key": "   "})),
            "account_security_api_key",
        ),
        (
            "a SCIM URL without its directory",
            with(json!({"scim_url": "https://api.atlassian.com/scim"})),
            "scim_url",
        ),
        (
            "an ftp SCIM URL",
            with(json!({"scim_url": "ftp://api.atlassian.com/scim/directory/d-1"})),
            "scheme",
        ),
        (
            "credentials inside the site URL",
            with(json!({"site_url": "https://u:p@acme.atlassian.net"})),
            "credentials",
        ),
        (
            "a default group listed twice",
            with(json!({"default_group_names": ["a", "a"]})),
            "listed twice",
        ),
        (
            "zero concurrency",
            with(json!({"concurrency": 0})),
            "concurrency",
        ),
        (
            "a retry budget of 100",
            with(json!({"retry_budget": 100})),
            "retry_budget",
        ),
        (
            "an unknown deprovisioning mode",
            with(json!({"deprovisioning": "archive"})),
            "deprovisioning",
        ),
        ("a configuration that is an array", json!([1, 2]), "(root)"),
        ("a configuration that is a string", json!("site"), "(root)"),
    ]
    .into_iter()
    .map(|(name, config, fragment)| case(name, invalid, fragment, lib.validate(&config)))
    .collect::<Vec<_>>();
    cases.push(case(
        "a configuration that is null",
        invalid,
        "(root)",
        lib.open(&Value::Null),
    ));
    // What a careless admin pastes: keys in the wrong field, secrets of the wrong type,
    // passwords in URLs, documents in a field, lists beyond the schema.
    let many: Vec<String> = (0..80_000).map(|i| format!("group-{i}")).collect();
    let more = [
        (
            "a key pasted into page_size",
            with(json!({"page_size": PASTED_KEY})),
            "page_size",
        ),
        (
            "a key pasted into concurrency",
            with(json!({"concurrency": PASTED_KEY})),
            "concurrency",
        ),
        (
            "a numeric Directory API Key",
            with(json!({"directory_api_key": 12_345_678_901_234_567u64})),
            "directory_api_key",
        ),
        (
            "a password in a SCIM URL that does not parse",
            with(json!({"scim_url": format!("https://u:{URL_PASSWORD}@[::1/scim/directory/d-1")})),
            "scim_url",
        ),
        (
            "a password in a site URL",
            with(json!({"site_url": format!("https://u:{URL_PASSWORD}@acme.atlassian.net")})),
            "site_url",
        ),
        (
            "a 2 MB admin email",
            with(json!({"admin_email": "a".repeat(2 << 20)})),
            "admin_email",
        ),
        (
            "80,000 default group names",
            with(json!({"default_group_names": many})),
            "at most 50",
        ),
        (
            "a default group name of 300 characters",
            with(json!({"default_group_names": ["g".repeat(300)]})),
            "longer than 255",
        ),
        (
            "an API token of 15 characters",
            with(json!({"account_security_api_key": "short-token-15c"})),
            "at least 16",
        ),
        (
            "a Directory API Key of 9 characters",
            with(json!({"directory_api_key": "short-key"})),
            "at least 16",
        ),
        (
            "default group names as a string",
            with(json!({"default_group_names": "jira-software-users"})),
            "default_group_names",
        ),
        (
            "an admin email that is a number",
            with(json!({"admin_email": 42})),
            "admin_email",
        ),
    ];
    cases.extend(
        more.into_iter()
            .map(|(name, config, fragment)| case(name, invalid, fragment, lib.validate(&config))),
    );
    cases
}

/// A key an admin pastes into the wrong field; it must never be echoed.
const PASTED_KEY: &str = "ADV-DIRKEY-4f1c9a7e2b6d8035e1f7";
/// A password pasted into a URL; it must never be echoed.
const URL_PASSWORD: &str = "Url-Pw-7hQ2mX9vL4";

fn op_cases(c: &ConnectorClient) -> Vec<Case> {
    let raw = |op: &str, request: Value| c.call_json(op, &request, &CallOptions::default());
    let valid = |name: &str| OpCreate::new("user", name).attr("email", format!("{name}@acme.com"));
    let attr = ErrorKind::InvalidAttributeValue;
    vec![
        case(
            "a name of the wrong type",
            attr,
            "name",
            raw("create", json!({"class": "user", "name": 7})),
        ),
        case(
            "attributes that are not an object",
            attr,
            "attributes",
            raw(
                "create",
                json!({"class": "user", "name": "x", "attributes": []}),
            ),
        ),
        case(
            "a create without a class",
            attr,
            "class",
            raw("create", json!({"name": "x"})),
        ),
        case(
            "deltas that are not a list",
            attr,
            "deltas",
            raw(
                "update",
                json!({"class": "user", "uid": "u", "deltas": {"title": "x"}}),
            ),
        ),
        case(
            "an unknown attribute",
            attr,
            "shoe_size",
            c.create(&valid("a").attr("shoe_size", "9")),
        ),
        case(
            "an invalid email",
            attr,
            "email",
            c.create(&valid("b").attr("email", "b at acme")),
        ),
        case(
            "a title of 5,000 characters",
            attr,
            "title",
            c.create(&valid("c").attr("title", "t".repeat(5_000))),
        ),
        case(
            "a 10 MB payload",
            attr,
            "title",
            c.create(&valid("d").attr("title", "t".repeat(10_000_000))),
        ),
        case(
            "product access that is not a list",
            attr,
            "product_access",
            c.create(&valid("e").attr("product_access", 5)),
        ),
        case(
            "product access to a group not configured",
            attr,
            "product_access",
            c.create(&valid("f").attr("product_access", json!(["admins"]))),
        ),
        case(
            "two values for a single-valued attribute",
            attr,
            "title",
            c.update(
                &OpUpdate::new("user", "u-1")
                    .delta(AttributeDelta::replace("title", [json!("a"), json!("b")])),
            ),
        ),
        case(
            "a write to the read-only groups",
            attr,
            "groups",
            c.update(
                &OpUpdate::new("user", "u-1").delta(AttributeDelta::add("groups", [json!("g")])),
            ),
        ),
        case(
            "an empty user name",
            attr,
            "__name__",
            c.create(&OpCreate::new("user", " ").attr("email", "x@acme.com")),
        ),
        case(
            "members that are not strings",
            attr,
            "members",
            c.create(&OpCreate::new("group", "g1").attr("members", json!([1, 2]))),
        ),
        case(
            "an enabled flag on a group",
            attr,
            "__enabled__",
            c.create(&OpCreate::new("group", "g2").enabled(true)),
        ),
        case(
            "a filter on an unknown attribute",
            ErrorKind::InvalidFilter,
            "shoe_size",
            c.search_all(&OpSearch::new("user").filter(Filter::eq("shoe_size", "9"))),
        ),
        case(
            "the uid `..`, which a URL resolves to the collection",
            ErrorKind::UnknownUid,
            "..",
            c.get(&OpGet::new("user", "..")),
        ),
        case(
            "the uid `.`",
            ErrorKind::UnknownUid,
            "not the id of one resource",
            c.delete(&connector_api::ops::OpDelete::new("group", ".")),
        ),
        case(
            "an empty uid",
            ErrorKind::UnknownUid,
            "an empty uid",
            raw("delete", json!({"class": "user", "uid": ""})),
        ),
        case(
            "1,001 product-access values",
            attr,
            "product_access",
            c.create(&valid("e").attr("product_access", vec![json!("confluence-users"); 1_001])),
        ),
        case(
            "a member uid that is empty",
            attr,
            "members",
            c.create(&OpCreate::new("group", "g3").attr("members", json!([""]))),
        ),
        case(
            "a member uid with a slash",
            attr,
            "members",
            c.create(&OpCreate::new("group", "g4").attr("members", json!(["a/b"]))),
        ),
    ]
}

fn server_cases(s: &Sim, c: &ConnectorClient) -> Vec<Case> {
    let once = |kind: FaultKind, routes: &[RouteClass]| {
        s.set_faults(FaultPlan {
            seed: 1,
            rules: vec![FaultRule::new(kind, 0.0).on(routes).first(1)],
            rate_limit: None,
        });
    };
    let read = [RouteClass::ScimRead];
    let failed = ErrorKind::ConnectionFailed;
    let mut cases = Vec::new();
    let mut run = |name: &str,
                   kind: FaultKind,
                   routes: &[RouteClass],
                   fragment: &'static str,
                   f: &dyn Fn() -> Result<(), ConnectorError>| {
        once(kind, routes);
        cases.push(case(name, failed, fragment, f()));
    };
    let get = || c.get(&OpGet::new("user", "u-1")).map(drop);
    let search = || c.search_all(&OpSearch::new("user")).map(drop);
    run(
        "a body that is not JSON",
        FaultKind::InvalidJson,
        &read,
        "could not be read",
        &get,
    );
    run(
        "fields of the wrong types",
        FaultKind::WrongTypes,
        &read,
        "could not be read (at `totalResults`)",
        &search,
    );
    run(
        "a user without its fields",
        FaultKind::MissingFields,
        &read,
        "userName",
        &get,
    );
    run("a 40 MiB body", FaultKind::HugeBody, &read, "exceeds", &get);
    run(
        "an HTML page for JSON",
        FaultKind::HtmlBody,
        &read,
        "could not be read",
        &get,
    );
    run(
        "a redirect to another host",
        FaultKind::Redirect,
        &read,
        "redirect",
        &get,
    );
    run(
        "a create answered with garbage",
        FaultKind::WrongTypes,
        &[RouteClass::ScimWrite],
        "could not be read",
        &|| {
            c.create(&OpCreate::new("user", "garbage@acme.com").attr("email", "garbage@acme.com"))
                .map(drop)
        },
    );
    s.set_faults(FaultPlan::default());
    cases
}

#[test]
fn every_bad_input_is_refused_with_its_kind_and_cause() {
    let s = Sim::start();
    let c = atlassian(&s, json!({"retry_budget": 1}));
    let mut cases = config_cases();
    cases.extend(op_cases(&c));
    cases.extend(server_cases(&s, &c));
    assert!(cases.len() >= 60, "only {} cases", cases.len());

    let secrets = [
        "cst-Nw4Ek7Ru2Yi9Oa5".to_owned(),
        "cdk-Ua5Ls8Dj3Fh6Gm1".to_owned(),
        PASTED_KEY.to_owned(),
        URL_PASSWORD.to_owned(),
        "12345678901234567".to_owned(),
        s.sim.credentials().directory_api_key.clone(),
        s.sim.credentials().admin_api_token.clone(),
    ];
    let mut problems = Vec::new();
    for case in &cases {
        match &case.outcome {
            Ok(()) => problems.push(format!("{}: accepted", case.name)),
            Err(e) => {
                if e.kind != case.kind {
                    problems.push(format!(
                        "{}: `{}`, expected `{}`: {}",
                        case.name, e.kind, case.kind, e.message
                    ));
                }
                let text = serde_json::to_string(e).unwrap();
                if !text.contains(case.fragment) {
                    problems.push(format!(
                        "{}: the error does not say `{}`: {}",
                        case.name, case.fragment, e.message
                    ));
                }
                if let Some(secret) = secrets.iter().find(|s| text.contains(s.as_str())) {
                    problems.push(format!(
                        "{}: the error contains a secret ({} chars)",
                        case.name,
                        secret.len()
                    ));
                }
                if e.message.len() > 2_000 {
                    problems.push(format!(
                        "{}: a message of {} bytes",
                        case.name,
                        e.message.len()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases wrong:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
    // Nothing was written by a refused request, nor by the create answered with garbage.
    assert_eq!(
        s.store()["users"],
        json!([]),
        "a refused request left a user behind"
    );
    println!(
        "bad input: {} cases, each refused with its kind and cause, no secret, no write",
        cases.len()
    );
}

/// A configuration path that is a device, a FIFO or a huge file is refused at once, exit 2.
#[test]
#[cfg(unix)]
fn config_files_are_regular_and_small() {
    let dir = std::env::temp_dir();
    let fifo = dir.join(format!("config-fifo-{}", std::process::id()));
    let big = dir.join(format!("config-big-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(&big, format!("{{\"x\":\"{}\"}}", "a".repeat(2 << 20))).unwrap();
    for (path, says) in [
        (std::path::PathBuf::from("/dev/zero"), "not a regular file"),
        (fifo.clone(), "not a regular file"),
        (big.clone(), "larger than 1 MiB"),
    ] {
        let out = std::process::Command::new(connector_tests::host_harness())
            .args(["validate", atlassian_plugin().to_str().unwrap(), "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains(says), "{stderr}");
    }
    let _ = std::fs::remove_file(&fifo);
    let _ = std::fs::remove_file(&big);
}
