//! The plugin side of the boundary: `export_connector!`, the panic guard and the JSON dispatcher.
//!
//! Authors see only the macro. It emits the one static abi_stable looks for, whose root module
//! points at the generic entry points below; each entry point runs under [`guard`], decodes the
//! request envelope, calls the author's [`Connector`] method and encodes the reply.

use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use abi_stable::library::{
    __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
};
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::abi::{
    AbiError, ConnectorBox, ConnectorModule, ConnectorModule_Ref, ConnectorObj, ConnectorObj_TO,
    HostCallbacksRef, PROTOCOL_VERSION,
};
use crate::author::{Connector, Context, HostLink, LogLevel, ObjectSink};
use crate::config_form::config_schema;
use crate::error::{ConfigProblems, ConnectorError, ErrorKind, Result};
use crate::model::ConnectorObject;
use crate::ops::{
    OpCreate, OpDelete, OpGet, OpSchema, OpSearch, OpTest, OpUpdate, Operation, RpSearch,
};
use crate::redact::Redactor;
use crate::wire::{Event, OPERATION_NAMES, RequestEnvelope};

/// The operation every exported connector answers with a deliberate panic inside the guard, so a
/// host can prove that panics in this library are contained.
pub const PANIC_PROBE_OPERATION: &str = "sdk.panic_probe";

/// Exports a [`Connector`] type as a connector library: put it once at the root of a crate built
/// with `crate-type = ["cdylib"]`.
///
/// ```ignore
/// connector_api::export_connector!(MyConnector);
/// ```
///
/// It generates the abi_stable root module (manifest, validate, open), a `catch_unwind` guard on
/// every entry point (a panic becomes an [`ErrorKind::Internal`] error carrying the panic
/// message), and the JSON dispatch of every operation. The author writes no `unsafe` and no
/// abi_stable code.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        /// The header abi_stable's loader reads: the root module of this connector library.
        // The symbol name is abi_stable's `ROOT_MODULE_LOADER_NAME`; a unit test pins it.
        #[doc(hidden)]
        // The one symbol a host looks up must have abi_stable's exact name.
        #[allow(unsafe_code)]
        #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
        pub static __IDHUB_CONNECTOR_LIB_HEADER: $crate::__private::LibHeader =
            $crate::__private::lib_header::<$connector>();
    };
}

/// The library header of connector `C`, for [`export_connector!`].
#[allow(unsafe_code)] // abi_stable's constructor of a header is `unsafe`; see SAFETY below.
pub const fn lib_header<C: Connector>() -> LibHeader {
    // SAFETY: `erased_root_module::<C>` returns the `PrefixRef` of a `ConnectorModule_Ref`,
    // erased by abi_stable's own loader helper, which is what `from_constructor` requires.
    unsafe {
        LibHeader::from_constructor::<ConnectorModule_Ref>(
            erased_root_module::<C>,
            CheckTypeLayout::Yes,
        )
    }
}

extern "C" fn erased_root_module<C: Connector>() -> RootModuleResult {
    __call_root_module_loader(root_module::<C>)
}

thread_local! {
    /// Set while the panic probe runs, so that its deliberate panic prints nothing.
    static PROBING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the library's panic hook once so that the panic probe is silent; every other panic is
/// reported as the hook in force reports it.
fn quiet_probe_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !PROBING.with(|p| p.get()) {
                previous(info);
            }
        }));
    });
}

/// The root module of connector `C`.
pub fn root_module<C: Connector>() -> ConnectorModule_Ref {
    quiet_probe_hook();
    ConnectorModule {
        manifest: manifest_entry::<C>,
        validate: validate_entry::<C>,
        open: open_entry::<C>,
    }
    .leak_into_prefix()
}

/// Runs `f`, turning a panic into an [`ErrorKind::Internal`] error with the panic message.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with a non-string payload".into());
        Err(
            ConnectorError::internal(format!("the connector panicked: {message}"))
                .with_details(json!({ "panic": message })),
        )
    })
}

/// The manifest of `C`, with the SDK's fields filled in.
pub fn full_manifest<C: Connector>() -> crate::Manifest {
    let mut manifest = C::manifest();
    manifest.protocol_version = PROTOCOL_VERSION;
    manifest.api_version = crate::API_VERSION.into();
    manifest.config_schema = config_schema::<C::Config>();
    manifest.config_ui_schema = crate::config_form::ui_schema(&manifest.config_schema);
    manifest
}

extern "C" fn manifest_entry<C: Connector>() -> RString {
    let json = guard(|| {
        serde_json::to_string(&full_manifest::<C>())
            .map_err(|e| ConnectorError::internal(format!("manifest could not be encoded: {e}")))
    });
    match json {
        Ok(json) => json.into(),
        // The host reads a manifest with an `error` member as a load failure.
        Err(error) => json!({ "error": error }).to_string().into(),
    }
}

/// The redactor of a configuration's secrets (from its schema), whatever else is wrong with it.
fn redactor_of<C: Connector>(config_json: &str) -> Redactor {
    match serde_json::from_str::<serde_json::Value>(config_json) {
        Ok(config) => Redactor::for_config(&config, &config_schema::<C::Config>()),
        Err(_) => Redactor::default(),
    }
}

/// `error` as it may leave the library: every secret, encoding and fragment removed.
pub(crate) fn clean_error(redactor: &Redactor, mut error: ConnectorError) -> ConnectorError {
    error.message = redactor.clean(&error.message).into_owned();
    redactor.value(&mut error.details);
    error
}

extern "C" fn validate_entry<C: Connector>(config_json: RStr<'_>) -> RResult<RString, AbiError> {
    guard(|| parse_config::<C>(config_json.as_str()).map(|_| RString::from("null")))
        .map_err(|e| clean_error(&redactor_of::<C>(config_json.as_str()), e).into_abi())
        .into()
}

extern "C" fn open_entry<C: Connector>(config_json: RStr<'_>) -> RResult<ConnectorBox, AbiError> {
    let redactor = redactor_of::<C>(config_json.as_str());
    guard(|| {
        let config = parse_config::<C>(config_json.as_str())?;
        let connector = C::open(config)?;
        let exported = Exported {
            connector,
            redactor: redactor.clone(),
        };
        Ok(ConnectorObj_TO::from_value(exported, TD_Opaque))
    })
    .map_err(|e| clean_error(&redactor, e).into_abi())
    .into()
}

/// Deserializes a configuration, naming the field on error, then runs the author's `validate`.
/// A configuration is a JSON object: anything else is refused before serde sees it (serde would
/// read a struct from an array).
pub fn parse_config<C: Connector>(json: &str) -> Result<C::Config> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| ConnectorError::invalid_config("(root)", format!("not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ConnectorError::invalid_config(
            "(root)",
            "the configuration must be a JSON object",
        ));
    }
    let config: C::Config = serde_path_to_error::deserialize(&value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." {
            "(root)".to_owned()
        } else {
            field
        };
        let schema = config_schema::<C::Config>();
        let path = e.path().clone();
        let cause = describe_field_error(&value, &schema, &path, &e.into_inner().to_string());
        ConnectorError::invalid_config(&field, cause)
    })?;
    C::validate(&config)?;
    // The floor under the author's checks: what a `Secret`'s schema states (`minLength: 1`,
    // not blank), so that a form and `validate` never disagree about it.
    let mut problems = ConfigProblems::default();
    blank_secrets(&value, &config_schema::<C::Config>(), "", &mut problems);
    problems.into_result()?;
    Ok(config)
}

/// Records every secret of `value` (a string field the schema marks `writeOnly`) that is
/// empty or only whitespace, by its dotted path.
fn blank_secrets(value: &Value, schema: &Value, path: &str, problems: &mut ConfigProblems) {
    let Some(fields) = value.as_object() else {
        return;
    };
    for (name, field) in fields {
        let Some(field_schema) = schema.get("properties").and_then(|p| p.get(name)) else {
            continue;
        };
        let at = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        match field {
            Value::String(text) if crate::redact::is_secret(field_schema, schema) => {
                problems.check(!text.trim().is_empty(), &at, "must not be empty or blank");
            }
            Value::Object(_) => blank_secrets(field, field_schema, &at, problems),
            _ => {}
        }
    }
}

/// What is wrong with a field, without echoing a value the message does not own: serde's own
/// words quote the value (`invalid type: string "ADV-…", expected u32`), which may be a key
/// pasted into the wrong field. A value is quoted only for a string field that is no secret,
/// and cut to 80 characters.
fn describe_field_error(
    config: &serde_json::Value,
    schema: &serde_json::Value,
    path: &serde_path_to_error::Path,
    cause: &str,
) -> String {
    use serde_json::Value;
    use serde_path_to_error::Segment;
    // These name fields, never values.
    if ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| cause.starts_with(p))
    {
        return cause.to_owned();
    }
    let (mut value, mut sub) = (Some(config), Some(schema));
    for segment in path.iter() {
        let resolved = sub.map(|s| crate::redact::resolve(s, schema));
        match segment {
            Segment::Map { key } => {
                value = value.and_then(|v| v.get(key));
                sub = resolved
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.get(key));
            }
            Segment::Seq { index } => {
                value = value.and_then(|v| v.get(*index));
                sub = resolved.and_then(|s| s.get("items"));
            }
            _ => {}
        }
    }
    let quotable = sub.is_some_and(|s| {
        let s = crate::redact::resolve(s, schema);
        s.get("type").and_then(Value::as_str) == Some("string")
            && !crate::redact::is_secret(s, schema)
    });
    let got = match value {
        Some(Value::String(s)) if quotable => {
            let shown: String = s.chars().take(80).collect();
            let more = if shown.len() < s.len() { "…" } else { "" };
            format!("the string \"{shown}{more}\"")
        }
        Some(Value::String(s)) => format!("a string of {} characters", s.chars().count()),
        Some(Value::Number(_)) => "a number".into(),
        Some(Value::Bool(_)) => "a boolean".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Array(items)) => format!("a list of {}", items.len()),
        Some(Value::Object(_)) => "an object".into(),
        None => "a value".into(),
    };
    let expected = match cause.split_once(", expected ").map(|(_, e)| e.trim()) {
        Some("u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize") => {
            "a whole number in range"
        }
        Some(expected) => expected,
        None => "another value",
    };
    format!("expected {expected}, got {got}")
}

/// An open connector behind the ABI object, with the redactor of its configuration: whatever
/// leaves it (replies, errors, events) is redacted on the way out.
struct Exported<C> {
    connector: C,
    redactor: Redactor,
}

impl<C: Connector> ConnectorObj for Exported<C> {
    fn call(
        &self,
        op: RStr<'_>,
        request_json: RStr<'_>,
        host: HostCallbacksRef<'_>,
    ) -> RResult<RString, AbiError> {
        let link = AbiHost {
            host,
            redactor: &self.redactor,
        };
        guard(|| dispatch(&self.connector, op.as_str(), request_json.as_str(), &link))
            .map(|reply| RString::from(self.redactor.json(&reply).into_owned()))
            .map_err(|e| clean_error(&self.redactor, e).into_abi())
            .into()
    }
}

struct AbiHost<'h, 'r> {
    host: HostCallbacksRef<'h>,
    redactor: &'r Redactor,
}

impl HostLink for AbiHost<'_, '_> {
    fn emit(&self, event: &Event) -> bool {
        match serde_json::to_string(event) {
            Ok(json) => self
                .host
                .emit(RStr::from(self.redactor.json(&json).as_ref())),
            Err(_) => true,
        }
    }

    fn is_cancelled(&self) -> bool {
        self.host.is_cancelled()
    }
}

/// Runs operation `op` of connector `c` on a JSON request envelope; answers the JSON reply.
pub(crate) fn dispatch<C: Connector>(
    c: &C,
    op: &str,
    request: &str,
    link: &dyn HostLink,
) -> Result<String> {
    match op {
        OpTest::NAME => run(request, link, |ctx, _: OpTest| c.test(ctx)),
        OpSchema::NAME => run(request, link, |ctx, _: OpSchema| c.schema(ctx)),
        OpCreate::NAME => run(request, link, |ctx, op: OpCreate| c.create(ctx, op)),
        OpGet::NAME => run(request, link, |ctx, op: OpGet| c.get(ctx, op)),
        OpUpdate::NAME => run(request, link, |ctx, op: OpUpdate| c.update(ctx, op)),
        OpDelete::NAME => run(request, link, |ctx, op: OpDelete| c.delete(ctx, op)),
        OpSearch::NAME => run(request, link, |ctx, op: OpSearch| {
            let mut sink = HostSink {
                link: ctx.link(),
                count: 0,
                stopped: false,
            };
            let reply = c.search(ctx, op, &mut sink)?;
            // The sink knows what really crossed; the author's counters cannot disagree with it.
            let mut checked = RpSearch::new(sink.count, reply.complete && !sink.stopped);
            checked.total_is_estimate = reply.total_is_estimate;
            Ok(checked)
        }),
        PANIC_PROBE_OPERATION => {
            PROBING.with(|p| p.set(true));
            let probe = std::panic::catch_unwind(|| -> Result<String> {
                panic!("panic probe: the SDK guard must turn this panic into an internal error")
            });
            PROBING.with(|p| p.set(false));
            // Re-raise outside the silenced region so the real guard does its work.
            match probe {
                Ok(reply) => reply,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        other => Err(ConnectorError::new(
            ErrorKind::Unsupported,
            format!(
                "unknown operation `{other}`; this connector answers: {}",
                OPERATION_NAMES.join(", ")
            ),
        )
        .with_details(json!({ "operation": other, "supported": OPERATION_NAMES }))),
    }
}

fn run<O: Operation>(
    request: &str,
    link: &dyn HostLink,
    f: impl FnOnce(&Context<'_>, O) -> Result<O::Reply>,
) -> Result<String> {
    let envelope: RequestEnvelope<O> = decode_request(O::NAME, request)?;
    if envelope.protocol > PROTOCOL_VERSION {
        return Err(ConnectorError::new(
            ErrorKind::Unsupported,
            format!(
                "the host speaks connector protocol {}, this connector only {PROTOCOL_VERSION}",
                envelope.protocol
            ),
        ));
    }
    envelope.request.check_addressable()?;
    let ctx = Context::new(
        envelope.timeout_ms.map(Duration::from_millis),
        envelope.log_level.unwrap_or(LogLevel::Trace),
        link,
    );
    let reply = f(&ctx, envelope.request)?;
    encode_reply(O::NAME, &reply)
}

fn decode_request<T: DeserializeOwned>(op: &str, json: &str) -> Result<T> {
    // Tracking the path costs a fifth of a trivial call: parse fast, and again to locate the
    // fault only when there is one.
    if let Ok(request) = serde_json::from_str(json) {
        return Ok(request);
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let attribute = path.strip_prefix("request.").unwrap_or(&path).to_owned();
        ConnectorError::invalid_value(
            &attribute,
            format!("malformed `{op}` request: {}", e.into_inner()),
        )
    })
}

fn encode_reply<T: Serialize>(op: &str, reply: &T) -> Result<String> {
    serde_json::to_string(reply).map_err(|e| {
        ConnectorError::internal(format!("the `{op}` reply could not be encoded: {e}"))
    })
}

struct HostSink<'a> {
    link: &'a dyn HostLink,
    count: u64,
    stopped: bool,
}

impl ObjectSink for HostSink<'_> {
    fn push(&mut self, objects: Vec<ConnectorObject>) -> ControlFlow<()> {
        if self.stopped {
            return ControlFlow::Break(());
        }
        if objects.is_empty() {
            return ControlFlow::Continue(());
        }
        let n = objects.len() as u64;
        let keep_going = self.link.emit(&Event::Objects { objects });
        self.count += n;
        if keep_going {
            ControlFlow::Continue(())
        } else {
            self.stopped = true;
            ControlFlow::Break(())
        }
    }

    fn total(&mut self, total: u64) {
        self.link.emit(&Event::Total { total });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_secret_is_refused_by_its_path_even_when_the_author_forgot() {
        let schema = json!({"properties": {
            "key": {"type": "string", "writeOnly": true},
            "name": {"type": "string"},
            "inner": {"properties": {"pin": {"type": "string", "writeOnly": true}}},
        }});
        let mut problems = ConfigProblems::default();
        let config = json!({"key": " \t", "name": "", "inner": {"pin": ""}});
        blank_secrets(&config, &schema, "", &mut problems);
        let error = problems.into_result().unwrap_err();
        let fields: Vec<&Value> = error.details["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["field"])
            .collect();
        assert_eq!(fields, [&json!("key"), &json!("inner.pin")], "{error}");
        let mut none = ConfigProblems::default();
        blank_secrets(
            &json!({"key": "k", "inner": {"pin": "1"}}),
            &schema,
            "",
            &mut none,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn macro_uses_abi_stables_symbol_name() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}
