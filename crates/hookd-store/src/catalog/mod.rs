//! The catalog, written once for both backends: every `Catalog` method, as queries over the
//! `sql` seam, one module per noun. A backend joins by being a `Backend`: it hands over its
//! `Db` and its `Sealer`, and the blanket impl below makes it a `Catalog`.

mod app;
mod attempt;
mod destination;
mod endpoint;
mod event_type;
mod idempotency;
mod insight;
mod message;
mod queue;
mod redeliver;
mod retention;
mod token;

use std::collections::BTreeMap;

use async_trait::async_trait;
use hookd_core::{
    AppId, Application, Attempt, AttemptStatus, Endpoint, EndpointId, EventType, Message,
    MessageId, Timestamp,
};

pub(crate) use endpoint::seal_plaintext;

use crate::sql::Db;
use crate::{
    AppCounts, AttemptBucket, AttemptFilter, Catalog, DeliveryId, Destination, EndpointRef,
    EndpointStats, EndpointTotals, EventTypeFilter, IdempotencyClaim, IdempotencyKey, Inserted,
    MessageFilter, Page, PageQuery, Pruned, QueueDepth, QueuedMessage, QueuedMessageFilter, Resend,
    Result, RetryingEndpoint, Sealer, SeriesOf, StoredResponse, TokenRecord, TokenSummary,
};

/// A store whose catalog is this module's: it gives the database to run it on, and the
/// sealer of its secrets.
pub trait Backend: Send + Sync + 'static {
    fn catalog(&self) -> (&dyn Db, &Sealer);

    fn db(&self) -> &dyn Db {
        self.catalog().0
    }

    fn sealer(&self) -> &Sealer {
        self.catalog().1
    }
}

#[async_trait]
impl<B: Backend> Catalog for B {
    async fn insert_token(&self, record: &TokenRecord) -> Result<()> {
        token::insert(self.db(), record, None).await
    }

    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        token::find(self.db(), hash).await
    }

    async fn count_tokens(&self) -> Result<u64> {
        token::count(self.db()).await
    }

    async fn delete_token(&self, hash: &str) -> Result<bool> {
        token::delete(self.db(), hash).await
    }

    async fn insert_application(&self, application: &Application) -> Result<()> {
        app::insert(self.db(), application).await
    }

    async fn get_application(&self, id_or_uid: &str) -> Result<Option<Application>> {
        app::get(self.db(), id_or_uid).await
    }

    async fn list_applications(&self, page: &PageQuery) -> Result<Page<Application>> {
        app::list(self.db(), page).await
    }

    async fn update_application(&self, application: &Application) -> Result<()> {
        app::update(self.db(), application).await
    }

    async fn delete_application(&self, id: &AppId) -> Result<bool> {
        app::delete(self.db(), id).await
    }

    async fn insert_endpoint(&self, ep: &Endpoint) -> Result<()> {
        endpoint::insert(self.db(), self.sealer(), ep).await
    }

    async fn get_endpoint(&self, app: &AppId, id_or_uid: &str) -> Result<Option<Endpoint>> {
        endpoint::get(self.db(), self.sealer(), app, id_or_uid).await
    }

    async fn list_endpoints(&self, app: &AppId, page: &PageQuery) -> Result<Page<Endpoint>> {
        endpoint::list(self.db(), self.sealer(), app, page).await
    }

    async fn update_endpoint(&self, ep: &Endpoint) -> Result<()> {
        endpoint::update(self.db(), ep).await
    }

    async fn rotate_endpoint_secret(
        &self,
        app: &AppId,
        id: &EndpointId,
        new_secret: &str,
        grace_until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let (db, sealer) = (self.db(), self.sealer());
        endpoint::rotate_secret(db, sealer, (app, id), new_secret, grace_until, now).await
    }

    async fn set_endpoint_headers(
        &self,
        app: &AppId,
        id: &EndpointId,
        headers: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> Result<bool> {
        endpoint::set_headers(self.db(), (app, id), headers, now).await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        id: &EndpointId,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<EndpointStats> {
        destination::endpoint_stats(self.db(), (app, id), since, until).await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<bool> {
        endpoint::delete(self.db(), app, id).await
    }

    async fn insert_event_type(&self, event_type: &EventType) -> Result<()> {
        event_type::insert(self.db(), event_type).await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>> {
        event_type::get(self.db(), name).await
    }

    async fn list_event_types(
        &self,
        page: &PageQuery,
        filter: &EventTypeFilter,
    ) -> Result<Page<EventType>> {
        event_type::list(self.db(), page, filter).await
    }

    async fn update_event_type(&self, event_type: &EventType) -> Result<bool> {
        event_type::update(self.db(), event_type).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<bool> {
        event_type::delete(self.db(), name).await
    }

    async fn unknown_event_types(&self, names: &[String]) -> Result<Vec<String>> {
        event_type::unknown(self.db(), names).await
    }

    async fn get_message(&self, app: &AppId, id_or_event_id: &str) -> Result<Option<Message>> {
        message::get(self.db(), app, id_or_event_id).await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
    ) -> Result<Page<Message>> {
        message::list(self.db(), app, page, filter, None).await
    }

    async fn expunge_message_payload(&self, app: &AppId, msg: &MessageId) -> Result<bool> {
        message::expunge_payload(self.db(), app, msg).await
    }

    async fn insert_message_for_endpoint(
        &self,
        msg: &Message,
        endpoint: &EndpointId,
    ) -> Result<Inserted> {
        message::insert_for_endpoint(self.db(), msg, endpoint).await
    }

    async fn list_attempts_by_endpoint(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>> {
        let of = attempt::Of::Endpoint(endpoint);
        attempt::list(self.db(), app, of, page, filter).await
    }

    async fn list_attempts_by_message(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>> {
        attempt::list(self.db(), app, attempt::Of::Message(msg), page, filter).await
    }

    async fn get_attempt(&self, app: &AppId, msg: &MessageId, id: &str) -> Result<Option<Attempt>> {
        attempt::get(self.db(), app, msg, id).await
    }

    async fn expunge_attempt_response(
        &self,
        app: &AppId,
        msg: &MessageId,
        id: &str,
    ) -> Result<bool> {
        attempt::expunge_response(self.db(), app, msg, id).await
    }

    async fn release(&self, ids: &[DeliveryId]) -> Result<()> {
        queue::release(self.db(), ids).await
    }

    async fn release_all(&self) -> Result<()> {
        queue::release_all(self.db()).await
    }

    async fn queue_resend(
        &self,
        app: &AppId,
        msg: &MessageId,
        endpoint: &EndpointId,
        now: Timestamp,
    ) -> Result<Resend> {
        redeliver::queue_resend(self.db(), app, msg, endpoint, now).await
    }

    async fn recover_failed(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: Timestamp,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<u64> {
        redeliver::recover_failed(self.db(), (app, endpoint), since, until, now).await
    }

    async fn list_destinations(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
    ) -> Result<Page<Destination>> {
        destination::list_destinations(self.db(), self.sealer(), app, msg, page).await
    }

    async fn list_queued_messages(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &QueuedMessageFilter,
    ) -> Result<Page<QueuedMessage>> {
        destination::list_queued_messages(self.db(), app, endpoint, page, filter).await
    }

    async fn claim_idempotency_key(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<IdempotencyClaim> {
        idempotency::claim(self.db(), key, now, lease_until).await
    }

    async fn complete_idempotency_key(
        &self,
        key: &IdempotencyKey,
        response: &StoredResponse,
        expires_at: Timestamp,
    ) -> Result<()> {
        idempotency::complete(self.db(), key, response, expires_at).await
    }

    async fn release_idempotency_key(&self, key: &IdempotencyKey) -> Result<()> {
        idempotency::release(self.db(), key).await
    }

    async fn expire_payloads(&self, now: Timestamp, limit: u32) -> Result<u64> {
        retention::expire_payloads(self.db(), now, limit).await
    }

    async fn delete_expired_keys(&self, now: Timestamp, limit: u32) -> Result<u64> {
        idempotency::delete_expired(self.db(), now, limit).await
    }

    async fn prune_before(&self, cutoff: Timestamp, limit: u32) -> Result<Pruned> {
        retention::prune_before(self.db(), cutoff, limit).await
    }

    async fn insert_named_token(&self, record: &TokenRecord, name: &str) -> Result<()> {
        token::insert(self.db(), record, Some(name)).await
    }

    async fn list_admin_tokens(&self) -> Result<Vec<TokenSummary>> {
        token::list_admin(self.db()).await
    }

    async fn attempt_series(
        &self,
        of: SeriesOf<'_>,
        since: Timestamp,
        until: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<AttemptBucket>> {
        insight::attempt_series(self.db(), of, (since, until), bucket_ms).await
    }

    async fn attempt_totals_by_endpoint(
        &self,
        app: &AppId,
        since: Timestamp,
    ) -> Result<Vec<EndpointTotals>> {
        insight::attempt_totals(self.db(), app, since).await
    }

    async fn queue_depth(&self, now: Timestamp) -> Result<QueueDepth> {
        insight::queue_depth(self.db(), now).await
    }

    async fn retrying_endpoints(&self, limit: u32) -> Result<Vec<RetryingEndpoint>> {
        insight::retrying_endpoints(self.db(), limit).await
    }

    async fn endpoint_refs(&self, endpoints: &[EndpointId]) -> Result<Vec<EndpointRef>> {
        insight::endpoint_refs(self.db(), endpoints).await
    }

    async fn application_counts(&self, apps: &[AppId]) -> Result<Vec<AppCounts>> {
        insight::application_counts(self.db(), apps).await
    }

    async fn list_messages_by_delivery_status(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
        status: AttemptStatus,
    ) -> Result<Page<Message>> {
        message::list(self.db(), app, page, filter, Some(status)).await
    }
}
