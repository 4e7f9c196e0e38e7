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
