//! `AtlassianConnector`: the connector IDHub loads, dispatching each operation by class.
//!
//! Users and groups live in SCIM ([`crate::users`], [`crate::groups`]); product access is
//! membership of the configured default groups on the site ([`crate::product_access`]). Every
//! operation runs as one future on the plugin's runtime, bounded by the configured deadline and
//! the host's, and every error leaves through the redactor.

use std::time::Instant;

use connector_api::ops::{
    OpCreate, OpDelete, OpGet, OpSearch, OpUpdate, RpCreate, RpDelete, RpGet, RpSearch, RpUpdate,
};
use connector_api::{
    ClassCapabilities, Connector, ConnectorError, Context, Manifest, ObjectSink, Result, Schema,
    TestReport,
};

use crate::clients::Clients;
use crate::config::AtlassianConfig;
use crate::groups::{GROUP, Groups};
use crate::product_access::ProductAccess;
use crate::settings::Settings;
use crate::users::{USER, Users};
use connector_api::rt::{self, Effect};

/// The Atlassian Cloud connector, one per configuration; it keeps no secret but in its clients.
#[derive(Debug)]
pub struct AtlassianConnector {
    settings: Settings,
    clients: Clients,
    access: ProductAccess,
}

/// The part of the connector that serves one class.
enum Class<'a> {
    User(Users<'a>),
    Group(Groups<'a>),
}

impl AtlassianConnector {
    fn class(&self, operation: &str, class: &str) -> Result<Class<'_>> {
        let (scim, settings) = (&self.clients.scim, &self.settings);
        match class {
            USER => Ok(Class::User(Users {
                scim,
                access: &self.access,
                settings,
            })),
            GROUP => Ok(Class::Group(Groups { scim, settings })),
            other => Err(ConnectorError::unsupported(operation, Some(other))),
        }
    }

    /// Runs one operation's future within its deadline; every error leaves secret-free.
    fn call<T>(
        &self,
        ctx: &Context<'_>,
        effect: Effect,
        work: impl AsyncFnOnce(Instant) -> Result<T>,
    ) -> Result<T> {
        let deadline = rt::deadline(ctx, self.settings.deadline);
        rt::block_on_until(ctx, deadline, effect, work(deadline))
            .map_err(|e| self.clients.clean_error(e))
    }
}

impl Connector for AtlassianConnector {
    type Config = AtlassianConfig;

    fn manifest() -> Manifest {
        Manifest::new("atlassian-cloud", env!("CARGO_PKG_VERSION"))
            .vendor("IDHub")
            .description(
                "Provisions Atlassian Cloud accounts and groups through SCIM user provisioning, \
                 and grants Jira Software and Confluence access through their default groups.",
            )
            .with_test()
            .with_schema()
            .class(
                USER,
                ClassCapabilities::all()
                    .with_create_adopts_existing(true)
                    .with_page_size_max(100),
            )
            .class(
                GROUP,
                ClassCapabilities::all()
                    .with_rename(false)
                    .with_enable(false)
                    .with_create_adopts_existing(true)
                    .with_page_size_max(100),
            )
    }

    fn validate(config: &AtlassianConfig) -> Result<()> {
        config.validate()
    }

    fn open(config: AtlassianConfig) -> Result<Self> {
        let settings = config.settings()?;
        let clients = Clients::open(&config, &settings)?;
        let access =
            ProductAccess::new(clients.jira.clone(), clients.confluence.clone(), &settings);
        Ok(AtlassianConnector {
            settings,
            clients,
            access,
        })
    }

    fn test(&self, ctx: &Context<'_>) -> Result<TestReport> {
        self.call(ctx, Effect::Reads, async |deadline| {
            Ok(
                crate::test_connection::run(&self.clients, &self.settings, &self.access, deadline)
                    .await,
            )
        })
    }

    fn schema(&self, _ctx: &Context<'_>) -> Result<Schema> {
        Ok(crate::schema::schema())
    }

    fn create(&self, ctx: &Context<'_>, op: OpCreate) -> Result<RpCreate> {
        match self.class("create", op.class.as_str())? {
            Class::User(users) => {
                self.call(ctx, Effect::Writes, async |d| users.create(op, d).await)
            }
            Class::Group(groups) => {
                self.call(ctx, Effect::Writes, async |d| groups.create(op, d).await)
            }
        }
    }

    fn get(&self, ctx: &Context<'_>, op: OpGet) -> Result<RpGet> {
        match self.class("get", op.class.as_str())? {
            Class::User(users) => self.call(ctx, Effect::Reads, async |d| users.get(op, d).await),
            Class::Group(groups) => {
                self.call(ctx, Effect::Reads, async |d| groups.get(op, d).await)
            }
        }
    }

    fn update(&self, ctx: &Context<'_>, op: OpUpdate) -> Result<RpUpdate> {
        match self.class("update", op.class.as_str())? {
            Class::User(users) => {
                self.call(ctx, Effect::Writes, async |d| users.update(op, d).await)
            }
            Class::Group(groups) => {
                self.call(ctx, Effect::Writes, async |d| groups.update(op, d).await)
            }
        }
    }

    fn delete(&self, ctx: &Context<'_>, op: OpDelete) -> Result<RpDelete> {
        match self.class("delete", op.class.as_str())? {
            Class::User(users) => {
                self.call(ctx, Effect::Writes, async |d| users.delete(op, d).await)
            }
            Class::Group(groups) => {
                self.call(ctx, Effect::Writes, async |d| groups.delete(op, d).await)
            }
        }
    }

    fn search(
        &self,
        ctx: &Context<'_>,
        op: OpSearch,
        sink: &mut dyn ObjectSink,
    ) -> Result<RpSearch> {
        match self.class("search", op.class.as_str())? {
            Class::User(users) => self.call(ctx, Effect::Reads, async |d| {
                users.search(op, sink, d).await
            }),
            Class::Group(groups) => self.call(ctx, Effect::Reads, async |d| {
                groups.search(op, sink, d).await
            }),
        }
    }
}
