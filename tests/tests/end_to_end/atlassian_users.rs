//! The Atlassian plugin's user lifecycle through the real library and loader, against the
//! simulator over loopback: creates with product access, 409 adoption, partial success,
//! updates, deprovisioning modes, and grants visible through the simulator's Jira API.

use crate::common::{Sim, atlassian, jira_members, send};
use connector_api::ops::{OpCreate, OpDelete, OpGet, OpUpdate};
use connector_api::{AttributeDelta, ErrorKind};
use host_harness::sim::faults::{FaultKind, FaultPlan, FaultRule, RouteClass};
use reqwest::Method;
use serde_json::{Value, json};

fn new_user(name: &str) -> OpCreate {
    OpCreate::new("user", name)
        .attr("email", name)
        .attr("given_name", "Ada")
        .attr("family_name", "Lovelace")
        .attr("display_name", "Ada Lovelace")
        .attr("title", "Countess")
        .attr("department", "R&D")
        .attr("organization", "Acme")
        .attr("timezone", "Europe/London")
        .attr("preferred_language", "en-GB")
        .attr("phone_work", "+44 20 1")
        .attr("phone_mobile", "+44 7 1")
        .attr("external_id", format!("ext-{name}"))
}

fn scim_users(s: &Sim) -> Vec<Value> {
    s.store()["users"].as_array().unwrap().clone()
}

#[test]
fn create_maps_everything_and_grants_the_default_groups() {
    let s = Sim::start();
    let c = atlassian(&s, json!({}));
    let created = c.create(&new_user("ada@acme.com")).unwrap();
    assert!(!created.adopted);

    let (_, scim) = send(s.scim(Method::GET, &format!("/Users/{}", created.uid)));
    assert_eq!(scim["userName"], "ada@acme.com");
    assert_eq!(
        scim["emails"],
        json!([{"value": "ada@acme.com", "type": "work", "primary": true}])
    );
    assert_eq!(
        scim["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace"})
    );
    assert_eq!(
        scim["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        json!({"organization": "Acme", "department": "R&D"})
    );
    assert_eq!(scim["timezone"], "Europe/London");
    assert_eq!(scim["externalId"], "ext-ada@acme.com");
    assert_eq!(scim["phoneNumbers"].as_array().unwrap().len(), 2);
    let account = scim["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Product access, as Jira sees it.
    assert!(jira_members(&s, "jira-software-users").contains(&account));
    assert!(jira_members(&s, "confluence-users").contains(&account));

    let object = c
        .get(&OpGet::new("user", created.uid.clone()))
        .unwrap()
        .object;
    assert_eq!(object.name, "ada@acme.com");
    assert_eq!(object.enabled, Some(true));
    assert_eq!(object.attributes["account_id"], account.as_str());
    assert_eq!(
        object.attributes["product_access"],
        json!(["jira-software-users", "confluence-users"])
    );
    for (k, v) in &new_user("ada@acme.com").attributes {
        assert_eq!(&object.attributes[k], v, "{k}");
    }
}

#[test]
fn create_with_chosen_product_access_and_bad_input() {
    let s = Sim::start();
    let c = atlassian(&s, json!({}));
    let uid = c
        .create(&new_user("grace@acme.com").attr("product_access", json!(["confluence-users"])))
        .unwrap()
        .uid;
    let access = c
        .get(&OpGet::new("user", uid).attributes(&["product_access"]))
        .unwrap()
        .object
        .attributes["product_access"]
        .clone();
    assert_eq!(access, json!(["confluence-users"]));

    let err = c
        .create(&new_user("x@acme.com").attr("product_access", json!(["admins"])))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("product_access"))
    );
    let err = c.create(&OpCreate::new("user", "noemail")).unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("email"))
    );
    let err = c
        .create(&new_user("y@acme.com").attr("email", "not-an-email"))
        .unwrap_err();
    assert_eq!(err.attribute(), Some("email"));
    let err = c
        .create(&new_user("z@acme.com").attr("shoe_size", "9"))
        .unwrap_err();
    assert_eq!(err.attribute(), Some("shoe_size"));
    assert_eq!(
        scim_users(&s).len(),
        1,
        "nothing was written for refused requests"
    );
}

#[test]
fn a_409_adopts_the_same_person_and_refuses_another() {
    let s = Sim::start();
    let c = atlassian(&s, json!({}));
    let first = c.create(&new_user("ada@acme.com")).unwrap();
    // Same userName (any case): adopted, attributes set as asked.
    let again = c
        .create(
            &new_user("ADA@acme.com")
                .attr("title", "Analyst")
                .attr("external_id", "ext-ada@acme.com"),
        )
        .unwrap();
    assert!(again.adopted);
    assert_eq!(again.uid, first.uid);
    assert_eq!(
        c.get(&OpGet::new("user", first.uid.clone()))
            .unwrap()
            .object
            .attributes["title"],
        "Analyst"
    );
    // Same externalId under a new userName: the same person, renamed.
    let renamed = c
        .create(
            &new_user("ada.lovelace@acme.com")
                .attr("external_id", "ext-ada@acme.com")
                .attr("email", "ada@acme.com"),
        )
        .unwrap();
    assert!(renamed.adopted);
    assert_eq!(renamed.uid, first.uid);
    assert_eq!(
        c.get(&OpGet::new("user", first.uid.clone()))
            .unwrap()
            .object
            .name,
        "ada.lovelace@acme.com"
    );
    // Another person's email: already exists, nothing adopted.
    let err = c
        .create(
            &new_user("impostor@acme.com")
                .attr("email", "ada@acme.com")
                .attr("external_id", "other"),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
    assert_eq!(err.existing_uid(), None, "no userName is that email: {err}");
    assert_eq!(scim_users(&s).len(), 1);
    // The usual case, a userName that is the email: the holder is named, not adopted.
    let grace = c
        .create(&new_user("grace@acme.com").attr("email", "grace@acme.com"))
        .unwrap();
    let err = c
        .create(
            &new_user("g.hopper@acme.com")
                .attr("email", "Grace@acme.com")
                .attr("external_id", "other-grace"),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
    assert_eq!(err.existing_uid(), Some(grace.uid.as_str()), "{err}");
    assert!(err.message.contains(grace.uid.as_str()), "{err}");
    assert_eq!(scim_users(&s).len(), 2);
}

#[test]
fn a_create_whose_response_is_lost_is_not_duplicated() {
    let s = Sim::start();
    s.set_faults(FaultPlan {
        seed: 1,
        rules: vec![
            FaultRule::new(FaultKind::LostResponse, 0.0)
                .on(&[RouteClass::ScimWrite])
                .first(1),
        ],
        rate_limit: None,
    });
    let c = atlassian(&s, json!({}));
    let created = c.create(&new_user("lost@acme.com")).unwrap();
    assert!(
        created.adopted,
        "the retried POST met the applied one and adopted it"
    );
    assert_eq!(scim_users(&s).len(), 1);
    let log = s.requests();
    assert_eq!(
        log["routes"]["POST /scim/directory/{directoryId}/Users"]["lost_response"],
        1
    );
    assert_eq!(
        log["routes"]["POST /scim/directory/{directoryId}/Users"]["409"],
        1
    );
}

#[test]
fn a_failed_grant_is_a_partial_success_naming_what_is_missing() {
    let s = Sim::start();
    let scim_group = s.create_group("idp-synced", &[]);
    let _ = scim_group;
    let c = atlassian(
        &s,
        json!({"default_group_names": ["jira-software-users", "idp-synced"]}),
    );
    let err = c.create(&new_user("half@acme.com")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PartialSuccess, "{err}");
    // The synced group's refusal is no better on retry: the partial success says so.
    assert!(!err.retryable, "{err}");
    let uid = err.details["uid"]
        .as_str()
        .expect("the uid of the created user")
        .to_owned();
    assert_eq!(
        err.details["done"]["changes"],
        json!([{"action": "grant", "group": "jira-software-users"}])
    );
    assert_eq!(err.details["missing"][0]["group"], "idp-synced");
    assert_eq!(
        err.details["missing"][0]["error"]["kind"],
        "invalid_attribute_value"
    );
    // The user exists, with the grant that worked.
    let user = c.get(&OpGet::new("user", uid.as_str())).unwrap().object;
    assert_eq!(
        user.attributes["product_access"],
        json!(["jira-software-users"])
    );
}

#[test]
fn updates_through_patch_and_product_access() {
    let s = Sim::start();
    let c = atlassian(&s, json!({}));
    let uid = c.create(&new_user("upd@acme.com")).unwrap().uid;
    c.update(
        &OpUpdate::new("user", uid.clone())
            .delta(AttributeDelta::replace("title", [json!("Analyst")]))
            .delta(AttributeDelta::replace("department", []))
            .delta(AttributeDelta::remove("nick_name", [json!("absent")]))
            .delta(AttributeDelta::replace("email", [json!("upd2@acme.com")]))
            .delta(AttributeDelta::remove(
                "product_access",
                [json!("confluence-users")],
            ))
            .rename("upd2@acme.com"),
    )
    .unwrap();
    let u = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(u.name, "upd2@acme.com");
    assert_eq!(u.attributes["title"], "Analyst");
    assert_eq!(u.attributes["email"], "upd2@acme.com");
    assert!(!u.attributes.contains_key("department"));
    assert_eq!(
        u.attributes["product_access"],
        json!(["jira-software-users"])
    );
    let account = u.attributes["account_id"].as_str().unwrap().to_owned();
    assert!(!jira_members(&s, "confluence-users").contains(&account));

    c.update(
        &OpUpdate::new("user", uid.clone()).delta(AttributeDelta::replace(
            "product_access",
            [json!("confluence-users")],
        )),
    )
    .unwrap();
    let u = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(u.attributes["product_access"], json!(["confluence-users"]));
    c.update(
        &OpUpdate::new("user", uid.clone()).delta(AttributeDelta::add(
            "product_access",
            [json!("jira-software-users"), json!("confluence-users")],
        )),
    )
    .unwrap();
    assert!(jira_members(&s, "jira-software-users").contains(&account));

    // Disable and enable: the record and its groups stay.
    c.update(&OpUpdate::new("user", uid.clone()).enabled(false))
        .unwrap();
    let u = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(u.enabled, Some(false));
    assert_eq!(
        u.attributes["product_access"],
        json!(["jira-software-users", "confluence-users"])
    );
    c.update(&OpUpdate::new("user", uid.clone()).enabled(true))
        .unwrap();
    assert_eq!(
        c.get(&OpGet::new("user", uid.clone()))
            .unwrap()
            .object
            .enabled,
        Some(true)
    );

    for err in [
        c.update(
            &OpUpdate::new("user", "no-such-uid")
                .delta(AttributeDelta::replace("title", [json!("x")])),
        )
        .unwrap_err(),
        c.update(&OpUpdate::new("user", "no-such-uid").enabled(false))
            .unwrap_err(),
        c.get(&OpGet::new("user", "no-such-uid")).unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::UnknownUid, "{err}");
    }
    let err = c
        .update(
            &OpUpdate::new("user", uid.clone())
                .delta(AttributeDelta::replace("groups", [json!("g")])),
        )
        .unwrap_err();
    assert_eq!(
        (err.kind, err.attribute()),
        (ErrorKind::InvalidAttributeValue, Some("groups"))
    );
    let err = c
        .update(
            &OpUpdate::new("user", uid.clone())
                .delta(AttributeDelta::add("title", [json!("a"), json!("b")])),
        )
        .unwrap_err();
    assert_eq!(err.attribute(), Some("title"));
}

#[test]
fn deprovisioning_deactivates_by_default_and_deletes_when_configured() {
    let s = Sim::start();
    let deactivating = atlassian(&s, json!({}));
    let uid = deactivating
        .create(&new_user("leaver@acme.com"))
        .unwrap()
        .uid;
    deactivating
        .delete(&OpDelete::new("user", uid.clone()))
        .unwrap();
    let u = deactivating
        .get(&OpGet::new("user", uid.clone()))
        .unwrap()
        .object;
    assert_eq!(u.enabled, Some(false), "deactivated, still there");
    assert_eq!(
        u.attributes["product_access"],
        json!(["jira-software-users", "confluence-users"]),
        "memberships kept"
    );

    let deleting = atlassian(&s, json!({"deprovisioning": "delete"}));
    deleting
        .delete(&OpDelete::new("user", uid.clone()))
        .unwrap();
    assert_eq!(
        deleting
            .get(&OpGet::new("user", uid.clone()))
            .unwrap_err()
            .kind,
        ErrorKind::UnknownUid
    );
    assert_eq!(
        deleting
            .delete(&OpDelete::new("user", uid.clone()))
            .unwrap_err()
            .kind,
        ErrorKind::UnknownUid
    );
    assert_eq!(
        deactivating
            .delete(&OpDelete::new("user", uid))
            .unwrap_err()
            .kind,
        ErrorKind::UnknownUid
    );
    assert!(scim_users(&s).is_empty());
}

#[test]
fn grants_wait_for_the_account_id_and_for_propagation() {
    use host_harness::sim::{SimConfig, Switches};
    let s = Sim::with(SimConfig {
        propagation_delay: std::time::Duration::from_millis(600),
        switches: Switches {
            account_id_in_create_response: false,
            ..Switches::default()
        },
        ..crate::common::legacy()
    });
    let c = atlassian(&s, json!({}));
    let uid = c.create(&new_user("slow@acme.com")).unwrap().uid;
    let u = c.get(&OpGet::new("user", uid.clone())).unwrap().object;
    assert_eq!(
        u.attributes["product_access"],
        json!(["jira-software-users", "confluence-users"])
    );
    let log = s.requests();
    let polls = &log["routes"]["GET /scim/directory/{directoryId}/Users/{id}"]["200"];
    assert!(
        polls.as_u64().unwrap() >= 2,
        "the account id was read back: {log}"
    );
    let grants = &log["routes"]["POST /rest/api/3/group/user"];
    assert!(
        grants["404"].as_u64().unwrap() >= 1,
        "a grant met the propagation delay: {log}"
    );
    assert_eq!(grants["201"], 2);
}

#[test]
fn credentials_never_follow_a_redirect() {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // The "other host": any connection to it would carry the forwarded credentials. Named
    // `localhost`, another host than the redirector's 127.0.0.1 (127.0.0.2 is no loopback
    // address on macOS).
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    let elsewhere_addr = format!("localhost:{}", elsewhere.local_addr().unwrap().port());
    elsewhere.set_nonblocking(true).unwrap();
    let redirector = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = redirector.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for stream in redirector.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{elsewhere_addr}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes());
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let s = Sim::start();
    let c = atlassian(
        &s,
        json!({
            "scim_url": format!("http://127.0.0.1:{port}/scim/directory/d-1"),
            "directory_id": "d-1",
            "site_url": format!("http://127.0.0.1:{port}"),
        }),
    );
    let err = c.get(&OpGet::new("user", "u-1")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConnectionFailed, "{err}");
    assert!(err.message.contains("redirect"), "{err}");
    let report = c.test().unwrap();
    assert!(!report.passed());
    assert!(served.load(Ordering::SeqCst) >= 2);
    assert!(
        elsewhere.accept().is_err(),
        "nothing ever connected to the redirect target"
    );
    let text = format!("{err:?} {report:?}");
    for secret in [
        &s.sim.credentials().directory_api_key,
        &s.sim.credentials().admin_api_token,
    ] {
        assert!(!text.contains(secret.as_str()));
    }
}
