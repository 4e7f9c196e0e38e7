//! Search filters as hosts send them, evaluated against an object and translated.
#![no_main]

use connector_api::{ConnectorObject, Filter, special};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(filter) = serde_json::from_slice::<Filter>(data) {
        let object = ConnectorObject::new("u-1", "ada@acme.com")
            .with_enabled(true)
            .with_attr("email", "ada@acme.com")
            .with_attr("groups", serde_json::json!(["g-1", "g-2"]));
        let _ = filter.matches(&object);
        let _ = filter.attributes();
        let _ = filter.required_eq(special::NAME);
        let _ = filter.required_eq(special::UID);
    }
});
