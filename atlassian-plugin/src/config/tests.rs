//! Offline validation of the configuration, field by field.

use super::*;
use serde_json::json;

fn good() -> serde_json::Value {
    json!({
        "site_url": "https://acme.atlassian.net",
        "scim_url": "https://api.atlassian.com/scim/directory/dir-1",
        "account_security_api_key": "tok-Hq3Lw8Ze5Rm2Vx7N",
        "admin_email": "svc@acme.com",
        "directory_id": "dir-1",
        "directory_api_key": "key-Pj6Ts1Yc9Bf4Gk2D",
    })
}

fn problems(patch: serde_json::Value) -> Vec<String> {
    let mut config = good();
    for (k, v) in patch.as_object().unwrap() {
        config[k] = v.clone();
    }
    let config: AtlassianConfig = serde_json::from_value(config).unwrap();
    match config.validate() {
        Ok(()) => vec![],
        Err(e) => e.details["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap().to_owned())
            .collect(),
    }
}

#[test]
fn defaults_and_good_config() {
    let config: AtlassianConfig = serde_json::from_value(good()).unwrap();
    assert_eq!(
        config.default_group_names,
        ["jira-software-users", "confluence-users"]
    );
    assert_eq!(config.deprovisioning, DeprovisioningMode::Deactivate);
    assert!(config.validate().is_ok());
}

#[test]
fn refuses_each_bad_field() {
    assert_eq!(
        problems(json!({"site_url": "http://acme.atlassian.net"})),
        ["site_url"]
    );
    assert!(problems(json!({"site_url": "http://127.0.0.1:9/"})).is_empty());
    assert!(problems(json!({"scim_url": "http://localhost:9/scim/directory/dir-1"})).is_empty());
    assert_eq!(problems(json!({"directory_id": "other"})), ["directory_id"]);
    assert_eq!(
        problems(json!({"scim_url": "https://api.atlassian.com/scim"})),
        ["scim_url"]
    );
    assert_eq!(problems(json!({"admin_email": "svc"})), ["admin_email"]);
    assert_eq!(
        problems(json!({"directory_api_key": "  "})),
        ["directory_api_key"]
    );
    assert_eq!(
        problems(json!({"account_security_api_key": "short-token-15c"})),
        ["account_security_api_key"]
    );
    assert_eq!(problems(json!({"page_size": 1000})), ["page_size"]);
    for console in [
        "https://admin.atlassian.com",
        "https://admin.yourorg.atlassian.net",
        "https://api.atlassian.com",
    ] {
        assert_eq!(problems(json!({ "site_url": console })), ["site_url"]);
    }
    assert_eq!(
        problems(json!({"default_group_names": ["a", "a"]})),
        ["default_group_names"]
    );
}

#[test]
fn debug_never_shows_keys() {
    let config: AtlassianConfig = serde_json::from_value(good()).unwrap();
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("Hq3Lw8Ze") && !debug.contains("Pj6Ts1Yc"),
        "{debug}"
    );
    assert!(debug.contains("[REDACTED]"));
}

/// Whether the published schema (what a form checks) accepts `config`.
fn form_accepts(config: &serde_json::Value) -> bool {
    let schema = connector_api::__private::config_schema::<AtlassianConfig>();
    jsonschema::validator_for(&schema)
        .expect("the schema compiles")
        .is_valid(config)
}

fn patched(patch: serde_json::Value) -> serde_json::Value {
    let mut config = good();
    for (k, v) in patch.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

#[test]
fn the_form_refuses_what_validate_refuses_where_json_schema_can_say_it() {
    let refused = [
        json!({"site_url": "http://acme.atlassian.net"}),
        json!({"site_url": "ftp://acme.atlassian.net"}),
        json!({"site_url": "https://user:pw@acme.atlassian.net"}),
        json!({"site_url": "acme.atlassian.net"}),
        json!({"scim_url": "https://api.atlassian.com/scim"}),
        json!({"scim_url": "http://api.atlassian.com/scim/directory/dir-1"}),
        json!({"directory_id": ""}),
        json!({"directory_id": "   "}),
        json!({"default_group_names": ["jira-software-users", "jira-software-users"]}),
        json!({"default_group_names": [""]}),
        json!({"default_group_names": ["   "]}),
        json!({"account_security_api_key": ""}),
        json!({"directory_api_key": "                    "}),
        json!({"directory_api_key": "short"}),
    ];
    for patch in refused {
        let config = patched(patch.clone());
        assert!(!form_accepts(&config), "the form accepts {patch}");
        assert!(
            !problems(patch.clone()).is_empty(),
            "validate accepts {patch}"
        );
    }
    let accepted = [
        json!({}),
        json!({"site_url": "http://127.0.0.1:8080"}),
        json!({"site_url": "https://acme.atlassian.net/"}),
        json!({"scim_url": "http://localhost:9/scim/directory/dir-1"}),
        json!({"scim_url": "https://api.atlassian.com/scim/directory/dir-1/"}),
        json!({"site_url": "http://[::1]:8080/", "default_group_names": []}),
    ];
    for patch in accepted {
        assert!(
            form_accepts(&patched(patch.clone())),
            "the form refuses {patch}"
        );
        assert_eq!(problems(patch.clone()), Vec::<String>::new(), "{patch}");
    }
    // What JSON Schema cannot say; the host calls `validate` on submit for these.
    for patch in [
        json!({"site_url": "https://admin.atlassian.com"}),
        json!({"directory_id": "another-directory"}),
    ] {
        assert!(form_accepts(&patched(patch.clone())), "{patch}");
        assert!(!problems(patch.clone()).is_empty(), "{patch}");
    }
}
