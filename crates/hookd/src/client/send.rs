//! `hookd send`: send one message (an event) to an application, as a provider's backend would.

use std::io::Read as _;

use clap::Args;
use hookd_api::MessageIn;
use serde_json::value::RawValue;

use super::{BoxError, ServerArgs};

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The application (id or uid).
    #[arg(long)]
    pub app: String,
    /// The event type, e.g. `invoice.paid`.
    #[arg(long)]
    pub event_type: String,
    /// The payload, a JSON object; `@FILE` reads a file, `-` standard input.
    #[arg(long, default_value = "{}")]
    pub payload: String,
    /// Your id for the event: hookd accepts a given one once.
    #[arg(long)]
    pub event_id: Option<String>,
    /// Channels the message goes to (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub channels: Vec<String>,
}

/// Sends the message and prints its id.
pub async fn run(args: SendArgs) -> Result<(), BoxError> {
    let text = read_payload(&args.payload)?;
    let payload = RawValue::from_string(text).map_err(|e| format!("--payload is not JSON: {e}"))?;
    let message = MessageIn {
        event_type: args.event_type,
        payload,
        event_id: args.event_id,
        channels: (!args.channels.is_empty()).then_some(args.channels),
        payload_retention_period: None,
        application: None,
    };
    let sent = args
        .server
        .client()?
        .create_message(&args.app, &message)
        .await?;
    println!("{}", sent.id);
    Ok(())
}

fn read_payload(arg: &str) -> Result<String, BoxError> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the payload from standard input: {e}"))?;
        return Ok(text);
    }
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the payload file {path}: {e}").into()),
        None => Ok(arg.to_owned()),
    }
}
