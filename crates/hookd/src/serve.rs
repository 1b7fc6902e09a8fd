//! `hookd serve`, `hookd token create` and `hookd migrate`: open the configured database
//! (the embedded SQLite file, or PostgreSQL shared by many nodes), bring its schema up to date,
//! and run or act on it.

use std::io::Write as _;
use std::sync::Arc;

use hookd_server::{Config, Server, clock, first_admin_token, token};
use hookd_store::{Database, Store, TokenScope};

type BoxError = Box<dyn std::error::Error>;

/// Makes the directory of a SQLite database if it is missing.
fn make_data_dir(database: &Database) -> Result<(), BoxError> {
    let sqlite_dir = match database {
        Database::Sqlite(path) => path.parent().filter(|dir| !dir.as_os_str().is_empty()),
        Database::Postgres { .. } => None,
    };
    if let Some(dir) = sqlite_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    }
    Ok(())
}

pub(crate) async fn open_store(config: &Config) -> Result<Arc<dyn Store>, BoxError> {
    make_data_dir(&config.database)?;
    let sealer = hookd_server::secret_key::sealer(config).map_err(|e| chain(&e))?;
    let database = &config.database;
    let store = database
        .open(sealer)
        .await
        .map_err(|e| format!("cannot open the database {database}: {}", chain(&e)))?;
    Ok(store)
}

/// Whether `serve` makes an admin token when the store has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstToken {
    Make,
    Skip,
}

pub async fn serve(config: Config, first_token: FirstToken) -> Result<(), BoxError> {
    make_data_dir(&config.database)?;
    let _lock = crate::lock::acquire(&config.database)?;
    let store = open_store(&config).await?;
    let (database, role) = (config.database.clone(), config.role);
    let allowed = allowed_networks(&config);
    let server = Server::build(config, store.clone())
        .await
        .map_err(|e| chain(&e))?;
    // Only once the listener is bound: a start that fails (the port is taken) must not make a
    // token, show it, and exit, leaving the next start to say nothing.
    announce_token(store.as_ref(), first_token).await?;
    tracing::info!(
        listen = %server.local_addr(),
        %database,
        role = format!("{role:?}").to_lowercase(),
        allowed_networks = %allowed,
        "hookd is listening on http://{}",
        server.local_addr()
    );
    server.run(shutdown_signal()).await.map_err(|e| chain(&e))?;
    tracing::info!("hookd stopped");
    Ok(())
}

/// Makes and shows the first admin token, or says how to get one. On standard output, and
/// never in a log line; a closed output (`hookd serve | head`) loses the words, not the server.
async fn announce_token(store: &dyn Store, first_token: FirstToken) -> Result<(), BoxError> {
    let say = |text: &str| {
        let _ = writeln!(std::io::stdout(), "{text}");
    };
    if store.count_tokens().await? > 0 {
        say("An API token exists already; `hookd token create` makes another.");
        return Ok(());
    }
    if first_token == FirstToken::Skip {
        say("No API token exists yet; `hookd token create` makes one.");
        return Ok(());
    }
    if let Some(token) = first_admin_token(store, clock::now()).await? {
        say("No API token existed, so hookd made an admin token. It is shown only this once:");
        say(&format!("\n    {token}\n"));
        say("Keep it; `hookd token create` makes another.");
    }
    Ok(())
}

/// The private networks this node may call, for its start-up line.
fn allowed_networks(config: &Config) -> String {
    let networks = config.allowed_networks.networks();
    if networks.is_empty() {
        return "none (public addresses only; allowed_networks or --allow-network adds some)"
            .into();
    }
    networks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
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
