//! hookd's command line: `serve`, `token create|list|revoke`, `migrate`, `prune`, `config default|check`,
//! the client commands `listen`, `send`, `attempts`, `resend`, and `completions` and `man`.

#![forbid(unsafe_code)]

mod cli;
mod client;
mod config;
mod help;
mod lock;
mod prune;
mod serve;
mod tokens;

use std::process::ExitCode;

use clap::Parser;

pub use cli::{Cli, Command};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("hookd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hookd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Targets whose debug lines drown hookd's own (the stores' statements: `sqlx` on PostgreSQL,
/// `hookd_store::sql` on SQLite): they stay at `info` unless `HOOKD_LOG` names them, e.g.
/// `HOOKD_LOG=debug,hookd_store::sql=debug`.
const NOISY: [&str; 5] = ["sqlx", "hookd_store::sql", "hyper_util", "h2", "rustls"];

fn init_logging() {
    let mut spec = std::env::var("HOOKD_LOG").unwrap_or_else(|_| "info".into());
    if spec.contains("debug") || spec.contains("trace") {
        let quiet: Vec<String> = NOISY
            .iter()
            .filter(|target| !spec.contains(*target))
            .map(|target| format!(",{target}=info"))
            .collect();
        spec.extend(quiet);
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("hookd: HOOKD_LOG={spec:?} is not a log filter ({e}); logging at info");
        tracing_subscriber::EnvFilter::new("info")
    });
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // Reporting a failed log write goes to stderr too, and panics where stderr is a closed
        // pipe: a lost log line must not take a request or the worker down with it.
        .log_internal_errors(false)
        .init();
}
