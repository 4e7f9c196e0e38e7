//! An in-memory Atlassian Cloud: the SCIM directory, Jira and Confluence group APIs, faults.
//!
//! One organization (`store`) sits behind three route families that read like the real URLs:
//! `/scim/directory/{directoryId}` (`scim/`), `/rest/api/3` (`jira/`) and `/wiki/rest/api`
//! (`confluence/`), with the real auth schemes and error bodies. A fault layer (`faults`) wraps
//! them all, and a control API (`control`, under `/__sim`) changes faults and settings at run
//! time and reports what was received, so tests can prove nothing was lost or duplicated.
//!
//! ```no_run
//! use host_harness::sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig { users: 1000, ..SimConfig::default() }).unwrap();
//! println!("SCIM at {}", sim.scim_url());
//! let plugin_config = sim.plugin_config(); // ready for the Atlassian plugin
//! ```

pub mod auth;
pub mod confluence;
pub mod control;
pub mod error;
pub mod faults;
pub mod gateway;
pub mod jira;
pub mod profile;
pub mod scim;
pub mod site;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::{Router, ServiceExt};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tower_layer::Layer;

use auth::Credentials;
use faults::{FaultEngine, FaultPlan};
pub use profile::OrgProfile;
pub use state::{NoOpAnswer, SimState, Switches, UserNameChange};
use store::{OrgSettings, Store};

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The loopback port; 0 for a free one.
    pub port: u16,
    /// The SCIM directory id.
    pub directory_id: String,
    /// The site's short name.
    pub site_name: String,
    /// Seeded SCIM users.
    pub users: usize,
    /// Seeded SCIM groups.
    pub groups: usize,
    /// Members of one more seeded SCIM group, `large-group` (0: none); users are seeded up to
    /// this many.
    pub group_members: usize,
    /// The seed of everything random: ids, seeded data, credentials, faults.
    pub seed: u64,
    /// The most SCIM resources per page.
    pub scim_page_cap: usize,
    /// How long SCIM writes take to reach the site APIs.
    pub propagation_delay: Duration,
    /// Faults and rate limits from the start.
    pub faults: FaultPlan,
    /// The open behaviours.
    pub switches: Switches,
    /// Worker threads of the simulator's own runtime.
    pub worker_threads: usize,
    /// Which organization it models.
    pub org: OrgProfile,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            directory_id: "2fb21891-7bee-4c2d-a61a-ade3834c8b2b".into(),
            site_name: "acme".into(),
            users: 0,
            groups: 0,
            group_members: 0,
            seed: 7,
            scim_page_cap: 100,
            propagation_delay: Duration::ZERO,
            faults: FaultPlan::default(),
            switches: Switches::default(),
            worker_threads: 2,
            org: OrgProfile::default(),
        }
    }
}

/// The whole application: the three API families under the fault layer, the site's public
/// tenant info, and the control API. Gateway paths are rewritten before routing (see
/// [`gateway::rewrite`]).
pub fn router(state: SimState) -> Router {
    let atlassian = Router::new()
        .nest("/scim/directory/{directory_id}", scim::router())
        .nest("/rest/api/3", jira::router())
        .nest("/wiki/rest/api", confluence::router())
        .layer(axum::middleware::from_fn_with_state(
            state.faults.clone(),
            faults::layer,
        ));
    atlassian
        .route(
            "/_edge/tenant_info",
            axum::routing::get(gateway::tenant_info),
        )
        .nest("/__sim", control::router())
        .with_state(state)
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    state: SimState,
    shutdown: Option<oneshot::Sender<()>>,
    runtime: Option<Runtime>,
    seeded_in: Duration,
}

impl Simulator {
    /// Seeds the organization and serves it on 127.0.0.1.
    pub fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("atlassian-sim")
            .enable_all()
            .build()?;
        let listener =
            runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", config.port)))?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let settings = OrgSettings {
            directory_id: config.directory_id.clone(),
            site_name: config.site_name.clone(),
            scim_base_url: format!("{base}/scim/directory/{}", config.directory_id),
            site_base_url: base.clone(),
            scim_page_cap: config.scim_page_cap.max(1),
            propagation_delay: config.propagation_delay,
            cloud_id: String::new(),
            group_bulk: true,
            expired_tokens: Default::default(),
        };
        let creds = Credentials::generate(config.seed);
        let store = Store::new(settings, config.seed);
        let started = Instant::now();
        {
            let mut org = store.write();
            org.settings.cloud_id = org.new_uuid();
            config.org.seed(&mut org, &creds);
            org.seed(config.users, config.groups, config.seed);
            if config.group_members > 0 {
                org.seed_large_group("large-group", config.group_members, config.seed);
            }
            org.record_memberships();
        }
        let seeded_in = started.elapsed();
        tracing::info!(%addr, users = config.users, groups = config.groups, seed = config.seed, ms = seeded_in.as_millis() as u64, "the simulator is seeded");
        let faults = Arc::new(FaultEngine::new(config.faults.clone()));
        faults.attach(store.clone());
        let state = SimState {
            store,
            creds: Arc::new(creds),
            faults,
            switches: Arc::new(config.switches.clone()),
            org: config.org,
        };
        let rewrite_state = state.clone();
        let app = axum::middleware::map_request(move |request: Request| {
            let state = rewrite_state.clone();
            async move { gateway::rewrite(&state, request) }
        })
        .layer(router(state.clone()));
        let (tx, rx) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let server =
                axum::serve(listener, app.into_make_service()).with_graceful_shutdown(async {
                    let _ = rx.await;
                });
            if let Err(e) = server.await {
                tracing::error!("the simulator stopped: {e}");
            }
        });
        Ok(Simulator {
            addr,
            state,
            shutdown: Some(tx),
            runtime: Some(runtime),
            seeded_in,
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the site URL (Jira and Confluence).
    pub fn site_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SCIM URL of the directory.
    pub fn scim_url(&self) -> String {
        self.state.store.read().settings.scim_base_url.clone()
    }

    /// The control API's base URL.
    pub fn control_url(&self) -> String {
        format!("http://{}/__sim", self.addr)
    }

    /// The credentials accepted.
    pub fn credentials(&self) -> &Credentials {
        &self.state.creds
    }

    /// The shared state, for in-process inspection.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// How long seeding took.
    pub fn seeded_in(&self) -> Duration {
        self.seeded_in
    }

    /// A ready-to-use configuration of the Atlassian plugin for this simulator, as an admin of
    /// its organization would write it: on `modern`, the service account with its scoped token
    /// and the site's own default groups; on `legacy`, a site admin's unscoped token.
    pub fn plugin_config(&self) -> Value {
        let creds = &self.state.creds;
        let (directory_id, site) = {
            let org = self.state.store.read();
            (
                org.settings.directory_id.clone(),
                org.settings.site_name.clone(),
            )
        };
        let (email, token) = match self.state.org {
            OrgProfile::Modern => (&creds.service_account_email, &creds.service_account_token),
            OrgProfile::Legacy => (&creds.admin_email, &creds.admin_api_token),
        };
        json!({
            "site_url": self.site_url(),
            "scim_url": self.scim_url(),
            "account_security_api_key": token,
            "admin_email": email,
            "directory_id": directory_id,
            "directory_api_key": creds.directory_api_key,
            "default_group_names": self.state.org.default_groups(&site),
        })
    }

    /// The organization profile it models.
    pub fn org(&self) -> OrgProfile {
        self.state.org
    }

    /// The default groups of Jira Software and Confluence, as this organization names them.
    pub fn default_groups(&self) -> [String; 2] {
        let site = self.state.store.read().settings.site_name.clone();
        self.state.org.default_groups(&site)
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.state.faults.set_plan(plan);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
