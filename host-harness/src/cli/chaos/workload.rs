//! The campaign's workload on one host thread: the users and groups it owns, each phase one
//! operation at a time, retried by the host as IDHub would, and what the end state should be.

use std::collections::{BTreeMap, BTreeSet};

use connector_api::host::ConnectorClient;
use connector_api::ops::{OpCreate, OpDelete, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, ConnectorError, ErrorKind};
use serde_json::{Value, json};

use super::ChaosReport;

/// What a user should be at the end.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Intended {
    pub uid: Option<String>,
    pub exists: bool,
    pub title: String,
    pub enabled: bool,
    /// Whether an operation on this user failed: its state is uncertain, not lost.
    pub uncertain: bool,
}

/// A group's intended end: its uid, its members, whether an operation on it failed.
pub(super) type IntendedGroup = (Option<String>, BTreeSet<String>, bool);

/// The workload of one host thread: it owns the users and groups whose number it is given
/// (`index % threads == thread`), so that the end state is defined however the threads
/// interleave.
pub(super) struct Workload<'a> {
    pub client: &'a ConnectorClient,
    pub host_retries: u32,
    /// This thread's number, and how many there are.
    pub thread: usize,
    pub threads: usize,
    pub report: ChaosReport,
    pub users: BTreeMap<String, Intended>,
    pub groups: BTreeMap<String, IntendedGroup>,
}

impl Workload<'_> {
    /// Runs `op`, retrying what is retryable up to the host's budget; counts every outcome.
    pub(super) fn run(
        &mut self,
        op: &dyn Fn(&ConnectorClient) -> Result<Value, ConnectorError>,
    ) -> Result<Value, ConnectorError> {
        self.report.attempted += 1;
        let mut tries = 0;
        loop {
            match op(self.client) {
                Ok(v) => {
                    self.report.succeeded += 1;
                    return Ok(v);
                }
                Err(e) if e.retryable && tries < self.host_retries => {
                    tries += 1;
                    self.report.retried += 1;
                }
                Err(e) => {
                    self.report.failed_typed += 1;
                    *self
                        .report
                        .failures
                        .entry(e.kind.as_str().to_owned())
                        .or_default() += 1;
                    return Err(e);
                }
            }
        }
    }

    /// The users created so far whose uid is known, by name.
    pub(super) fn known(&self) -> Vec<(String, String)> {
        self.users
            .iter()
            .filter_map(|(n, u)| u.uid.clone().map(|uid| (n.clone(), uid)))
            .collect()
    }

    /// The numbers below `count` this thread owns.
    fn owned(&self, count: usize) -> impl Iterator<Item = usize> + use<> {
        (self.thread..count).step_by(self.threads.max(1))
    }

    /// The phases in order, over this thread's share of each count.
    pub(super) fn run_all(&mut self, args: &super::ChaosArgs) {
        self.create_users(args.creates);
        let known = self.known();
        let share = |n: usize| self.owned(n).count();
        let (updates, disables, deletes) = (
            share(args.updates),
            share(args.disables),
            share(args.deletes),
        );
        self.update_titles(&known, updates);
        self.disable(&known, disables);
        self.delete(&known, updates, deletes);
        self.groups(args.groups);
    }

    fn create_users(&mut self, count: usize) {
        for i in self.owned(count) {
            let n = format!("chaos{i:05}@acme.example.com");
            let outcome = self.run(&|c| {
                c.create(
                    &OpCreate::new("user", &n)
                        .attr("email", n.as_str())
                        .attr("title", "new"),
                )
                .map(|r| json!(r.uid))
            });
            let (uid, uncertain) = match outcome {
                Ok(uid) => (uid.as_str().map(str::to_owned), false),
                Err(e) => (e.details["uid"].as_str().map(str::to_owned), true),
            };
            let intended = Intended {
                uid,
                exists: true,
                title: "new".into(),
                enabled: true,
                uncertain,
            };
            self.users.insert(n, intended);
        }
    }

    fn update_titles(&mut self, known: &[(String, String)], count: usize) {
        for (n, uid) in known.iter().take(count) {
            // From the name, not the uid: uids follow the order creates arrive in.
            let title = format!("updated-{}", n.split('@').next().unwrap_or_default());
            let outcome = self.run(&|c| {
                c.update(
                    &OpUpdate::new("user", uid.as_str())
                        .delta(AttributeDelta::replace("title", [json!(title)])),
                )
                .map(|_| Value::Null)
            });
            let u = self.users.get_mut(n).expect("known");
            match outcome {
                Ok(_) => u.title = title,
                Err(_) => u.uncertain = true,
            }
        }
    }

    fn disable(&mut self, known: &[(String, String)], count: usize) {
        for (n, uid) in known.iter().rev().take(count) {
            let outcome = self.run(&|c| {
                c.update(&OpUpdate::new("user", uid.as_str()).enabled(false))
                    .map(|_| Value::Null)
            });
            let u = self.users.get_mut(n).expect("known");
            match outcome {
                Ok(_) => u.enabled = false,
                Err(_) => u.uncertain = true,
            }
        }
    }

    fn delete(&mut self, known: &[(String, String)], skip: usize, count: usize) {
        for (n, uid) in known.iter().skip(skip).take(count) {
            let outcome = self.run(&|c| {
                c.delete(&OpDelete::new("user", uid.as_str()))
                    .map(|_| Value::Null)
            });
            let u = self.users.get_mut(n).expect("known");
            match outcome {
                Ok(_) => u.exists = false,
                // A delete retried after a lost response meets a user already gone.
                Err(e) if e.kind == ErrorKind::UnknownUid => u.exists = false,
                Err(_) => u.uncertain = true,
            }
        }
    }

    /// Creates this thread's share of `count` groups, adds 20 of its members to each and
    /// removes 5 of them.
    fn groups(&mut self, count: usize) {
        let members: Vec<String> = self
            .users
            .values()
            .filter(|u| u.exists && !u.uncertain)
            .filter_map(|u| u.uid.clone())
            .collect();
        for (k, g) in self.owned(count).enumerate() {
            let gname = format!("chaos-team-{g:03}");
            let outcome = self.run(&|c| {
                c.create(&OpCreate::new("group", &gname))
                    .map(|r| json!(r.uid))
            });
            let Ok(uid) = outcome else {
                self.groups.insert(gname, (None, BTreeSet::new(), true));
                continue;
            };
            let uid = uid.as_str().unwrap_or_default().to_owned();
            let chosen: Vec<String> = members.iter().skip(k * 7).take(20).cloned().collect();
            let gone: Vec<String> = chosen.iter().take(5).cloned().collect();
            let change = |delta: fn(&str, Vec<Value>) -> AttributeDelta, ids: &[String]| {
                let ids: Vec<Value> = ids.iter().map(|m| json!(m)).collect();
                let op = OpUpdate::new("group", uid.as_str()).delta(delta("members", ids));
                move |c: &ConnectorClient| c.update(&op).map(|_| Value::Null)
            };
            let add = self.run(&change(AttributeDelta::add, &chosen));
            let mut set: BTreeSet<String> = match add {
                Ok(_) => chosen.iter().cloned().collect(),
                Err(_) => BTreeSet::new(),
            };
            let remove = self.run(&change(AttributeDelta::remove, &gone));
            if remove.is_ok() {
                for m in &gone {
                    set.remove(m);
                }
            }
            self.groups
                .insert(gname, (Some(uid), set, add.is_err() || remove.is_err()));
        }
    }

    /// Reads every user back through the plugin, under the same faults.
    pub(super) fn reconcile(&mut self) {
        let reconciled = self.run(&|c| {
            c.search_all(&OpSearch::new("user").attributes(&["title"]))
                .map(|all| json!(all.len()))
        });
        if reconciled.is_err() {
            self.report
                .unexplained
                .push("the final reconciliation failed".into());
        }
    }
}
