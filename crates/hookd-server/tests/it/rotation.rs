//! Signing keys: rotation with a grace period, ed25519 (`v1a`) endpoints, and the default type.

use hookd_receiver::{Headers, PublicKey, Secret, SigningKey, Verifier, VerifyError};
use serde_json::json;

use crate::harness::{TestApp, each_backend, test_config};
use crate::receiver::{Received, Receiver};

const NEW_KEY: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// Checks the delivery against `verifier` at the current time.
fn verify(verifier: Verifier, delivery: &Received) -> Result<(), VerifyError> {
    let headers = Headers::from_lookup(|name| delivery.header(name)).unwrap();
    let now = hookd_server::clock::now().as_unix_seconds();
    verifier.verify(&headers, &delivery.body, now)
}

fn hmac(secret: &str) -> Verifier {
    Verifier::new(Secret::parse(secret).unwrap())
}

/// An app with one endpoint at `receiver` (challenge answered); returns (app, endpoint, key
/// as `GET .../secret` shows it).
async fn endpoint_at(
    app: &TestApp,
    receiver: &mut Receiver,
    body: serde_json::Value,
) -> (String, String, String) {
    let app_id = app.create_app("shop").await;
    let mut body = body;
    body["url"] = json!(receiver.url);
    let (ep, key) = app.create_endpoint(&app_id, body).await;
    receiver.next().await;
    (app_id, ep, key)
}

#[tokio::test]
async fn deliveries_after_a_rotation_verify_with_the_old_key_inside_its_grace_and_with_the_new() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let (app_id, ep, old_key) = endpoint_at(&app, &mut receiver, json!({})).await;

        let rotate = format!("/app/{app_id}/endpoint/{ep}/secret/rotate");
        let body = json!({ "key": NEW_KEY, "gracePeriodSeconds": 3600 });
        let rotated = app.call("POST", &rotate, Some(body)).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;

        let delivery = receiver.next_delivery().await;
        let signature = delivery.header("webhook-signature").unwrap();
        assert_eq!(signature.split(' ').count(), 2, "{signature}");
        verify(hmac(NEW_KEY), &delivery).expect("the new key verifies");
        verify(hmac(&old_key), &delivery).expect("the old key verifies in its grace period");
        let shown = app
            .call("GET", &format!("/app/{app_id}/endpoint/{ep}/secret"), None)
            .await;
        assert_eq!(shown.body["key"], NEW_KEY);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn after_a_rotation_without_grace_only_the_new_generated_key_signs() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let (app_id, ep, old_key) = endpoint_at(&app, &mut receiver, json!({})).await;

    let rotate = format!("/app/{app_id}/endpoint/{ep}/secret/rotate");
    let rotated = app
        .call("POST", &rotate, Some(json!({ "gracePeriodSeconds": 0 })))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let shown = app
        .call("GET", &format!("/app/{app_id}/endpoint/{ep}/secret"), None)
        .await;
    let new_key = shown.body["key"].as_str().unwrap().to_owned();
    app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;

    let delivery = receiver.next_delivery().await;
    assert!(
        new_key.starts_with("whsec_") && new_key != old_key,
        "{new_key}"
    );
    verify(hmac(&new_key), &delivery).expect("the new key verifies");
    assert!(
        verify(hmac(&old_key), &delivery).is_err(),
        "the old key no longer signs"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_ed25519_endpoint_shows_its_public_key_and_its_deliveries_verify_with_it() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let signing = SigningKey::from_seed([3; 32]).to_whsk();
        let body = json!({ "secret": signing });
        let (app_id, _, shown) = endpoint_at(&app, &mut receiver, body).await;

        app.send_message(&app_id, json!({ "eventType": "a", "payload": {"n": 1} }))
            .await;

        let delivery = receiver.next_delivery().await;
        let public = SigningKey::from_seed([3; 32]).public_key();
        assert_eq!(shown, public.to_whpk(), "only the public key is shown");
        assert!(
            delivery
                .header("webhook-signature")
                .unwrap()
                .starts_with("v1a,")
        );
        let parsed = PublicKey::parse(&shown).unwrap();
        verify(Verifier::with_public_keys(vec![parsed]), &delivery).expect("v1a verifies");
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_default_signature_type_decides_what_generated_secrets_are() {
    let config = hookd_server::config::RawConfig {
        default_signature_type: hookd_server::config::DefaultSignatureType::Ed25519,
        ..test_config()
    };
    let app = TestApp::spawn_with(config).await;
    let mut receiver = Receiver::start().await;
    let (app_id, ep, shown) = endpoint_at(&app, &mut receiver, json!({})).await;
    let rotate = format!("/app/{app_id}/endpoint/{ep}/secret/rotate");
    let rotated = app.call("POST", &rotate, Some(json!({}))).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;

    let delivery = receiver.next_delivery().await;
    let signature = delivery.header("webhook-signature").unwrap();
    assert!(shown.starts_with("whpk_"), "{shown}");
    assert!(
        signature.split(' ').all(|s| s.starts_with("v1a,")),
        "{signature}"
    );
    let old = PublicKey::parse(&shown).unwrap();
    verify(Verifier::with_public_keys(vec![old]), &delivery).expect("the old key, in its grace");
    app.shutdown().await;
}

#[tokio::test]
async fn a_rotation_refuses_a_grace_over_a_week_a_public_key_and_an_unknown_endpoint() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let (app_id, ep, _) = endpoint_at(&app, &mut receiver, json!({})).await;
    let rotate = format!("/app/{app_id}/endpoint/{ep}/secret/rotate");
    let public = SigningKey::from_seed([1; 32]).public_key().to_whpk();

    let too_long = app
        .call(
            "POST",
            &rotate,
            Some(json!({ "gracePeriodSeconds": 604801 })),
        )
        .await;
    let not_signing = app
        .call("POST", &rotate, Some(json!({ "key": public })))
        .await;
    let unknown = format!("/app/{app_id}/endpoint/nope/secret/rotate");
    let missing = app.call("POST", &unknown, Some(json!({}))).await;

    assert_eq!(too_long.status, 422, "{}", too_long.body);
    assert_eq!(
        too_long.body["detail"][0]["loc"],
        json!(["body", "gracePeriodSeconds"])
    );
    assert_eq!(not_signing.status, 422, "{}", not_signing.body);
    assert_eq!(missing.status, 404, "{}", missing.body);
    app.shutdown().await;
}
