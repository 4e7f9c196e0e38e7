//! Jira and Confluence answers as the connector reads them.
#![no_main]

use atlassian_plugin::fuzzing::ConfluenceGroup;
use atlassian_plugin::fuzzing::{JiraGroup, JiraUser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<JiraUser>(data);
    let _ = serde_json::from_slice::<Vec<JiraGroup>>(data);
    let _ = serde_json::from_slice::<ConfluenceGroup>(data);
    let _ = atlassian_plugin::fuzzing::server_detail(data);
});
