//! The write probes (`--write`): one probe user, one SCIM group and one site group, all named
//! `idhub-probe-<random>`, to learn what the documentation leaves open; everything created is
//! deleted afterwards, whatever happened in between.

use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::observe::observe;
use super::report::Observation;
use super::target::{Credential, Target};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ATLASSIAN: &str = "urn:scim:schemas:extension:atlassian-external:1.0";

/// The longest the probe waits for a new account to appear on the site.
const VISIBLE_WITHIN: Duration = Duration::from_secs(120);

fn patch(ops: Value) -> Value {
    json!({ "schemas": [PATCH], "Operations": ops })
}

/// What the write probes created, to delete at the end.
#[derive(Default)]
struct Created {
    user: Option<String>,
    group: Option<String>,
    site_group: Option<String>,
}

/// Every write probe; `jira` is the Jira base that accepted the site credential.
pub async fn writes(t: &Target, jira: Option<&Url>, out: &mut Vec<Observation>) {
    // RandomState is seeded per process from the OS: a fresh tag each run.
    let random =
        std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0u8);
    let tag = format!("idhub-probe-{:08x}", random as u32);
    let mut created = Created::default();
    probe(t, jira, &tag, &mut created, out).await;
    cleanup(t, jira, &created, out).await;
}

async fn probe(
    t: &Target,
    jira: Option<&Url>,
    tag: &str,
    created: &mut Created,
    out: &mut Vec<Observation>,
) {
    let scim = |method, path: String, body: Option<Value>| async move {
        let url = Target::url(&t.scim, &path);
        t.send(method, url, Credential::Directory, body.as_ref())
            .await
    };
    let user_name = format!("{tag}@{}", t.domain());
    let user = scim(
        Method::POST,
        "/Users".into(),
        Some(json!({
            "schemas": [USER_SCHEMA], "userName": user_name, "displayName": tag, "title": "Probe",
            "emails": [{"value": user_name, "type": "work", "primary": true}],
        })),
    )
    .await;
    let account = user.body[ATLASSIAN]["atlassianAccountId"]
        .as_str()
        .map(str::to_owned);
    observe(
        out,
        "write.create_user",
        "POST /Users",
        &user,
        &[
            ("account_id_in_response", json!(account.is_some())),
            ("location_header", json!(user.location.is_some())),
        ],
    );
    let Some(id) = user.body["id"].as_str().map(str::to_owned) else {
        return;
    };
    created.user = Some(id.clone());
    let account = match account {
        Some(a) => Some(a),
        None => scim(Method::GET, format!("/Users/{id}"), None).await.body[ATLASSIAN]
            ["atlassianAccountId"].as_str().map(str::to_owned),
    };
    let renamed = format!("{tag}-renamed@{}", t.domain());
    let rename = scim(
        Method::PATCH,
        format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "replace", "path": "userName", "value": renamed}]),
        )),
    )
    .await;
    observe(
        out,
        "write.replace_user_name",
        "PATCH /Users/{id} replace userName",
        &rename,
        &[(
            "applied",
            json!(rename.body["userName"] == renamed.as_str()),
        )],
    );
    let remove = scim(
        Method::PATCH,
        format!("/Users/{id}"),
        Some(patch(json!([{"op": "remove", "path": "title"}]))),
    )
    .await;
    observe(
        out,
        "write.remove_title_without_value",
        "PATCH /Users/{id} remove title",
        &remove,
        &[(
            "title_gone",
            json!(remove.status == 200 && remove.body.get("title").is_none()),
        )],
    );
    let group = scim(
        Method::POST,
        "/Groups".into(),
        Some(json!({"schemas": [GROUP_SCHEMA], "displayName": tag})),
    )
    .await;
    observe(
        out,
        "write.create_group",
        "POST /Groups",
        &group,
        &[("location_header", json!(group.location.is_some()))],
    );
    if let Some(gid) = group.body["id"].as_str().map(str::to_owned) {
        created.group = Some(gid.clone());
        let unknown = scim(Method::PATCH, format!("/Groups/{gid}"), Some(patch(json!([
            {"op": "add", "path": "members", "value": [{"value": "00000000-0000-0000-0000-000000000000"}]}
        ])))).await;
        observe(
            out,
            "write.group_unknown_member",
            "PATCH /Groups/{id} add an unknown member",
            &unknown,
            &[(
                "user_marker_in_detail",
                json!(
                    unknown.body["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("[USER]"))
                ),
            )],
        );
    }
    let (Some(jira), Some(account)) = (jira, account) else {
        return;
    };
    let started = Instant::now();
    let visible = loop {
        let seen = t
            .send(
                Method::GET,
                Target::url(jira, &format!("/user?accountId={account}")),
                Credential::Site,
                None,
            )
            .await;
        if seen.status == 200 || started.elapsed() > VISIBLE_WITHIN {
            break seen.status == 200;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut facts: Vec<(&str, Value)> = vec![("visible", json!(visible))];
    if visible {
        facts.push((
            "within_10_s",
            json!(started.elapsed() < Duration::from_secs(10)),
        ));
    }
    out.push(Observation {
        name: "write.account_visible_on_site".into(),
        request: "GET /rest/api/3/user?accountId=… until 200".into(),
        status: if visible { 200 } else { 404 },
        facts: facts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        measured: [("seconds".to_owned(), json!(started.elapsed().as_secs_f64()))].into(),
    });
    // A site group of the probe's own: adding twice and removing twice, statuses recorded.
    let site_group = t
        .send(
            Method::POST,
            Target::url(jira, "/group"),
            Credential::Site,
            Some(&json!({"name": format!("{tag}-site")})),
        )
        .await;
    observe(
        out,
        "write.create_site_group",
        "POST /rest/api/3/group",
        &site_group,
        &[],
    );
    let Some(sgid) = site_group.body["groupId"].as_str().map(str::to_owned) else {
        return;
    };
    created.site_group = Some(sgid.clone());
    let member = Target::url(jira, &format!("/group/user?groupId={sgid}"));
    let body = json!({"accountId": account});
    let leave = Target::url(
        jira,
        &format!("/group/user?groupId={sgid}&accountId={account}"),
    );
    for (name, method, url, body) in [
        ("write.jira_add_member", Method::POST, &member, Some(&body)),
        (
            "write.jira_add_existing_member",
            Method::POST,
            &member,
            Some(&body),
        ),
        ("write.jira_remove_member", Method::DELETE, &leave, None),
        ("write.jira_remove_non_member", Method::DELETE, &leave, None),
    ] {
        let answer = t
            .send(method.clone(), url.clone(), Credential::Site, body)
            .await;
        observe(
            out,
            name,
            &format!("{method} /rest/api/3/group/user"),
            &answer,
            &[],
        );
    }
}

/// Deletes what the probe created; each deletion is an observation, so a leftover shows.
async fn cleanup(t: &Target, jira: Option<&Url>, created: &Created, out: &mut Vec<Observation>) {
    if let (Some(jira), Some(id)) = (jira, &created.site_group) {
        let answer = t
            .send(
                Method::DELETE,
                Target::url(jira, &format!("/group?groupId={id}")),
                Credential::Site,
                None,
            )
            .await;
        observe(
            out,
            "cleanup.site_group",
            "DELETE /rest/api/3/group",
            &answer,
            &[],
        );
    }
    for (name, path) in [
        (
            "cleanup.group",
            created.group.as_ref().map(|g| format!("/Groups/{g}")),
        ),
        (
            "cleanup.user",
            created.user.as_ref().map(|u| format!("/Users/{u}")),
        ),
    ] {
        if let Some(path) = path {
            let answer = t
                .send(
                    Method::DELETE,
                    Target::url(&t.scim, &path),
                    Credential::Directory,
                    None,
                )
                .await;
            observe(
                out,
                name,
                &format!("DELETE {}", path.split('/').nth(1).map_or("", |p| p)),
                &answer,
                &[],
            );
        }
    }
}
