//! Whether a configuration schema renders in stock form libraries: what `boundary.config_form_ready`
//! finds wrong with it.
//!
//! react-jsonschema-form and JSON Forms drop a `title` or `description` beside a `$ref`, show an
//! untyped `oneOf` as raw JSON, label options by their `title`; Ajv in strict mode refuses a
//! format no draft defines. The SDK's schemas avoid all of it; a library built otherwise may not.

use serde_json::{Map, Value};

/// The formats JSON Schema 2020-12 defines, and `password` (OpenAPI's), which marks secrets.
const FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
    "password",
];

/// Every problem of `schema` and its UI schema `ui`, each naming where it is.
pub fn problems(schema: &Value, ui: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(schema, "#", &mut found);
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, field) in &properties {
        if field["writeOnly"] == true && field["minLength"].as_u64().unwrap_or(0) < 1 {
            found.push(format!(
                "secret `{name}` has no minLength, so a form accepts it empty"
            ));
        }
    }
    ui_problems(&properties, ui, &mut found);
    found
}

fn walk(schema: &Value, at: &str, found: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            check_one(map, at, found);
            for (key, inner) in map {
                // `examples`, `default`, `const` and `enum` hold values, not schemas.
                if !["examples", "default", "const", "enum"].contains(&key.as_str()) {
                    walk(inner, &format!("{at}/{key}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

fn check_one(map: &Map<String, Value>, at: &str, found: &mut Vec<String>) {
    if map.contains_key("$ref") {
        let beside: Vec<&str> = ["title", "description", "default"]
            .into_iter()
            .filter(|k| map.contains_key(*k))
            .collect();
        if !beside.is_empty() {
            found.push(format!(
                "{at}: {} beside a $ref (forms drop it)",
                beside.join(", ")
            ));
        }
    }
    if let Some(format) = map.get("format").and_then(Value::as_str) {
        if !FORMATS.contains(&format) {
            found.push(format!(
                "{at}: format `{format}` is defined by no draft (strict Ajv refuses it)"
            ));
        }
    }
    if let Some(branches) = map.get("oneOf").and_then(Value::as_array) {
        let constants = branches.iter().all(|b| b.get("const").is_some());
        if constants && !map.contains_key("type") {
            found.push(format!(
                "{at}: a oneOf of constants without a `type` (shown as raw JSON)"
            ));
        }
        if constants && branches.iter().any(|b| b.get("title").is_none()) {
            found.push(format!(
                "{at}: an option of the oneOf has no `title` to show"
            ));
        }
    }
}

fn ui_problems(properties: &Map<String, Value>, ui: &Value, found: &mut Vec<String>) {
    if ui.is_null() {
        found.push("the manifest has no config_ui_schema".into());
        return;
    }
    let controls: Vec<&Value> = ui["elements"]
        .as_array()
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    for (name, field) in properties {
        let scope = format!(
            "#/properties/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        match controls.iter().find(|c| c["scope"] == scope.as_str()) {
            None => found.push(format!("config_ui_schema has no control for `{name}`")),
            Some(control)
                if field["writeOnly"] == true && control["options"]["format"] != "password" =>
            {
                found.push(format!(
                    "config_ui_schema shows secret `{name}` as plain text"
                ))
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_thing_a_form_library_trips_on_is_named() {
        let schema = json!({
            "properties": {
                "mode": {"$ref": "#/$defs/Mode", "title": "Mode"},
                "count": {"type": "integer", "format": "uint32"},
                "key": {"type": "string", "writeOnly": true, "format": "password"},
            },
            "$defs": {"Mode": {"oneOf": [{"const": "a"}, {"const": "b", "title": "B"}]}},
        });
        let ui = json!({"elements": [{"scope": "#/properties/key", "options": {}}]});
        let found = problems(&schema, &ui);
        for expected in [
            "#/properties/mode: title beside a $ref",
            "format `uint32`",
            "oneOf of constants without a `type`",
            "has no `title`",
            "secret `key` has no minLength",
            "no control for `mode`",
            "secret `key` as plain text",
        ] {
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{expected} not in {found:#?}"
            );
        }
        assert_eq!(found.len(), 8, "{found:#?}");
    }

    #[test]
    fn a_schema_the_sdk_writes_has_none() {
        let schema = json!({"properties": {
            "key": {"type": "string", "writeOnly": true, "format": "password", "minLength": 1},
            "mode": {"type": "string", "default": "a", "oneOf": [{"const": "a", "title": "A"}]},
        }});
        let ui = json!({"elements": [
            {"scope": "#/properties/key", "options": {"format": "password"}},
            {"scope": "#/properties/mode", "options": {}},
        ]});
        assert_eq!(problems(&schema, &ui), Vec::<String>::new());
    }
}
