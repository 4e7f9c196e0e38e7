//! The comparison of the simulator's store with the intended end state, and the store's
//! canonical form: what the same seed must reproduce, whatever order the threads ran in.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::ChaosReport;
use super::workload::{Intended, IntendedGroup};
use crate::sim::Simulator;

/// The store without ids or order: each user's name, title and state, and each SCIM group's
/// name and members by user name, sorted; hashed.
pub(super) fn store_digest(sim: &Simulator) -> u64 {
    let store = sim.state().store.read().dump();
    let users = store["users"].as_array().cloned().unwrap_or_default();
    let name_of: BTreeMap<String, String> = users
        .iter()
        .map(|u| {
            let name = u["attrs"]["userName"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            (
                u["account_id"].as_str().unwrap_or_default().to_owned(),
                name,
            )
        })
        .collect();
    let mut lines: Vec<String> = users
        .iter()
        .map(|u| {
            format!(
                "user {} title={} active={}",
                u["attrs"]["userName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
                u["attrs"]["title"].as_str().unwrap_or_default(),
                u["attrs"]["active"].as_bool().unwrap_or(true)
            )
        })
        .collect();
    for g in store["groups"].as_array().into_iter().flatten() {
        if g["source"] != "scim" {
            continue;
        }
        let members: BTreeSet<&str> = g["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| name_of.get(m.as_str()?).map(String::as_str))
            .collect();
        let members: Vec<&str> = members.into_iter().collect();
        lines.push(format!(
            "group {} members={}",
            g["name"].as_str().unwrap_or_default(),
            members.join(",")
        ));
    }
    lines.sort_unstable();
    xxhash_rust::xxh3::xxh3_64(lines.join("\n").as_bytes())
}

/// Compares the simulator's store with the intended state.
pub(super) fn compare(
    sim: &Simulator,
    users: &BTreeMap<String, Intended>,
    groups: &BTreeMap<String, IntendedGroup>,
    report: &mut ChaosReport,
) {
    let store = sim.state().store.read().dump();
    let mut actual: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for u in store["users"].as_array().into_iter().flatten() {
        actual
            .entry(
                u["attrs"]["userName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
            )
            .or_default()
            .push(u);
    }
    for (name, found) in &actual {
        if found.len() > 1 || !users.contains_key(name) {
            report.duplicated += found.len() as u64 - u64::from(users.contains_key(name));
        }
    }
    for (name, intended) in users {
        let found = actual.get(name).and_then(|f| f.first());
        let difference = match (intended.exists, found) {
            (true, None) => Some("missing".to_owned()),
            (false, Some(_)) => Some("still present".to_owned()),
            (true, Some(u)) => {
                let title = u["attrs"]["title"].as_str().unwrap_or_default();
                let active = u["attrs"]["active"].as_bool().unwrap_or(true);
                if title != intended.title {
                    Some(format!("title `{title}`, intended `{}`", intended.title))
                } else if active != intended.enabled {
                    Some(format!("active {active}, intended {}", intended.enabled))
                } else {
                    None
                }
            }
            (false, None) => None,
        };
        match (difference, intended.uncertain) {
            (None, _) => {}
            (Some(_), true) => report.explained += 1,
            (Some(d), false) => {
                report.lost += 1;
                report.unexplained.push(format!("{name}: {d}"));
            }
        }
    }
    let stored: BTreeMap<String, BTreeSet<String>> = store["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["source"] == "scim")
        .map(|g| {
            (
                g["name"].as_str().unwrap_or_default().to_owned(),
                g["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect();
    let account_of: BTreeMap<String, String> = store["users"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["id"].as_str().unwrap_or_default().to_owned(),
                u["account_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (name, (uid, members, uncertain)) in groups {
        let intended: BTreeSet<String> = members
            .iter()
            .filter_map(|m| account_of.get(m).cloned())
            .collect();
        let difference = match stored.get(name) {
            None if uid.is_some() => Some("group missing".to_owned()),
            Some(actual) if *actual != intended => Some(format!(
                "{} members, intended {}",
                actual.len(),
                intended.len()
            )),
            _ => None,
        };
        match (difference, uncertain) {
            (None, _) => {}
            (Some(_), true) => report.explained += 1,
            (Some(d), false) => {
                report.lost += 1;
                report.unexplained.push(format!("{name}: {d}"));
            }
        }
    }
}
