//! Endpoints in SQLite, always within their application. Secrets are sealed on the way in and
//! opened on the way out; rotation and headers have their own writes.

use std::collections::BTreeMap;

use hookd_core::{AppId, Endpoint, EndpointId, Timestamp};
use sqlx::Connection;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::column::{
    conflict_as, list_from_json, list_to_json, map_from_json, map_to_json, nul_free, rate_limit,
};
use super::writer::Writer;
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

pub(super) async fn insert(writer: &Writer, sealer: &Sealer, ep: &Endpoint) -> Result<()> {
    let insert = sqlx::query(
        "INSERT INTO endpoints (uid, url, description, disabled, event_types, channels,
                                rate_limit, metadata, updated_at, secret, headers,
                                id, app_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    bind_settings(insert, ep)
        .bind(sealer.seal(ep.id.as_str(), &ep.secret))
        .bind(map_to_json(&ep.headers))
        .bind(ep.id.as_str())
        .bind(ep.app_id.as_str())
        .bind(ep.created_at.as_millis())
        .execute(&mut *writer.take().await?)
        .await
        .map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// By id if `id_or_uid` parses as an endpoint id and the app has such an endpoint, else by uid.
pub(super) async fn get(
    reader: &SqlitePool,
    sealer: &Sealer,
    app: &AppId,
    id_or_uid: &str,
) -> Result<Option<Endpoint>> {
    if EndpointId::parse(id_or_uid).is_some() {
        let row = sqlx::query(select!("WHERE app_id = ? AND id = ?"))
            .bind(app.as_str())
            .bind(id_or_uid)
            .fetch_optional(reader)
            .await?;
        if let Some(row) = row {
            return from_row(&row, sealer).map(Some);
        }
    }
    let row = sqlx::query(select!("WHERE app_id = ? AND uid = ?"))
        .bind(app.as_str())
        .bind(id_or_uid)
        .fetch_optional(reader)
        .await?;
    row.map(|row| from_row(&row, sealer)).transpose()
}

pub(super) async fn list(
    reader: &SqlitePool,
    sealer: &Sealer,
    app: &AppId,
    page: &PageQuery,
) -> Result<Page<Endpoint>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(select!("WHERE app_id = "));
    sql.push_bind(app.as_str().to_owned());
    window.push(&mut sql, "id");
    let rows = sql.build().fetch_all(reader).await?;
    let endpoints = rows
        .iter()
        .map(|row| from_row(row, sealer))
        .collect::<Result<Vec<_>>>()?;
    Ok(window.page(endpoints, |ep| ep.id.as_str()))
}

pub(super) async fn update(writer: &Writer, ep: &Endpoint) -> Result<()> {
    let update = sqlx::query(
        "UPDATE endpoints SET uid = ?, url = ?, description = ?, disabled = ?, event_types = ?,
                channels = ?, rate_limit = ?, metadata = ?, updated_at = ?
         WHERE id = ? AND app_id = ?",
    );
    bind_settings(update, ep)
        .bind(ep.id.as_str())
        .bind(ep.app_id.as_str())
        .execute(&mut *writer.take().await?)
        .await
        .map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// Drops the endpoint's deliveries with it (queued or finished); its attempts stay in the log.
pub(super) async fn delete(writer: &Writer, app: &AppId, id: &EndpointId) -> Result<bool> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM deliveries WHERE app_id = ? AND endpoint_id = ?")
        .bind(app.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM endpoints WHERE app_id = ? AND id = ?")
        .bind(app.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted > 0)
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// Binds the settings an update may change, in the order both INSERT and UPDATE list them.
fn bind_settings<'q>(query: Query<'q>, ep: &Endpoint) -> Query<'q> {
    query
        .bind(ep.uid.as_deref())
        .bind(&ep.url)
        .bind(nul_free(&ep.description))
        .bind(ep.disabled)
        .bind(list_to_json(ep.event_types.as_deref()))
        .bind(list_to_json(ep.channels.as_deref()))
        .bind(ep.rate_limit)
        .bind(map_to_json(&ep.metadata))
        .bind(ep.updated_at.as_millis())
}

pub(super) fn from_row(row: &SqliteRow, sealer: &Sealer) -> Result<Endpoint> {
    let id: String = row.try_get("id")?;
    let secret = sealer.open("secret", &id, row.try_get("secret")?)?;
    Ok(Endpoint {
        id: EndpointId::from_stored(id),
        app_id: AppId::from_stored(row.try_get("app_id")?),
        uid: row.try_get("uid")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        disabled: row.try_get("disabled")?,
        event_types: list_from_json(row, "event_types")?,
        channels: list_from_json(row, "channels")?,
        rate_limit: rate_limit(row)?,
        metadata: map_from_json(row, "metadata")?,
        secret,
        headers: map_from_json(row, "headers")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

pub(super) async fn rotate_secret(
    writer: &Writer,
    sealer: &Sealer,
    app: &AppId,
    id: &EndpointId,
    new_secret: &str,
    grace_until: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let row =
        sqlx::query("SELECT secret, retired_secrets FROM endpoints WHERE app_id = ? AND id = ?")
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
        "UPDATE endpoints SET secret = ?, retired_secrets = ?, updated_at = ?
         WHERE app_id = ? AND id = ?",
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
    writer: &Writer,
    app: &AppId,
    id: &EndpointId,
    headers: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<bool> {
    let updated =
        sqlx::query("UPDATE endpoints SET headers = ?, updated_at = ? WHERE app_id = ? AND id = ?")
            .bind(map_to_json(headers))
            .bind(now.as_millis())
            .bind(app.as_str())
            .bind(id.as_str())
            .execute(&mut *writer.take().await?)
            .await?
            .rows_affected();
    Ok(updated > 0)
}

/// Seals the secrets of rows written before secrets were sealed; run at open.
pub(super) async fn seal_plaintext(writer: &Writer, sealer: &Sealer) -> Result<()> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let rows = sqlx::query(PLAINTEXT_SECRETS).fetch_all(&mut *tx).await?;
    for row in &rows {
        let (id, secret): (String, String) = (row.try_get("id")?, row.try_get("secret")?);
        sqlx::query("UPDATE endpoints SET secret = ? WHERE id = ?")
            .bind(sealer.seal(&id, &secret))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    if !rows.is_empty() {
        tracing::info!(
            endpoints = rows.len(),
            "sealed endpoint secrets stored in plaintext"
        );
    }
    Ok(())
}
