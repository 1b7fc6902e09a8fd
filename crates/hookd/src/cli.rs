//! The command line as clap sees it, and the dispatch of each command.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::client;
use crate::config::{self, Layered, LoadError, Overrides};
use crate::help::option_help;
use crate::serve::{self, FirstToken};
use crate::tokens;

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
    /// Show or check the configuration.
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
    /// Print a shell's completion script, e.g. `hookd completions bash > /etc/bash_completion.d/hookd`.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (or, with --out-dir, write one page per command there).
    Man {
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// Where the options come from, and the two that pick the database.
#[derive(Debug, Args)]
pub struct ConfigSource {
    /// A TOML config file. Options: `hookd config default`.
    #[arg(long, short = 'c', env = "HOOKD_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, value_name = "DIR", help = option_help("Where hookd keeps its data.", "data_dir"))]
    pub data_dir: Option<PathBuf>,
    #[arg(long, value_name = "URL", help = option_help(
        "`postgres://user:password@host/db` to share one database between nodes, or \
         `sqlite:PATH`; unset: `hookd.db` in the data directory. Prefer HOOKD_DATABASE for a URL \
         with a password: flags show in process lists.",
        "database",
    ))]
    pub database: Option<String>,
}

/// The options `serve` takes as flags.
#[derive(Debug, Args)]
pub struct ServeOptions {
    #[command(flatten)]
    pub source: ConfigSource,
    #[arg(long, value_name = "HOST:PORT", help = option_help("Address of the API.", "listen"))]
    pub listen: Option<String>,
    #[arg(long = "allow-network", value_name = "CIDR", help = option_help(
        "A network (CIDR) hookd may call although it is private or loopback, e.g. \
         127.0.0.0/8 for receivers on this machine. Repeatable; the variable takes a \
         comma-separated list.",
        "allowed_networks",
    ))]
    pub allowed_networks: Vec<String>,
    #[arg(long, value_name = "MODE", value_parser = ["required", "off"], help = option_help(
        "`required`: an endpoint must echo a challenge before it is stored; `off`: no check.",
        "endpoint_verification",
    ))]
    pub endpoint_verification: Option<String>,
    #[arg(long, value_name = "ROLE", value_parser = ["all", "api", "worker"], help = option_help(
        "`all`: API and worker; `api`: the API only; `worker`: deliveries only (the listen \
         address then serves just the health checks). `api` and `worker` need PostgreSQL.",
        "role",
    ))]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub options: ServeOptions,
    /// Make no admin token on first start (`hookd token create` makes one): for a service
    /// whose output goes to a log, where a token must not.
    #[arg(long)]
    pub no_first_token: bool,
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
    /// List the admin tokens by id (a prefix of the token's hash; never the token itself).
    List(ConfigSource),
    /// Revoke an admin token, named by its id from `token list` (or by the token itself).
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// The token's id (`tok_...`), or the token.
    #[arg(value_name = "ID_OR_TOKEN")]
    pub token: String,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the default configuration, documented.
    Default,
    /// Check the configuration `serve` would run with, and print each option in effect with
    /// where it came from (default, file, variable or flag).
    Check(ServeOptions),
}

pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve(args) => {
            let config = args.options.layered()?.config()?;
            let first_token = if args.no_first_token {
                FirstToken::Skip
            } else {
                FirstToken::Make
            };
            serve::serve(config, first_token).await
        }
        Command::Token { command } => match command {
            TokenCommand::Create(source) => serve::create_token(&source.layered()?.config()?).await,
            TokenCommand::List(source) => tokens::list(&source.layered()?.config()?).await,
            TokenCommand::Revoke(args) => {
                tokens::revoke(&args.source.layered()?.config()?, &args.token).await
            }
        },
        Command::Migrate(source) => serve::migrate(&source.layered()?.config()?).await,
        Command::Prune(args) => {
            let config = args.source.layered()?.config()?;
            crate::prune::prune(&config, args.older_than).await
        }
        Command::Config { command } => {
            match command {
                ConfigCommand::Default => print!("{}", config::DEFAULT_TOML),
                ConfigCommand::Check(options) => {
                    print!("{}", config::check::report(&options.layered()?)?)
                }
            }
            Ok(())
        }
        Command::Listen(args) => client::listen::run(args).await,
        Command::Send(args) => client::send::run(args).await,
        Command::Attempts(args) => client::attempts::run(args).await,
        Command::Resend(args) => client::attempts::resend(args).await,
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "hookd", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { out_dir } => crate::help::man(Cli::command(), out_dir.as_deref()),
    }
}

impl ConfigSource {
    /// The layers, with the flags that pick the database; the other options as configured.
    fn layered(self) -> Result<Layered, LoadError> {
        let overrides = Overrides {
            data_dir: self.data_dir,
            database: self.database,
            ..Overrides::default()
        };
        Layered::new(self.config.as_deref(), overrides)
    }
}

impl ServeOptions {
    fn layered(self) -> Result<Layered, LoadError> {
        let overrides = Overrides {
            data_dir: self.source.data_dir,
            database: self.source.database,
            role: self.role,
            listen: self.listen,
            allowed_networks: self.allowed_networks,
            endpoint_verification: self.endpoint_verification,
        };
        Layered::new(self.source.config.as_deref(), overrides)
    }
}
