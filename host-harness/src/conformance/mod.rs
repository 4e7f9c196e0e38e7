//! The conformance suite: one suite, any connector, driven only through the real ABI.
//!
//! Checks live one file per area (`boundary`, `connection`, `schema`, `lifecycle`,
//! `membership`, `search`, `resilience`, `completeness`, `hygiene`); each is named, gated on what the manifest
//! declares (a skip says which capability is missing), and timed. [`run`] executes them in order
//! and always runs the cleanup, even after failures.
//!
//! Objects the suite creates are named with the suite's prefix and deleted at the end: point it
//! at the simulator or a test tenant, never at production.

pub mod boundary;
pub mod check;
pub mod completeness;
pub mod connection;
pub mod hygiene;
pub mod lifecycle;
pub mod membership;
pub mod report;
pub mod resilience;
pub mod schema;
pub mod search;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use connector_api::host::{ConnectorClient, PluginLibrary};
use connector_api::ops::{OpCreate, OpDelete};
use connector_api::{ConnectorError, Manifest, Uid};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::sim::faults::FaultPlan;
use check::{Check, CheckReport, Outcome, Status};
pub use report::Report;

/// A suite file: what to test and with which data (as ConnId's contract tests take it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// The plugin library, relative to the suite file.
    #[serde(default)]
    pub plugin: Option<PathBuf>,
    /// The connector configuration.
    #[serde(default)]
    pub config: Option<Value>,
    /// Or a file holding it, relative to the suite file.
    #[serde(default)]
    pub config_file: Option<PathBuf>,
    /// Start the embedded Atlassian simulator and use its configuration (with `config` as a patch).
    #[serde(default)]
    pub simulator: bool,
    /// The prefix of every object the suite creates.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Sample objects per class.
    #[serde(default)]
    pub classes: BTreeMap<String, ClassSamples>,
    /// Configurations that must fail, and how.
    #[serde(default)]
    pub bad_configs: Vec<BadConfig>,
    /// A config patch that makes every operation take seconds (for timeout checks).
    #[serde(default)]
    pub slow_config: Option<Value>,
    /// A config patch that points at an endpoint where nothing listens.
    #[serde(default)]
    pub dead_config: Option<Value>,
    /// A config patch used to delete what the suite created (e.g. hard delete).
    #[serde(default)]
    pub cleanup_config: Option<Value>,
}

fn default_prefix() -> String {
    "conform-".into()
}

/// Sample data of one class. Strings may use `{prefix}`, `{n}` and `{name}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSamples {
    /// The name template, e.g. `{prefix}{n}@example.com`.
    pub name: String,
    /// Attributes of a valid create.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// A single-valued updatable attribute and two values for it.
    #[serde(default)]
    pub update: Option<AttributeValues>,
    /// A multi-valued updatable attribute and two values for it.
    #[serde(default)]
    pub multi: Option<AttributeValues>,
    /// An attribute and a value the connector must refuse.
    #[serde(default)]
    pub invalid: Option<AttributeValue>,
    /// For groups: the attribute holding member uids, and the members' class.
    #[serde(default)]
    pub members: Option<Membership>,
}

/// An attribute and values for it.
#[derive(Debug, Clone, Deserialize)]
pub struct AttributeValues {
    /// The attribute.
    pub attribute: String,
    /// Two or more values.
    pub values: Vec<Value>,
}

/// An attribute and one value.
#[derive(Debug, Clone, Deserialize)]
pub struct AttributeValue {
    /// The attribute.
    pub attribute: String,
    /// The value.
    pub value: Value,
}

/// How a group class holds its members.
#[derive(Debug, Clone, Deserialize)]
pub struct Membership {
    /// The group attribute with member uids.
    pub attribute: String,
    /// The class of the members.
    pub class: String,
    /// The member-side attribute listing the groups, if any.
    #[serde(default)]
    pub reverse: Option<String>,
}

/// A configuration that must fail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadConfig {
    /// What is wrong, for the report.
    pub name: String,
    /// The patch on the good configuration.
    pub patch: Value,
    /// `validate` must refuse it offline, naming this field.
    #[serde(default)]
    pub offline_field: Option<String>,
    /// `test` must fail this named check.
    #[serde(default)]
    pub failing_check: Option<String>,
    /// An operation must fail with this error kind (e.g. `invalid_credentials`).
    #[serde(default)]
    pub error_kind: Option<String>,
}

impl Suite {
    /// Reads a suite file; relative paths in it are resolved against its folder.
    pub fn load(path: &Path) -> Result<Suite, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the suite: {e}", path.display()))?;
        let mut suite: Suite = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a conformance suite: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        suite.plugin = suite.plugin.map(|p| dir.join(p));
        suite.config_file = suite.config_file.map(|p| dir.join(p));
        Ok(suite)
    }
}

/// A target that can inject faults (the simulator can).
pub trait FaultControl {
    /// Replaces the fault plan.
    fn set_faults(&self, plan: FaultPlan);
    /// Stops injecting faults.
    fn clear(&self) {
        self.set_faults(FaultPlan::default());
    }
}

impl FaultControl for crate::sim::Simulator {
    fn set_faults(&self, plan: FaultPlan) {
        crate::sim::Simulator::set_faults(self, plan);
    }
}

/// What one run needs: the library, a good configuration, the suite data, fault control.
#[allow(missing_debug_implementations)] // holds a `dyn FaultControl`
pub struct Target<'a> {
    /// The loaded library.
    pub library: PluginLibrary,
    /// A configuration that works.
    pub config: Value,
    /// The suite data.
    pub suite: Suite,
    /// Fault injection, when the target offers it.
    pub faults: Option<&'a dyn FaultControl>,
}

/// The state a run shares across checks.
#[allow(missing_debug_implementations)] // holds a `dyn FaultControl`
pub struct Ctx<'a> {
    /// The library.
    pub library: &'a PluginLibrary,
    /// A client opened with the good configuration.
    pub client: ConnectorClient,
    /// The good configuration.
    pub config: &'a Value,
    /// The suite data.
    pub suite: &'a Suite,
    /// Fault injection, when available.
    pub faults: Option<&'a dyn FaultControl>,
    /// Every object created, for cleanup.
    pub created: Vec<(String, Uid)>,
    /// Every text the connector produced (errors, reports), for the secret scan.
    pub transcript: Vec<String>,
    /// Every log line the connector wrote, at every level, for the secret scan.
    pub log_lines: Arc<Mutex<Vec<String>>>,
    counter: u32,
}

impl<'a> Ctx<'a> {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        self.library.manifest()
    }

    /// The configuration with `patch` applied.
    pub fn config_with(&self, patch: &Value) -> Value {
        patch_config(self.config, patch)
    }

    /// Opens another client with a patched configuration.
    pub fn open_with(&mut self, patch: &Value) -> Result<ConnectorClient, ConnectorError> {
        let config = self.config_with(patch);
        let client = self.library.open(&config);
        if let Err(e) = &client {
            self.record_error(e);
        }
        client.map(|c| keep_log_lines(&c, &self.log_lines))
    }

    /// Keeps a connector error's text for the secret scan and returns it.
    pub fn record_error(&mut self, e: &ConnectorError) {
        self.transcript
            .push(serde_json::to_string(e).unwrap_or_default());
    }

    /// Keeps any text for the secret scan.
    pub fn record(&mut self, text: String) {
        self.transcript.push(text);
    }

    /// A fresh name for an object of `class`, from its template.
    pub fn unique_name(&mut self, class: &str) -> Option<String> {
        let samples = self.suite.classes.get(class)?;
        self.counter += 1;
        let n = format!("{}{:04}", std::process::id() % 10_000, self.counter);
        Some(
            samples
                .name
                .replace("{prefix}", &self.suite.prefix)
                .replace("{n}", &n),
        )
    }

    /// A valid create request for `class` with a fresh name.
    pub fn sample(&mut self, class: &str) -> Option<OpCreate> {
        let name = self.unique_name(class)?;
        let samples = self.suite.classes.get(class)?;
        let mut op = OpCreate::new(class, &name);
        for (k, v) in &samples.attributes {
            op = op.attr(k, fill(v, &name, &self.suite.prefix));
        }
        Some(op)
    }

    /// Creates a sample object and records it for cleanup.
    pub fn create_sample(&mut self, class: &str) -> Result<(OpCreate, Uid), check::Broken> {
        let op = self
            .sample(class)
            .ok_or_else(|| check::Broken(format!("the suite has no sample for class `{class}`")))?;
        let reply = self.client.create(&op).map_err(|e| {
            self.record_error(&e);
            check::Broken(format!("creating a sample {class} failed: {e}"))
        })?;
        self.created.push((class.to_owned(), reply.uid.clone()));
        Ok((op, reply.uid))
    }

    /// Remembers an object created outside `create_sample`.
    pub fn track(&mut self, class: &str, uid: &Uid) {
        if !self.created.iter().any(|(c, u)| c == class && u == uid) {
            self.created.push((class.to_owned(), uid.clone()));
        }
    }

    /// The classes the manifest declares with `operation`.
    pub fn classes_with(&self, operation: &str) -> Vec<String> {
        self.manifest()
            .capabilities
            .classes
            .iter()
            .filter(|(_, c)| c.supports(operation))
            .map(|(n, _)| n.0.clone())
            .collect()
    }

    /// Deletes everything the suite created, newest first (groups before their members).
    pub fn cleanup(&mut self) -> (usize, Vec<String>) {
        let client = match &self.suite.cleanup_config {
            Some(patch) => {
                let patch = patch.clone();
                self.open_with(&patch)
                    .unwrap_or_else(|_| self.client.clone())
            }
            None => self.client.clone(),
        };
        let mut deleted = 0;
        let mut failures = Vec::new();
        for (class, uid) in std::mem::take(&mut self.created).into_iter().rev() {
            match client.delete(&OpDelete::new(class.as_str(), uid.clone())) {
                Ok(_) => deleted += 1,
                Err(e) if e.kind == connector_api::ErrorKind::UnknownUid => deleted += 1,
                Err(e) => failures.push(format!("{class} {uid}: {e}")),
            }
        }
        (deleted, failures)
    }
}

/// `template` with `{name}` and `{prefix}` filled in every string.
fn fill(template: &Value, name: &str, prefix: &str) -> Value {
    match template {
        Value::String(s) => Value::String(s.replace("{name}", name).replace("{prefix}", prefix)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, name, prefix)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), fill(v, name, prefix)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `config` with the members of `patch` set (a `null` member removes the field).
pub fn patch_config(config: &Value, patch: &Value) -> Value {
    let mut out = config.clone();
    if let (Some(out), Some(patch)) = (out.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            if v.is_null() {
                out.remove(k);
            } else {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Which checks to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Run only checks whose name contains this.
    pub only: Option<String>,
}

impl Selection {
    fn selects(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|p| name.contains(p))
    }
}

/// Every check, in the order they run.
pub fn all_checks(manifest: &Manifest) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(boundary::checks());
    checks.extend(connection::checks());
    checks.extend(schema::checks());
    checks.extend(lifecycle::checks(manifest));
    checks.extend(membership::checks());
    checks.extend(search::checks(manifest));
    checks.extend(resilience::checks());
    checks.extend(completeness::checks());
    checks
}

/// `client`, with every line it logs kept in `lines`.
fn keep_log_lines(client: &ConnectorClient, lines: &Arc<Mutex<Vec<String>>>) -> ConnectorClient {
    let lines = Arc::clone(lines);
    client.with_log_observer(Arc::new(move |level, message| {
        let mut lines = lines.lock().unwrap_or_else(|p| p.into_inner());
        lines.push(format!("{}: {message}", level.as_str()));
    }))
}

/// Runs the suite against `target`; the cleanup and the secret scan always run last.
pub fn run(target: Target<'_>, selection: &Selection) -> Report {
    let started = Instant::now();
    let manifest = target.library.manifest().clone();
    let mut report = Report::new(&manifest, target.library.path());
    let client = match target.library.open(&target.config) {
        Ok(client) => client,
        Err(e) => {
            report.push(CheckReport {
                name: "boundary.open".into(),
                status: Status::Fail,
                reason: format!("the connector does not open with the suite's configuration: {e}"),
                duration: started.elapsed(),
            });
            return report.finish(started.elapsed());
        }
    };
    let log_lines = Arc::new(Mutex::new(Vec::new()));
    let mut ctx = Ctx {
        library: &target.library,
        client: keep_log_lines(&client, &log_lines),
        config: &target.config,
        suite: &target.suite,
        faults: target.faults,
        created: Vec::new(),
        transcript: Vec::new(),
        log_lines,
        counter: 0,
    };
    for check in all_checks(&manifest)
        .into_iter()
        .filter(|c| selection.selects(&c.name))
    {
        let t = Instant::now();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (check.run)(&mut ctx)))
                .unwrap_or_else(|_| Err(check::Broken("the check itself panicked".into())));
        if let Some(faults) = ctx.faults {
            faults.clear();
        }
        let Outcome { status, reason } = outcome.unwrap_or_else(|b| Outcome::fail(b.0));
        tracing::debug!(check = %check.name, ?status, ms = t.elapsed().as_millis() as u64, "conformance check done");
        ctx.transcript.push(reason.clone());
        report.push(CheckReport {
            name: check.name,
            status,
            reason,
            duration: t.elapsed(),
        });
    }
    for check in hygiene::checks() {
        let t = Instant::now();
        let Outcome { status, reason } =
            (check.run)(&mut ctx).unwrap_or_else(|b| Outcome::fail(b.0));
        report.push(CheckReport {
            name: check.name,
            status,
            reason,
            duration: t.elapsed(),
        });
    }
    // Reasons quote the connector's errors; whatever the connector leaked stays out of the report.
    let redactor =
        connector_api::redact::Redactor::for_config(ctx.config, &ctx.manifest().config_schema);
    for check in &mut report.checks {
        check.reason = redactor.clean(&check.reason).into_owned();
    }
    report.finish(started.elapsed())
}
