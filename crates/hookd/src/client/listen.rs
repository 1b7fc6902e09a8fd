//! `hookd listen`: a receiver on this machine, registered as an endpoint of a hookd
//! application, that forwards every delivery to the developer's app and shows what happened.
//!
//! It makes the endpoint's secret itself, so it can check the ownership challenge and every
//! delivery before forwarding; the forward carries the original body and signature headers, so
//! the app verifies exactly what hookd signed. The app's answer goes back to hookd as the
//! delivery's answer (a 500 from the app is a failed attempt, retried as usual). Ctrl-C
//! removes the endpoint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use hookd_api::{ApplicationIn, ApplicationOut, Client, ClientError, EndpointIn, EndpointOut};
use hookd_receiver::axum::{Webhook, WebhookConfig, WebhookRejection};
use hookd_receiver::{Secret, Verifier};
use rand::Rng as _;
use tokio::net::TcpListener;
use url::Url;

use super::{BoxError, ServerArgs, interrupted, one_line};

/// The application used when `--app` is not given, created on first use.
const DEFAULT_APP_UID: &str = "hookd-listen";

/// How long the local app has to answer a forwarded event.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct ListenArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Your app's webhook URL: every event is POSTed there.
    #[arg(long, value_name = "URL")]
    pub forward_to: Url,
    /// Only these event types (comma-separated); all when absent.
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub events: Vec<String>,
    /// The application (id or uid) whose events to receive. Absent: `hookd-listen`, created if
    /// it does not exist.
    #[arg(long)]
    pub app: Option<String>,
    /// Where the local receiver listens. The hookd server must be able to reach it.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: SocketAddr,
}

/// What every delivery handler shares.
#[derive(Clone)]
struct Listener {
    webhooks: WebhookConfig,
    forward_to: Url,
    http: reqwest::Client,
    api: Client,
    app_id: Arc<str>,
}

impl axum::extract::FromRef<Listener> for WebhookConfig {
    fn from_ref(listener: &Listener) -> WebhookConfig {
        listener.webhooks.clone()
    }
}

pub async fn run(args: ListenArgs) -> Result<(), BoxError> {
    let api = args.server.client()?;
    let app = application(&api, args.app.as_deref()).await?;
    let secret = Secret::from_bytes(rand::rng().random::<[u8; 32]>().to_vec());
    let socket = TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let local = socket.local_addr()?;
    let listener = Listener {
        webhooks: WebhookConfig::new(Verifier::new(secret.clone())),
        forward_to: args.forward_to.clone(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FORWARD_TIMEOUT)
            .build()?,
        api: api.clone(),
        app_id: app.id.as_str().into(),
    };
    let router = Router::new().fallback(receive).with_state(listener);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(socket, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    // The receiver already answers, so the challenge the server sends now passes.
    let endpoint = match register(&api, &app, local, &secret, &args.events).await {
        Ok(endpoint) => endpoint,
        Err(e) => {
            let _ = stop.send(());
            return Err(e);
        }
    };
    print_banner(&app, &endpoint, &args.forward_to, &args.events, &secret);

    let served = tokio::select! {
        () = interrupted() => None,
        result = server => Some(result),
    };
    api.delete_endpoint(&app.id, &endpoint.id)
        .await
        .map_err(|e| format!("could not remove endpoint {}: {e}", endpoint.id))?;
    println!("Removed endpoint {}.", endpoint.id);
    match served {
        None => Ok(()),
        Some(Ok(Ok(()))) => Err("the local receiver stopped".into()),
        Some(Ok(Err(e))) => Err(format!("the local receiver failed: {e}").into()),
        Some(Err(e)) => Err(format!("the local receiver failed: {e}").into()),
    }
}

/// The application named by `--app`, or the default one, made if missing.
async fn application(api: &Client, app: Option<&str>) -> Result<ApplicationOut, BoxError> {
    if let Some(app) = app {
        return api
            .get_application(app)
            .await
            .map_err(|e| {
                match e.status() {
            Some(StatusCode::NOT_FOUND) => format!(
                "application `{app}` does not exist on the server; create it, or leave out --app \
                 to use `{DEFAULT_APP_UID}`"
            )
            .into(),
            _ => e.into(),
        }
            });
    }
    match api.get_application(DEFAULT_APP_UID).await {
        Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => {
            let new = ApplicationIn {
                name: "hookd listen".into(),
                throttle_rate: None,
                uid: Some(DEFAULT_APP_UID.into()),
                metadata: Default::default(),
            };
            Ok(api.create_application(&new).await?)
        }
        found => Ok(found?),
    }
}

async fn register(
    api: &Client,
    app: &ApplicationOut,
    local: SocketAddr,
    secret: &Secret,
    events: &[String],
) -> Result<EndpointOut, BoxError> {
    let endpoint = EndpointIn {
        url: format!("http://{local}/"),
        description: format!("hookd listen (pid {})", std::process::id()),
        disabled: false,
        event_types: (!events.is_empty()).then(|| events.to_vec()),
        channels: None,
        throttle_rate: None,
        uid: None,
        metadata: [("createdBy".to_owned(), "hookd listen".to_owned())].into(),
        secret: Some(secret.to_whsec()),
        headers: None,
    };
    api.create_endpoint(&app.id, &endpoint)
        .await
        .map_err(|e| match &e {
            // A bad field, such as an event type the server has not declared, says which.
            ClientError::Api { status, .. } if *status == StatusCode::UNPROCESSABLE_ENTITY => {
                format!("the server refused the endpoint http://{local}/: {e}").into()
            }
            ClientError::Api { status, .. } if status.is_client_error() => format!(
                "the server refused the endpoint http://{local}/: {e}\nhint: a hookd server refuses \
                 loopback addresses unless its allowed_networks include them: run it with \
                 HOOKD_ALLOWED_NETWORKS=127.0.0.0/8"
            )
            .into(),
            _ => e.into(),
        })
}

fn print_banner(
    app: &ApplicationOut,
    endpoint: &EndpointOut,
    forward_to: &Url,
    events: &[String],
    secret: &Secret,
) {
    let name = app.uid.as_deref().unwrap_or(&app.name);
    let events = if events.is_empty() {
        "all".to_owned()
    } else {
        events.join(", ")
    };
    println!(
        "Forwarding events of application {name} ({}) to {forward_to}",
        app.id
    );
    println!("  endpoint        {} at {}", endpoint.id, endpoint.url);
    println!("  event types     {events}");
    println!("  signing secret  {}", secret.to_whsec());
    println!("Waiting for events. Ctrl-C removes the endpoint and stops.");
}

/// One delivery: verify (the extractor), look up its type, forward, show, answer as the app did.
async fn receive(
    State(listener): State<Listener>,
    headers: HeaderMap,
    webhook: Result<Webhook, WebhookRejection>,
) -> Response {
    let webhook = match webhook {
        Ok(webhook) => webhook,
        Err(rejection) if rejection.is_challenge() => return rejection.into_response(),
        Err(rejection) => {
            let id = headers
                .get("webhook-id")
                .or_else(|| headers.get("svix-id"))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            println!("{}  {:<24}  {id}  refused: {rejection}", now(), "?");
            return rejection.into_response();
        }
    };
    // Looked up before the forward, so the line prints the moment the app has answered.
    let event_type = match listener
        .api
        .get_message(&listener.app_id, &webhook.id)
        .await
    {
        Ok(message) => message.event_type,
        Err(_) => "?".to_owned(),
    };
    let started = Instant::now();
    let forwarded = forward(&listener, &headers, webhook.body).await;
    let ms = started.elapsed().as_millis();
    let outcome = match &forwarded {
        Forwarded::Answered { status, body, .. } => {
            format!(
                "-> {status}  {ms} ms  {}",
                one_line(&String::from_utf8_lossy(body), 100)
            )
        }
        Forwarded::Failed(why) => format!("-> failed: {why}  {ms} ms"),
    };
    println!("{}  {event_type:<24}  {}  {outcome}", now(), webhook.id);
    forwarded.into_response()
}

/// What the local app made of a forwarded event.
enum Forwarded {
    Answered {
        status: StatusCode,
        content_type: Option<HeaderValue>,
        body: Bytes,
    },
    Failed(String),
}

impl IntoResponse for Forwarded {
    fn into_response(self) -> Response {
        match self {
            Forwarded::Answered {
                status,
                content_type,
                body,
            } => {
                let mut response = (status, body).into_response();
                if let Some(content_type) = content_type {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, content_type);
                }
                response
            }
            Forwarded::Failed(why) => (
                StatusCode::BAD_GATEWAY,
                format!("hookd listen could not forward the event: {why}"),
            )
                .into_response(),
        }
    }
}

/// Headers that describe one hop, not the event: never forwarded.
const HOP_HEADERS: [&str; 8] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

async fn forward(listener: &Listener, headers: &HeaderMap, body: Bytes) -> Forwarded {
    let mut forwarded = headers.clone();
    for name in HOP_HEADERS {
        forwarded.remove(name);
    }
    let sent = listener
        .http
        .post(listener.forward_to.clone())
        .headers(forwarded)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => return Forwarded::Failed(innermost_cause(&e)),
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    match answer.bytes().await {
        Ok(body) => Forwarded::Answered {
            status,
            content_type,
            body,
        },
        Err(e) => Forwarded::Failed(innermost_cause(&e)),
    }
}

/// The innermost cause says what went wrong ("Connection refused"); reqwest's own message
/// only repeats the URL.
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(deeper) = innermost.source() {
        innermost = deeper;
    }
    innermost.to_string()
}

/// The wall-clock time of a line, RFC 3339 in UTC to the second.
fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
