//! `hookd serve`, `hookd token create` and `hookd migrate`: open the configured database
//! (the embedded SQLite file, or PostgreSQL shared by many nodes), bring its schema up to date,
//! and run or act on it.

use std::sync::Arc;

use hookd_server::{Config, Server, clock, first_admin_token, token};
use hookd_store::{Database, Store, TokenScope};

type BoxError = Box<dyn std::error::Error>;

pub(crate) async fn open_store(config: &Config) -> Result<Arc<dyn Store>, BoxError> {
    let sqlite_dir = match &config.database {
        Database::Sqlite(path) => path.parent().filter(|dir| !dir.as_os_str().is_empty()),
        Database::Postgres { .. } => None,
    };
    if let Some(dir) = sqlite_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    }
    let sealer = hookd_server::secret_key::sealer(config).map_err(|e| chain(&e))?;
    let database = &config.database;
    let store = database
        .open(sealer)
        .await
        .map_err(|e| format!("cannot open the database {database}: {}", chain(&e)))?;
    Ok(store)
}

pub async fn serve(config: Config) -> Result<(), BoxError> {
    let store = open_store(&config).await?;
    if let Some(token) = first_admin_token(store.as_ref(), clock::now()).await? {
        println!("No API token existed, so hookd made an admin token. It is shown only this once:");
        println!();
        println!("    {token}");
        println!();
    }
    let (database, role) = (config.database.clone(), config.role);
    let server = Server::build(config, store).await.map_err(|e| chain(&e))?;
    tracing::info!(
        listen = %server.local_addr(),
        %database,
        ?role,
        "hookd is listening on http://{}",
        server.local_addr()
    );
    server.run(shutdown_signal()).await.map_err(|e| chain(&e))?;
    tracing::info!("hookd stopped");
    Ok(())
}

pub async fn create_token(config: &Config) -> Result<(), BoxError> {
    let store = open_store(config).await?;
    let token = token::create(store.as_ref(), TokenScope::Admin, clock::now()).await?;
    println!("{token}");
    Ok(())
}

/// Opening the store migrates it: nodes do so at start anyway, but a deployment may want the
/// schema changed once, before any node of the new version starts.
pub async fn migrate(config: &Config) -> Result<(), BoxError> {
    open_store(config).await?;
    println!("The schema of {} is up to date.", config.database);
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing deliveries in flight");
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    hookd_server::error_chain::error_chain(e)
}
