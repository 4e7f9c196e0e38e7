//! Every library's config schema is valid JSON Schema 2020-12, marks secrets `writeOnly`, accepts
//! the sample configs, and `validate` refuses bad configs offline naming the field.

use connector_api::ErrorKind;
use connector_api::host::PluginLibrary;
use connector_tests::{atlassian_plugin, broken_connector, load, memory_connector};
use serde_json::{Value, json};

fn samples() -> Vec<(PluginLibrary, Value, Vec<&'static str>)> {
    vec![
        (
            load(&memory_connector()),
            json!({"tenant": "acme", "api_token": "tok"}),
            vec!["api_token"],
        ),
        (
            load(&atlassian_plugin()),
            json!({
                "site_url": "https://acme.atlassian.net",
                "scim_url": "https://api.atlassian.com/scim/directory/d-1",
                "account_security_api_key": "tok-Hq3Lw8Ze5Rm2Vx7N",
                "admin_email": "svc@acme.com",
                "directory_id": "d-1",
                "directory_api_key": "key-Pj6Ts1Yc9Bf4Gk2D",
            }),
            vec!["account_security_api_key", "directory_api_key"],
        ),
        (
            load(&broken_connector()),
            json!({"api_token": "tok"}),
            vec!["api_token"],
        ),
    ]
}

/// The property schema of `field`, following a local `$ref`.
fn property<'a>(schema: &'a Value, field: &str) -> &'a Value {
    let p = &schema["properties"][field];
    match p.get("$ref").and_then(Value::as_str) {
        Some(r) => schema.pointer(r.trim_start_matches('#')).unwrap(),
        None => p,
    }
}

#[test]
fn schemas_are_valid_2020_12_and_mark_secrets() {
    for (lib, sample, secrets) in samples() {
        let name = &lib.manifest().name;
        let schema = &lib.manifest().config_schema;
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        jsonschema::draft202012::meta::validate(schema)
            .unwrap_or_else(|e| panic!("{name}: not a valid 2020-12 schema: {e}"));
        for secret in &secrets {
            let p = property(schema, secret);
            assert_eq!(
                p["writeOnly"], true,
                "{name}.{secret} is not writeOnly: {p}"
            );
            assert_eq!(p["format"], "password", "{name}.{secret}");
        }
        let props = schema["properties"].as_object().unwrap();
        for (field, p) in props {
            let writes_only = property(schema, field).get("writeOnly") == Some(&json!(true));
            assert_eq!(
                writes_only,
                secrets.contains(&field.as_str()),
                "{name}.{field}: {p}"
            );
        }

        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .unwrap();
        assert!(
            validator.is_valid(&sample),
            "{name}: the sample config fails its own schema"
        );
        let mut unknown = sample.clone();
        unknown["no_such_field"] = json!(1);
        assert!(
            !validator.is_valid(&unknown),
            "{name}: unknown fields pass the schema"
        );
        lib.validate(&sample)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn validate_refuses_bad_configs_offline_naming_the_field() {
    for (lib, sample, secrets) in samples() {
        let name = lib.manifest().name.clone();
        // A missing required field.
        let mut missing = sample.clone();
        missing.as_object_mut().unwrap().remove(secrets[0]);
        let err = lib.validate(&missing).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidConfiguration, "{name}");
        assert!(err.message.contains(secrets[0]), "{name}: {err}");
        // A field of the wrong type.
        let mut wrong = sample.clone();
        wrong[secrets[0]] = json!(42);
        let err = lib.validate(&wrong).unwrap_err();
        assert_eq!(err.field(), Some(secrets[0]), "{name}: {err}");
        // An unknown field.
        let mut unknown = sample.clone();
        unknown["colour"] = json!("blue");
        let err = lib.validate(&unknown).unwrap_err();
        assert!(err.message.contains("colour"), "{name}: {err}");
        // Not JSON at all is refused by open too, never a panic.
        assert_eq!(
            lib.open(&json!("just a string")).unwrap_err().kind,
            ErrorKind::InvalidConfiguration
        );
        // No secret value leaks into the error.
        for err in [
            lib.validate(&wrong).unwrap_err(),
            lib.validate(&unknown).unwrap_err(),
        ] {
            let text = serde_json::to_string(&err).unwrap();
            assert!(
                !text.contains("\"tok\"") && !text.contains("\"key\""),
                "{name}: {text}"
            );
        }
    }
}

#[test]
fn atlassian_validate_names_each_field_and_fix() {
    let lib = load(&atlassian_plugin());
    let base = samples()[1].1.clone();
    let cases = [
        (
            json!({"site_url": "http://acme.atlassian.net"}),
            "site_url",
            "https",
        ),
        (
            json!({"directory_id": "d-2"}),
            "directory_id",
            "last segment of the SCIM URL",
        ),
        (
            json!({"admin_email": "svc.acme.com"}),
            "admin_email",
            "not an email",
        ),
        (
            json!({"directory_api_key": ""}),
            "directory_api_key",
            "Identity providers",
        ),
        (
            json!({"scim_url": "ftp://api.atlassian.com/scim/directory/d-1"}),
            "scim_url",
            "scheme",
        ),
    ];
    for (patch, field, hint) in cases {
        let mut config = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            config[k] = v.clone();
        }
        let err = lib.validate(&config).unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
        assert!(err.message.contains(hint), "{field}: {err}");
    }
}

/// The first of a few mistaken values that `pattern` refuses.
fn refused_by(pattern: &Value) -> Option<&'static str> {
    let only = jsonschema::validator_for(&json!({ "pattern": pattern })).unwrap();
    [
        "   ",
        "http://example.com/",
        "example.com",
        "https://example.com/",
    ]
    .into_iter()
    .find(|candidate| !only.is_valid(&json!(candidate)))
}

/// One config for each constraint a schema states, violating only it.
fn violations(schema: &Value, sample: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let props = schema["properties"].as_object().unwrap();
    for (field, _) in props {
        let p = property(schema, field);
        let mut with = |what: &str, value: Value| {
            let mut config = sample.clone();
            config[field.as_str()] = value;
            out.push((field.clone(), what.to_owned(), config));
        };
        if let Some(max) = p.get("maximum").and_then(Value::as_f64) {
            with("maximum", json!(max as u64 + 1));
        }
        if let Some(min) = p
            .get("minimum")
            .and_then(Value::as_f64)
            .filter(|m| *m >= 1.0)
        {
            with("minimum", json!(min as u64 - 1));
        }
        if let Some(max) = p.get("maxLength").and_then(Value::as_u64) {
            with("maxLength", json!("x".repeat(max as usize + 1)));
        }
        if let Some(min) = p
            .get("minLength")
            .and_then(Value::as_u64)
            .filter(|m| *m >= 1)
        {
            with("minLength", json!("x".repeat(min as usize - 1)));
        }
        if let Some(max) = p.get("maxItems").and_then(Value::as_u64) {
            let items: Vec<Value> = (0..=max).map(|i| json!(format!("item-{i}"))).collect();
            with("maxItems", json!(items));
        }
        // A value the pattern refuses, from a few that real mistakes look like.
        if let Some(bad) = p.get("pattern").and_then(|pattern| refused_by(pattern)) {
            with("pattern", json!(bad));
        }
        if p.get("uniqueItems") == Some(&json!(true)) {
            with("uniqueItems", json!(["same", "same"]));
        }
        if let Some(item) = p.get("items") {
            if let Some(max) = item.get("maxLength").and_then(Value::as_u64) {
                with("items.maxLength", json!(["x".repeat(max as usize + 1)]));
            }
            if item
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| m >= 1)
            {
                with("items.minLength", json!([""]));
            }
            if let Some(bad) = item.get("pattern").and_then(|pattern| refused_by(pattern)) {
                with("items.pattern", json!([bad]));
            }
        }
        if p.get("enum").is_some() || p.get("oneOf").is_some() {
            with("enum", json!("not-one-of-the-choices"));
        }
    }
    out
}

/// Every constraint a connector's schema states is one `validate` enforces, naming the field:
/// a form and `validate` never disagree.
#[test]
fn validate_enforces_every_constraint_its_schema_states() {
    let mut tried = 0;
    for (lib, sample, _) in samples() {
        let name = lib.manifest().name.clone();
        let schema = lib.manifest().config_schema.clone();
        for (field, constraint, config) in violations(&schema, &sample) {
            let err = lib.validate(&config).err().unwrap_or_else(|| {
                panic!("{name}.{field}: `{constraint}` is stated but not enforced")
            });
            let named = err.field() == Some(field.as_str())
                || err.details["problems"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["field"] == json!(field)));
            assert!(
                named,
                "{name}.{field} `{constraint}`: the refusal names another field: {err}"
            );
            tried += 1;
        }
    }
    assert!(
        tried >= 12,
        "only {tried} constraints found: the walk reads the schemas wrong"
    );
}
