//! hookd's wire types: the JSON shapes of the Svix v1 API, exactly as the spec names them.
//! Only shapes live here; the server converts them to and from domain types at its edge.
//!
//! Request types ignore fields they do not know (SDKs send newer fields than we read), and
//! accept the older names some SDK versions still send (`filterTypes`, `rateLimit`) beside the
//! spec's. Response types always carry their keys, `null` when there is no value.

#![forbid(unsafe_code)]

mod application;
mod attempt;
mod auth;
#[cfg(feature = "client")]
mod client;
mod console;
mod delivery;
mod endpoint;
mod error;
mod event_type;
mod json;
mod list;
mod message;
mod patch;
pub mod timestamp;

pub use application::{ApplicationIn, ApplicationOut, ApplicationPatch};
pub use attempt::MessageAttemptOut;
pub use auth::{AppPortalAccessIn, AppPortalAccessOut};
#[cfg(feature = "client")]
pub use client::{AttemptsOf, Client, ClientError, Token};
pub use console::{
    ApiTokenCreatedOut, ApiTokenIn, ApiTokenOut, AppCountsOut, AttemptBucketOut, AttemptSeriesOut,
    EndpointHealthOut, OverviewOut, QueueOut, SessionOut, TroubledEndpointOut,
};
pub use delivery::{EndpointMessageOut, EndpointStats, MessageEndpointOut, RecoverIn, RecoverOut};
pub use endpoint::{
    EndpointCreateOnly, EndpointHeadersIn, EndpointHeadersOut, EndpointHeadersPatchIn, EndpointIn,
    EndpointOut, EndpointPatch, EndpointSecretOut, EndpointSecretRotateIn, EndpointUpdate,
};
pub use error::{HttpErrorOut, ValidationError, ValidationErrorItem};
pub use event_type::{
    EventExampleIn, EventTypeIn, EventTypeOut, EventTypePatch, EventTypeUpdate, Schemas,
};
pub use json::{JsonError, JsonErrorKind, from_json_slice};
pub use list::ListResponse;
pub use message::{MessageIn, MessageOut};
pub use patch::Patch;
