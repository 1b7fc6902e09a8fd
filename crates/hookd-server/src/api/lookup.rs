//! Lookups several resource modules share: an application's endpoint by id or uid. Apart from
//! `endpoint.rs`, so that its sub-resources (secret, headers) do not import the module that
//! imports them.

use hookd_core::{AppId, Endpoint};

use crate::api::ApiError;
use crate::state::AppState;

pub(super) async fn find_endpoint(
    state: &AppState,
    app: &AppId,
    id_or_uid: &str,
) -> Result<Endpoint, ApiError> {
    state
        .store
        .get_endpoint(app, id_or_uid)
        .await?
        .ok_or(ApiError::NotFound("endpoint"))
}
