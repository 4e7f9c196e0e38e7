//! URLs, server details: how requests are built and failures described.

use super::*;

#[test]
fn urls_encode_segments_and_keep_the_host() {
    let api = Api::new(
        "SCIM",
        Url::parse("https://api.atlassian.com/scim/directory/d-1").unwrap(),
        Auth::Bearer(Secret::new("k")),
        Credential::DirectoryKey,
        Arc::new(Governor::new(1)),
    );
    let url = api.url(
        &["Users", "../../admin?x=1"],
        &[("filter", "userName eq \"a b\"")],
    );
    assert_eq!(url.host_str(), Some("api.atlassian.com"));
    assert_eq!(
        url.path(),
        "/scim/directory/d-1/Users/..%2F..%2Fadmin%3Fx=1"
    );
    assert!(
        url.query()
            .unwrap()
            .starts_with("filter=userName+eq+%22a+b%22")
    );
}

#[test]
fn server_details_of_every_api() {
    assert_eq!(
        server_detail(br#"{"status":"409","detail":"taken"}"#),
        "taken"
    );
    assert_eq!(
        server_detail(br#"{"error":"Missing authorization header","traceId":"x"}"#),
        "Missing authorization header"
    );
    assert_eq!(
        server_detail(br#"{"errorMessages":["no"],"errors":{"name":"bad"}}"#),
        "no; name: bad"
    );
    assert_eq!(
        server_detail(br#"{"statusCode":404,"message":"gone"}"#),
        "gone"
    );
    assert_eq!(server_detail(b"<html>oops</html>"), "<html>oops</html>");
    assert_eq!(server_detail(b""), "no details");
}

#[test]
fn endpoints_name_the_route_not_the_ids() {
    let api = |base: &str| {
        Api::new(
            "Jira",
            Url::parse(base).unwrap(),
            Auth::Bearer(Secret::new("k")),
            Credential::SiteToken,
            Arc::new(Governor::new(1)),
        )
    };
    let gateway = api("https://api.atlassian.com/ex/jira/bb343ad3-31b9-43b6-885f-26a39b9f7e63/");
    let members = gateway.url(
        &["rest", "api", "3", "group", "member"],
        &[("groupId", "g-1")],
    );
    assert_eq!(
        Request::get(members).endpoint(&gateway),
        "GET rest/api/3/group/member"
    );
    let scim = api("https://api.atlassian.com/scim/directory/d-1");
    let user = scim.url(&["Users", "6f1c2a90-1b2c-4d5e-8f90-123456789abc"], &[]);
    let patch = Request::write(Method::PATCH, user, None, true);
    assert_eq!(patch.endpoint(&scim), "PATCH Users/*");
}
