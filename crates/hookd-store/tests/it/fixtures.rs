//! Test data: applications, endpoints, messages and attempts with fresh, time-ordered ids.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use hookd_core::{
    AppId, Application, Attempt, AttemptId, AttemptStatus, Endpoint, EndpointId, FailureReason,
    IdGenerator, Message, MessageId, Timestamp, TriggerType,
};
use hookd_store::{DueDelivery, Inserted, NewMessage, Sealer, SecretKey, Store};

/// The time every fixture is created at; tests move the clock by hand from here.
pub const T0: Timestamp = Timestamp(1_700_000_000_000);

/// A per-endpoint cap no test reaches, for claims that are not about the cap.
pub const UNCAPPED: u32 = u32::MAX;

/// `ms` milliseconds after `T0`.
pub fn at(ms: i64) -> Timestamp {
    Timestamp(T0.0 + ms)
}

/// Ids made one after another sort in that order, even within one millisecond.
fn next_raw() -> u128 {
    static IDS: LazyLock<IdGenerator> = LazyLock::new(IdGenerator::new);
    IDS.next_raw(T0.0, 0)
}

/// The sealer every test store uses: one fixed key, so stores reopened in a test still open
/// their secrets.
pub fn sealer() -> Sealer {
    let key = SecretKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key");
    Sealer::new(&key)
}

pub fn app() -> Application {
    Application {
        id: AppId::from_raw(next_raw()),
        uid: None,
        name: "Acme".to_owned(),
        rate_limit: None,
        metadata: BTreeMap::new(),
        created_at: T0,
        updated_at: T0,
    }
}

pub fn endpoint(app: &AppId) -> Endpoint {
    Endpoint {
        id: EndpointId::from_raw(next_raw()),
        app_id: app.clone(),
        uid: None,
        url: "https://receiver.example/hook".to_owned(),
        description: String::new(),
        disabled: false,
        event_types: None,
        channels: None,
        rate_limit: None,
        metadata: BTreeMap::new(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
        headers: BTreeMap::new(),
        created_at: T0,
        updated_at: T0,
    }
}

pub fn message(app: &AppId, event_type: &str) -> Message {
    Message {
        id: MessageId::from_raw(next_raw()),
        app_id: app.clone(),
        event_type: event_type.to_owned(),
        event_id: None,
        channels: None,
        payload: Some(r#"{"hello":"world"}"#.to_owned()),
        retention_days: 90,
        created_at: T0,
    }
}

/// An attempt at `due` that ended with HTTP `code` (0 for no answer).
pub fn attempt(due: &DueDelivery, status: AttemptStatus, code: i16) -> Attempt {
    Attempt {
        id: AttemptId::from_raw(next_raw()),
        app_id: due.app_id.clone(),
        msg_id: due.msg_id.clone(),
        endpoint_id: due.endpoint_id.clone(),
        url: due.url.clone(),
        status,
        response_status_code: code,
        response: String::new(),
        response_duration_ms: 12,
        trigger: TriggerType::Scheduled,
        failure: (status == AttemptStatus::Fail).then_some(FailureReason::Status),
        created_at: T0,
    }
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub async fn new_app(store: &dyn Store) -> Application {
    let app = app();
    store.insert_application(&app).await.unwrap();
    app
}

pub async fn new_endpoint(store: &dyn Store, ep: Endpoint) -> Endpoint {
    store.insert_endpoint(&ep).await.unwrap();
    ep
}

/// Inserts the messages, each of which must be accepted.
pub async fn send(store: &dyn Store, messages: &[Message]) -> Vec<Inserted> {
    let batch: Vec<NewMessage> = messages
        .iter()
        .map(|m| NewMessage::new(m.clone()))
        .collect();
    let results = store.insert_messages(&batch).await.unwrap();
    results
        .into_iter()
        .map(|r| r.expect("message accepted"))
        .collect()
}
