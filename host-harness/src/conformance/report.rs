//! The report of a run: a table people read (colour on a terminal), JSON, and JUnit XML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use connector_api::Manifest;
use serde::Serialize;

use super::check::{CheckReport, Status};
use crate::inert::{for_terminal, for_xml};

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The connector's name.
    pub connector: String,
    /// Its version.
    pub version: String,
    /// The library.
    pub plugin: PathBuf,
    /// Every check, in the order run.
    pub checks: Vec<CheckReport>,
    /// Checks passed.
    pub passed: usize,
    /// Checks failed.
    pub failed: usize,
    /// Checks skipped.
    pub skipped: usize,
    /// The whole run, in milliseconds.
    pub duration_ms: u64,
}

impl Report {
    /// An empty report for a connector.
    pub fn new(manifest: &Manifest, plugin: &Path) -> Self {
        Report {
            connector: manifest.name.clone(),
            version: manifest.version.clone(),
            plugin: plugin.to_path_buf(),
            checks: Vec::new(),
            passed: 0,
            failed: 0,
            skipped: 0,
            duration_ms: 0,
        }
    }

    /// Adds a check's result.
    pub fn push(&mut self, check: CheckReport) {
        match check.status {
            Status::Pass => self.passed += 1,
            Status::Fail => self.failed += 1,
            Status::Skip => self.skipped += 1,
        }
        self.checks.push(check);
    }

    /// Closes the report.
    pub fn finish(mut self, duration: Duration) -> Self {
        self.duration_ms = duration.as_millis() as u64;
        self
    }

    /// A report read back from its JSON (as `--format json` writes it).
    pub fn from_json(text: &str) -> Option<Report> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let mut report = Report {
            connector: v["connector"].as_str()?.to_owned(),
            version: v["version"].as_str().unwrap_or_default().to_owned(),
            plugin: PathBuf::from(v["plugin"].as_str().unwrap_or_default()),
            checks: Vec::new(),
            passed: 0,
            failed: 0,
            skipped: 0,
            duration_ms: v["duration_ms"].as_u64().unwrap_or(0),
        };
        for c in v["checks"].as_array()? {
            let status = match c["status"].as_str()? {
                "pass" => Status::Pass,
                "fail" => Status::Fail,
                _ => Status::Skip,
            };
            report.push(CheckReport {
                name: c["name"].as_str()?.to_owned(),
                status,
                reason: c["reason"].as_str().unwrap_or_default().to_owned(),
                duration: Duration::from_millis(c["duration"].as_u64().unwrap_or(0)),
            });
        }
        Some(report)
    }

    /// The report of a run whose plugin process died: one failed check saying how.
    pub fn crashed(plugin: &Path, reason: String) -> Report {
        let mut report = Report {
            connector: "(unknown: the plugin's process died)".into(),
            version: String::new(),
            plugin: plugin.to_path_buf(),
            checks: Vec::new(),
            passed: 0,
            failed: 0,
            skipped: 0,
            duration_ms: 0,
        };
        report.push(CheckReport {
            name: "boundary.process_survived".into(),
            status: Status::Fail,
            reason,
            duration: Duration::ZERO,
        });
        report
    }

    /// Whether nothing failed.
    pub fn ok(&self) -> bool {
        self.failed == 0
    }

    /// The human table; `colour` adds ANSI colours.
    pub fn table(&self, colour: bool) -> String {
        let paint = |status: Status| {
            let (text, code) = match status {
                Status::Pass => ("PASS", "32"),
                Status::Fail => ("FAIL", "31"),
                Status::Skip => ("SKIP", "33"),
            };
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let width = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(10)
            .min(60);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Conformance of {} {} ({})",
            for_terminal(&self.connector),
            for_terminal(&self.version),
            for_terminal(&self.plugin.display().to_string())
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "{:<width$}  result  {:>7}  reason", "check", "ms");
        for c in &self.checks {
            let _ = writeln!(
                out,
                "{:<width$}  {}    {:>7}  {}",
                for_terminal(&c.name),
                paint(c.status),
                c.duration.as_millis(),
                for_terminal(&c.reason)
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} skipped in {:.1} s",
            self.passed,
            self.failed,
            self.skipped,
            self.duration_ms as f64 / 1000.0
        );
        out
    }

    /// JUnit XML, one test case per check.
    pub fn junit(&self) -> String {
        let esc = for_xml;
        let mut out = String::new();
        let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            out,
            r#"<testsuites name="conformance" tests="{}" failures="{}" skipped="{}" time="{:.3}">"#,
            self.checks.len(),
            self.failed,
            self.skipped,
            self.duration_ms as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" skipped="{}" time="{:.3}">"#,
            esc(&format!("{} {}", self.connector, self.version)),
            self.checks.len(),
            self.failed,
            self.skipped,
            self.duration_ms as f64 / 1000.0
        );
        for c in &self.checks {
            let (classname, name) = c.name.rsplit_once('.').unwrap_or(("conformance", &c.name));
            let _ = write!(
                out,
                r#"    <testcase classname="{}" name="{}" time="{:.3}""#,
                esc(classname),
                esc(name),
                c.duration.as_secs_f64()
            );
            match c.status {
                Status::Pass => {
                    let _ = writeln!(
                        out,
                        "><system-out>{}</system-out></testcase>",
                        esc(&c.reason)
                    );
                }
                Status::Fail => {
                    let _ = writeln!(
                        out,
                        r#"><failure message="{}"/></testcase>"#,
                        esc(&c.reason)
                    );
                }
                Status::Skip => {
                    let _ = writeln!(
                        out,
                        r#"><skipped message="{}"/></testcase>"#,
                        esc(&c.reason)
                    );
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
        let _ = writeln!(out, "</testsuites>");
        out
    }
}
