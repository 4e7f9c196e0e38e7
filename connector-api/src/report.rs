//! The test-connection report: named checks, each with a status, a message and the fix.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check passed.
    Passed,
    /// Works, but something deserves attention.
    Warning,
    /// The check failed; the connector will not work as configured.
    Failed,
    /// The check did not run (an earlier check it depends on failed).
    Skipped,
}

/// One named check of a test connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TestCheck {
    /// A stable name, e.g. `scim.directory_api_key`.
    pub name: String,
    /// The outcome.
    pub status: CheckStatus,
    /// What was found.
    pub message: String,
    /// How to fix a failure: which credential or permission, and where to change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The report of a test connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TestReport {
    /// Every check, in the order run.
    pub checks: Vec<TestCheck>,
}

impl TestReport {
    /// Records a passed check.
    pub fn pass(&mut self, name: &str, message: impl Into<String>) {
        self.push(name, CheckStatus::Passed, message.into(), None);
    }

    /// Records a warning with a hint.
    pub fn warn(&mut self, name: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.push(
            name,
            CheckStatus::Warning,
            message.into(),
            Some(hint.into()),
        );
    }

    /// Records a failed check with the fix.
    pub fn fail(&mut self, name: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.push(name, CheckStatus::Failed, message.into(), Some(hint.into()));
    }

    /// Records a check that did not run, and why.
    pub fn skip(&mut self, name: &str, why: impl Into<String>) {
        self.push(name, CheckStatus::Skipped, why.into(), None);
    }

    fn push(&mut self, name: &str, status: CheckStatus, message: String, hint: Option<String>) {
        self.checks.push(TestCheck {
            name: name.into(),
            status,
            message,
            hint,
        });
    }

    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Failed)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &TestCheck> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&TestCheck> {
        self.checks.iter().find(|c| c.name == name)
    }
}
