//! `AtlassianConnector`: the connector IDHub loads; each operation delegates to the API clients.

use connector_api::{Connector, Manifest, Result};

use crate::config::AtlassianConfig;

/// The Atlassian Cloud connector, one per configuration.
#[derive(Debug)]
pub struct AtlassianConnector {
    config: AtlassianConfig,
}

impl AtlassianConnector {
    /// The configuration the connector was opened with.
    pub fn config(&self) -> &AtlassianConfig {
        &self.config
    }
}

impl Connector for AtlassianConnector {
    type Config = AtlassianConfig;

    fn manifest() -> Manifest {
        Manifest::new("atlassian-cloud", env!("CARGO_PKG_VERSION"))
            .vendor("IDHub")
            .description(
                "Provisions Atlassian Cloud accounts and groups through SCIM user provisioning, \
                 and grants Jira Software and Confluence access through their default groups.",
            )
    }

    fn validate(config: &AtlassianConfig) -> Result<()> {
        config.validate()
    }

    fn open(config: AtlassianConfig) -> Result<Self> {
        Ok(AtlassianConnector { config })
    }
}
