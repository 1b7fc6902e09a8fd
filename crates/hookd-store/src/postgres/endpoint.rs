//! Endpoints in PostgreSQL, always within their application. Secrets are sealed on the way in
//! and opened on the way out; rotation and headers have their own writes.

use std::collections::BTreeMap;

use hookd_core::{AppId, Endpoint, EndpointId, Timestamp};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::column::{
    conflict_as, map_from_json, map_to_json, nul_free, rate_limit, rate_limit_to_sql,
};
use crate::seal::PLAINTEXT_SECRETS;
use crate::secrets::Secrets;
use crate::window::Window;
use crate::{Page, PageQuery, Result, Sealer};

/// A SELECT of every endpoint column, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, app_id, uid, url, description, disabled, event_types, channels,
                    rate_limit, metadata, secret, headers, created_at, updated_at
             FROM endpoints ",
            $rest
        )
    };
}

const UID_TAKEN: &str = "endpoint with this uid";

pub(super) async fn insert(pool: &PgPool, sealer: &Sealer, ep: &Endpoint) -> Result<()> {
    let insert = sqlx::query(
        "INSERT INTO endpoints (uid, url, description, disabled, event_types, channels,
                                rate_limit, metadata, updated_at, secret, headers,
                                id, app_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    );
    bind_settings(insert, ep)
        .bind(sealer.seal(ep.id.as_str(), &ep.secret))
        .bind(map_to_json(&ep.headers))
        .bind(ep.id.as_str())
        .bind(ep.app_id.as_str())
        .bind(ep.created_at.as_millis())
        .execute(pool)
        .await
        .map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// By id if `id_or_uid` parses as an endpoint id and the app has such an endpoint, else by uid.
pub(super) async fn get(
    pool: &PgPool,
    sealer: &Sealer,
    app: &AppId,
    id_or_uid: &str,
) -> Result<Option<Endpoint>> {
    if EndpointId::parse(id_or_uid).is_some() {
        let row = sqlx::query(select!("WHERE app_id = $1 AND id = $2"))
            .bind(app.as_str())
            .bind(id_or_uid)
            .fetch_optional(pool)
            .await?;
        if let Some(row) = row {
            return from_row(&row, sealer).map(Some);
        }
    }
    let row = sqlx::query(select!("WHERE app_id = $1 AND uid = $2"))
        .bind(app.as_str())
        .bind(id_or_uid)
        .fetch_optional(pool)
        .await?;
    row.map(|row| from_row(&row, sealer)).transpose()
}

pub(super) async fn list(
    pool: &PgPool,
    sealer: &Sealer,
    app: &AppId,
    page: &PageQuery,
) -> Result<Page<Endpoint>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Postgres>::new(select!("WHERE app_id = "));
    sql.push_bind(app.as_str().to_owned());
    window.push(&mut sql, "id");
    let rows = sql.build().fetch_all(pool).await?;
    let endpoints = rows
        .iter()
        .map(|row| from_row(row, sealer))
        .collect::<Result<Vec<_>>>()?;
    Ok(window.page(endpoints, |ep| ep.id.as_str()))
}

pub(super) async fn update(pool: &PgPool, ep: &Endpoint) -> Result<()> {
    let update = sqlx::query(
        "UPDATE endpoints SET uid = $1, url = $2, description = $3, disabled = $4,
                event_types = $5, channels = $6, rate_limit = $7, metadata = $8, updated_at = $9
         WHERE id = $10 AND app_id = $11",
    );
    bind_settings(update, ep)
        .bind(ep.id.as_str())
        .bind(ep.app_id.as_str())
        .execute(pool)
        .await
        .map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// Drops the endpoint's deliveries with it (queued or finished); its attempts stay in the log.
pub(super) async fn delete(pool: &PgPool, app: &AppId, id: &EndpointId) -> Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM deliveries WHERE app_id = $1 AND endpoint_id = $2")
        .bind(app.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM endpoints WHERE app_id = $1 AND id = $2")
        .bind(app.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted > 0)
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Binds the settings an update may change, in the order both INSERT and UPDATE list them.
fn bind_settings<'q>(query: Query<'q>, ep: &Endpoint) -> Query<'q> {
    query
        .bind(ep.uid.as_deref())
        .bind(&ep.url)
        .bind(nul_free(&ep.description))
        .bind(ep.disabled)
        .bind(ep.event_types.as_deref())
        .bind(ep.channels.as_deref())
        .bind(rate_limit_to_sql(ep.rate_limit))
        .bind(map_to_json(&ep.metadata))
        .bind(ep.updated_at.as_millis())
}

pub(super) fn from_row(row: &PgRow, sealer: &Sealer) -> Result<Endpoint> {
    let id: String = row.try_get("id")?;
    let secret = sealer.open("secret", &id, row.try_get("secret")?)?;
    Ok(Endpoint {
        id: EndpointId::from_stored(id),
        app_id: AppId::from_stored(row.try_get("app_id")?),
        uid: row.try_get("uid")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        disabled: row.try_get("disabled")?,
        event_types: row.try_get("event_types")?,
        channels: row.try_get("channels")?,
        rate_limit: rate_limit(row)?,
        metadata: map_from_json(row, "metadata")?,
        secret,
        headers: map_from_json(row, "headers")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

pub(super) async fn rotate_secret(
    pool: &PgPool,
    sealer: &Sealer,
    app: &AppId,
    id: &EndpointId,
    new_secret: &str,
    grace_until: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    // FOR UPDATE: two rotations at once must not both retire the same secret.
    let row = sqlx::query(
        "SELECT secret, retired_secrets FROM endpoints WHERE app_id = $1 AND id = $2
         FOR UPDATE",
    )
    .bind(app.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let owner = id.as_str();
    let secrets = Secrets::open(
        sealer,
        owner,
        row.try_get("secret")?,
        row.try_get("retired_secrets")?,
    )?;
    let rotated = secrets.rotate(new_secret, grace_until, now);
    sqlx::query(
        "UPDATE endpoints SET secret = $1, retired_secrets = $2, updated_at = $3
         WHERE app_id = $4 AND id = $5",
    )
    .bind(sealer.seal(owner, &rotated.current))
    .bind(rotated.retired_column(sealer, owner))
    .bind(now.as_millis())
    .bind(app.as_str())
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn set_headers(
    pool: &PgPool,
    app: &AppId,
    id: &EndpointId,
    headers: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE endpoints SET headers = $1, updated_at = $2 WHERE app_id = $3 AND id = $4",
    )
    .bind(map_to_json(headers))
    .bind(now.as_millis())
    .bind(app.as_str())
    .bind(id.as_str())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated > 0)
}

/// Seals the secrets of rows written before secrets were sealed; run after migrating. Each
/// row is sealed only if it is still plaintext when updated, so nodes may run this at once.
pub(super) async fn seal_plaintext(pool: &PgPool, sealer: &Sealer) -> Result<()> {
    let rows = sqlx::query(PLAINTEXT_SECRETS).fetch_all(pool).await?;
    for row in &rows {
        let (id, secret): (String, String) = (row.try_get("id")?, row.try_get("secret")?);
        sqlx::query("UPDATE endpoints SET secret = $1 WHERE id = $2 AND secret = $3")
            .bind(sealer.seal(&id, &secret))
            .bind(&id)
            .bind(&secret)
            .execute(pool)
            .await?;
    }
    if !rows.is_empty() {
        tracing::info!(
            endpoints = rows.len(),
            "sealed endpoint secrets stored in plaintext"
        );
    }
    Ok(())
}
