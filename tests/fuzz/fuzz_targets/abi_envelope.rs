//! The JSON documents that cross the ABI: request envelopes of every operation, events, errors.
#![no_main]

use connector_api::ops::{OpCreate, OpDelete, OpGet, OpSearch, OpUpdate};
use connector_api::wire::{Event, RequestEnvelope};
use connector_api::{ConnectorError, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<RequestEnvelope<OpCreate>>(data);
    let _ = serde_json::from_slice::<RequestEnvelope<OpGet>>(data);
    let _ = serde_json::from_slice::<RequestEnvelope<OpDelete>>(data);
    if let Ok(update) = serde_json::from_slice::<RequestEnvelope<OpUpdate>>(data) {
        // The connector turns update deltas into PATCH operations.
        let _ = atlassian_plugin::fuzzing::user_patch(&update.request, None);
        let _ = atlassian_plugin::fuzzing::group_patches(&update.request, None);
    }
    if let Ok(create) = serde_json::from_slice::<RequestEnvelope<OpCreate>>(data) {
        let _ = atlassian_plugin::fuzzing::new_user(&create.request);
        let _ = atlassian_plugin::fuzzing::new_group(&create.request);
    }
    let _ = serde_json::from_slice::<RequestEnvelope<OpSearch>>(data);
    let _ = serde_json::from_slice::<Event>(data);
    let _ = serde_json::from_slice::<ConnectorError>(data);
    let _ = serde_json::from_slice::<Manifest>(data);
});
