//! The read-only probes: what the tenant answers about itself, its rights, its limits and its
//! errors, each reduced to facts that do not depend on its data.

use std::collections::BTreeMap;

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::report::Observation;
use super::target::{Answer, Credential, Target};

/// Observations, and where Jira and Confluence answered.
pub struct Reads {
    /// What was seen.
    pub observations: Vec<Observation>,
    /// The Jira base that accepted the site credential (site or gateway), if any.
    pub jira: Option<Url>,
}

/// Records one answer under `name`, with the facts `facts` reads from it.
pub fn observe(
    out: &mut Vec<Observation>,
    name: &str,
    request: &str,
    answer: &Answer,
    facts: &[(&str, Value)],
) {
    let mut map = BTreeMap::new();
    for (key, value) in facts {
        map.insert((*key).to_owned(), value.clone());
    }
    out.push(Observation {
        name: name.to_owned(),
        request: request.to_owned(),
        status: answer.status,
        facts: map,
        measured: BTreeMap::new(),
    });
}

fn any_values(answer: &Answer, key: &str) -> Value {
    json!(answer.body[key].as_array().is_some_and(|v| !v.is_empty()))
}

/// Every read-only probe, in order.
pub async fn reads(t: &Target) -> Reads {
    let mut out = Vec::new();
    let get = |base: &Url, path: &str, credential| {
        t.send(Method::GET, Target::url(base, path), credential, None)
    };
    let info = get(&t.site, "/_edge/tenant_info", Credential::None).await;
    let cloud_id = info.body["cloudId"].as_str().map(str::to_owned);
    observe(
        &mut out,
        "site.tenant_info",
        "GET /_edge/tenant_info",
        &info,
        &[("cloud_id_present", json!(cloud_id.is_some()))],
    );
    let site_jira = Target::url(&t.site, "/rest/api/3");
    let me = get(&site_jira, "/myself", Credential::Site).await;
    observe(
        &mut out,
        "site.myself",
        "GET /rest/api/3/myself",
        &me,
        &[("email_shown", json!(me.body.get("emailAddress").is_some()))],
    );
    let gateway_jira = cloud_id
        .as_ref()
        .map(|id| Target::url(&t.gateway, &format!("/ex/jira/{id}/rest/api/3")));
    let mut jira = (me.status == 200).then(|| site_jira.clone());
    if let Some(base) = &gateway_jira {
        let me = get(base, "/myself", Credential::Site).await;
        observe(
            &mut out,
            "gateway.myself",
            "GET /ex/jira/{cloudId}/rest/api/3/myself",
            &me,
            &[],
        );
        if jira.is_none() && me.status == 200 {
            jira = Some(base.clone());
        }
    }
    let wiki = match (&jira, &cloud_id) {
        (Some(base), Some(id)) if *base != site_jira => Some(Target::url(
            &t.gateway,
            &format!("/ex/confluence/{id}/wiki/rest/api"),
        )),
        (Some(_), _) => Some(Target::url(&t.site, "/wiki/rest/api")),
        (None, _) => None,
    };
    if let Some(base) = &jira {
        let perms = get(
            base,
            "/mypermissions?permissions=ADMINISTER,SYSTEM_ADMIN",
            Credential::Site,
        )
        .await;
        let held = |k: &str| json!(perms.body["permissions"][k]["havePermission"].as_bool());
        observe(
            &mut out,
            "jira.mypermissions",
            "GET /rest/api/3/mypermissions",
            &perms,
            &[
                ("ADMINISTER", held("ADMINISTER")),
                ("SYSTEM_ADMIN", held("SYSTEM_ADMIN")),
            ],
        );
        let bulk = get(base, "/group/bulk?maxResults=1", Credential::Site).await;
        observe(
            &mut out,
            "jira.group_bulk",
            "GET /rest/api/3/group/bulk",
            &bulk,
            &[],
        );
        for (access, query) in [
            ("site_admin", "accessType=site-admin"),
            ("admin", "accessType=admin"),
            ("user", "accessType=user&applicationKey=jira-software"),
        ] {
            let found = get(base, &format!("/group/bulk?{query}"), Credential::Site).await;
            observe(
                &mut out,
                &format!("jira.group_bulk.{access}"),
                &format!("GET /rest/api/3/group/bulk?{query}"),
                &found,
                &[("groups_found", any_values(&found, "values"))],
            );
        }
        let picker = get(
            base,
            "/groups/picker?query=a&maxResults=1",
            Credential::Site,
        )
        .await;
        observe(
            &mut out,
            "jira.groups_picker",
            "GET /rest/api/3/groups/picker",
            &picker,
            &[(
                "group_id_present",
                json!(picker.body["groups"][0].get("groupId").is_some()),
            )],
        );
        let unknown = get(
            base,
            "/user?accountId=000000000000000000000000",
            Credential::Site,
        )
        .await;
        observe(
            &mut out,
            "jira.unknown_account",
            "GET /rest/api/3/user?accountId=…",
            &unknown,
            &[],
        );
    }
    if let Some(base) = &wiki {
        let admins = get(base, "/group?accessType=admin", Credential::Site).await;
        observe(
            &mut out,
            "confluence.group.admin",
            "GET /wiki/rest/api/group?accessType=admin",
            &admins,
            &[("groups_found", any_values(&admins, "results"))],
        );
        let current = get(base, "/user/current?expand=operations", Credential::Site).await;
        let administers = current.body["operations"].as_array().is_some_and(|ops| {
            ops.iter()
                .any(|o| o["operation"] == "administer" && o["targetType"] == "application")
        });
        observe(
            &mut out,
            "confluence.user_current",
            "GET /wiki/rest/api/user/current?expand=operations",
            &current,
            &[("administer", json!(administers))],
        );
    }
    scim_reads(t, &mut out).await;
    Reads {
        observations: out,
        jira,
    }
}

async fn scim_reads(t: &Target, out: &mut Vec<Observation>) {
    let get = |path: &str| {
        t.send(
            Method::GET,
            Target::url(&t.scim, path),
            Credential::Directory,
            None,
        )
    };
    let config = get("/ServiceProviderConfig").await;
    observe(
        out,
        "scim.service_provider_config",
        "GET /ServiceProviderConfig",
        &config,
        &[
            ("patch", config.body["patch"]["supported"].clone()),
            ("filter", config.body["filter"]["supported"].clone()),
        ],
    );
    let page = get("/Users?startIndex=1&count=1000").await;
    let returned = page.body["Resources"].as_array().map_or(0, Vec::len);
    observe(
        out,
        "scim.users.page_cap",
        "GET /Users?count=1000",
        &page,
        &[
            ("at_most_100", json!(returned <= 100)),
            (
                "items_per_page_present",
                json!(page.body.get("itemsPerPage").is_some()),
            ),
        ],
    );
    let bad = get("/Users?filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22x%22").await;
    observe(
        out,
        "scim.bad_filter",
        "GET /Users?filter=emails[type eq \"work\"].value eq …",
        &bad,
        &[
            ("scim_type", bad.body["scimType"].clone()),
            ("schema", bad.body["schemas"][0].clone()),
        ],
    );
    let unknown = get("/Users/00000000-0000-0000-0000-000000000000").await;
    observe(
        out,
        "scim.unknown_user",
        "GET /Users/{unknown id}",
        &unknown,
        &[("schema", unknown.body["schemas"][0].clone())],
    );
    let groups = get("/Groups?startIndex=1&count=1&excludedAttributes=members").await;
    let first = &groups.body["Resources"][0];
    let members_shown = first.is_object().then(|| first.get("members").is_some());
    observe(
        out,
        "scim.groups.excluded_members",
        "GET /Groups?excludedAttributes=members",
        &groups,
        &[("members_still_shown", json!(members_shown))],
    );
}
