//! Authentication: app-portal tokens reach their one application; logout ends a token;
//! the health checks need none.

use serde_json::{Value, json};

use crate::harness::TestApp;

async fn as_token(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> u16 {
    let body = body.map(|b| b.to_string());
    app.call_raw(method, path, body, Some(token)).await.status
}

#[tokio::test]
async fn an_app_portal_token_reaches_its_application_and_nothing_else() {
    let app = TestApp::spawn().await;
    let mine = app.create_app("mine").await;
    let other = app.create_app("other").await;
    let access = app
        .call(
            "POST",
            &format!("/auth/app-portal-access/{mine}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(access.status, 200, "{}", access.body);
    let token = access.body["token"].as_str().unwrap();
    let host = app.base.trim_end_matches("/api/v1");
    assert_eq!(access.body["url"], format!("{host}/portal#token={token}"));

    assert_eq!(
        as_token(&app, token, "GET", &format!("/app/{mine}"), None).await,
        200
    );
    assert_eq!(
        as_token(&app, token, "GET", &format!("/app/{mine}/msg"), None).await,
        200
    );
    let send = json!({ "eventType": "a", "payload": {} });
    let sent = as_token(&app, token, "POST", &format!("/app/{mine}/msg"), Some(send)).await;
    assert_eq!(sent, 202);
    assert_eq!(as_token(&app, token, "GET", "/event-type", None).await, 200);
    for (method, path, body) in [
        ("GET", format!("/app/{other}"), None),
        ("GET", format!("/app/{other}/endpoint"), None),
        ("GET", "/app".to_owned(), None),
        ("POST", "/app".to_owned(), Some(json!({ "name": "x" }))),
        (
            "POST",
            "/event-type".to_owned(),
            Some(json!({ "name": "x", "description": "" })),
        ),
        (
            "POST",
            format!("/auth/app-portal-access/{mine}"),
            Some(json!({})),
        ),
    ] {
        let status = as_token(&app, token, method, &path, body).await;
        assert_eq!(status, 403, "{method} {path}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn app_portal_access_creates_the_application_it_is_given_and_checks_the_expiry() {
    let app = TestApp::spawn().await;
    let missing = app
        .call("POST", "/auth/app-portal-access/new-app", Some(json!({})))
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let body = json!({ "application": { "name": "New" }, "expiry": 3600 });
    let created = app
        .call("POST", "/auth/app-portal-access/new-app", Some(body))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let token = created.body["token"].as_str().unwrap();
    let got = app.call_raw("GET", "/app/new-app", None, Some(token)).await;
    assert_eq!((got.status, &got.body["name"]), (200, &json!("New")));
    let short = app
        .call(
            "POST",
            "/auth/app-portal-access/new-app",
            Some(json!({ "expiry": 60 })),
        )
        .await;
    assert_eq!(short.status, 422);
    assert_eq!(short.body["detail"][0]["loc"], json!(["body", "expiry"]));
    app.shutdown().await;
}

#[tokio::test]
async fn logout_ends_the_token_that_calls_it_and_no_other() {
    let app = TestApp::spawn().await;
    let mine = app.create_app("mine").await;
    let access = app
        .call(
            "POST",
            &format!("/auth/app-portal-access/{mine}"),
            Some(json!({})),
        )
        .await;
    let token = access.body["token"].as_str().unwrap();
    let logout = app
        .call_raw("POST", "/auth/logout", None, Some(token))
        .await;
    assert_eq!((logout.status, &logout.body), (204, &Value::Null));
    let after = app
        .call_raw("GET", &format!("/app/{mine}"), None, Some(token))
        .await;
    assert_eq!(after.status, 401);
    assert_eq!(
        app.call("GET", &format!("/app/{mine}"), None).await.status,
        200
    );
    let admin_logout = app.call("POST", "/auth/logout", None).await;
    assert_eq!(admin_logout.status, 400, "{}", admin_logout.body);
    assert_eq!(
        app.call("GET", "/app", None).await.status,
        200,
        "the admin token still works"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_health_checks_answer_without_a_token() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/health/ping"] {
        assert_eq!(
            app.call_raw("GET", path, None, None).await.status,
            204,
            "{path}"
        );
    }
    app.shutdown().await;
}
