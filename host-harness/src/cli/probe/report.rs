//! The probe's report: named observations of facts that do not depend on the tenant's data,
//! so that two reports (a live tenant's and the simulator's) compare fact by fact.

use std::collections::BTreeMap;

use connector_api::redact::Redactor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What one probe observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// A stable name, e.g. `jira.group_bulk.site_admin`.
    pub name: String,
    /// What was sent, as `METHOD /path` (no ids, no credentials).
    pub request: String,
    /// The status answered; 0 when nothing came back.
    pub status: u16,
    /// The facts read from the answer: what a comparison compares.
    pub facts: BTreeMap<String, Value>,
    /// Figures measured (durations), reported but not compared.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measured: BTreeMap<String, Value>,
}

/// A probe's whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    /// What was probed: `live` or `simulator (<org>)`.
    pub target: String,
    /// Whether the write probes ran.
    pub write: bool,
    /// The observations, in probe order.
    pub observations: Vec<Observation>,
}

impl ProbeReport {
    /// The report as JSON text with every `secret` removed, in any encoding the redactor knows.
    pub fn redacted_json(&self, secrets: &[String]) -> String {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        Redactor::new(secrets, &[]).clean(&text).into_owned() + "\n"
    }
}

/// One way the two reports disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The observation.
    pub name: String,
    /// What differs, in words.
    pub what: String,
}

/// Where `other` answers differently from `reference`, observation by observation.
pub fn compare(reference: &ProbeReport, other: &ProbeReport) -> Vec<Difference> {
    let mut differences = Vec::new();
    let by_name: BTreeMap<&str, &Observation> = other
        .observations
        .iter()
        .map(|o| (o.name.as_str(), o))
        .collect();
    for seen in &reference.observations {
        let Some(theirs) = by_name.get(seen.name.as_str()) else {
            differences.push(Difference {
                name: seen.name.clone(),
                what: format!("not observed on {}", other.target),
            });
            continue;
        };
        if seen.status != theirs.status {
            differences.push(Difference {
                name: seen.name.clone(),
                what: format!(
                    "status {} on {}, {} on {}",
                    seen.status, reference.target, theirs.status, other.target
                ),
            });
        }
        let keys: std::collections::BTreeSet<&String> =
            seen.facts.keys().chain(theirs.facts.keys()).collect();
        for key in keys {
            let (a, b) = (seen.facts.get(key), theirs.facts.get(key));
            // A null fact could not be observed (nothing to observe it on): not comparable.
            let observed = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
            if a != b && observed(a) && observed(b) {
                let show = |v: Option<&Value>| v.map_or("absent".to_owned(), Value::to_string);
                differences.push(Difference {
                    name: seen.name.clone(),
                    what: format!(
                        "{key}: {} on {}, {} on {}",
                        show(a),
                        reference.target,
                        show(b),
                        other.target
                    ),
                });
            }
        }
    }
    differences
}
