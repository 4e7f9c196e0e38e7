//! Waiting for SCIM writes to reach the Atlassian account and the site, and when not to wait.
//!
//! A new SCIM record gets its Atlassian account id, and the site learns the account, some time
//! after the write: no published figure exists (the Organizations API says role assignments are
//! "eventually consistent… up to 30 seconds"). So a grant to a new account waits politely, for
//! at most `propagation_wait_secs`, and says how long a retry should wait when it gives up. A
//! record older than [`UNLINKED_AFTER`] that still has no account id is not propagating: its
//! account was unlinked (an email moved to an unverified domain, ACCESS-1379, ACCESS-1396), and
//! waiting cannot help.

use std::time::{Duration, Instant};

use connector_api::{ConnectorError, ErrorKind};
use serde_json::json;

/// A record this old without an account id is unlinked, not new.
pub(crate) const UNLINKED_AFTER: Duration = Duration::from_secs(15 * 60);

/// The pause between the first tries, and how long tries stay that frequent.
const FIRST_STEP: Duration = Duration::from_millis(200);
const STEADY_FOR: Duration = Duration::from_secs(2);

/// One bounded, backing-off wait.
#[derive(Debug)]
pub(crate) struct Wait {
    started: Instant,
    until: Instant,
    budget: Duration,
    step: Duration,
}

impl Wait {
    /// A wait of at most `budget`, and never past `deadline`.
    pub(crate) fn new(budget: Duration, deadline: Instant) -> Wait {
        let started = Instant::now();
        Wait {
            started,
            until: deadline.min(started + budget),
            budget,
            step: FIRST_STEP,
        }
    }

    /// Sleeps before the next try; `false` when the next try would come too late. Steady for
    /// the first seconds (most accounts arrive then), then backing off to one try in 5 s.
    pub(crate) async fn next(&mut self) -> bool {
        if Instant::now() + self.step >= self.until {
            return false;
        }
        tokio::time::sleep(self.step).await;
        if self.started.elapsed() >= STEADY_FOR {
            self.step = (self.step * 2).min(Duration::from_secs(5));
        }
        true
    }

    /// The retryable timeout of a wait that gave up: how long it waited, and how long a retry
    /// should wait first (what is left of the propagation window, at least a second).
    pub(crate) fn gave_up(&self, message: String) -> ConnectorError {
        let waited = self.started.elapsed();
        let left = self
            .budget
            .saturating_sub(waited)
            .max(Duration::from_secs(1));
        ConnectorError::new(ErrorKind::Timeout, message)
            .with_retryable(true)
            .with_details(json!({
                "waited_secs": waited.as_secs(),
                "retry_after_secs": left.as_secs(),
            }))
    }
}

/// The error of a SCIM record that will never get an account id by waiting.
pub(crate) fn unlinked(uid: &str, age: Duration) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidAttributeValue,
        format!(
            "SCIM user `{uid}` was created {} minutes ago and has no Atlassian account: the account was unlinked (usually its email moved to a domain the organization has not verified). Relink it: find its links with POST /admin/user-provisioning/v1/org/{{orgId}}/get-scim-links-for-email, unlink, or delete and re-create the SCIM record (developer.atlassian.com, Update managed SCIM email addresses)",
            age.as_secs() / 60
        ),
    )
    .with_details(json!({ "attribute": "account_id", "uid": uid }))
}
