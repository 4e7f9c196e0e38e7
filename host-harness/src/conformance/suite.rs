//! The suite file: what a run tests and with which data, and its one parser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A suite file: what to test and with which data (as ConnId's contract tests take it).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// The connector library, relative to the suite file; `conform LIBRARY` wins.
    #[serde(default)]
    pub plugin: Option<PathBuf>,
    /// The connector configuration that works: every check opens the connector with it.
    #[serde(default)]
    pub config: Option<Value>,
    /// Or a file holding it, relative to the suite file.
    #[serde(default)]
    pub config_file: Option<PathBuf>,
    /// Start the embedded Atlassian simulator and use its configuration (with `config` as a
    /// patch); enables the `resilience.*` and `completeness.*` checks, which inject faults.
    /// Only for the Atlassian plugin.
    #[serde(default)]
    pub simulator: bool,
    /// The organization the simulator models (`modern` or `legacy`); `conform --org` wins.
    #[serde(default)]
    pub org: Option<crate::sim::OrgProfile>,
    /// The simulator's switches for behaviours the sources leave open (see `sim::Switches`).
    #[serde(default)]
    pub switches: Option<crate::sim::Switches>,
    /// How long the simulator takes for SCIM writes to reach the site APIs, in milliseconds.
    #[serde(default)]
    pub propagation_delay_ms: u64,
    /// The prefix of every object the suite creates.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Sample objects per class, by class name: enable `lifecycle.<class>.*`, `search.<class>.*`
    /// and (with `members`) `membership.*`. A class whose manifest declares `create` but has no
    /// sample fails those checks unless `conform --lenient`.
    #[serde(default)]
    pub classes: BTreeMap<String, ClassSamples>,
    /// Configurations that must fail, and how: `boundary.invalid_configs_rejected`.
    #[serde(default)]
    pub bad_configs: Vec<BadConfig>,
    /// A config patch that makes every operation take seconds: `boundary.timeout_honoured`
    /// and `boundary.cancellation_honoured`.
    #[serde(default)]
    pub slow_config: Option<Value>,
    /// A config patch that points at an endpoint where nothing listens:
    /// `resilience.dead_endpoint_fails_fast`.
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeValues {
    /// The attribute.
    pub attribute: String,
    /// Two or more values.
    pub values: Vec<Value>,
}

/// An attribute and one value.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeValue {
    /// The attribute.
    pub attribute: String,
    /// The value.
    pub value: Value,
}

/// How a group class holds its members.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
    /// The JSON Schema of a suite file (draft 2020-12).
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Suite)).unwrap_or_default()
    }

    /// A suite from its JSON text; relative paths in it resolve against `dir`, the suite file's
    /// folder. Unknown keys are refused by name.
    pub fn parse(text: &str, dir: Option<&Path>) -> Result<Suite, String> {
        let mut suite: Suite =
            serde_json::from_str(text).map_err(|e| format!("not a conformance suite: {e}"))?;
        if let Some(dir) = dir {
            suite.plugin = suite.plugin.map(|p| dir.join(p));
            suite.config_file = suite.config_file.map(|p| dir.join(p));
        }
        Ok(suite)
    }
}
