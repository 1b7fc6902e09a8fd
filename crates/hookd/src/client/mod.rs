//! The client commands, `listen`, `send`, `attempts` and `resend`: they call a hookd server's API
//! as any Svix SDK would. The server and token come from `--server`/`--token` or
//! `HOOKD_SERVER`/`HOOKD_TOKEN`.

pub mod attempts;
pub mod listen;
pub mod send;

use clap::Args;
use hookd_api::{Client, ClientError, Token};

pub type BoxError = Box<dyn std::error::Error>;

/// Which hookd server to call, and as whom.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of the hookd server.
    #[arg(long, env = "HOOKD_SERVER", default_value = "http://127.0.0.1:8071")]
    pub server: String,
    /// API token (`hookd token create` makes one).
    #[arg(long, env = "HOOKD_TOKEN", hide_env_values = true)]
    pub token: Token,
}

impl ServerArgs {
    pub fn client(&self) -> Result<Client, ClientError> {
        Client::new(&self.server, self.token.clone())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn interrupted() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
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
}

/// `text` on one line, at most `max` characters, for a column of a listing.
pub fn one_line(text: &str, max: usize) -> String {
    let mut line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        line = line.chars().take(max.saturating_sub(1)).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn one_line_collapses_whitespace_and_cuts_long_text() {
        assert_eq!(one_line("{\n  \"ok\": true\n}\n", 40), "{ \"ok\": true }");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(one_line("", 4), "");
    }
}
