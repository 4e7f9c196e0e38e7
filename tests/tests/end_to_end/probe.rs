//! `host-harness probe` against the simulator's profiles: the report carries no credential,
//! the write probes leave nothing behind, and a comparison finds exactly where two
//! organizations differ (none between a profile and itself).

use std::process::Command;

use connector_tests::host_harness;
use host_harness::cli::probe::{ProbeConfig, compare, probe, probe_simulator};
use host_harness::sim::{OrgProfile, SimConfig};
use serde_json::Value;

use crate::common::Sim;

fn report_of(s: &Sim, write: bool) -> host_harness::cli::probe::ProbeReport {
    let config: ProbeConfig = serde_json::from_value(s.sim.plugin_config()).unwrap();
    probe(config, write, "live").unwrap()
}

#[test]
fn the_write_probes_clean_up_and_the_report_holds_no_secret() {
    let s = Sim::with(SimConfig::default());
    let before = s.store();
    let report = report_of(&s, true);
    let after = s.store();
    for part in ["users", "groups"] {
        assert_eq!(before[part], after[part], "the probe left {part} behind");
    }
    let creds = s.sim.credentials();
    let text = report.redacted_json(&[
        creds.service_account_token.clone(),
        creds.directory_api_key.clone(),
    ]);
    assert!(
        !text.contains(&creds.service_account_token) && !text.contains(&creds.directory_api_key)
    );
    let facts = |name: &str| -> Value {
        let o = report
            .observations
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        serde_json::json!({"status": o.status, "facts": o.facts})
    };
    assert_eq!(facts("write.jira_add_existing_member")["status"], 400);
    assert_eq!(facts("write.replace_user_name")["facts"]["applied"], true);
    assert_eq!(
        facts("site.myself")["status"],
        401,
        "a scoped token at the site"
    );
    assert_eq!(facts("gateway.myself")["status"], 200);
    for cleanup in ["cleanup.user", "cleanup.group", "cleanup.site_group"] {
        let status = facts(cleanup)["status"].as_u64().unwrap();
        assert!((200..300).contains(&status), "{cleanup}: {status}");
    }
}

#[test]
fn a_comparison_finds_the_differences_between_the_profiles_and_none_within_one() {
    let s = Sim::with(SimConfig::default());
    let modern = report_of(&s, true);
    let same = probe_simulator(OrgProfile::Modern, &modern).unwrap();
    assert_eq!(compare(&modern, &same), []);
    let legacy = probe_simulator(OrgProfile::Legacy, &modern).unwrap();
    let differences = compare(&modern, &legacy);
    let names: Vec<&str> = differences.iter().map(|d| d.name.as_str()).collect();
    assert!(
        names.contains(&"jira.group_bulk.site_admin"),
        "{differences:?}"
    );
    assert!(names.contains(&"site.myself"), "{differences:?}");

    // The command: exit 1 and each difference printed.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_string(&modern).unwrap()).unwrap();
    let out = Command::new(host_harness())
        .args(["probe", "--compare"])
        .arg(file.path())
        .args(["--org", "legacy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("jira.group_bulk.site_admin"), "{stdout}");
}
