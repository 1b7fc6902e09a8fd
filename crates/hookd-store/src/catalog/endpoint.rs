//! Endpoints, always within their application. Secrets are sealed on the way in and opened on
//! the way out; rotation and headers have their own writes.

use std::collections::BTreeMap;

use hookd_core::{AppId, Endpoint, EndpointId, Timestamp};

use super::app::rate_limit;
use crate::convert::{conflict_as, map_to_json, nul_free};
use crate::seal::PLAINTEXT_SECRETS;
use crate::secrets::Secrets;
use crate::sql::{Db, Query, Row, first, sql};
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

pub(crate) async fn insert(db: &dyn Db, sealer: &Sealer, ep: &Endpoint) -> Result<()> {
    let insert = Query::new(
        "INSERT INTO endpoints (uid, url, description, disabled, event_types, channels,
                                rate_limit, metadata, updated_at, secret, headers,
                                id, app_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    );
    let insert = with_settings(insert, ep)
        .arg(sealer.seal(ep.id.as_str(), &ep.secret))
        .arg(map_to_json(&ep.headers))
        .arg(ep.id.as_str())
        .arg(ep.app_id.as_str())
        .arg(ep.created_at);
    db.execute(insert).await.map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// By id if `id_or_uid` parses as an endpoint id and the app has such an endpoint, else by uid.
pub(crate) async fn get(
    db: &dyn Db,
    sealer: &Sealer,
    app: &AppId,
    id_or_uid: &str,
) -> Result<Option<Endpoint>> {
    if EndpointId::parse(id_or_uid).is_some() {
        let by_id = sql!(
            select!("WHERE app_id = $1 AND id = $2"),
            app.as_str(),
            id_or_uid
        );
        if let Some(row) = first(db.fetch(by_id).await?) {
            return from_row(&row, sealer).map(Some);
        }
    }
    let by_uid = sql!(
        select!("WHERE app_id = $1 AND uid = $2"),
        app.as_str(),
        id_or_uid
    );
    first(db.fetch(by_uid).await?)
        .map(|row| from_row(&row, sealer))
        .transpose()
}

pub(crate) async fn list(
    db: &dyn Db,
    sealer: &Sealer,
    app: &AppId,
    page: &PageQuery,
) -> Result<Page<Endpoint>> {
    let window = Window::new(page);
    let mut sql = Query::new(select!("WHERE app_id = "));
    sql.bind(app.as_str());
    window.push(&mut sql, "id");
    let rows = db.fetch(sql).await?;
    let endpoints = rows
        .iter()
        .map(|row| from_row(row, sealer))
        .collect::<Result<Vec<_>>>()?;
    Ok(window.page(endpoints, |ep| ep.id.as_str()))
}

pub(crate) async fn update(db: &dyn Db, ep: &Endpoint) -> Result<()> {
    let update = Query::new(
        "UPDATE endpoints SET uid = $1, url = $2, description = $3, disabled = $4,
                event_types = $5, channels = $6, rate_limit = $7, metadata = $8, updated_at = $9
         WHERE id = $10 AND app_id = $11",
    );
    let update = with_settings(update, ep)
        .arg(ep.id.as_str())
        .arg(ep.app_id.as_str());
    db.execute(update).await.map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// Drops the endpoint's deliveries with it (queued or finished); its attempts stay in the log.
pub(crate) async fn delete(db: &dyn Db, app: &AppId, id: &EndpointId) -> Result<bool> {
    let mut tx = db.begin().await?;
    let (app, id) = (app.as_str(), id.as_str());
    tx.execute(sql!(
        "DELETE FROM deliveries WHERE app_id = $1 AND endpoint_id = $2",
        app,
        id
    ))
    .await?;
    let deleted = tx
        .execute(sql!(
            "DELETE FROM endpoints WHERE app_id = $1 AND id = $2",
            app,
            id
        ))
        .await?;
    tx.commit().await?;
    Ok(deleted > 0)
}

/// Adds the settings an update may change, in the order both INSERT and UPDATE list them.
fn with_settings(query: Query, ep: &Endpoint) -> Query {
    query
        .arg(ep.uid.as_deref())
        .arg(&ep.url)
        .arg(nul_free(&ep.description))
        .arg(ep.disabled)
        .arg(ep.event_types.as_deref())
        .arg(ep.channels.as_deref())
        .arg(ep.rate_limit.map(i64::from))
        .arg(map_to_json(&ep.metadata))
        .arg(ep.updated_at)
}

pub(crate) fn from_row(row: &Row, sealer: &Sealer) -> Result<Endpoint> {
    let id = row.text("id")?;
    let secret = sealer.open("secret", &id, &row.text("secret")?)?;
    Ok(Endpoint {
        id: EndpointId::from_stored(id),
        app_id: AppId::from_stored(row.text("app_id")?),
        uid: row.opt_text("uid")?,
        url: row.text("url")?,
        description: row.text("description")?,
        disabled: row.bool("disabled")?,
        event_types: row.list("event_types")?,
        channels: row.list("channels")?,
        rate_limit: rate_limit(row)?,
        metadata: row.map("metadata")?,
        secret,
        headers: row.map("headers")?,
        created_at: Timestamp(row.int("created_at")?),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

pub(crate) async fn rotate_secret(
    db: &dyn Db,
    sealer: &Sealer,
    (app, id): (&AppId, &EndpointId),
    new_secret: &str,
    grace_until: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    let mut tx = db.begin().await?;
    // FOR UPDATE: two rotations at once must not both retire the same secret.
    let select = format!(
        "SELECT secret, retired_secrets FROM endpoints WHERE app_id = $1 AND id = $2{}",
        db.dialect().for_update()
    );
    let rows = tx.fetch(sql!(select, app.as_str(), id.as_str())).await?;
    let Some(row) = first(rows) else {
        return Ok(false);
    };
    let owner = id.as_str();
    let secrets = Secrets::open(
        sealer,
        owner,
        &row.text("secret")?,
        &row.text("retired_secrets")?,
    )?;
    let rotated = secrets.rotate(new_secret, grace_until, now);
    tx.execute(sql!(
        "UPDATE endpoints SET secret = $1, retired_secrets = $2, updated_at = $3
         WHERE app_id = $4 AND id = $5",
        sealer.seal(owner, &rotated.current),
        rotated.retired_column(sealer, owner),
        now,
        app.as_str(),
        owner,
    ))
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn set_headers(
    db: &dyn Db,
    (app, id): (&AppId, &EndpointId),
    headers: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<bool> {
    let updated = db
        .execute(sql!(
            "UPDATE endpoints SET headers = $1, updated_at = $2 WHERE app_id = $3 AND id = $4",
            map_to_json(headers),
            now,
            app.as_str(),
            id.as_str(),
        ))
        .await?;
    Ok(updated > 0)
}

/// Seals the secrets of rows written before secrets were sealed; run at open. Each row is
/// sealed only if it is still plaintext when updated, so nodes may run this at once.
pub(crate) async fn seal_plaintext(db: &dyn Db, sealer: &Sealer) -> Result<()> {
    let rows = db.fetch(Query::new(PLAINTEXT_SECRETS)).await?;
    for row in &rows {
        let (id, secret) = (row.text("id")?, row.text("secret")?);
        db.execute(sql!(
            "UPDATE endpoints SET secret = $1 WHERE id = $2 AND secret = $3",
            sealer.seal(&id, &secret),
            &id,
            &secret,
        ))
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
