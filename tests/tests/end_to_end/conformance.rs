//! The conformance suite against the real libraries: the Atlassian plugin (embedded simulator)
//! and the example connector pass it whole; the broken fixture fails exactly its four planted
//! defects, each with a useful reason; the JUnit report is well-formed XML.

use std::collections::BTreeSet;
use std::process::Command;

use connector_tests::{
    broken_connector, fixture_suite, host_harness, memory_connector, workspace_file,
};
use host_harness::cli::conform::{ConformArgs, Format, report};
use host_harness::conformance::Report;
use host_harness::conformance::check::Status;
use host_harness::sim::OrgProfile;

fn run(plugin: Option<std::path::PathBuf>, suite: Option<std::path::PathBuf>) -> Report {
    run_on(plugin, suite, None)
}

fn run_on(
    plugin: Option<std::path::PathBuf>,
    suite: Option<std::path::PathBuf>,
    org: Option<OrgProfile>,
) -> Report {
    report(&ConformArgs {
        plugin,
        config: None,
        suite,
        org,
        only: None,
        format: Format::Table,
        out: None,
        lenient: false,
        isolate: false,
        progress: None,
    })
    .expect("the suite runs")
}

fn named(report: &Report, status: Status) -> BTreeSet<String> {
    report
        .checks
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.name.clone())
        .collect()
}

fn reason<'a>(report: &'a Report, name: &str) -> &'a str {
    &report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"))
        .reason
}

#[test]
fn the_atlassian_plugin_passes_against_the_simulator() {
    let report = run(Some(connector_tests::atlassian_plugin()), None);
    assert!(report.ok(), "{}", report.table(false));
    let passed = named(&report, Status::Pass);
    for must in [
        "boundary.panic_contained",
        "boundary.timeout_honoured",
        "boundary.cancellation_honoured",
        "connection.bad_credentials_named",
        "lifecycle.user.duplicate_create",
        "lifecycle.group.duplicate_create",
        "membership.add_remove_both_sides",
        "search.user.paging",
        "resilience.retry_after_honoured",
        "resilience.server_errors_retried",
        "resilience.lost_create_not_duplicated",
        "resilience.adoption_verified",
        "resilience.credentials_mapped",
        "resilience.dead_endpoint_fails_fast",
        "completeness.short_pages",
        "completeness.ignored_start_index",
        "completeness.total_too_low",
        "completeness.total_too_high",
        "completeness.total_huge",
        "completeness.inserts_during_the_read",
        "completeness.missing_ids",
        "completeness.oversized_page",
        "completeness.ignored_filter",
        "completeness.empty_pages",
        "hygiene.cleanup",
        "hygiene.no_secret_leaked",
    ] {
        assert!(
            passed.contains(must),
            "{must} did not pass:\n{}",
            report.table(false)
        );
    }
    assert!(report.passed >= 45, "{}", report.table(false));
    for skipped in report.checks.iter().filter(|c| c.status == Status::Skip) {
        assert!(!skipped.reason.is_empty());
    }
}

/// The main job on the older kind of organization: group-based admin rights, the historical
/// default-group names, a user's unscoped token at the Site URL.
#[test]
fn the_atlassian_plugin_passes_on_a_legacy_organization() {
    let report = run_on(
        Some(connector_tests::atlassian_plugin()),
        None,
        Some(OrgProfile::Legacy),
    );
    assert!(report.ok(), "{}", report.table(false));
    assert!(report.passed >= 45, "{}", report.table(false));
}

/// Where Atlassian's sources leave a behaviour open, the simulator has a switch, and the suite
/// passes under every setting.
#[test]
fn the_atlassian_plugin_passes_under_each_open_behaviour() {
    let suite: serde_json::Value =
        serde_json::from_str(host_harness::cli::conform::ATLASSIAN_SUITE).unwrap();
    let settings = [
        serde_json::json!({"jira_no_op": "conflict", "forbidden_as_404": true}),
        serde_json::json!({"jira_no_op": "success", "account_id_in_create_response": false}),
        serde_json::json!({"user_name_change": "refused", "synced_group_write_status": 403}),
        serde_json::json!({"strict_patch": true, "user_name_change": "ignored"}),
    ];
    // Each run mostly waits on the simulator's propagation delay: all at once.
    std::thread::scope(|scope| {
        let runs: Vec<_> = settings
            .iter()
            .map(|switches| {
                let mut suite = suite.clone();
                suite["switches"] = switches.clone();
                scope.spawn(move || {
                    let file = tempfile::NamedTempFile::new().unwrap();
                    std::fs::write(file.path(), suite.to_string()).unwrap();
                    run(
                        Some(connector_tests::atlassian_plugin()),
                        Some(file.path().to_owned()),
                    )
                })
            })
            .collect();
        for (switches, run) in settings.iter().zip(runs) {
            let report = run.join().expect("the suite runs");
            assert!(report.ok(), "{switches}:\n{}", report.table(false));
        }
    });
}

#[test]
fn the_example_connector_passes_its_suite() {
    let report = run(
        Some(memory_connector()),
        Some(workspace_file(
            "connector-api/examples/memory_connector.conformance.json",
        )),
    );
    assert!(report.ok(), "{}", report.table(false));
    assert!(report.passed >= 40, "{}", report.table(false));
    // Only what the in-memory target cannot do is skipped, and each skip says why.
    for c in report.checks.iter().filter(|c| c.status == Status::Skip) {
        assert!(
            c.name.starts_with("resilience.")
                || c.name.starts_with("completeness.")
                || c.name == "connection.bad_credentials_named",
            "{}: {}",
            c.name,
            c.reason
        );
    }
}

#[test]
fn the_broken_fixture_fails_exactly_its_planted_defects() {
    let report = run(
        Some(broken_connector()),
        Some(fixture_suite("broken-connector")),
    );
    let failed = named(&report, Status::Fail);
    let expected: BTreeSet<String> = [
        "connection.test_passes",
        "lifecycle.user.unknown_uid",
        "search.user.paging",
    ]
    .map(String::from)
    .into();
    assert_eq!(failed, expected, "{}", report.table(false));
    assert!(reason(&report, "connection.test_passes").contains("panicked"));
    assert!(
        reason(&report, "lifecycle.user.unknown_uid").contains("update of an unknown uid answered")
    );
    assert!(reason(&report, "search.user.paging").contains("duplicates"));
    // Defect 4 puts the token in an error and in trace lines: the SDK redacts both at the
    // boundary, so the suite, which looks for every encoding and fragment, finds nothing.
    let scan = reason(&report, "hygiene.no_secret_leaked");
    assert!(scan.contains("none found"), "{scan}");
    let log_lines: u64 = scan
        .split(" outputs and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        log_lines > 0,
        "the trace lines of `get` were scanned: {scan}"
    );
    let everything =
        serde_json::to_string(&report).unwrap() + &report.table(false) + &report.junit();
    assert!(
        !everything.contains("bfx-R4tY8uI2oP6aS9dFgH"),
        "the report repeats the leaked secret"
    );
}

#[test]
fn junit_reports_are_well_formed_xml() {
    let report = run(
        Some(broken_connector()),
        Some(fixture_suite("broken-connector")),
    );
    let xml = report.junit();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut skipped) = (0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        (cases, failures, skipped),
        (report.checks.len(), report.failed, report.skipped)
    );
}

#[test]
fn the_command_line_exits_by_the_result() {
    let ok = Command::new(host_harness())
        .args(["conform", memory_connector().to_str().unwrap(), "--suite"])
        .arg(workspace_file(
            "connector-api/examples/memory_connector.conformance.json",
        ))
        .args(["--only", "lifecycle.user"])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let table = String::from_utf8_lossy(&ok.stdout);
    assert!(
        table.contains("lifecycle.user.create_and_read_back") && !table.contains("search."),
        "{table}"
    );
    assert!(!table.contains("\u{1b}["), "no colour when piped");
    let bad = Command::new(host_harness())
        .args(["conform", broken_connector().to_str().unwrap(), "--suite"])
        .arg(fixture_suite("broken-connector"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("JSON report");
    assert_eq!(json["failed"], 3, "the three defects the SDK cannot repair");
}

#[test]
fn isolate_turns_a_crashing_plugin_into_a_failed_check() {
    let out = Command::new(host_harness())
        .args([
            "conform",
            broken_connector().to_str().unwrap(),
            "--isolate",
            "--format",
            "json",
            "--suite",
        ])
        .arg(
            connector_tests::fixture_suite("broken-connector")
                .with_file_name("conformance-abort.json"),
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the host survived and reports the failure"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["failed"], 1);
    let check = &report["checks"][0];
    assert_eq!(check["name"], "boundary.process_survived");
    let reason = check["reason"].as_str().unwrap();
    // abort() is SIGABRT on Unix; on Windows the process exits with a status code.
    let death = if cfg!(unix) {
        "signal 6"
    } else {
        "exited with code"
    };
    assert!(
        reason.contains(death) && reason.contains("after `boundary.cancellation_honoured`"),
        "{reason}"
    );
}
