//! The web UI's figures (hookd's own routes): an endpoint's attempts over the last day or
//! week, how each endpoint of an application fares, and, for admins, the console's overview
//! and what each application holds.
//!
//! "Held" is this node's circuit state (`worker/circuit.rs`): on several nodes each answers
//! for itself. Everything else is counted in the store, the same on every node.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use hookd_api::timestamp::format_millis;
use hookd_api::{
    AppCountsOut, AttemptBucketOut, AttemptSeriesOut, EndpointHealthOut, ListResponse, OverviewOut,
    QueueOut, TroubledEndpointOut,
};
use hookd_core::{AppId, Timestamp};
use hookd_store::{AttemptBucket, SeriesOf};

use crate::api::application::find_application;
use crate::api::extract::{Json, Path, QueryParams};
use crate::api::lookup::find_endpoint;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// How many endpoints the overview lists as failing.
const FAILING_LIMIT: u32 = 20;
/// The most applications one counts request may name (a page of the list is at most 250).
const COUNTS_LIMIT: usize = 250;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}/stats/attempts",
            get(endpoint_series),
        )
        .route("/app/{app_id}/stats/endpoints", get(endpoint_health))
        .route("/stats/overview", get(overview))
        .route("/stats/app", get(application_counts))
}

/// `count` buckets of `step` ms, the last one holding `now`.
fn window(now: Timestamp, step: i64, count: i64) -> (Timestamp, Timestamp) {
    let until = (now.as_millis() / step + 1) * step;
    (Timestamp(until - step * count), Timestamp(until))
}

fn buckets_out(buckets: Vec<AttemptBucket>) -> Vec<AttemptBucketOut> {
    buckets
        .into_iter()
        .map(|b| AttemptBucketOut {
            start: format_millis(b.start.as_millis()),
            succeeded: b.succeeded,
            failed: b.failed,
        })
        .collect()
}

fn time_out(at: Timestamp) -> String {
    format_millis(at.as_millis())
}

/// `period=day` (the default): 24 hours, hour by hour; `period=week`: 7 days, day by day.
async fn endpoint_series(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<AttemptSeriesOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let (step, count) = match query.get("period") {
        None | Some("day") => (HOUR, 24),
        Some("week") => (DAY, 7),
        Some(_) => {
            return Err(ApiError::invalid(
                &["query", "period"],
                "must be day or week",
            ));
        }
    };
    let (since, until) = window(state.clock.now(), step, count);
    let of = SeriesOf::Endpoint(&app.id, &endpoint.id);
    let buckets = state.store.attempt_series(of, since, until, step).await?;
    Ok(Json(AttemptSeriesOut {
        interval_seconds: u64::try_from(step / 1000).unwrap_or_default(),
        data: buckets_out(buckets),
    }))
}

/// Every endpoint of the application: its last 24 hours' attempts, and whether it is held.
async fn endpoint_health(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
) -> Result<Json<ListResponse<EndpointHealthOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let since = Timestamp(state.clock.now().as_millis() - DAY);
    let totals = state
        .store
        .attempt_totals_by_endpoint(&app.id, since)
        .await?;
    let held: HashMap<_, _> = state.worker.held_endpoints().into_iter().collect();
    let data = totals
        .into_iter()
        .map(|t| EndpointHealthOut {
            held: held.contains_key(&t.endpoint_id),
            next_probe: held.get(&t.endpoint_id).copied().flatten().map(time_out),
            endpoint_id: t.endpoint_id.to_string(),
            succeeded: t.succeeded,
            failed: t.failed,
        })
        .collect();
    Ok(Json(ListResponse {
        data,
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

async fn overview(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OverviewOut>, ApiError> {
    caller.check_admin()?;
    let now = state.clock.now();
    let (since, until) = window(now, MINUTE, 60);
    let series = state
        .store
        .attempt_series(SeriesOf::All, since, until, MINUTE);
    let (per_minute, depth, retrying) = tokio::try_join!(
        series,
        state.store.queue_depth(now),
        state.store.retrying_endpoints(FAILING_LIMIT),
    )?;
    let held_at = state.worker.held_endpoints();
    let ids: Vec<_> = held_at.iter().map(|(id, _)| id.clone()).collect();
    let refs = state.store.endpoint_refs(&ids).await?;
    let next_probe: HashMap<_, _> = held_at.into_iter().collect();
    let held = refs
        .into_iter()
        .map(|r| TroubledEndpointOut {
            next_attempt: next_probe
                .get(&r.endpoint_id)
                .copied()
                .flatten()
                .map(time_out),
            app_id: r.app_id.to_string(),
            endpoint_id: r.endpoint_id.to_string(),
            url: r.url,
            retrying: None,
        })
        .collect();
    let failing = retrying
        .into_iter()
        .map(|r| TroubledEndpointOut {
            app_id: r.app_id.to_string(),
            endpoint_id: r.endpoint_id.to_string(),
            url: r.url,
            retrying: Some(r.retrying),
            next_attempt: r.next_attempt_at.map(time_out),
        })
        .collect();
    Ok(Json(OverviewOut {
        per_minute: buckets_out(per_minute),
        queue: QueueOut {
            pending: depth.pending,
            due: depth.due,
            sending: depth.sending,
        },
        failing,
        held,
    }))
}

/// `app`: application ids, repeated or comma-separated.
async fn application_counts(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<ListResponse<AppCountsOut>>, ApiError> {
    caller.check_admin()?;
    let ids = query.names("app", 64)?.unwrap_or_default();
    if ids.len() > COUNTS_LIMIT {
        let msg = format!("at most {COUNTS_LIMIT} applications at once");
        return Err(ApiError::invalid(&["query", "app"], msg));
    }
    let ids: Vec<AppId> = ids.iter().filter_map(|id| AppId::parse(id)).collect();
    let counts = state.store.application_counts(&ids).await?;
    let data = counts
        .into_iter()
        .map(|c| AppCountsOut {
            app_id: c.app_id.to_string(),
            endpoints: c.endpoints,
            messages: c.messages,
        })
        .collect();
    Ok(Json(ListResponse {
        data,
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_ends_with_the_step_that_holds_now() {
        let (since, until) = window(Timestamp(HOUR * 5 + 10), HOUR, 24);
        assert_eq!(until, Timestamp(HOUR * 6));
        assert_eq!(since, Timestamp(HOUR * 6 - DAY));
    }
}
