use serde::{Deserialize, Serialize};

use super::*;
use crate::Secret;

/// How a sample connector talks to its target.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Mode {
    /// Read and write.
    #[default]
    ReadWrite,
    /// Only read.
    #[schemars(title = "Read only (safe)")]
    ReadOnly,
}

/// Where to reach the target.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Endpoint {
    /// Host name.
    host: String,
    /// Port.
    port: u16,
}

/// A configuration with one of everything schemars writes differently by default.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Sample {
    /// Zebra first: the form keeps declaration order, not the alphabet.
    zebra: String,
    /// The key.
    #[schemars(title = "API key")]
    key: Secret,
    /// A count with its own upper bound.
    #[schemars(range(max = 100))]
    count: u32,
    /// A wide count.
    total: u64,
    /// A small signed number.
    offset: i8,
    /// An optional note.
    note: Option<String>,
    /// What the connector may do.
    #[serde(default)]
    #[schemars(title = "Mode")]
    mode: Mode,
    /// Where the target is.
    endpoint: Endpoint,
}

fn walk<'a>(value: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                out.push((key, inner));
                walk(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
        _ => {}
    }
}

fn keywords(schema: &Value) -> Vec<(&str, &Value)> {
    let mut out = Vec::new();
    walk(schema, &mut out);
    out
}

#[test]
fn no_reference_is_left_for_a_form_library_to_resolve() {
    let schema = config_schema::<Sample>();
    let refs: Vec<_> = keywords(&schema)
        .into_iter()
        .filter(|(k, _)| *k == "$ref" || *k == "$defs")
        .collect();
    assert!(refs.is_empty(), "{refs:?} in {schema:#}");
    assert_eq!(
        schema["properties"]["endpoint"]["properties"]["port"]["type"],
        "integer"
    );
}

#[test]
fn only_standard_formats_remain_and_integer_formats_become_ranges() {
    let schema = config_schema::<Sample>();
    let standard = ["password", "uri", "email", "date-time", "uuid", "hostname"];
    for (key, value) in keywords(&schema) {
        if key == "format" {
            assert!(
                standard.contains(&value.as_str().unwrap()),
                "format {value} in {schema:#}"
            );
        }
    }
    let field = |name: &str| &schema["properties"][name];
    assert_eq!(
        (&field("count")["minimum"], &field("count")["maximum"]),
        (&json!(0), &json!(100))
    );
    assert_eq!(field("total")["minimum"], 0);
    assert_eq!(
        field("total").get("maximum"),
        None,
        "2^64-1 is not a JSON number exactly"
    );
    assert_eq!(
        (&field("offset")["minimum"], &field("offset")["maximum"]),
        (&json!(-128), &json!(127))
    );
    let port = &field("endpoint")["properties"]["port"];
    assert_eq!(
        (&port["minimum"], &port["maximum"]),
        (&json!(0), &json!(65535))
    );
}

#[test]
fn an_enum_is_a_typed_select_of_titled_options_with_its_default() {
    let schema = config_schema::<Sample>();
    let mode = &schema["properties"]["mode"];
    assert_eq!(mode["type"], "string");
    assert_eq!(mode["title"], "Mode", "the field's title is on the field");
    assert_eq!(mode["description"], "What the connector may do.");
    assert_eq!(mode["default"], "read_write");
    let options: Vec<(&Value, &Value)> = mode["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| (&branch["const"], &branch["title"]))
        .collect();
    assert_eq!(
        options,
        [
            (&json!("read_write"), &json!("Read write")),
            (&json!("read_only"), &json!("Read only (safe)")),
        ]
    );
}

#[test]
fn an_option_is_an_optional_field_of_its_type_not_a_nullable_one() {
    let schema = config_schema::<Sample>();
    assert_eq!(schema["properties"]["note"]["type"], "string");
    let required = schema["required"].as_array().unwrap();
    assert!(!required.contains(&json!("note")) && required.contains(&json!("zebra")));
}

#[test]
fn a_secret_is_a_password_that_a_form_refuses_empty_or_blank() {
    let schema = config_schema::<Sample>();
    let key = &schema["properties"]["key"];
    assert_eq!(
        (&key["format"], &key["writeOnly"]),
        (&json!("password"), &json!(true))
    );
    assert_eq!(key["title"], "API key");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let config = |key: &str| {
        json!({"zebra": "z", "key": key, "count": 1, "total": 2, "offset": 3,
               "endpoint": {"host": "h", "port": 1}})
    };
    assert!(validator.is_valid(&config("k3y")));
    for bad in ["", "   ", "\t\n"] {
        assert!(!validator.is_valid(&config(bad)), "{bad:?} passed");
    }
}

#[test]
fn the_ui_schema_lists_every_field_in_declaration_order_and_masks_secrets() {
    let schema = config_schema::<Sample>();
    let ui = ui_schema(&schema);
    assert_eq!(ui["type"], "VerticalLayout");
    let elements = ui["elements"].as_array().unwrap();
    let scopes: Vec<&str> = elements
        .iter()
        .map(|e| e["scope"].as_str().unwrap())
        .collect();
    let expected = [
        "zebra", "key", "count", "total", "offset", "note", "mode", "endpoint",
    ];
    assert_eq!(scopes, expected.map(|name| format!("#/properties/{name}")));
    for element in elements {
        let secret = element["scope"] == "#/properties/key";
        assert_eq!(
            element["options"].get("format") == Some(&json!("password")),
            secret
        );
        assert_eq!(element["options"]["showUnfocusedDescription"], true);
    }
}

#[test]
fn a_field_name_is_escaped_in_its_scope() {
    let ui = ui_schema(&json!({"properties": {"a/b~c": {"type": "string"}}}));
    assert_eq!(ui["elements"][0]["scope"], "#/properties/a~1b~0c");
}
