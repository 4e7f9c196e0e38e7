//! An example connector that keeps users and groups in memory and supports every operation.
//!
//! It is the template for third-party authors: copy it, replace the `Store` by calls to your
//! target, keep the error kinds. Build it with `cargo build -p connector-api --examples`; the
//! library lands in `target/debug/examples/libmemory_connector.so`, and
//! `host-harness inspect` or `host-harness conform` take it from there.
//!
//! Classes: `user` (name = login; attributes `email`, `display_name`, `title`, `phone_numbers`,
//! and the read-only `groups`) and `group` (name = display name; `description`, `members`).
//! Membership is written on the group (`members`) and visible from both sides.
//!
//! One file on purpose, and so over 500 lines: it is what an author copies whole.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use connector_api::ops::{
    OpCreate, OpDelete, OpGet, OpSearch, OpUpdate, RpCreate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use connector_api::{
    AttributeSchema, AttributeType, ClassCapabilities, ClassSchema, ConfigProblems, Connector,
    ConnectorError, ConnectorObject, Context, LogLevel, Manifest, ObjectSink, Result, Schema,
    Secret, TestReport,
};
use serde::Deserialize;
use serde_json::Value;

/// Configuration of the in-memory directory.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// A name for this directory, shown in reports.
    #[schemars(title = "Tenant", example = &"acme")]
    pub tenant: String,
    /// The token a real target would require; here it must only be non-empty.
    #[schemars(title = "API token")]
    pub api_token: Secret,
    /// The most objects returned per page, as a real target caps its pages.
    #[serde(default = "default_page_size_max")]
    #[schemars(title = "Page size cap", range(min = 1, max = 1000))]
    pub page_size_max: u32,
    /// Users created when the connector opens, named `seed-00001` and up.
    #[serde(default)]
    #[schemars(title = "Seed users", range(max = 1_000_000))]
    pub seed_users: u32,
    /// Latency added to every operation, to rehearse timeouts against a slow target.
    #[serde(default)]
    #[schemars(title = "Simulated latency (ms)", range(max = 60_000))]
    pub simulated_latency_ms: u64,
}

fn default_page_size_max() -> u32 {
    100
}

/// The connector: one in-memory directory per instance.
#[derive(Debug)]
pub struct MemoryConnector {
    config: MemoryConfig,
    store: RwLock<Store>,
}

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    users: BTreeMap<String, ConnectorObject>,
    groups: BTreeMap<String, ConnectorObject>,
}

const USER: &str = "user";
const GROUP: &str = "group";

impl Store {
    fn class(&self, class: &str) -> &BTreeMap<String, ConnectorObject> {
        if class == USER {
            &self.users
        } else {
            &self.groups
        }
    }

    fn class_mut(&mut self, class: &str) -> &mut BTreeMap<String, ConnectorObject> {
        if class == USER {
            &mut self.users
        } else {
            &mut self.groups
        }
    }

    fn new_uid(&mut self, class: &str) -> String {
        self.next_id += 1;
        // Zero-padded so that uid order is creation order: searches page in a stable order.
        format!("{}-{:08}", &class[..1], self.next_id)
    }

    /// A user as read: its `groups` computed from the groups' `members`.
    fn read_user(&self, user: &ConnectorObject) -> ConnectorObject {
        let groups: Vec<Value> = self
            .groups
            .values()
            .filter(|g| members(g).iter().any(|m| *m == user.uid.as_str()))
            .map(|g| Value::String(g.uid.0.clone()))
            .collect();
        let mut user = user.clone();
        if !groups.is_empty() {
            user.attributes
                .insert("groups".into(), Value::Array(groups));
        }
        user
    }

    fn read(&self, class: &str, object: &ConnectorObject) -> ConnectorObject {
        if class == USER {
            self.read_user(object)
        } else {
            object.clone()
        }
    }
}

fn members(group: &ConnectorObject) -> Vec<&str> {
    match group.attributes.get("members") {
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The classes and attributes, built once: every write and search checks against them.
fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    Schema::new(vec![
        ClassSchema::new(
            USER,
            "generated id, `u-` and eight digits",
            "login name, unique",
        )
        .with_enabled()
        .with_attributes(vec![
            AttributeSchema::new("email", AttributeType::String)
                .describe("primary email address")
                .required(),
            AttributeSchema::new("display_name", AttributeType::String),
            AttributeSchema::new("title", AttributeType::String),
            AttributeSchema::new("phone_numbers", AttributeType::String).multi(),
            AttributeSchema::new("groups", AttributeType::Reference)
                .describe("groups the user is a member of; change them on the group")
                .referencing(GROUP)
                .multi()
                .read_only(),
        ]),
        ClassSchema::new(
            GROUP,
            "generated id, `g-` and eight digits",
            "display name, unique",
        )
        .with_attributes(vec![
            AttributeSchema::new("description", AttributeType::String),
            AttributeSchema::new("members", AttributeType::Reference)
                .describe("uids of the member users")
                .referencing(USER)
                .multi(),
        ]),
    ])
}

impl MemoryConnector {
    /// Waits the configured latency, honouring the call's deadline and cancellation.
    fn simulate_latency(&self, ctx: &Context<'_>) -> Result<()> {
        let until = Instant::now() + Duration::from_millis(self.config.simulated_latency_ms);
        while Instant::now() < until {
            ctx.check()?;
            std::thread::sleep(Duration::from_millis(5).min(until - Instant::now()));
        }
        ctx.check()
    }

    fn known_class(class: &str) -> Result<()> {
        if class == USER || class == GROUP {
            Ok(())
        } else {
            Err(ConnectorError::unsupported("any operation", Some(class)))
        }
    }

    /// Checks one written attribute against the schema and the store.
    fn check_value(store: &Store, class: &str, name: &str, value: &Value) -> Result<()> {
        let schema = schema();
        let attribute = schema
            .class(class)
            .and_then(|c| c.attribute(name))
            .ok_or_else(|| {
                ConnectorError::invalid_value(name, format!("no such attribute on class `{class}`"))
            })?;
        if !attribute.creatable && !attribute.updatable {
            return Err(ConnectorError::invalid_value(name, "read-only attribute"));
        }
        let values: Vec<&Value> = match value {
            Value::Array(values) if attribute.multi_valued => values.iter().collect(),
            Value::Array(_) => {
                return Err(ConnectorError::invalid_value(
                    name,
                    "single-valued, got an array",
                ));
            }
            other => vec![other],
        };
        for v in values {
            let s = v.as_str().ok_or_else(|| {
                ConnectorError::invalid_value(name, format!("expected a string, got {v}"))
            })?;
            if name == "email" && !is_email(s) {
                return Err(ConnectorError::invalid_value(
                    name,
                    format!("`{s}` is not an email address"),
                ));
            }
            if name == "members" && !store.users.contains_key(s) {
                return Err(ConnectorError::invalid_value(
                    name,
                    format!("no user has uid `{s}`"),
                ));
            }
        }
        Ok(())
    }

    fn check_attributes_to_get(class: &str, names: Option<&Vec<String>>) -> Result<()> {
        let schema = schema();
        for name in names.into_iter().flatten() {
            if schema
                .class(class)
                .and_then(|c| c.attribute(name))
                .is_none()
            {
                return Err(ConnectorError::invalid_value(
                    name,
                    format!("no such attribute on class `{class}`"),
                ));
            }
        }
        Ok(())
    }

    fn name_taken(store: &Store, class: &str, name: &str, except: Option<&str>) -> Option<String> {
        store
            .class(class)
            .values()
            .find(|o| o.name.eq_ignore_ascii_case(name) && Some(o.uid.as_str()) != except)
            .map(|o| o.uid.0.clone())
    }
}

fn is_email(s: &str) -> bool {
    matches!(s.split_once('@'), Some((local, domain))
        if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !s.contains(' '))
}

impl Connector for MemoryConnector {
    type Config = MemoryConfig;

    fn manifest() -> Manifest {
        Manifest::new("memory-example", env!("CARGO_PKG_VERSION"))
            .vendor("IDHub connector SDK")
            .description(
                "Keeps users and groups in memory. The template for connector authors and a \
                 reference target for the conformance suite.",
            )
            .with_test()
            .with_schema()
            .class(USER, ClassCapabilities::all())
            .class(GROUP, ClassCapabilities::all().with_enable(false))
    }

    fn validate(config: &MemoryConfig) -> Result<()> {
        let mut problems = ConfigProblems::default();
        problems.check(
            !config.tenant.trim().is_empty(),
            "tenant",
            "must not be empty",
        );
        problems.check(
            !config.api_token.is_blank(),
            "api_token",
            "must not be empty",
        );
        problems.check(
            (1..=1000).contains(&config.page_size_max),
            "page_size_max",
            "must be between 1 and 1000",
        );
        problems.check(
            config.seed_users <= 1_000_000,
            "seed_users",
            "at most 1000000",
        );
        problems.check(
            config.simulated_latency_ms <= 60_000,
            "simulated_latency_ms",
            "at most 60000",
        );
        problems.into_result()
    }

    fn open(config: MemoryConfig) -> Result<Self> {
        let mut store = Store::default();
        for i in 1..=config.seed_users {
            let uid = store.new_uid(USER);
            let name = format!("seed-{i:05}");
            let user = ConnectorObject::new(uid.as_str(), name.as_str())
                .with_enabled(true)
                .with_attr("email", format!("{name}@{}.example", config.tenant));
            store.users.insert(uid, user);
        }
        Ok(MemoryConnector {
            config,
            store: RwLock::new(store),
        })
    }

    fn test(&self, ctx: &Context<'_>) -> Result<TestReport> {
        self.simulate_latency(ctx)?;
        let mut report = TestReport::default();
        report.pass(
            "store.reachable",
            format!("tenant `{}` is open", self.config.tenant),
        );
        report.pass("store.credentials", "the API token is set");
        Ok(report)
    }

    fn schema(&self, _ctx: &Context<'_>) -> Result<Schema> {
        Ok(schema().clone())
    }

    fn create(&self, ctx: &Context<'_>, op: OpCreate) -> Result<RpCreate> {
        Self::known_class(op.class.as_str())?;
        self.simulate_latency(ctx)?;
        let class = op.class.as_str();
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        if op.name.trim().is_empty() {
            return Err(ConnectorError::invalid_value(
                "__name__",
                "must not be empty",
            ));
        }
        if let Some(uid) = Self::name_taken(&store, class, &op.name, None) {
            return Err(ConnectorError::already_exists(
                format!("a {class} named `{}` already exists", op.name),
                Some(&uid),
            ));
        }
        if class == GROUP && op.enabled.is_some() {
            return Err(ConnectorError::invalid_value(
                "__enabled__",
                "groups have no enabled flag",
            ));
        }
        let required = schema()
            .class(class)
            .map(|c| c.attributes.clone())
            .unwrap_or_default();
        for attribute in required.iter().filter(|a| a.required) {
            if !op.attributes.contains_key(&attribute.name) {
                return Err(ConnectorError::invalid_value(
                    &attribute.name,
                    "required on create",
                ));
            }
        }
        for (name, value) in &op.attributes {
            Self::check_value(&store, class, name, value)?;
        }
        let uid = store.new_uid(class);
        let mut object = ConnectorObject::new(uid.as_str(), op.name.as_str());
        object.enabled = (class == USER).then_some(op.enabled.unwrap_or(true));
        object.attributes = op
            .attributes
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .collect();
        store.class_mut(class).insert(uid.clone(), object);
        ctx.log(LogLevel::Debug, format!("created {class} {uid}"));
        Ok(RpCreate::created(uid))
    }

    fn get(&self, ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
        Self::known_class(op.class.as_str())?;
        Self::check_attributes_to_get(op.class.as_str(), op.attributes_to_get.as_ref())?;
        self.simulate_latency(ctx)?;
        let store = self.store.read().unwrap_or_else(|p| p.into_inner());
        let object = store
            .class(op.class.as_str())
            .get(op.uid.as_str())
            .ok_or_else(|| ConnectorError::unknown_uid(op.class.as_str(), op.uid.as_str()))?;
        let mut object = store.read(op.class.as_str(), object);
        if let Some(names) = &op.attributes_to_get {
            object.retain_attributes(names);
        }
        Ok(RpGet::new(object))
    }

    fn update(&self, ctx: &Context<'_>, op: OpUpdate) -> Result<RpUpdate> {
        let class = op.class.as_str();
        Self::known_class(class)?;
        self.simulate_latency(ctx)?;
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        if !store.class(class).contains_key(op.uid.as_str()) {
            return Err(ConnectorError::unknown_uid(class, op.uid.as_str()));
        }
        if let Some(name) = &op.name {
            if let Some(other) = Self::name_taken(&store, class, name, Some(op.uid.as_str())) {
                return Err(ConnectorError::already_exists(
                    format!("a {class} named `{name}` already exists"),
                    Some(&other),
                ));
            }
        }
        if class == GROUP && op.enabled.is_some() {
            return Err(ConnectorError::invalid_value(
                "__enabled__",
                "groups have no enabled flag",
            ));
        }
        // Validate every delta before changing anything: an update applies whole or not at all.
        let schema = schema();
        let mut object = store.class(class)[op.uid.as_str()].clone();
        for delta in &op.deltas {
            let attribute = schema
                .class(class)
                .and_then(|c| c.attribute(&delta.attribute));
            let multi = attribute.is_some_and(|a| a.multi_valued);
            let next = delta.apply_to(object.attributes.get(&delta.attribute), multi);
            if let Some(value) = &next {
                Self::check_value(&store, class, &delta.attribute, value)?;
            } else if attribute.is_none() {
                return Err(ConnectorError::invalid_value(
                    &delta.attribute,
                    format!("no such attribute on class `{class}`"),
                ));
            } else if attribute.is_some_and(|a| a.required) {
                return Err(ConnectorError::invalid_value(
                    &delta.attribute,
                    "required; cannot be cleared",
                ));
            }
            match next {
                Some(value) => object.attributes.insert(delta.attribute.clone(), value),
                None => object.attributes.remove(&delta.attribute),
            };
        }
        if let Some(name) = op.name {
            object.name = name;
        }
        if let Some(enabled) = op.enabled {
            object.enabled = Some(enabled);
        }
        store.class_mut(class).insert(op.uid.0.clone(), object);
        Ok(RpUpdate::new(op.uid))
    }

    fn delete(&self, ctx: &Context<'_>, op: OpDelete) -> Result<RpDelete> {
        let class = op.class.as_str();
        Self::known_class(class)?;
        self.simulate_latency(ctx)?;
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        store
            .class_mut(class)
            .remove(op.uid.as_str())
            .ok_or_else(|| ConnectorError::unknown_uid(class, op.uid.as_str()))?;
        if class == USER {
            // A deleted user leaves every group.
            for group in store.groups.values_mut() {
                if let Some(Value::Array(values)) = group.attributes.get_mut("members") {
                    values.retain(|v| v.as_str() != Some(op.uid.as_str()));
                    if values.is_empty() {
                        group.attributes.remove("members");
                    }
                }
            }
        }
        Ok(RpDelete::new())
    }

    fn search(
        &self,
        ctx: &Context<'_>,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
    ) -> Result<RpSearch> {
        let class = op.class.as_str();
        Self::known_class(class)?;
        Self::check_attributes_to_get(class, op.attributes_to_get.as_ref())?;
        if let Some(filter) = &op.filter {
            let schema = schema();
            for attribute in filter.attributes() {
                let known = attribute.starts_with("__")
                    || schema
                        .class(class)
                        .and_then(|c| c.attribute(attribute))
                        .is_some();
                if !known {
                    return Err(ConnectorError::invalid_filter(format!(
                        "the filter reads `{attribute}`, which class `{class}` does not have"
                    )));
                }
            }
        }
        let page = op
            .page_size
            .unwrap_or(self.config.page_size_max)
            .clamp(1, self.config.page_size_max) as usize;
        // Page by uid, as a real target pages by cursor: the lock is held per page, never across
        // the sink, and objects created meanwhile after the cursor are still seen once.
        let mut after: Option<String> = None;
        let mut sent = 0u64;
        loop {
            self.simulate_latency(ctx)?;
            let batch: Vec<ConnectorObject> = {
                let store = self.store.read().unwrap_or_else(|p| p.into_inner());
                let range = match &after {
                    Some(uid) => store.class(class).range::<str, _>((
                        std::ops::Bound::Excluded(uid.as_str()),
                        std::ops::Bound::Unbounded,
                    )),
                    None => store.class(class).range::<str, _>(..),
                };
                range
                    .map(|(_, o)| store.read(class, o))
                    .filter(|o| op.filter.as_ref().is_none_or(|f| f.matches(o)))
                    .take(page)
                    .collect()
            };
            let Some(last) = batch.last() else {
                return Ok(RpSearch::new(sent, true));
            };
            after = Some(last.uid.0.clone());
            let full_page = batch.len() == page;
            let batch: Vec<ConnectorObject> = match &op.attributes_to_get {
                Some(names) => batch
                    .into_iter()
                    .map(|mut o| {
                        o.retain_attributes(names);
                        o
                    })
                    .collect(),
                None => batch,
            };
            sent += batch.len() as u64;
            if let ControlFlow::Break(()) = sink.push(batch) {
                return Ok(RpSearch::new(sent, false));
            }
            if !full_page {
                return Ok(RpSearch::new(sent, true));
            }
        }
    }
}

connector_api::export_connector!(MemoryConnector);

/// The connector called in-process through the SDK's test kit, as a host calls the library.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use connector_api::ops::{OpCreate, OpSearch, OpTest};
    use connector_api::testing::ConnectorTest;
    use connector_api::{ErrorKind, LogLevel};
    use serde_json::json;

    use super::MemoryConnector;

    fn open(config: serde_json::Value) -> ConnectorTest<MemoryConnector> {
        ConnectorTest::open(&config).unwrap()
    }

    #[test]
    fn a_blank_token_is_refused_naming_the_field() {
        let error =
            ConnectorTest::<MemoryConnector>::open(&json!({"tenant": "t", "api_token": " "}))
                .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfiguration);
        assert!(error.message.contains("api_token"), "{}", error.message);
    }

    #[test]
    fn a_create_is_logged_and_a_second_one_answers_the_existing_uid() {
        let test = open(json!({"tenant": "t", "api_token": "k"})).log_level(LogLevel::Debug);
        let created = test.call(OpCreate::new("user", "ada").attr("email", "ada@t.example"));
        let uid = created.result.unwrap().uid;
        assert!(
            created
                .logs
                .iter()
                .any(|(level, line)| *level == LogLevel::Debug && line.contains(uid.as_str()))
        );
        let again = test.run(OpCreate::new("user", "ada")).unwrap_err();
        assert_eq!(again.kind, ErrorKind::AlreadyExists);
        assert_eq!(again.existing_uid(), Some(uid.as_str()));
    }

    #[test]
    fn a_search_streams_every_page_and_stops_when_the_host_has_enough() {
        let config =
            json!({"tenant": "t", "api_token": "k", "seed_users": 250, "page_size_max": 100});
        let all = open(config.clone()).call(OpSearch::new("user"));
        let reply = all.result.unwrap();
        assert!(reply.complete);
        assert_eq!((reply.count, all.objects.len()), (250, 250));
        let some = open(config).stop_after(100).call(OpSearch::new("user"));
        assert!(
            !some.result.unwrap().complete,
            "a stopped search is never complete"
        );
        assert_eq!(some.objects.len(), 100);
    }

    #[test]
    fn a_slow_call_honours_the_deadline_and_the_hosts_cancel() {
        let slow = json!({"tenant": "t", "api_token": "k", "simulated_latency_ms": 60_000});
        let timed = open(slow.clone()).timeout(Duration::from_millis(50));
        assert_eq!(
            timed.run(OpTest::new()).unwrap_err().kind,
            ErrorKind::Timeout
        );
        let cancelled = open(slow);
        let canceller = cancelled.canceller();
        let cancelling = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            canceller.cancel();
        });
        assert_eq!(
            cancelled.run(OpTest::new()).unwrap_err().kind,
            ErrorKind::Cancelled
        );
        cancelling.join().unwrap();
    }
}
