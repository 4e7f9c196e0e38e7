//! SCIM answers (pages, users, groups, error bodies) as the connector reads and maps them.
#![no_main]

use atlassian_plugin::fuzzing::{group_object, user_object};
use atlassian_plugin::fuzzing::{Group, ListResponse, User};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = serde_json::from_slice::<ListResponse<User>>(data) {
        for user in &page.resources {
            let _ = user_object(user, Some(vec!["jira-software-users".into()]));
        }
    }
    if let Ok(user) = serde_json::from_slice::<User>(data) {
        let _ = user_object(&user, None);
    }
    if let Ok(group) = serde_json::from_slice::<Group>(data) {
        let _ = group_object(&group);
    }
    let _ = atlassian_plugin::fuzzing::server_detail(data);
});
