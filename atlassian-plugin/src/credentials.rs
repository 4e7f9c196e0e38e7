//! The two credentials of the connector: the fields that hold them and how an admin fixes them.
//!
//! One table, so that an error, a test-connection hint and a validation message give the same
//! advice.

use connector_api::ErrorKind;

/// A credential the connector sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential {
    /// The SCIM directory's bearer key.
    DirectoryKey,
    /// The service account's email and API token, for the site APIs.
    SiteToken,
}

impl Credential {
    /// The configuration fields that hold it, as the set-up page names them.
    pub(crate) fn fields(self) -> &'static str {
        match self {
            Credential::DirectoryKey => "Directory API Key",
            Credential::SiteToken => "Admin Email and Account Security API Key",
        }
    }

    /// Where an admin gets a new one.
    pub(crate) fn renew(self) -> &'static str {
        match self {
            Credential::DirectoryKey => {
                "regenerate it in admin.atlassian.com, Security, Identity providers, your directory, and put it in directory_api_key"
            }
            Credential::SiteToken => {
                "create a new API token (a user's under Account settings, Security, Create and manage API tokens; a service account's in admin.atlassian.com, Directory, Service accounts) and put it in account_security_api_key; admin_email must be that account's email"
            }
        }
    }

    /// What to do about a failed check of this credential, by the kind of the failure.
    pub(crate) fn hint(self, kind: ErrorKind) -> String {
        match (self, kind) {
            (Credential::SiteToken, ErrorKind::InvalidCredentials) => format!(
                "The {} were refused: the token may have expired (Atlassian API tokens last at most a year), or be a scoped token (the only kind a service account has), which works only through the API gateway (site_api auto or gateway), never at the Site URL; admin_email must be the token owner's email.",
                self.fields()
            ),
            (_, ErrorKind::InvalidCredentials) => {
                format!("The {} is wrong or was replaced: {}.", self.fields(), self.renew())
            }
            (Credential::DirectoryKey, ErrorKind::PermissionDenied) => format!(
                "The Directory API Key was refused: {}.",
                self.renew()
            ),
            (Credential::SiteToken, ErrorKind::PermissionDenied) => {
                "The service account may not use the site's REST API: check that it has product access and is not suspended (admin.atlassian.com, Directory, Users).".into()
            }
            (Credential::DirectoryKey, ErrorKind::UnknownUid) => {
                "No directory at this SCIM URL: copy the SCIM base URL shown in admin.atlassian.com, Security, Identity providers, your directory; the Directory ID is its last segment.".into()
            }
            (Credential::DirectoryKey, _) => {
                "The SCIM URL cannot be reached: check scim_url (https://api.atlassian.com/scim/directory/{directoryId}) and the network path to it.".into()
            }
            (Credential::SiteToken, _) => {
                "The Site URL cannot be reached: check site_url (https://<site>.atlassian.net).".into()
            }
        }
    }
}
