//! Configuration parsing and offline validation, as `validate` and `open` run them.
#![no_main]

use atlassian_plugin::AtlassianConnector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = connector_api::__private::parse_config::<AtlassianConnector>(text);
    }
});
