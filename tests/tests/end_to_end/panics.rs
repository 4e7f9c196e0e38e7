//! Panics inside a plugin become `internal` errors; the host and the plugin keep working.

use connector_api::ErrorKind;
use connector_api::host::CallOptions;
use connector_api::ops::{OpCreate, OpGet};
use connector_tests::{broken_connector, load, memory_connector};
use serde_json::json;

#[test]
fn a_panicking_operation_returns_internal_and_the_host_keeps_working() {
    let lib = load(&broken_connector());
    let client = lib.open(&json!({"api_token": "t0ps3cret"})).unwrap();
    let created = client
        .create(&OpCreate::new("user", "ada").attr("email", "ada@x.io"))
        .unwrap();
    for _ in 0..3 {
        let err = client.test().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal, "{err}");
        assert!(err.message.contains("test always panics"), "{err}");
        assert_eq!(err.details["panic"], "broken-fixture: test always panics");
    }
    // The same instance still serves other operations.
    let got = client
        .get(&OpGet::new("user", created.uid.clone()))
        .unwrap()
        .object;
    assert_eq!(got.name, "ada");
}

#[test]
fn every_exported_connector_contains_the_sdk_panic_probe() {
    for path in [memory_connector(), broken_connector()] {
        let lib = load(&path);
        let config = if lib.manifest().name == "memory-example" {
            json!({"tenant": "t", "api_token": "x"})
        } else {
            json!({"api_token": "x"})
        };
        let client = lib.open(&config).unwrap();
        let err = client
            .call_json(
                connector_api::__private::PANIC_PROBE_OPERATION,
                &json!({}),
                &CallOptions::default(),
            )
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal, "{}: {err}", path.display());
        assert!(err.message.contains("panic probe"), "{err}");
    }
}
