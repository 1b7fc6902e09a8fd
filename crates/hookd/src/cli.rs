//! The command line as clap sees it, and the dispatch of each command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::client;
use crate::config::{self, Overrides};
use crate::serve;

#[derive(Debug, Parser)]
#[command(name = "hookd", version, about = "A self-hostable webhook sender.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API and the delivery worker (or one of them: --role).
    Serve(ServeArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Bring the database schema up to date, then exit (`serve` also does this at start).
    Migrate(ConfigSource),
    /// Delete messages and attempts older than an age, with their finished deliveries.
    Prune(PruneArgs),
    /// Receive an application's events here and forward them to a local app.
    Listen(client::listen::ListenArgs),
    /// Send a message (an event) to an application.
    Send(client::send::SendArgs),
    /// List the delivery attempts of a message or an endpoint, newest first.
    Attempts(client::attempts::AttemptsArgs),
    /// Send a message to an endpoint again.
    Resend(client::attempts::ResendArgs),
}

#[derive(Debug, Args)]
pub struct ConfigSource {
    /// A TOML config file. Options: `hookd config default`.
    #[arg(long, short = 'c', env = "HOOKD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where hookd keeps its data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://user:password@host/db` to share one database between nodes, or
    /// `sqlite:PATH`; default: `hookd.db` in the data directory. Prefer HOOKD_DATABASE for a
    /// URL with a password: flags show in process lists.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Address to listen on, host:port.
    #[arg(long)]
    pub listen: Option<String>,
    /// Networks (CIDRs) hookd may call although they are private or loopback. Repeatable.
    #[arg(long = "allow-network", value_name = "CIDR")]
    pub allowed_networks: Vec<String>,
    /// `required` (default) or `off`.
    #[arg(long, value_name = "MODE")]
    pub endpoint_verification: Option<String>,
    /// `all` (default): API and worker; `api`: the API only; `worker`: deliveries only (the
    /// listen address then serves just the health checks). `api` and `worker` need PostgreSQL.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Delete what is older than this, e.g. `30d` or `12h`.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub older_than: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an admin token and print it (once).
    Create(ConfigSource),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the default configuration, documented.
    Default,
}

pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve(args) => {
            let overrides = Overrides {
                data_dir: args.source.data_dir,
                database: args.source.database,
                role: args.role,
                listen: args.listen,
                allowed_networks: args.allowed_networks,
                endpoint_verification: args.endpoint_verification,
            };
            let config = config::load(args.source.config.as_deref(), overrides)?;
            serve::serve(config).await
        }
        Command::Token {
            command: TokenCommand::Create(source),
        } => {
            let overrides = Overrides {
                data_dir: source.data_dir,
                database: source.database,
                ..Overrides::default()
            };
            let config = config::load(source.config.as_deref(), overrides)?;
            serve::create_token(&config).await
        }
        Command::Migrate(source) => {
            let overrides = Overrides {
                data_dir: source.data_dir,
                database: source.database,
                ..Overrides::default()
            };
            let config = config::load(source.config.as_deref(), overrides)?;
            serve::migrate(&config).await
        }
        Command::Prune(args) => {
            let file = args.source.config.clone();
            let config = config::load(file.as_deref(), store_overrides(args.source))?;
            crate::prune::prune(&config, args.older_than).await
        }
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{}", config::DEFAULT_TOML);
            Ok(())
        }
        Command::Listen(args) => client::listen::run(args).await,
        Command::Send(args) => client::send::run(args).await,
        Command::Attempts(args) => client::attempts::run(args).await,
        Command::Resend(args) => client::attempts::resend(args).await,
    }
}

/// The options that pick the database, for the commands that only open it.
fn store_overrides(source: ConfigSource) -> Overrides {
    Overrides {
        data_dir: source.data_dir,
        database: source.database,
        ..Overrides::default()
    }
}
