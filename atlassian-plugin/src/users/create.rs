//! Creating a user: the SCIM record, adoption of the same person's record on a 409, the wait
//! for its Atlassian account when a grant needs it, and the grants.

use std::time::Instant;

use connector_api::ops::{OpCreate, OpUpdate, RpCreate};
use connector_api::{AttributeDelta, ConnectorError, Result, special};
use serde_json::{Value, json};

use super::{USER, Users, fresh, partial};
use crate::mapping::{self, PRODUCT_ACCESS};
use crate::propagation::{UNLINKED_AFTER, Wait, unlinked};
use crate::scim::client::Created;
use crate::scim::types::User;

impl Users<'_> {
    /// The account id of a SCIM user: from the Atlassian extension, or by re-reading a new
    /// record while its account is created (see [`crate::propagation`]); a record too old to
    /// be new is unlinked, and waiting would not help.
    pub(super) async fn account_id(&self, user: &User, deadline: Instant) -> Result<String> {
        if let Some(id) = user.account_id() {
            return Ok(id.to_owned());
        }
        let uid = user.id.clone().unwrap_or_default();
        if let Some(age) = user.age().filter(|age| *age > UNLINKED_AFTER) {
            return Err(unlinked(&uid, age));
        }
        let mut wait = Wait::new(self.settings.propagation_wait, deadline);
        while wait.next().await {
            if let Some(id) = self
                .scim
                .get_user(&uid, deadline)
                .await?
                .as_ref()
                .and_then(User::account_id)
            {
                return Ok(id.to_owned());
            }
        }
        Err(wait.gave_up(format!("SCIM user `{uid}` has no Atlassian account id yet")))
    }

    pub(crate) async fn create(&self, op: OpCreate, deadline: Instant) -> Result<RpCreate> {
        let (user, access) = mapping::new_user(&op)?;
        let access = match access {
            Some(names) => self.access.requested(&names)?,
            None => self.access.all().to_vec(),
        };
        let (created, adopted) = match self.scim.create_user(&user, deadline).await? {
            Created::New(created) => (created, false),
            Created::Conflict(detail) => (self.adopt(&op, &user, &detail, deadline).await?, true),
        };
        let uid = created.id.clone().unwrap_or_default();
        let what = if adopted {
            "adopted existing user"
        } else {
            "created user"
        };
        if access.is_empty() {
            // No grant needs the account: nothing to wait for.
            return Ok(done(uid, adopted));
        }
        let account = match self.account_id(&created, deadline).await {
            Ok(account) => account,
            Err(e) => {
                let missing = access
                    .iter()
                    .map(|g| json!({ "action": "grant", "group": g, "error": e }))
                    .collect();
                return Err(partial(&uid, what, Vec::new(), missing));
            }
        };
        let (changed, missing) = self
            .access
            .change(&account, fresh(&created), &access, &[], deadline)
            .await;
        if !missing.is_empty() {
            return Err(partial(&uid, what, changed, missing));
        }
        Ok(done(uid, adopted))
    }

    /// Resolves a 409 on create: the record whose userName, else externalId, is the one asked
    /// for is the same person and is adopted (its attributes set as asked); anything else is
    /// someone else's.
    pub(super) async fn adopt(
        &self,
        op: &OpCreate,
        user: &User,
        detail: &str,
        deadline: Instant,
    ) -> Result<User> {
        let mut same = self
            .lookup(special::NAME, &user.user_name, deadline)
            .await?;
        if same.is_empty() {
            if let Some(ext) = user.external_id() {
                same = self.lookup("external_id", ext, deadline).await?;
            }
        }
        let Some(same) = same.into_iter().next() else {
            return Err(self.email_taken(user, detail, deadline).await);
        };
        let uid = same.uid.as_str().to_owned();
        let existing = self.get_record(&uid, deadline).await?;
        let mut update = OpUpdate::new(USER, uid.as_str()).enabled(op.enabled.unwrap_or(true));
        if !existing.user_name.eq_ignore_ascii_case(&user.user_name) {
            update = update.rename(&user.user_name);
        }
        for (attribute, value) in op
            .attributes
            .iter()
            .filter(|(a, _)| a.as_str() != PRODUCT_ACCESS)
        {
            update = update.delta(AttributeDelta::replace(attribute, [value.clone()]));
        }
        let (ops, _) = mapping::user_patch(&update, Some(&existing))?;
        match self.scim.patch_user(&uid, &ops, deadline).await? {
            Some(user) => Ok(user),
            None => Err(ConnectorError::already_exists(
                format!(
                    "user `{}` exists but vanished while being adopted",
                    user.user_name
                ),
                Some(&uid),
            )),
        }
    }

    /// The 409 left once userName and externalId match nothing: the primary email belongs to
    /// another person. SCIM cannot filter on emails, but Atlassian userNames are usually
    /// emails, so the holder is looked up by userName to name its uid; it is not adopted,
    /// since it is someone else's account.
    async fn email_taken(&self, user: &User, detail: &str, deadline: Instant) -> ConnectorError {
        let holder = match user.primary_email() {
            Some(email) => match self.lookup(special::NAME, email, deadline).await {
                Ok(found) => found.into_iter().find(|h| {
                    h.value("email")
                        .as_ref()
                        .and_then(Value::as_str)
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                }),
                Err(e) => return e,
            },
            None => None,
        };
        match holder {
            Some(holder) => ConnectorError::already_exists(
                format!(
                    "SCIM refused the user as a duplicate ({detail}): its primary email belongs to the user `{}`",
                    holder.uid.as_str()
                ),
                Some(holder.uid.as_str()),
            ),
            None => ConnectorError::already_exists(
                format!(
                    "SCIM refused the user as a duplicate of another record ({detail}); no record has this userName or externalId"
                ),
                None,
            ),
        }
    }
}

/// The reply of a create or an adoption.
fn done(uid: String, adopted: bool) -> RpCreate {
    if adopted {
        RpCreate::adopted(uid)
    } else {
        RpCreate::created(uid)
    }
}
