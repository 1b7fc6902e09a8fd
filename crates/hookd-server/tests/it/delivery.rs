//! Signed delivery and fan-out: what reaches receivers, and who gets what.

use std::time::Duration;

use hookd_receiver::{Headers, Secret, Verifier};
use serde_json::json;

use crate::harness::{TestApp, each_backend};
use crate::receiver::Receiver;

#[tokio::test]
async fn a_message_is_delivered_signed_with_its_payload_bytes_unchanged() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        let (ep, secret) = app
            .create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await; // the challenge

        // Odd spacing and key order must survive byte for byte.
        let payload = r#"{"b": 1,   "a":[1, 2.50, "ü"]}"#;
        let body = format!(r#"{{"eventType": "invoice.paid", "payload": {payload}}}"#);
        let sent = app
            .call_raw(
                "POST",
                &format!("/app/{app_id}/msg"),
                Some(body),
                Some(&app.token),
            )
            .await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        let msg_id = sent.body["id"].as_str().unwrap().to_owned();

        let delivery = receiver.next_delivery().await;
        assert_eq!(&delivery.body[..], payload.as_bytes());
        assert_eq!(delivery.header("webhook-id"), Some(msg_id.as_str()));
        assert_eq!(delivery.header("content-type"), Some("application/json"));
        assert!(delivery.header("user-agent").unwrap().starts_with("hookd/"));
        let headers = Headers::from_lookup(|name| delivery.header(name)).unwrap();
        let now = hookd_server::clock::now().as_unix_seconds();
        Verifier::new(Secret::parse(&secret).unwrap())
            .verify(&headers, &delivery.body, now)
            .expect("the delivery verifies with the endpoint's secret");

        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/endpoint/{ep}"), |items| {
                items.len() == 1
            })
            .await;
        assert_eq!(attempts[0]["status"], 0);
        assert_eq!(attempts[0]["statusText"], "success");
        assert_eq!(attempts[0]["responseStatusCode"], 200);
        assert_eq!(attempts[0]["msgId"], msg_id.as_str());
        assert_eq!(attempts[0]["triggerType"], 0);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn svix_header_names_are_sent_when_configured() {
    each_backend(async |backend| {
        let app = TestApp::spawn_on(
            &backend,
            hookd_server::config::RawConfig {
                signature_headers: hookd_server::SignatureHeaders::Both,
                ..crate::harness::test_config()
            },
        )
        .await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;
        let delivery = receiver.next_delivery().await;
        assert_eq!(delivery.header("svix-id"), Some(msg.as_str()));
        assert_eq!(delivery.header("webhook-id"), Some(msg.as_str()));
        assert_eq!(
            delivery.header("svix-signature"),
            delivery.header("webhook-signature")
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn fan_out_honours_event_type_and_channel_filters_and_disabled_endpoints() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut all = Receiver::start().await;
        let mut paid_only = Receiver::start().await;
        let mut channel_p1 = Receiver::start().await;
        let mut disabled = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_event_types(&["invoice.paid"]).await;
        app.create_endpoint(&app_id, json!({ "url": all.url }))
            .await;
        app.create_endpoint(
            &app_id,
            json!({ "url": paid_only.url, "eventTypes": ["invoice.paid"] }),
        )
        .await;
        app.create_endpoint(
            &app_id,
            json!({ "url": channel_p1.url, "channels": ["p1"] }),
        )
        .await;
        app.create_endpoint(&app_id, json!({ "url": disabled.url, "disabled": true }))
            .await;
        for r in [&mut all, &mut paid_only, &mut channel_p1, &mut disabled] {
            r.next().await; // each answered its challenge
        }

        let paid = app
            .send_message(
                &app_id,
                json!({ "eventType": "invoice.paid", "payload": {"n": 1} }),
            )
            .await;
        let voided = app
            .send_message(
                &app_id,
                json!({ "eventType": "invoice.void", "payload": {"n": 2}, "channels": ["p1"] }),
            )
            .await;

        let mut seen_by_all = vec![
            all.next_delivery()
                .await
                .header("webhook-id")
                .unwrap()
                .to_owned(),
            all.next_delivery()
                .await
                .header("webhook-id")
                .unwrap()
                .to_owned(),
        ];
        seen_by_all.sort();
        let mut expected = vec![paid.clone(), voided.clone()];
        expected.sort();
        assert_eq!(seen_by_all, expected);
        assert_eq!(
            paid_only.next_delivery().await.header("webhook-id"),
            Some(paid.as_str())
        );
        assert_eq!(
            channel_p1.next_delivery().await.header("webhook-id"),
            Some(voided.as_str())
        );
        // Every delivery due has been started by the time the worker answers a look: those
        // four, and no other (paid_only's of invoice.void, channel_p1's of a message without
        // its channel, any to the disabled endpoint).
        assert_eq!(app.look().await, 4, "a delivery no filter lets through");
        assert!(paid_only.has_seen_nothing(), "paid_only got invoice.void");
        assert!(
            channel_p1.has_seen_nothing(),
            "channel_p1 got a message without its channel"
        );
        assert!(
            disabled.has_seen_nothing(),
            "a disabled endpoint got a delivery"
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_dead_endpoint_does_not_hold_up_a_healthy_one() {
    each_backend(async |backend| {
        let app = TestApp::spawn_on(
            &backend,
            hookd_server::config::RawConfig {
                max_in_flight_per_endpoint: 2,
                delivery_timeout: "30s".into(),
                ..crate::harness::test_config()
            },
        )
        .await;
        let mut slow = Receiver::start().await;
        let mut fast = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_event_types(&["slow", "fast"]).await;
        app.create_endpoint(&app_id, json!({ "url": slow.url, "eventTypes": ["slow"] }))
            .await;
        app.create_endpoint(&app_id, json!({ "url": fast.url, "eventTypes": ["fast"] }))
            .await;
        slow.next().await;
        fast.next().await;
        slow.script(std::iter::repeat_n(crate::receiver::Reply::Hang, 50));
        for n in 0..20 {
            app.send_message(&app_id, json!({ "eventType": "slow", "payload": {"n": n} }))
                .await;
        }
        for n in 0..20 {
            app.send_message(&app_id, json!({ "eventType": "fast", "payload": {"n": n} }))
                .await;
        }
        for _ in 0..20 {
            fast.next_delivery().await;
        }
        // The hanging endpoint has only its own two slots busy.
        slow.next_delivery().await;
        slow.next_delivery().await;
        assert!(
            slow.stays_quiet(Duration::from_millis(200)).await,
            "more than 2 requests in flight to one endpoint"
        );
        app.shutdown_now().await;
    })
    .await;
}

#[tokio::test]
async fn a_full_lane_refills_as_soon_as_its_results_are_recorded() {
    each_backend(async |backend| {
        let app = TestApp::spawn_on(
            &backend,
            hookd_server::config::RawConfig {
                max_in_flight_per_endpoint: 1,
                delivery_timeout: "1s".into(),
                ..crate::harness::test_config()
            },
        )
        .await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await;
        // The first two requests hang until the timeout, so the lane (two here) stays full
        // while the other 38 messages queue up behind it; after that, nothing new arrives to
        // wake the dispatcher: each refill must come from the results being recorded.
        receiver.script([crate::receiver::Reply::Hang, crate::receiver::Reply::Hang]);
        for n in 0..40 {
            app.send_message(
                &app_id,
                json!({ "eventType": "burst", "payload": {"n": n} }),
            )
            .await;
        }
        // 19 refills or more: had each waited for the dispatcher's 5 s safety poll, this
        // would take over a minute.
        let all = async {
            for _ in 0..40 {
                receiver.next_delivery().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(15), all)
            .await
            .expect("the lane refills without waiting for the idle poll");
        app.shutdown_now().await;
    })
    .await;
}
