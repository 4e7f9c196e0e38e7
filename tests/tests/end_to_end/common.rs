//! A simulator on a free loopback port and a blocking HTTP client that speaks its three APIs.

use std::time::Duration;

use host_harness::sim::faults::FaultPlan;
use host_harness::sim::{OrgProfile, SimConfig, Simulator};
use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

/// A running simulator and a client for it.
pub struct Sim {
    pub sim: Simulator,
    pub http: Client,
}

/// A legacy organization's simulator settings: the fixed group names most tests use. Tests of
/// what a modern organization changes start from `SimConfig::default()`.
pub fn legacy() -> SimConfig {
    SimConfig {
        org: OrgProfile::Legacy,
        ..SimConfig::default()
    }
}

impl Sim {
    /// A legacy organization (see [`legacy`]).
    pub fn start() -> Sim {
        Sim::with(legacy())
    }

    pub fn with(config: SimConfig) -> Sim {
        let sim = Simulator::start(config).expect("the simulator starts");
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Sim { sim, http }
    }

    pub fn scim(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sim.scim_url()))
            .bearer_auth(&self.sim.credentials().directory_api_key)
            .header("content-type", "application/scim+json")
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        let c = self.sim.credentials();
        self.http
            .request(method, format!("{}{path}", self.sim.site_url()))
            .basic_auth(&c.admin_email, Some(&c.admin_api_token))
    }

    pub fn plain_user(&self, method: Method, path: &str) -> RequestBuilder {
        let c = self.sim.credentials();
        self.http
            .request(method, format!("{}{path}", self.sim.site_url()))
            .basic_auth(&c.user_email, Some(&c.user_api_token))
    }

    pub fn control(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sim.control_url()))
    }

    pub fn set_faults(&self, plan: FaultPlan) {
        let r = self
            .control(Method::PUT, "/faults")
            .json(&plan)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    }

    /// Creates a SCIM user; answers (scim id, account id).
    pub fn create_user(&self, user_name: &str) -> (String, String) {
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "emails": [{"value": user_name, "type": "work", "primary": true}],
            "displayName": format!("Display {user_name}"),
        });
        let (status, user) = send(self.scim(Method::POST, "/Users").json(&body));
        assert_eq!(status, 201, "{user}");
        (
            user["id"].as_str().unwrap().to_owned(),
            user["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    pub fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let (status, group) = send(self.scim(Method::POST, "/Groups").json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "members": members,
        })));
        assert_eq!(status, 201, "{group}");
        group["id"].as_str().unwrap().to_owned()
    }

    pub fn group_id(&self, name: &str) -> String {
        let (status, groups) = send(
            self.admin(Method::GET, "/rest/api/3/group/bulk")
                .query(&[("groupName", name)]),
        );
        assert_eq!(status, 200);
        groups["values"][0]["groupId"].as_str().unwrap().to_owned()
    }

    pub fn store(&self) -> Value {
        send(self.control(Method::GET, "/store")).1
    }

    pub fn requests(&self) -> Value {
        send(self.control(Method::GET, "/requests")).1
    }
}

/// Sends a request; answers the status and the JSON body (`Null` when empty or not JSON).
pub fn send(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().expect("the request gets a response");
    decode(response)
}

pub fn decode(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn patch_op(ops: Value) -> Value {
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// The Atlassian plugin opened against this simulator, with `overrides` on its config.
pub fn atlassian(sim: &Sim, overrides: Value) -> connector_api::host::ConnectorClient {
    let mut config = sim.sim.plugin_config();
    for (k, v) in overrides.as_object().expect("overrides are an object") {
        config[k] = v.clone();
    }
    connector_tests::load(&connector_tests::atlassian_plugin())
        .open(&config)
        .expect("the Atlassian plugin opens")
}

/// The account ids in a site group, read through Jira.
pub fn jira_members(sim: &Sim, group: &str) -> Vec<String> {
    let id = sim.group_id(group);
    let (status, page) = send(sim.admin(Method::GET, "/rest/api/3/group/member").query(&[
        ("groupId", id.as_str()),
        ("maxResults", "50"),
        ("includeInactiveUsers", "true"),
    ]));
    assert_eq!(status, 200);
    page["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["accountId"].as_str().unwrap().to_owned())
        .collect()
}
