//! The axum extractor: verified deliveries reach the handler; challenges are answered; anything
//! else is refused with the failed check named.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::routing::any;
use hookd_receiver::axum::{Challenges, Webhook, WebhookConfig};
use hookd_receiver::{Secret, Verifier, sign};
use tower::ServiceExt as _;

fn secret() -> Secret {
    Secret::from_bytes(vec![42; 32])
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn app(challenges: Challenges) -> Router {
    async fn show(webhook: Webhook) -> String {
        format!("{} {}", webhook.id, String::from_utf8_lossy(&webhook.body))
    }
    let config = WebhookConfig::new(Verifier::new(secret())).challenges(challenges);
    Router::new().route("/hook", any(show)).with_state(config)
}

fn delivery(prefix: &str, id: &str, signed_body: &[u8], sent_body: &'static str) -> Request<Body> {
    let ts = now();
    Request::post("/hook")
        .header(format!("{prefix}-id"), id)
        .header(format!("{prefix}-timestamp"), ts.to_string())
        .header(
            format!("{prefix}-signature"),
            sign(&secret(), id, ts, signed_body),
        )
        .body(Body::from(sent_body))
        .unwrap()
}

fn challenge(signed_with: &Secret, token: &str) -> Request<Body> {
    let ts = now();
    Request::get(format!("/hook?challenge={token}"))
        .header("webhook-id", "chal_abc")
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            sign(signed_with, "chal_abc", ts, token.as_bytes()),
        )
        .body(Body::empty())
        .unwrap()
}

async fn call(app: Router, request: Request<Body>) -> (StatusCode, String, Option<String>) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        String::from_utf8(body.to_vec()).unwrap(),
        content_type,
    )
}

#[tokio::test]
async fn a_signed_delivery_reaches_the_handler_with_its_raw_body() {
    let (status, body, _) = call(
        app(Challenges::Signed),
        delivery("webhook", "msg_1", b"{\"a\": 1}", "{\"a\": 1}"),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "msg_1 {\"a\": 1}")
    );
}

#[tokio::test]
async fn svix_headers_are_accepted_too() {
    let (status, body, _) = call(
        app(Challenges::Signed),
        delivery("svix", "msg_2", b"{}", "{}"),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "msg_2 {}"));
}

#[tokio::test]
async fn a_tampered_body_is_refused_naming_the_check() {
    let (status, body, _) = call(
        app(Challenges::Signed),
        delivery("webhook", "msg_1", b"{\"a\": 1}", "{\"a\": 2}"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("no signature"), "{body}");
}

#[tokio::test]
async fn an_unsigned_delivery_is_refused_naming_the_missing_header() {
    let request = Request::post("/hook").body(Body::from("{}")).unwrap();
    let (status, body, _) = call(app(Challenges::Signed), request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("webhook-id"), "{body}");
}

#[tokio::test]
async fn a_challenge_signed_with_the_secret_is_answered_as_plain_text() {
    let (status, body, content_type) =
        call(app(Challenges::Signed), challenge(&secret(), "tok-1_x")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "tok-1_x"));
    assert!(content_type.unwrap().starts_with("text/plain"));
}

#[tokio::test]
async fn a_challenge_signed_with_another_secret_is_answered_only_when_any_is_allowed() {
    let other = Secret::from_bytes(vec![1; 32]);
    let (status, body, _) = call(app(Challenges::Signed), challenge(&other, "tok")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("challenge refused"), "{body}");
    let (status, body, _) = call(app(Challenges::Any), challenge(&other, "tok")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "tok"));
}

#[tokio::test]
async fn a_get_without_a_challenge_is_a_bad_request() {
    let request = Request::get("/hook").body(Body::empty()).unwrap();
    let (status, _, _) = call(app(Challenges::Any), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
