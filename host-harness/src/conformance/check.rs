//! A check: a stable name, what it needs, and its outcome (pass, fail or skip, with a reason).

use std::time::Duration;

use serde::Serialize;

use super::ctx::Ctx;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It held.
    Pass,
    /// It did not hold.
    Fail,
    /// It did not apply (a capability is not declared, or the target cannot do it).
    Skip,
}

/// What a check found: a status and a one-line reason.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The status.
    pub status: Status,
    /// One line: what held, what broke, or why it was skipped.
    pub reason: String,
    /// Skipped only because the suite lacks the data for something the manifest declares:
    /// a failure unless the run is lenient (see [`Outcome::unsampled`]).
    pub unsampled: bool,
}

impl Outcome {
    /// It held.
    pub fn pass(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Pass,
            reason: reason.into(),
            unsampled: false,
        }
    }

    /// It did not hold.
    pub fn fail(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Fail,
            reason: reason.into(),
            unsampled: false,
        }
    }

    /// It did not apply.
    pub fn skip(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Skip,
            reason: reason.into(),
            unsampled: false,
        }
    }

    /// The manifest declares what the check tests, but the suite gives no data for it (e.g.
    /// "declared `create` for class `user`, but the suite has no `classes.user` sample"): the
    /// check fails, so that a suite cannot pass by saying nothing; `conform --lenient` makes
    /// it a skip.
    pub fn unsampled(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Skip,
            reason: reason.into(),
            unsampled: true,
        }
    }

    /// This outcome as a run that is `lenient` or not reports it.
    pub fn judged(self, lenient: bool) -> Self {
        match (self.unsampled, lenient) {
            (true, false) => Outcome::fail(format!(
                "{}; add it to the suite, or run with --lenient to skip such checks",
                self.reason
            )),
            _ => self,
        }
    }
}

/// A failed expectation inside a check; `?` turns it into a failed outcome.
#[derive(Debug)]
pub struct Broken(pub String);

impl<E: std::fmt::Display> From<E> for Broken {
    fn from(e: E) -> Self {
        Broken(e.to_string())
    }
}

/// The body of a check: `Ok` with the pass reason, or `Err` with why it failed.
pub type CheckResult = Result<Outcome, Broken>;

/// Fails the check with a message unless `cond`.
pub fn ensure(cond: bool, message: impl FnOnce() -> String) -> Result<(), Broken> {
    if cond { Ok(()) } else { Err(Broken(message())) }
}

/// One named check.
pub struct Check {
    /// A stable name, `area.what` or `area.class.what`.
    pub name: String,
    /// Runs it.
    pub run: Box<dyn Fn(&mut Ctx) -> CheckResult>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

impl Check {
    /// A check named `name`.
    pub fn new(name: impl Into<String>, run: impl Fn(&mut Ctx) -> CheckResult + 'static) -> Self {
        Check {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// A check's place in the report.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The check's name.
    pub name: String,
    /// The status.
    pub status: Status,
    /// The one-line reason.
    pub reason: String,
    /// How long it took.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}
