//! [`Ctx`]: the state a run shares across checks (the client, the suite, the objects created,
//! every output and log line for the secret scan), and the helpers checks build on.

use std::sync::{Arc, Mutex};

use connector_api::host::{ConnectorClient, PluginLibrary};
use connector_api::ops::{OpCreate, OpDelete};
use connector_api::{ConnectorError, Manifest, Uid};
use serde_json::Value;

use super::FaultControl;
use super::check;
use super::suite::Suite;

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
    pub(super) counter: u32,
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

/// `client`, with every line it logs kept in `lines`.
pub(super) fn keep_log_lines(
    client: &ConnectorClient,
    lines: &Arc<Mutex<Vec<String>>>,
) -> ConnectorClient {
    let lines = Arc::clone(lines);
    client.with_log_observer(Arc::new(move |level, message| {
        let mut lines = lines.lock().unwrap_or_else(|p| p.into_inner());
        lines.push(format!("{}: {message}", level.as_str()));
    }))
}
