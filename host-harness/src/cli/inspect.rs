//! `host-harness inspect`: what a host sees of a library: manifest, capabilities, config schema.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use connector_api::Manifest;
use serde_json::Value;

use super::CliError;
use crate::plugin;

/// Load a plugin and print its manifest, capabilities and configuration schema.
///
/// A library that fails to load prints a short summary of why and exits 3.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// The connector library (.so, .dylib or .dll).
    pub plugin: PathBuf,
    /// Print the manifest as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Loads the plugin at `args.plugin` and prints its manifest, as a table or as JSON.
pub fn run(args: &InspectArgs) -> Result<(), CliError> {
    let (path, json) = (args.plugin.as_path(), args.json);
    let library = plugin::load(path)?;
    let manifest = library.manifest();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(manifest).unwrap_or_default()
        );
    } else {
        print!("{}", render(path, manifest));
    }
    Ok(())
}

/// The human-readable description of a manifest.
pub fn render(path: &Path, m: &Manifest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} by {}", m.name, m.version, or_dash(&m.vendor));
    let _ = writeln!(out, "  {}", or_dash(&m.description));
    let _ = writeln!(out, "library      {}", path.display());
    let _ = writeln!(
        out,
        "built with   connector-api {}, protocol {}",
        m.api_version, m.protocol_version
    );
    let caps = &m.capabilities;
    let ops: Vec<&str> = [("test", caps.test), ("schema", caps.schema)]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
    let _ = writeln!(
        out,
        "operations   {}",
        if ops.is_empty() {
            "-".into()
        } else {
            ops.join(", ")
        }
    );

    let _ = writeln!(out, "\ncapabilities per class");
    if caps.classes.is_empty() {
        let _ = writeln!(out, "  (no class declared)");
    } else {
        let _ = writeln!(
            out,
            "  class        create  get  update  rename  enable  delete  search  adopts  page cap"
        );
        for (class, c) in &caps.classes {
            let yn = |b: bool| if b { "yes" } else { "-" };
            let _ = writeln!(
                out,
                "  {:<12} {:<7} {:<4} {:<7} {:<7} {:<7} {:<7} {:<7} {:<7} {}",
                class.as_str(),
                yn(c.create),
                yn(c.get),
                yn(c.update),
                yn(c.rename),
                yn(c.enable),
                yn(c.delete),
                yn(c.search),
                yn(c.create_adopts_existing),
                c.page_size_max.map_or("-".into(), |n| n.to_string()),
            );
        }
    }

    let _ = writeln!(out, "\nconfiguration (JSON Schema 2020-12)");
    let fields = config_fields(&m.config_schema);
    if fields.is_empty() {
        let _ = writeln!(out, "  (no field)");
    }
    let width = fields
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    for f in &fields {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<9} {:<9} {}",
            f.name,
            f.kind,
            if f.required { "required" } else { "optional" },
            f.notes
        );
    }
    out
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// One top-level field of a configuration schema.
#[derive(Debug)]
struct Field {
    name: String,
    kind: String,
    required: bool,
    notes: String,
}

fn config_fields(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| {
            let p = resolve(schema, p);
            let kind = match p.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("|"),
                _ if p.get("enum").is_some() || p.get("oneOf").is_some() => "choice".into(),
                _ => "any".into(),
            };
            let mut notes = Vec::new();
            if let Some(title) = p.get("title").and_then(Value::as_str) {
                notes.push(title.to_owned());
            }
            if p.get("writeOnly") == Some(&Value::Bool(true)) {
                notes.push("secret (writeOnly)".into());
            } else if let Some(format) = p.get("format").and_then(Value::as_str) {
                notes.push(format!("format {format}"));
            }
            if let Some(default) = p.get("default") {
                notes.push(format!("default {default}"));
            }
            Field {
                name: name.clone(),
                kind,
                required: required.contains(&name.as_str()),
                notes: notes.join("; "),
            }
        })
        .collect()
}

/// Follows a local `$ref` (`#/$defs/...`), keeping the referring schema's own keywords.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> Value {
    let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
        return schema.clone();
    };
    let target = reference
        .strip_prefix('#')
        .and_then(|pointer| root.pointer(pointer))
        .cloned()
        .unwrap_or(Value::Null);
    let mut merged = target;
    if let (Some(merged), Some(own)) = (merged.as_object_mut(), schema.as_object()) {
        for (k, v) in own {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    merged
}
