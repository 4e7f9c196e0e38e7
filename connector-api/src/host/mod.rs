//! The host side (feature `host`): load connector libraries and call them through a typed client.
//!
//! A host holds every connector's credentials in memory. Forbid core dumps of the process
//! before opening a connector (a core limit of 0, and on Linux `prctl(PR_SET_DUMPABLE, 0)`),
//! and drop your copy of a configuration's secrets once the connector is open: what a
//! connector sends back is already free of them (see [`crate::redact`]).
//!
//! # The configuration form
//!
//! [`Manifest::config_schema`](crate::Manifest::config_schema) is JSON Schema draft 2020-12,
//! with no `$ref` and only standard formats, plus `password` on secrets;
//! [`Manifest::config_ui_schema`](crate::Manifest::config_ui_schema) is a JSON Forms UI schema
//! for it. A host rendering the form with a stock library:
//!
//! - validates with Ajv's 2020-12 class (`ajv/dist/2020`), not the default draft-07 one, which
//!   cannot resolve the `$schema`; in strict mode it registers `password`
//!   (`ajv.addFormat("password", true)`) and `ajv-formats` for the rest;
//! - fills defaults: JSON Forms only with `useDefaults: true` on its Ajv instance
//!   (react-jsonschema-form does it by itself);
//! - with react-jsonschema-form, sets `noHtml5Validate`, so the schema's messages show at
//!   their fields instead of the browser's bubble; with JSON Forms, passes the UI schema
//!   (it masks secrets and shows descriptions), gives `data` once and submits the data of the
//!   last `onChange` (handing each change back as `data` restarts the form while other typing
//!   is still debounced, and loses it);
//! - on submit, calls the connector's `validate` before saving: it checks what JSON Schema
//!   cannot say (across fields, such as a SCIM URL agreeing with a Directory ID), and each
//!   problem names its field (`details.problems[].field`), to show beside it.
//!
//! `tests/browser` in this workspace renders both connectors' forms this way in Chromium.

pub mod client;
mod image;
pub mod loader;

pub use client::{CallOptions, CancelToken, ConnectorClient, LogObserver, SearchEvent};
pub use loader::{LoadError, PluginLibrary};
