//! `hookd attempts` lists the delivery attempts of a message or an endpoint; `hookd resend`
//! sends a message to an endpoint again.

use clap::Args;
use hookd_api::{AttemptsOf, MessageAttemptOut};

use super::{BoxError, ServerArgs, one_line};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("of").required(true).args(["msg", "endpoint"]))]
pub struct AttemptsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The application (id or uid).
    #[arg(long)]
    pub app: String,
    /// The attempts at this message (id or event id).
    #[arg(long)]
    pub msg: Option<String>,
    /// The attempts at this endpoint (id or uid).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// How many, newest first (at most 250).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=250))]
    pub limit: u16,
}

#[derive(Debug, Args)]
pub struct ResendArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The application (id or uid).
    #[arg(long)]
    pub app: String,
    /// The message to send again (id or event id).
    #[arg(long)]
    pub msg: String,
    /// The endpoint to send it to (id or uid).
    #[arg(long)]
    pub endpoint: String,
}

/// Prints one line per attempt, newest first.
pub async fn run(args: AttemptsArgs) -> Result<(), BoxError> {
    let of = match (&args.msg, &args.endpoint) {
        (Some(msg), _) => AttemptsOf::Message(msg),
        (None, Some(endpoint)) => AttemptsOf::Endpoint(endpoint),
        (None, None) => unreachable!("clap requires one of --msg and --endpoint"),
    };
    let page = args
        .server
        .client()?
        .list_attempts(&args.app, of, args.limit)
        .await?;
    if page.data.is_empty() {
        println!("no attempts");
        return Ok(());
    }
    println!(
        "{:<20}  {:<7}  {:>4}  {:>7}  {:<30}  {:<30}  {:<6}  RESPONSE",
        "TIME", "STATUS", "CODE", "MS", "MESSAGE", "ENDPOINT", "TRIGGER"
    );
    for attempt in &page.data {
        println!("{}", attempt_line(attempt));
    }
    if !page.done {
        println!("(more: raise --limit to see older attempts)");
    }
    Ok(())
}

fn attempt_line(attempt: &MessageAttemptOut) -> String {
    let trigger = match attempt.trigger_type {
        1 => "manual",
        _ => "auto",
    };
    // RFC 3339 to the second is enough to read; the API keeps the full precision.
    let time: String = attempt.timestamp.chars().take(19).collect();
    format!(
        "{:<20}  {:<7}  {:>4}  {:>7}  {:<30}  {:<30}  {:<6}  {}",
        time,
        attempt.status_text,
        attempt.response_status_code,
        attempt.response_duration_ms,
        attempt.msg_id,
        attempt.endpoint_id,
        trigger,
        one_line(&attempt.response, 60)
    )
}

/// Asks the server to send the message to the endpoint again.
pub async fn resend(args: ResendArgs) -> Result<(), BoxError> {
    args.server
        .client()?
        .resend(&args.app, &args.msg, &args.endpoint)
        .await?;
    println!(
        "{} will be sent to {} again; `hookd attempts --app {} --msg {}` shows how it went",
        args.msg, args.endpoint, args.app, args.msg
    );
    Ok(())
}
