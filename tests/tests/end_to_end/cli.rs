//! The `host-harness` binary's first commands, `inspect` and `call`, as a person runs them.

use std::path::Path;
use std::process::{Command, Output};

use connector_tests::{host_harness, incompatible_version, memory_connector};
use serde_json::{Value, json};

const TOKEN: &str = "cli-secret-token-4711";

fn run(args: &[&str]) -> Output {
    Command::new(host_harness())
        .args(args)
        .output()
        .expect("host-harness runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn config_file(dir: &Path, name: &str, config: Value) -> String {
    let path = dir.join(format!("{name}-{}.json", std::process::id()));
    std::fs::write(&path, config.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn assert_no_secret(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !text(stream).contains(TOKEN),
            "the token leaked:\n{}",
            text(stream)
        );
    }
}

#[test]
fn inspect_prints_manifest_capabilities_and_schema() {
    let lib = memory_connector();
    let out = run(&["inspect", lib.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for expected in [
        "memory-example",
        "connector-api 0.1.0",
        "user",
        "group",
        "api_token",
        "secret (writeOnly)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    let out = run(&["inspect", lib.to_str().unwrap(), "--json"]);
    let manifest: connector_api::Manifest = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest.name, "memory-example");
}

#[test]
fn inspect_of_a_bad_library_prints_the_summary_and_fails() {
    let out = run(&["inspect", "/nonexistent/lib.so"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: /nonexistent/lib.so: no such file"
    );
    let out = run(&["inspect", incompatible_version().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("built with 1.0.0"), "{stderr}");
}

#[test]
fn call_runs_operations_and_prints_errors_as_json() {
    let dir = std::env::temp_dir();
    let lib = memory_connector();
    let lib = lib.to_str().unwrap();
    let config = config_file(
        &dir,
        "good",
        json!({"tenant": "acme", "api_token": TOKEN, "seed_users": 3}),
    );

    let out = run(&["call", lib, "--config", &config, "validate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_secret(&out);

    let out = run(&[
        "call",
        lib,
        "--config",
        &config,
        "search",
        r#"{"class":"user","filter":{"eq":{"attribute":"__name__","value":"seed-00002"}}}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["count"], 1);
    assert_eq!(result["objects"][0]["uid"], "u-00000002");

    let out = run(&[
        "call",
        lib,
        "--config",
        &config,
        "create",
        r#"{"class":"user","name":"seed-00001","attributes":{"email":"a@b.co"}}"#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "already_exists");
    assert_eq!(error["error"]["details"]["uid"], "u-00000001");

    let out = run(&[
        "call",
        lib,
        "--config",
        &config,
        "get",
        r#"{"class":"user","uid":"u-nope"}"#,
    ]);
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "unknown_uid");
    assert_no_secret(&out);

    let bad = config_file(&dir, "bad", json!({"tenant": "", "api_token": TOKEN}));
    let out = run(&["call", lib, "--config", &bad, "validate"]);
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "invalid_configuration");
    assert_eq!(error["error"]["details"]["field"], "tenant");
    assert_no_secret(&out);
    std::fs::remove_file(&config).ok();
    std::fs::remove_file(&bad).ok();
}

#[test]
fn recon_streams_every_object_to_json_lines() {
    let sim = host_harness::sim::Simulator::start(host_harness::sim::SimConfig {
        users: 321,
        groups: 4,
        ..Default::default()
    })
    .unwrap();
    let dir = std::env::temp_dir();
    let config = config_file(&dir, "recon", sim.plugin_config());
    let out = dir.join(format!("recon-{}.jsonl", std::process::id()));
    let plugin = connector_tests::atlassian_plugin();
    let run = run(&[
        "recon",
        plugin.to_str().unwrap(),
        "--config",
        &config,
        "--page-size",
        "50",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("321 user objects") && stderr.contains("announced 321"),
        "{stderr}"
    );
    let lines = std::fs::read_to_string(&out).unwrap();
    let uids: std::collections::BTreeSet<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<connector_api::ConnectorObject>(l)
                .expect("one object per line")
                .uid
                .0
        })
        .collect();
    assert_eq!((lines.lines().count(), uids.len()), (321, 321));
    for secret in [
        &sim.credentials().directory_api_key,
        &sim.credentials().admin_api_token,
    ] {
        assert!(!lines.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    }
    std::fs::remove_file(&out).ok();
    std::fs::remove_file(&config).ok();
}

#[test]
fn the_connectors_requests_and_retries_reach_the_host_log() {
    use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RouteClass};
    let sim = crate::common::Sim::start();
    // The first SCIM read answers 503; the retry gets the real answer, a 404.
    let one_503 = || {
        sim.set_faults(FaultPlan {
            seed: 3,
            rules: vec![
                FaultRule::new(FaultKind::Unavailable, 1.0)
                    .on(&[RouteClass::ScimRead])
                    .first(1),
            ],
            rate_limit: None,
        })
    };
    one_503();
    let config = config_file(
        &std::env::temp_dir(),
        "request-log",
        sim.sim.plugin_config(),
    );
    let plugin = connector_tests::atlassian_plugin();
    let get = r#"{"class":"user","uid":"no-such-user","attributes_to_get":["email"]}"#;
    let quiet = run(&[
        "call",
        plugin.to_str().unwrap(),
        "--config",
        &config,
        "get",
        get,
    ]);
    let quiet = text(&quiet.stderr);
    assert!(
        !quiet.contains("SCIM GET"),
        "a retry that succeeds is not a warning:\n{quiet}"
    );
    one_503();
    let verbose = run(&[
        "-vv",
        "call",
        plugin.to_str().unwrap(),
        "--config",
        &config,
        "get",
        get,
    ]);
    let log = text(&verbose.stderr);
    let path = "/Users/no-such-user";
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(path)).collect();
    assert_eq!(
        lines.len(),
        3,
        "an attempt, a retry notice, an attempt:\n{log}"
    );
    assert!(
        lines[0].contains("DEBUG") && lines[0].contains("-> 503"),
        "{log}"
    );
    assert!(
        lines[1].contains("INFO") && lines[1].contains("retry 1 of"),
        "{log}"
    );
    assert!(
        lines[2].contains("DEBUG") && lines[2].contains("-> 404"),
        "{log}"
    );
    let key = &sim.sim.credentials().directory_api_key;
    assert!(!log.contains(key.as_str()), "{log}");

    // A request that stays unavailable is given up: the error says so, and at `-v` the log
    // explains it; the default level shows nothing the error does not.
    let mut stingy = sim.sim.plugin_config();
    stingy["retry_budget"] = json!(1);
    let stingy = config_file(&std::env::temp_dir(), "request-log-stingy", stingy);
    sim.set_faults(FaultPlan {
        seed: 3,
        rules: vec![FaultRule::new(FaultKind::Unavailable, 1.0).on(&[RouteClass::ScimRead])],
        rate_limit: None,
    });
    let failed = run(&[
        "-v",
        "call",
        plugin.to_str().unwrap(),
        "--config",
        &stingy,
        "get",
        get,
    ]);
    let log = text(&failed.stderr);
    assert!(!failed.status.success(), "{log}");
    assert!(
        log.lines().any(|l| l.contains("INFO")
            && l.contains(path)
            && l.contains("giving up after 2 attempts, the retry budget is spent")),
        "{log}"
    );

    // Pages after the first are read in spawned tasks: their lines reach the host too.
    sim.set_faults(FaultPlan::default());
    let (status, seeded) = crate::common::send(
        sim.control(reqwest::Method::POST, "/seed")
            .json(&json!({"users": 30, "groups": 0, "seed": 1})),
    );
    assert_eq!(status, 200, "{seeded}");
    let search = run(&[
        "-vv",
        "call",
        plugin.to_str().unwrap(),
        "--config",
        &config,
        "search",
        r#"{"class":"user","page_size":7}"#,
    ]);
    let log = text(&search.stderr);
    assert!(search.status.success(), "{log}");
    let later_pages = log
        .lines()
        .filter(|l| l.contains("/Users?startIndex=") && !l.contains("startIndex=1&"))
        .count();
    assert!(later_pages >= 4, "{later_pages} later pages logged:\n{log}");
    std::fs::remove_file(&config).ok();
    std::fs::remove_file(&stingy).ok();
}

#[test]
fn recon_compares_the_target_with_what_idhub_expects() {
    let sim = crate::common::Sim::with(host_harness::sim::SimConfig {
        users: 40,
        groups: 2,
        ..Default::default()
    });
    let dir = std::env::temp_dir();
    let config = config_file(&dir, "drift", sim.sim.plugin_config());
    let plugin = connector_tests::atlassian_plugin();
    let plugin = plugin.to_str().unwrap();
    let file = |name: &str| dir.join(format!("drift-{name}-{}.jsonl", std::process::id()));
    let all = file("all");
    let read = run(&[
        "recon",
        plugin,
        "--config",
        &config,
        "--out",
        all.to_str().unwrap(),
    ]);
    assert!(read.status.success(), "{}", text(&read.stderr));
    let mut objects: Vec<Value> = std::fs::read_to_string(&all)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 40);

    // IDHub knows the first 30: one with another title, one not linked yet (no uid, name in
    // capitals), one it wants disabled; and one the target never had.
    let mut expected: Vec<Value> = objects.drain(..30).collect();
    expected[0]["attributes"]["title"] = json!("Expected Title");
    expected[1]["uid"] = json!("");
    expected[1]["name"] = json!(expected[1]["name"].as_str().unwrap().to_uppercase());
    expected[2]["enabled"] = json!(false);
    expected.push(json!({"uid": "", "name": "ghost@acme.example.com"}));
    let expected_path = file("expected");
    let lines: Vec<String> = expected.iter().map(Value::to_string).collect();
    std::fs::write(&expected_path, lines.join("\n")).unwrap();

    let findings_path = file("findings");
    let compared = run(&[
        "recon",
        plugin,
        "--config",
        &config,
        "--expected",
        expected_path.to_str().unwrap(),
        "--out",
        findings_path.to_str().unwrap(),
    ]);
    let stderr = text(&compared.stderr);
    assert!(compared.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "28 in sync, 2 differ, 10 unmatched (target only), 1 missing (expected only)"
        ),
        "{stderr}"
    );
    let findings: Vec<Value> = std::fs::read_to_string(&findings_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |situation: &str| -> Vec<&Value> {
        findings
            .iter()
            .filter(|f| f["situation"] == situation)
            .collect()
    };
    assert_eq!(
        (
            of("differs").len(),
            of("unmatched").len(),
            of("missing").len()
        ),
        (2, 10, 1)
    );
    let title = of("differs")
        .into_iter()
        .find(|f| f["uid"] == expected[0]["uid"])
        .expect("the changed title is found");
    assert_eq!(
        title["differences"]["title"]["expected"], "Expected Title",
        "{title}"
    );
    assert_eq!(
        title["differences"]["title"]["actual"],
        objects_title(&all, &expected[0]["uid"]),
        "{title}"
    );
    assert!(
        of("differs")
            .iter()
            .any(|f| f["differences"]["__enabled__"]["actual"] == true)
    );
    assert_eq!(of("missing")[0]["name"], "ghost@acme.example.com");
    let unmatched: Vec<&Value> = of("unmatched").iter().map(|f| &f["uid"]).collect();
    assert!(objects.iter().all(|o| unmatched.contains(&&o["uid"])));

    // A line that is not an object is refused, naming the line.
    std::fs::write(&expected_path, format!("{}\n[1, 2]\n", lines[0])).unwrap();
    let refused = run(&[
        "recon",
        plugin,
        "--config",
        &config,
        "--expected",
        expected_path.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("line 2: not a connector object"),
        "{}",
        text(&refused.stderr)
    );
    for path in [&all, &expected_path, &findings_path] {
        std::fs::remove_file(path).ok();
    }
    std::fs::remove_file(&config).ok();
}

/// The title the target holds for `uid`, as a plain read wrote it.
fn objects_title(all: &Path, uid: &Value) -> Value {
    std::fs::read_to_string(all)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|o| &o["uid"] == uid)
        .map(|o| o["attributes"]["title"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn a_suite_that_says_nothing_fails_unless_lenient_and_the_builtin_suite_fits_only_atlassian() {
    let dir = tempfile::tempdir().unwrap();
    let suite = config_file(
        dir.path(),
        "bare-suite",
        json!({"config": {"tenant": "t", "api_token": TOKEN}}),
    );
    let lib = memory_connector();
    let lib = lib.to_string_lossy();
    let strict = run(&["conform", &lib, "--suite", &suite]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stdout));
    assert!(
        text(&strict.stdout).contains(
            "declared `create`, `get` for class `user`, but the suite has no `classes.user` sample"
        ),
        "{}",
        text(&strict.stdout)
    );
    let lenient = run(&["conform", &lib, "--suite", &suite, "--lenient"]);
    assert_eq!(lenient.status.code(), Some(0), "{}", text(&lenient.stdout));
    let builtin = run(&["conform", &lib]);
    assert_eq!(builtin.status.code(), Some(2));
    assert!(
        text(&builtin.stderr).contains("no --suite was given"),
        "{}",
        text(&builtin.stderr)
    );
}

#[test]
fn the_suite_schema_refuses_unknown_keys_and_the_crate_docs_name_every_key() {
    let out = run(&["suite", "--schema"]);
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let docs = include_str!("../../../connector-api/src/lib.rs");
    for key in schema["properties"].as_object().expect("properties").keys() {
        assert!(
            docs.contains(&format!("`{key}`")),
            "the crate docs do not name `{key}`"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let typo = config_file(
        dir.path(),
        "typo-suite",
        json!({"config": {}, "clases": {}}),
    );
    let checked = run(&["suite", &typo]);
    assert_eq!(checked.status.code(), Some(2));
    assert!(text(&checked.stderr).contains("unknown field `clases`"));
}
