//! Event types as the Svix API defines them, the rule that endpoints filter only on declared
//! ones, and `send-example`.

use serde_json::{Value, json};

use crate::harness::{TestApp, each_backend};
use crate::receiver::Receiver;

fn invoice_paid() -> Value {
    json!({
        "name": "invoice.paid",
        "description": "An invoice was paid",
        "featureFlag": "billing",
        "schemas": {"1": {"type": "object", "examples": [{"invoice": "in_1", "amount": 4200}]}}
    })
}

#[tokio::test]
async fn event_types_are_created_read_replaced_patched_archived_and_expunged() {
    let app = TestApp::spawn().await;
    let created = app.call("POST", "/event-type", Some(invoice_paid())).await;
    assert_eq!(created.status, 201, "{}", created.body);
    for key in [
        "name",
        "description",
        "archived",
        "deprecated",
        "featureFlag",
        "schemas",
    ] {
        assert!(
            created.body.get(key).is_some(),
            "{key} missing: {}",
            created.body
        );
    }
    assert!(created.body["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created.body["archived"], false);
    let again = app.call("POST", "/event-type", Some(invoice_paid())).await;
    assert_eq!(
        (again.status, &again.body["code"]),
        (409, &json!("conflict"))
    );

    let got = app.call("GET", "/event-type/invoice.paid", None).await;
    assert_eq!(got.body, created.body);

    let put = json!({ "description": "Replaced", "deprecated": true });
    let replaced = app.call("PUT", "/event-type/invoice.paid", Some(put)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["deprecated"], true);
    assert_eq!(
        replaced.body["schemas"],
        Value::Null,
        "PUT replaces every field"
    );
    assert_eq!(replaced.body["createdAt"], created.body["createdAt"]);
    let put_new = json!({ "description": "Voided" });
    let made = app
        .call("PUT", "/event-type/invoice.void", Some(put_new))
        .await;
    assert_eq!(
        (made.status, &made.body["name"]),
        (201, &json!("invoice.void"))
    );

    let patch = json!({ "description": "Patched", "featureFlag": null });
    let patched = app
        .call("PATCH", "/event-type/invoice.void", Some(patch))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["description"], "Patched");
    let flagged = json!({ "featureFlag": "beta" });
    let patched = app
        .call("PATCH", "/event-type/invoice.void", Some(flagged))
        .await;
    assert_eq!(patched.body["description"], "Patched", "absent fields stay");
    assert_eq!(patched.body["featureFlag"], "beta");
    let cleared = app
        .call(
            "PATCH",
            "/event-type/invoice.void",
            Some(json!({"featureFlag": null})),
        )
        .await;
    assert_eq!(cleared.body["featureFlag"], Value::Null, "null clears");

    assert_eq!(
        app.call("DELETE", "/event-type/invoice.void", None)
            .await
            .status,
        204
    );
    let archived = app.call("GET", "/event-type/invoice.void", None).await;
    assert_eq!(archived.body["archived"], true, "delete archives");
    let listed = app.call("GET", "/event-type", None).await;
    let names: Vec<&Value> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert_eq!(
        names,
        [&json!("invoice.paid")],
        "archived types are left out"
    );
    let unarchived = app
        .call(
            "POST",
            "/event-type",
            Some(json!({"name": "invoice.void", "description": "Back"})),
        )
        .await;
    assert_eq!(
        (unarchived.status, &unarchived.body["archived"]),
        (201, &json!(false))
    );

    let expunge = app
        .call("DELETE", "/event-type/invoice.void?expunge=true", None)
        .await;
    assert_eq!(expunge.status, 204);
    assert_eq!(
        app.call("GET", "/event-type/invoice.void", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.call("DELETE", "/event-type/invoice.void", None)
            .await
            .status,
        404
    );
    app.shutdown().await;
}

#[tokio::test]
async fn lists_carry_schemas_only_with_content_and_archived_types_only_when_asked() {
    let app = TestApp::spawn().await;
    app.call("POST", "/event-type", Some(invoice_paid())).await;
    app.create_event_types(&["a.old"]).await;
    app.call("DELETE", "/event-type/a.old", None).await;

    let plain = app.call("GET", "/event-type", None).await;
    assert_eq!(plain.body["data"][0]["schemas"], Value::Null);
    assert_eq!(plain.body["data"].as_array().unwrap().len(), 1);
    let full = app
        .call(
            "GET",
            "/event-type?with_content=true&include_archived=true",
            None,
        )
        .await;
    let data = full.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{}", full.body);
    assert_eq!(data[0]["name"], "a.old", "by name, ascending");
    assert_eq!(data[1]["schemas"], invoice_paid()["schemas"]);
    let descending = app
        .call(
            "GET",
            "/event-type?include_archived=true&order=descending",
            None,
        )
        .await;
    assert_eq!(descending.body["data"][0]["name"], "invoice.paid");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_event_type_names_flags_and_schemas_are_422_where_they_are() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"name": "a b", "description": ""}),
            vec!["body", "name"],
        ),
        (
            json!({"name": "a", "description": "", "featureFlag": "x y"}),
            vec!["body", "featureFlag"],
        ),
        (
            json!({"name": "a", "description": "", "schemas": {"1": 5}}),
            vec!["body", "schemas", "1"],
        ),
        (json!({"name": "a"}), vec!["body", "description"]),
    ];
    for (body, loc) in cases {
        let refused = app.call("POST", "/event-type", Some(body.clone())).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
        assert_eq!(refused.body["detail"][0]["loc"], json!(loc), "{body}");
    }
    let bad_path = app
        .call("PUT", "/event-type/a%20b", Some(json!({"description": ""})))
        .await;
    assert_eq!(
        bad_path.body["detail"][0]["loc"],
        json!(["path", "event_type_name"])
    );
    assert_eq!(
        app.call("GET", "/event-type", None).await.body["data"],
        json!([])
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_endpoint_may_filter_only_on_declared_event_types_that_are_not_archived() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    let path = format!("/app/{app_id}/endpoint");
    let body = json!({ "url": receiver.url, "eventTypes": ["invoice.paid", "nope"] });
    let refused = app.call("POST", &path, Some(body)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(
        refused.body["detail"][0]["loc"],
        json!(["body", "eventTypes"])
    );
    assert!(
        refused.body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("invoice.paid, nope")
    );

    app.create_event_types(&["invoice.paid", "invoice.void"])
        .await;
    let body = json!({ "url": receiver.url, "eventTypes": ["invoice.paid"] });
    let (ep, _) = app.create_endpoint(&app_id, body).await;
    app.call("DELETE", "/event-type/invoice.paid", None).await;
    let ep_path = format!("{path}/{ep}");
    let kept = json!({ "url": receiver.url, "eventTypes": ["invoice.paid"], "description": "d" });
    let put = app.call("PUT", &ep_path, Some(kept)).await;
    assert_eq!(
        put.status, 200,
        "an archived type the endpoint had stays: {}",
        put.body
    );
    let patch = json!({ "eventTypes": ["invoice.paid", "invoice.void"] });
    assert_eq!(app.call("PATCH", &ep_path, Some(patch)).await.status, 200);
    let patch = json!({ "eventTypes": ["invoice.gone"] });
    let refused = app.call("PATCH", &ep_path, Some(patch)).await;
    assert_eq!(
        refused.body["detail"][0]["loc"],
        json!(["body", "eventTypes"])
    );
    let body = json!({ "url": receiver.url, "eventTypes": ["invoice.paid"] });
    let archived = app.call("POST", &path, Some(body)).await;
    assert_eq!(
        archived.status, 422,
        "a new endpoint may not take an archived type"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn send_example_delivers_the_schema_example_to_that_endpoint_alone() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut target = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.call("POST", "/event-type", Some(invoice_paid())).await;
        app.create_event_types(&["other"]).await;
        let body = json!({ "url": target.url, "eventTypes": ["other"] });
        let (ep, _) = app.create_endpoint(&app_id, body).await;
        let (bystander, _) = app
            .create_endpoint(&app_id, json!({ "url": target.url }))
            .await;
        target.next().await;
        target.next().await; // the two challenges

        let path = format!("/app/{app_id}/endpoint/{ep}/send-example");
        let sent = app
            .call("POST", &path, Some(json!({ "eventType": "invoice.paid" })))
            .await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        assert_eq!(sent.body["eventType"], "invoice.paid");
        assert_eq!(
            sent.body["payload"],
            json!({"invoice": "in_1", "amount": 4200})
        );
        let msg = sent.body["id"].as_str().unwrap();

        let delivery = target.next_delivery().await;
        assert_eq!(delivery.header("webhook-id"), Some(msg));
        let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(payload, json!({"invoice": "in_1", "amount": 4200}));
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |a| {
                !a.is_empty()
            })
            .await;
        let endpoints: Vec<&Value> = attempts.iter().map(|a| &a["endpointId"]).collect();
        assert_eq!(endpoints, [&json!(ep)]);
        let queued = app
            .call("GET", &format!("/app/{app_id}/msg/{msg}/endpoint"), None)
            .await;
        let queued: Vec<&Value> = queued.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["id"])
            .collect();
        assert_eq!(
            queued,
            [&json!(ep)],
            "not {bystander}, though it takes every type"
        );

        let unknown = app
            .call("POST", &path, Some(json!({ "eventType": "nope" })))
            .await;
        assert_eq!(unknown.status, 404, "{}", unknown.body);
        app.shutdown().await;
    })
    .await;
}
