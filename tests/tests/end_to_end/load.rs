//! Load: 16 host threads call one connector instance with mixed operations for a bounded time.
//! Every thread owns its users and keeps the model of what it did; afterwards the simulator's
//! store must hold exactly the models, and no call may have failed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::{Sim, atlassian};
use connector_api::ops::{OpCreate, OpDelete, OpGet, OpSearch, OpUpdate};
use connector_api::{AttributeDelta, Filter};
use serde_json::{Value, json};

/// What one thread believes about one of its users.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    uid: String,
    title: String,
    enabled: bool,
    confluence: bool,
}

#[test]
fn sixteen_threads_with_mixed_operations_leave_exactly_the_intended_state() {
    let s = Sim::start();
    let c = atlassian(&s, json!({"concurrency": 16, "deprovisioning": "delete"}));
    let until = Instant::now() + Duration::from_secs(4);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(
                move || -> Result<(BTreeMap<String, Model>, usize), String> {
                    let mut mine: BTreeMap<String, Model> = BTreeMap::new();
                    let mut ops = 0usize;
                    let mut i = 0usize;
                    // Bounded in time and in count.
                    while Instant::now() < until && ops < 2_000 {
                        i += 1;
                        let step = i % 7;
                        let name = format!("load-{t:02}-{:04}@acme.example.com", i / 7);
                        let pick = mine.keys().nth(i % mine.len().max(1)).cloned();
                        let result = match (step, pick) {
                            (0, _) | (_, None) => c
                                .create(
                                    &OpCreate::new("user", &name)
                                        .attr("email", name.as_str())
                                        .attr("title", "new")
                                        .attr("product_access", json!(["jira-software-users"])),
                                )
                                .map(|r| {
                                    mine.insert(
                                        name.clone(),
                                        Model {
                                            uid: r.uid.0,
                                            title: "new".into(),
                                            enabled: true,
                                            confluence: false,
                                        },
                                    );
                                }),
                            (1, Some(key)) => {
                                let m = mine.get_mut(&key).unwrap();
                                let title = format!("t{i}");
                                c.update(
                                    &OpUpdate::new("user", m.uid.as_str())
                                        .delta(AttributeDelta::replace("title", [json!(title)])),
                                )
                                .map(|_| m.title = title)
                            }
                            (2, Some(key)) => {
                                let m = mine.get_mut(&key).unwrap();
                                let delta = if m.confluence {
                                    AttributeDelta::remove(
                                        "product_access",
                                        [json!("confluence-users")],
                                    )
                                } else {
                                    AttributeDelta::add(
                                        "product_access",
                                        [json!("confluence-users")],
                                    )
                                };
                                c.update(&OpUpdate::new("user", m.uid.as_str()).delta(delta))
                                    .map(|_| m.confluence = !m.confluence)
                            }
                            (3, Some(key)) => {
                                let m = mine.get_mut(&key).unwrap();
                                c.update(&OpUpdate::new("user", m.uid.as_str()).enabled(!m.enabled))
                                    .map(|_| m.enabled = !m.enabled)
                            }
                            (4, Some(key)) => {
                                let m = mine[&key].clone();
                                c.get(&OpGet::new("user", m.uid.as_str()))
                                    .map_err(|e| e.to_string())
                                    .and_then(|r| {
                                        let o = r.object;
                                        let read = (
                                            o.attributes["title"].clone(),
                                            o.enabled,
                                            o.attributes["product_access"]
                                                .as_array()
                                                .unwrap()
                                                .iter()
                                                .any(|g| g == "confluence-users"),
                                        );
                                        if read == (json!(m.title), Some(m.enabled), m.confluence) {
                                            Ok(())
                                        } else {
                                            Err(format!("{key}: read {read:?}, expected {m:?}"))
                                        }
                                    })
                                    .map_err(connector_api::ConnectorError::internal)
                            }
                            (5, Some(key)) => c
                                .search_all(&OpSearch::new("user").filter(Filter::name(&key)))
                                .map(|found| assert_eq!(found.len(), 1, "{key}")),
                            (_, Some(key)) => {
                                let m = mine.remove(&key).unwrap();
                                c.delete(&OpDelete::new("user", m.uid.as_str())).map(drop)
                            }
                        };
                        result.map_err(|e| format!("thread {t}, step {i}: {e}"))?;
                        ops += 1;
                    }
                    Ok((mine, ops))
                },
            )
        })
        .collect();
    let mut intended: BTreeMap<String, Model> = BTreeMap::new();
    let mut total = 0;
    for t in threads {
        let (mine, ops) = t
            .join()
            .expect("no thread panicked")
            .expect("no call failed");
        total += ops;
        intended.extend(mine);
    }
    assert!(total > 16 * 10, "only {total} operations ran");

    // The store holds exactly the intended users, with the intended state.
    let store = s.store();
    let users: BTreeMap<String, Value> = store["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["attrs"]["userName"].as_str().unwrap().to_owned(),
                u.clone(),
            )
        })
        .collect();
    assert_eq!(
        users.keys().collect::<Vec<_>>(),
        intended.keys().collect::<Vec<_>>(),
        "users lost or left behind"
    );
    let confluence = store["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "confluence-users")
        .unwrap()["members"]
        .clone();
    for (name, m) in &intended {
        let u = &users[name];
        assert_eq!(u["id"], m.uid.as_str());
        assert_eq!(u["attrs"]["title"], m.title.as_str(), "{name}");
        assert_eq!(
            u["attrs"]["active"].as_bool().unwrap_or(true),
            m.enabled,
            "{name}"
        );
        let account = u["account_id"].as_str().unwrap();
        assert_eq!(
            confluence.as_array().unwrap().iter().any(|a| a == account),
            m.confluence,
            "{name}"
        );
    }
    println!(
        "load: 16 threads, {total} operations, {} users intended and found",
        intended.len()
    );
}
