//! hookd's domain: the nouns (applications, endpoints, messages, attempts) and the pure logic
//! around them (ids, names, filters, retry policy, address vetting). No IO and no clock here:
//! time and randomness come in as parameters, so every rule is a plain function to test.

#![forbid(unsafe_code)]

pub mod application;
pub mod attempt;
pub mod endpoint;
pub mod event_type;
pub mod filter;
pub mod id;
pub mod message;
pub mod name;
pub mod net;
pub mod retry;
pub mod time;

pub use application::Application;
pub use attempt::{Attempt, AttemptStatus, FailureReason, TriggerType};
pub use endpoint::{Endpoint, SignatureType};
pub use event_type::EventType;
pub use id::{AppId, AttemptId, EndpointId, IdGenerator, MessageId, TaskId};
pub use message::Message;
pub use time::Timestamp;
