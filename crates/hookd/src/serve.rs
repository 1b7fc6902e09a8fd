//! `hookd serve` and `hookd token create`: open the embedded store and run or act on it.

use std::sync::Arc;

use hookd_server::{Config, Server, clock, first_admin_token, token};
use hookd_store::{SqliteStore, Store, TokenScope};

type BoxError = Box<dyn std::error::Error>;

async fn open_store(config: &Config) -> Result<Arc<dyn Store>, BoxError> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    let path = dir.join("hookd.db");
    let store = SqliteStore::open(&path)
        .await
        .map_err(|e| format!("cannot open the database {}: {}", path.display(), chain(&e)))?;
    Ok(Arc::new(store))
}

pub async fn serve(config: Config) -> Result<(), BoxError> {
    let store = open_store(&config).await?;
    if let Some(token) = first_admin_token(store.as_ref(), clock::now()).await? {
        println!("No API token existed, so hookd made an admin token. It is shown only this once:");
        println!();
        println!("    {token}");
        println!();
    }
    let data_dir = config.data_dir.clone();
    let server = Server::build(config, store).await.map_err(|e| chain(&e))?;
    tracing::info!(
        listen = %server.local_addr(),
        data_dir = %data_dir.display(),
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
    hookd_server::api::error::error_chain(e)
}
