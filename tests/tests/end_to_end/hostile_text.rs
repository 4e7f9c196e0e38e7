//! Server text that attacks a terminal or a report (ESC sequences, BEL, CR and a forged status
//! line) is shown, never executed: the `test` table stays inert and JUnit stays valid XML 1.0.

use std::process::Command;

use crate::common::Sim;
use connector_tests::{atlassian_plugin, host_harness};
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RouteClass};
use serde_json::json;

fn hostile(s: &Sim) {
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![FaultRule::new(FaultKind::HostileText, 1.0).on(&[RouteClass::SiteRead])],
        rate_limit: None,
    });
}

fn controls(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .copied()
        .filter(|b| b.is_ascii_control() && *b != b'\n')
        .collect()
}

#[test]
fn the_test_table_shows_control_characters_instead_of_sending_them() {
    let s = Sim::start();
    hostile(&s);
    let config = std::env::temp_dir().join(format!("hostile-{}.json", std::process::id()));
    std::fs::write(&config, s.sim.plugin_config().to_string()).unwrap();
    let out = Command::new(host_harness())
        .args(["test", atlassian_plugin().to_str().unwrap(), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    std::fs::remove_file(&config).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\\u{1b}[2J"), "the text is shown: {stdout}");
    assert_eq!(
        controls(&out.stdout),
        b"",
        "control bytes reached the terminal: {stdout:?}"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("ok    scim.directory_api_key  forged")),
        "a forged status line: {stdout}"
    );
}

#[test]
fn junit_stays_valid_xml_whatever_the_checks_say() {
    let s = Sim::start();
    hostile(&s);
    let suite = std::env::temp_dir().join(format!("hostile-suite-{}.json", std::process::id()));
    std::fs::write(
        &suite,
        json!({ "config": s.sim.plugin_config() }).to_string(),
    )
    .unwrap();
    let out = Command::new(host_harness())
        .args([
            "conform",
            atlassian_plugin().to_str().unwrap(),
            "--format",
            "junit",
            "--only",
            "connection.",
            "--suite",
        ])
        .arg(&suite)
        .output()
        .unwrap();
    std::fs::remove_file(&suite).ok();
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains("\\u{1b}"),
        "the hostile text is in the report, escaped: {xml}"
    );
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed XML at {}: {e}\n{xml}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(
        controls(xml.as_bytes()),
        b"",
        "control characters XML 1.0 forbids"
    );
}
