//! The manifest: who the connector is, what it can do per class, and its config JSON Schema.
//!
//! Capabilities are declared, never guessed: the host client refuses an undeclared operation
//! before it crosses the ABI, and the conformance suite skips (with the reason) what is not
//! declared. Every flag defaults to `false`, and unknown flags are ignored, so old hosts read
//! new manifests.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::ObjectClass;

/// What a connector can do with one object class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[non_exhaustive]
pub struct ClassCapabilities {
    /// `create` works.
    pub create: bool,
    /// A create of an object that already exists as the same person or thing adopts it (answers
    /// its uid) instead of failing with `already_exists`.
    pub create_adopts_existing: bool,
    /// `get` by uid works.
    pub get: bool,
    /// `update` works for attributes.
    pub update: bool,
    /// `update` can change the name.
    pub rename: bool,
    /// `update` can change the enabled flag.
    pub enable: bool,
    /// `delete` works.
    pub delete: bool,
    /// `search` works.
    pub search: bool,
    /// The most objects the target returns per page, if it caps pages.
    pub page_size_max: Option<u32>,
}

impl ClassCapabilities {
    /// Every operation: create, get, update (with rename and enable), delete and search.
    pub fn all() -> Self {
        ClassCapabilities {
            create: true,
            create_adopts_existing: false,
            get: true,
            update: true,
            rename: true,
            enable: true,
            delete: true,
            search: true,
            page_size_max: None,
        }
    }

    /// Read-only: get and search.
    pub fn read_only() -> Self {
        ClassCapabilities {
            get: true,
            search: true,
            ..Default::default()
        }
    }

    /// Sets `create`.
    pub fn with_create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    /// Sets `get`.
    pub fn with_get(mut self, get: bool) -> Self {
        self.get = get;
        self
    }

    /// Sets `update` (attributes).
    pub fn with_update(mut self, update: bool) -> Self {
        self.update = update;
        self
    }

    /// Sets `delete`.
    pub fn with_delete(mut self, delete: bool) -> Self {
        self.delete = delete;
        self
    }

    /// Sets `search`.
    pub fn with_search(mut self, search: bool) -> Self {
        self.search = search;
        self
    }

    /// Sets `rename`.
    pub fn with_rename(mut self, rename: bool) -> Self {
        self.rename = rename;
        self
    }

    /// Sets `enable`.
    pub fn with_enable(mut self, enable: bool) -> Self {
        self.enable = enable;
        self
    }

    /// Sets `create_adopts_existing`.
    pub fn with_create_adopts_existing(mut self, adopts: bool) -> Self {
        self.create_adopts_existing = adopts;
        self
    }

    /// Sets `page_size_max`.
    pub fn with_page_size_max(mut self, max: u32) -> Self {
        self.page_size_max = Some(max);
        self
    }

    /// Whether capability flag `flag` is declared: `create`, `get`, `update` (attributes),
    /// `rename`, `enable`, `delete` or `search`; what an operation needs
    /// ([`crate::ops::Operation::needs`]) is checked with it.
    pub fn declares(&self, flag: &str) -> bool {
        match flag {
            "create" => self.create,
            "get" => self.get,
            "update" => self.update,
            "rename" => self.rename,
            "enable" => self.enable,
            "delete" => self.delete,
            "search" => self.search,
            _ => false,
        }
    }

    /// Whether the per-class operation named `operation` is declared (for `update`: any of
    /// attributes, rename and enable).
    pub fn supports(&self, operation: &str) -> bool {
        match operation {
            "create" => self.create,
            "get" => self.get,
            "update" => self.update || self.rename || self.enable,
            "delete" => self.delete,
            "search" => self.search,
            _ => false,
        }
    }
}

/// What a connector can do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[non_exhaustive]
pub struct Capabilities {
    /// `test` (test connection) works.
    pub test: bool,
    /// `schema` works.
    pub schema: bool,
    /// Per object class.
    pub classes: BTreeMap<ObjectClass, ClassCapabilities>,
}

impl Capabilities {
    /// The capabilities of `class`, if declared.
    pub fn class(&self, class: &str) -> Option<&ClassCapabilities> {
        self.classes.get(&ObjectClass::from(class))
    }
}

/// Who a connector is and what it can do. Authors build it with [`Manifest::new`]; the SDK fills
/// the config schema and the protocol versions when the library exports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Manifest {
    /// A stable machine name, e.g. `atlassian-cloud`.
    pub name: String,
    /// The connector's own version.
    pub version: String,
    /// Who publishes it.
    #[serde(default)]
    pub vendor: String,
    /// One paragraph for admins.
    #[serde(default)]
    pub description: String,
    /// The JSON protocol version of [`crate::abi::PROTOCOL_VERSION`] the library speaks.
    #[serde(default)]
    pub protocol_version: u32,
    /// The connector-api version the library was built with.
    #[serde(default)]
    pub api_version: String,
    /// The JSON Schema (draft 2020-12) of the configuration. Secrets are `writeOnly`.
    #[serde(default)]
    pub config_schema: Value,
    /// A [JSON Forms](https://jsonforms.io) UI schema for `config_schema`, derived by the SDK:
    /// the fields in order, secrets as password inputs, descriptions shown. Additive: a host
    /// that renders the schema another way ignores it.
    #[serde(default)]
    pub config_ui_schema: Value,
    /// What the connector can do.
    #[serde(default)]
    pub capabilities: Capabilities,
}

impl Manifest {
    /// A manifest with no capability.
    pub fn new(name: &str, version: &str) -> Self {
        Manifest {
            name: name.into(),
            version: version.into(),
            vendor: String::new(),
            description: String::new(),
            protocol_version: crate::abi::PROTOCOL_VERSION,
            api_version: crate::API_VERSION.into(),
            config_schema: Value::Null,
            config_ui_schema: Value::Null,
            capabilities: Capabilities::default(),
        }
    }

    /// Sets the vendor.
    pub fn vendor(mut self, vendor: &str) -> Self {
        self.vendor = vendor.into();
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }

    /// Declares that `test` works.
    pub fn with_test(mut self) -> Self {
        self.capabilities.test = true;
        self
    }

    /// Declares that `schema` works.
    pub fn with_schema(mut self) -> Self {
        self.capabilities.schema = true;
        self
    }

    /// Declares a class and what can be done with it.
    pub fn class(mut self, class: &str, capabilities: ClassCapabilities) -> Self {
        self.capabilities.classes.insert(class.into(), capabilities);
        self
    }

    /// The fields missing from a complete manifest, for conformance checks.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for (field, empty) in [
            ("name", self.name.is_empty()),
            ("version", self.version.is_empty()),
            ("vendor", self.vendor.is_empty()),
            ("description", self.description.is_empty()),
            ("api_version", self.api_version.is_empty()),
            ("config_schema", !self.config_schema.is_object()),
            ("capabilities.classes", self.capabilities.classes.is_empty()),
        ] {
            if empty {
                missing.push(field);
            }
        }
        missing
    }
}
