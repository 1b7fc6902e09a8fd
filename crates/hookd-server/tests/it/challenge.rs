//! The endpoint ownership challenge, passing and each way it fails.

use hookd_receiver::{Headers, Secret, Verifier};
use serde_json::json;

use crate::harness::{TestApp, test_config};
use crate::receiver::{ChallengeReply, Receiver};

#[tokio::test]
async fn an_endpoint_that_echoes_the_challenge_is_registered() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let created = app
        .call(
            "POST",
            &format!("/app/{app_id}/endpoint"),
            Some(json!({ "url": receiver.url, "secret": secret })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);

    let asked = receiver.next().await;
    assert_eq!(asked.method, "GET");
    let token = hookd_receiver::challenge_from_query(asked.query.as_deref().unwrap()).unwrap();
    assert!(token.len() >= 32, "token {token:?} is too short");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    // The challenge is signed with the endpoint's secret, so the receiver can tell who asks.
    let headers = Headers::from_lookup(|name| asked.header(name)).unwrap();
    let verifier = Verifier::new(Secret::parse(secret).unwrap());
    let now = hookd_server::clock::now().as_unix_seconds();
    hookd_receiver::verify_challenge(&verifier, &headers, &token, now)
        .expect("challenge signature verifies");
    app.shutdown().await;
}

#[tokio::test]
async fn credentials_in_the_url_go_as_basic_authorization() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    let url = receiver
        .url
        .replacen("http://", "http://hookd%20user:s3cr%3At@", 1);
    app.create_endpoint(&app_id, json!({ "url": url })).await;

    let asked = receiver.next().await;
    let expected = base64::engine::general_purpose::STANDARD.encode("hookd user:s3cr:t");
    assert_eq!(
        asked.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(asked.header("accept"), Some("text/plain, application/json"));
    app.shutdown().await;
}

#[tokio::test]
async fn a_json_echo_passes_the_challenge_too() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_with(ChallengeReply::EchoJson).await;
    let app_id = app.create_app("shop").await;
    app.create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    app.shutdown().await;
}

/// Registers an endpoint at `url` and expects a 400 whose detail contains `expected`; then
/// checks that nothing was stored.
async fn expect_refusal(app: &TestApp, url: &str, expected: &str) {
    let app_id = app.create_app("shop").await;
    let refused = app
        .call(
            "POST",
            &format!("/app/{app_id}/endpoint"),
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["code"], "endpoint_verification_failed");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(expected),
        "detail {detail:?} should mention {expected:?}"
    );
    let listed = app
        .call("GET", &format!("/app/{app_id}/endpoint"), None)
        .await;
    assert_eq!(
        listed.body["data"],
        json!([]),
        "nothing may be stored after a failed challenge"
    );
}

#[tokio::test]
async fn a_refused_connection_fails_the_challenge_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    expect_refusal(
        &app,
        &format!("http://127.0.0.1:{port}/hook"),
        "connection failed",
    )
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_https_url_served_by_plain_http_fails_the_challenge_on_tls() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let url = receiver.url.replacen("http://", "https://", 1);
    expect_refusal(&app, &url, "TLS failed").await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_certificate_no_trusted_root_signed_fails_the_challenge() {
    let app = TestApp::spawn().await;
    let port = self_signed_tls_server().await;
    expect_refusal(
        &app,
        &format!("https://127.0.0.1:{port}/hook"),
        "TLS failed: invalid peer certificate: UnknownIssuer",
    )
    .await;
    app.shutdown().await;
}

/// A TLS server whose certificate (for 127.0.0.1, made with `openssl req -x509`
/// for this test alone) no root signed: it accepts connections and handshakes, nothing more.
async fn self_signed_tls_server() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let cert = CertificateDer::from_pem_slice(include_bytes!("data/self-signed.pem")).unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("data/self-signed.key")).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn a_receiver_that_never_answers_fails_the_challenge_on_timeout() {
    let app = TestApp::spawn_with(hookd_server::config::RawConfig {
        challenge_timeout: "300ms".into(),
        ..test_config()
    })
    .await;
    let receiver = Receiver::start_with(ChallengeReply::Hang).await;
    expect_refusal(&app, &receiver.url, "no answer within 300ms").await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_404_fails_the_challenge() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_with(ChallengeReply::Status(404)).await;
    expect_refusal(&app, &receiver.url, "status 404").await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_body_that_does_not_echo_the_token_fails_the_challenge() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_with(ChallengeReply::Body("ok")).await;
    expect_refusal(&app, &receiver.url, "did not echo the challenge").await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_fails_the_challenge() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start_with(ChallengeReply::Redirect).await;
    expect_refusal(&app, &receiver.url, "redirected (302").await;
    receiver.next().await;
    assert!(receiver.has_seen_nothing());
    app.shutdown().await;
}

#[tokio::test]
async fn a_forbidden_address_fails_the_challenge_without_a_request() {
    let app = TestApp::spawn_with(hookd_server::config::RawConfig {
        allowed_networks: vec![],
        ..test_config()
    })
    .await;
    let mut receiver = Receiver::start().await;
    expect_refusal(&app, &receiver.url, "not allowed").await;
    assert!(receiver.has_seen_nothing());
    app.shutdown().await;
}

#[tokio::test]
async fn changing_the_url_runs_the_challenge_again_and_verify_reruns_it() {
    let app = TestApp::spawn().await;
    let good = Receiver::start().await;
    let bad = Receiver::start_with(ChallengeReply::Status(500)).await;
    let app_id = app.create_app("shop").await;
    let (ep, _) = app
        .create_endpoint(&app_id, json!({ "url": good.url }))
        .await;

    let patched = app
        .call(
            "PATCH",
            &format!("/app/{app_id}/endpoint/{ep}"),
            Some(json!({ "url": bad.url })),
        )
        .await;
    assert_eq!(patched.status, 400, "{}", patched.body);
    let kept = app
        .call("GET", &format!("/app/{app_id}/endpoint/{ep}"), None)
        .await;
    assert_eq!(
        kept.body["url"],
        good.url.as_str(),
        "a failed challenge changes nothing"
    );

    let verified = app
        .call("POST", &format!("/app/{app_id}/endpoint/{ep}/verify"), None)
        .await;
    assert_eq!(verified.status, 204, "{}", verified.body);
    app.shutdown().await;
}

#[tokio::test]
async fn with_verification_off_no_challenge_is_sent() {
    let app = TestApp::spawn_with(hookd_server::config::RawConfig {
        endpoint_verification: hookd_server::EndpointVerification::Off,
        ..test_config()
    })
    .await;
    let mut receiver = Receiver::start_with(ChallengeReply::Status(404)).await;
    let app_id = app.create_app("shop").await;
    app.create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    assert!(receiver.has_seen_nothing());
    app.shutdown().await;
}
