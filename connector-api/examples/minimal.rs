//! A minimal connector: users kept in memory, every operation, built as a `cdylib`.
//!
//! The connector of the crate docs, and what `host-harness new` generates. It passes the
//! conformance suite with `examples/minimal.conformance.json`:
//!
//! ```text
//! cargo build -p connector-api --example minimal
//! host-harness conform target/debug/examples/libminimal.so --suite connector-api/examples/minimal.conformance.json
//! ```

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Mutex;

use connector_api::ops::{
    OpCreate, OpDelete, OpGet, OpSearch, OpUpdate, RpCreate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use connector_api::{
    ClassCapabilities, ConfigProblems, Connector, ConnectorError, ConnectorObject, Context,
    Manifest, ObjectClass, ObjectSink, Result, Secret,
};
use serde::Deserialize;

/// The configuration the admin fills in: each doc comment is its field's description.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the directory lives (a label, for this example).
    pub directory: String,
    /// The key that opens it.
    pub api_key: Secret,
}

/// The connector: one directory of users per instance, safe to call from many threads.
#[derive(Debug)]
pub struct Users {
    users: Mutex<BTreeMap<String, ConnectorObject>>,
    next_uid: Mutex<u64>,
}

/// The attributes a user has; anything else is refused by name.
const ATTRIBUTES: [&str; 2] = ["email", "title"];

impl Users {
    /// Refuses a class this connector does not have, as `unsupported`.
    fn user_class(class: &ObjectClass) -> Result<()> {
        match class.as_str() {
            "user" => Ok(()),
            other => Err(ConnectorError::unsupported("any operation", Some(other))),
        }
    }

    /// Refuses an attribute users do not have, naming it.
    fn known(attribute: &str) -> Result<()> {
        match ATTRIBUTES.contains(&attribute) {
            true => Ok(()),
            false => Err(ConnectorError::invalid_value(
                attribute,
                "users have no such attribute",
            )),
        }
    }

    fn users(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ConnectorObject>> {
        // A panic in another call must not make every later call fail.
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Connector for Users {
    type Config = Config;

    fn manifest() -> Manifest {
        Manifest::new("users-example", env!("CARGO_PKG_VERSION"))
            .vendor("Example Corp")
            .description("Keeps users in memory.")
            .class("user", ClassCapabilities::all().with_rename(false))
    }

    fn validate(config: &Config) -> Result<()> {
        let mut problems = ConfigProblems::default();
        problems.check(
            !config.directory.trim().is_empty(),
            "directory",
            "must not be empty",
        );
        problems.check(!config.api_key.is_blank(), "api_key", "must not be empty");
        problems.into_result()
    }

    fn open(_config: Config) -> Result<Self> {
        Ok(Users {
            users: Mutex::default(),
            next_uid: Mutex::new(1),
        })
    }

    fn create(&self, ctx: &Context<'_>, op: OpCreate) -> Result<RpCreate> {
        ctx.check()?;
        Self::user_class(&op.class)?;
        op.attributes.keys().try_for_each(|a| Self::known(a))?;
        let mut users = self.users();
        if let Some(existing) = users.values().find(|u| u.name == op.name) {
            let message = format!("user `{}` exists", op.name);
            return Err(ConnectorError::already_exists(
                message,
                Some(existing.uid.as_str()),
            ));
        }
        // The target makes no ids here, so the connector does: stable, never reused.
        let uid = {
            let mut next = self.next_uid.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            format!("u{}", *next - 1)
        };
        let mut user = ConnectorObject::new(uid.as_str(), op.name.as_str())
            .with_enabled(op.enabled.unwrap_or(true));
        user.attributes = op.attributes;
        users.insert(uid.clone(), user);
        Ok(RpCreate::created(uid))
    }

    fn get(&self, _ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
        Self::user_class(&op.class)?;
        // An unknown name asked for is an error, never silently an absent value.
        op.attributes_to_get
            .iter()
            .flatten()
            .try_for_each(|a| Self::known(a))?;
        let users = self.users();
        let mut user = users
            .get(op.uid.as_str())
            .cloned()
            .ok_or_else(|| ConnectorError::unknown_uid("user", op.uid.as_str()))?;
        if let Some(names) = &op.attributes_to_get {
            user.retain_attributes(names);
        }
        Ok(RpGet::new(user))
    }

    fn update(&self, _ctx: &Context<'_>, op: OpUpdate) -> Result<RpUpdate> {
        Self::user_class(&op.class)?;
        op.deltas
            .iter()
            .try_for_each(|d| Self::known(&d.attribute))?;
        let mut users = self.users();
        let user = users
            .get_mut(op.uid.as_str())
            .ok_or_else(|| ConnectorError::unknown_uid("user", op.uid.as_str()))?;
        if let Some(enabled) = op.enabled {
            user.enabled = Some(enabled);
        }
        for delta in &op.deltas {
            // `None`: the change leaves no value, so the attribute is cleared.
            match delta.apply_to(user.attributes.get(&delta.attribute), false) {
                Some(value) => user.attributes.insert(delta.attribute.clone(), value),
                None => user.attributes.remove(&delta.attribute),
            };
        }
        Ok(RpUpdate::new(op.uid))
    }

    fn delete(&self, _ctx: &Context<'_>, op: OpDelete) -> Result<RpDelete> {
        Self::user_class(&op.class)?;
        self.users()
            .remove(op.uid.as_str())
            .map(|_| RpDelete::new())
            .ok_or_else(|| ConnectorError::unknown_uid("user", op.uid.as_str()))
    }

    fn search(
        &self,
        ctx: &Context<'_>,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
    ) -> Result<RpSearch> {
        Self::user_class(&op.class)?;
        op.attributes_to_get
            .iter()
            .flatten()
            .try_for_each(|a| Self::known(a))?;
        if let Some(unknown) = op
            .filter
            .iter()
            .flat_map(|f| f.attributes())
            .find(|a| !a.starts_with("__") && Self::known(a).is_err())
        {
            let why = format!("the filter reads `{unknown}`, which users do not have");
            return Err(ConnectorError::invalid_filter(why));
        }
        // A snapshot, so the lock is never held while the host takes a page.
        let matching: Vec<ConnectorObject> = self
            .users()
            .values()
            .filter(|u| op.filter.as_ref().is_none_or(|f| f.matches(u)))
            .cloned()
            .map(|mut u| {
                if let Some(names) = &op.attributes_to_get {
                    u.retain_attributes(names);
                }
                u
            })
            .collect();
        sink.total(matching.len() as u64);
        for page in matching.chunks(op.page_size.unwrap_or(100).max(1) as usize) {
            ctx.check()?;
            if let ControlFlow::Break(()) = sink.push(page.to_vec()) {
                // The host has read enough: what only the connector knows is that it stopped.
                return Ok(RpSearch::stopped());
            }
        }
        Ok(RpSearch::completed())
    }
}

connector_api::export_connector!(Users);

/// The connector called in-process through the SDK's test kit, as a host calls the library.
#[cfg(test)]
mod tests {
    use connector_api::ErrorKind;
    use connector_api::ops::{OpCreate, OpSearch};
    use connector_api::testing::ConnectorTest;

    use super::Users;

    #[test]
    fn a_user_is_created_once_and_found_by_name() {
        let config = serde_json::json!({"directory": "d", "api_key": "k"});
        let test = ConnectorTest::<Users>::open(&config).unwrap();
        let uid = test.run(OpCreate::new("user", "ada")).unwrap().uid;
        let again = test.run(OpCreate::new("user", "ada")).unwrap_err();
        assert_eq!(again.kind, ErrorKind::AlreadyExists);
        assert_eq!(again.existing_uid(), Some(uid.as_str()));
        let filter = connector_api::Filter::name("ada");
        let found = test.call(OpSearch::new("user").filter(filter));
        assert!(found.result.unwrap().complete);
        assert_eq!(found.objects.len(), 1);
    }
}
