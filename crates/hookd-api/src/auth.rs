//! Authentication wire types: `AppPortalAccessIn` and `AppPortalAccessOut`.

use serde::{Deserialize, Serialize};

use crate::application::ApplicationIn;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppPortalAccessIn {
    /// Creates the application when the path names none yet; ignored when it exists.
    #[serde(default)]
    pub application: Option<ApplicationIn>,
    /// How long the token works, in seconds: 1 hour to 7 days, 7 days when absent.
    #[serde(default)]
    pub expiry: Option<u64>,
    /// The token may only read: the portal shows everything and changes nothing, and the API
    /// refuses the token every write.
    #[serde(default)]
    pub read_only: Option<bool>,
}

/// An app-scoped token. Deliberately no `Debug`: it must not reach a log by accident.
#[derive(Clone, Serialize, Deserialize)]
pub struct AppPortalAccessOut {
    pub token: String,
    pub url: String,
}
