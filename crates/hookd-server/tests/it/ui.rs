//! The web UI, end to end in real Chromium (`tests/ui/*.mjs` through `browser.rs`): the portal
//! embedded by a page of another site, the console, and the message log's first paint with
//! 10,000 messages. The API rules the UI leans on (read-only tokens, the console's tokens,
//! the pages' headers) are also checked here without a browser.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use crate::browser::{Browser, screenshots};
use crate::harness::{TestApp, test_config};
use crate::receiver::{ChallengeReply, Receiver, Reply};

/// A provider's dashboard on another origin: a page that frames the portal URL it is given.
struct HostPage {
    url: String,
    src: Arc<Mutex<String>>,
}

impl HostPage {
    async fn start() -> HostPage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let src = Arc::new(Mutex::new(String::new()));
        let app = Router::new()
            .route("/", axum::routing::get(host))
            .with_state(src.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        // `localhost` and `127.0.0.1` are two sites: the portal's frame is third-party.
        HostPage {
            url: format!("http://localhost:{port}/"),
            src,
        }
    }

    fn origin(&self) -> String {
        self.url.trim_end_matches('/').to_owned()
    }
}

async fn host(State(src): State<Arc<Mutex<String>>>) -> Html<String> {
    let src = src.lock().unwrap().replace('"', "&quot;");
    Html(format!(
        "<!doctype html><title>Provider dashboard</title><h1>Provider dashboard</h1>\
         <iframe title=\"Webhooks portal\" src=\"{src}\" allow=\"clipboard-read; clipboard-write\" \
         width=\"1200\" height=\"820\"></iframe>"
    ))
}

const EXAMPLE: &str = r#"{"invoice": "in_1", "amount": 4200}"#;

async fn declare_invoice_types(app: &TestApp) {
    let example: Value = serde_json::from_str(EXAMPLE).unwrap();
    let schema = json!({"1": {"type": "object", "required": ["invoice"], "examples": [example]}});
    let paid =
        json!({"name": "invoice.paid", "description": "An invoice was paid", "schemas": schema});
    assert_eq!(
        app.call("POST", "/event-type", Some(paid)).await.status,
        201
    );
    app.create_event_types(&["invoice.failed"]).await;
}

/// `(url, token)` of a portal for `app`.
async fn portal(app: &TestApp, id: &str, read_only: bool) -> (String, String) {
    let body = json!({ "readOnly": read_only });
    let access = app
        .call("POST", &format!("/auth/app-portal-access/{id}"), Some(body))
        .await;
    assert_eq!(access.status, 200, "{}", access.body);
    let text = |k: &str| access.body[k].as_str().unwrap().to_owned();
    (text("url"), text("token"))
}

fn root(app: &TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_owned()
}

#[tokio::test]
async fn the_portal_embedded_on_another_site_does_each_screen_s_work_by_click_and_keyboard() {
    let Some(browser) = Browser::from_env("the portal in Chromium") else {
        return;
    };
    let host = HostPage::start().await;
    let mut raw = test_config();
    raw.portal_frame_ancestors = vec![host.origin()];
    let app = TestApp::spawn_with(raw).await;
    declare_invoice_types(&app).await;
    let good = Receiver::start().await;
    let evil = Reply::WithBody(500, "<script>window.__pwned=3</script><b>no</b>");
    good.script(std::iter::repeat_n(evil, 4));
    let bad = Receiver::start_with(ChallengeReply::Body("nope")).await;
    let other = Receiver::start().await;

    let acme = app.create_app("Acme").await;
    let rival = app.create_app("Rival").await;
    let (other_endpoint, _) = app
        .create_endpoint(&rival, json!({ "url": format!("{}/rival", other.url) }))
        .await;
    let (portal_url, portal_token) = portal(&app, &acme, false).await;
    let (read_only_url, read_only_token) = portal(&app, &acme, true).await;
    *host.src.lock().unwrap() = portal_url;

    let fixture = json!({
        "base": root(&app),
        "host": host.url,
        "adminToken": app.token,
        "portalToken": portal_token,
        "readOnlyUrl": read_only_url,
        "readOnlyToken": read_only_token,
        "appId": acme,
        "otherAppId": rival,
        "otherEndpointId": other_endpoint,
        "otherUrl": format!("{}/rival", other.url),
        "goodUrl": good.url,
        "badUrl": bad.url,
        "example": serde_json::from_str::<Value>(EXAMPLE).unwrap(),
        "htmlPayload": {"note": "<img src=x onerror=\"window.__pwned=1\">", "html": "<script>window.__pwned=2</script>"},
        "screenshots": screenshots(),
    });
    browser.run("portal.mjs", &fixture).await;
}

#[tokio::test]
async fn the_console_signs_in_and_shows_the_overview_applications_event_types_and_tokens() {
    let Some(browser) = Browser::from_env("the console in Chromium") else {
        return;
    };
    let mut raw = test_config();
    // A failed attempt waits an hour for its retry, so the endpoint shows as failing; the held
    // endpoint's port answers nothing, so no challenge could pass there.
    raw.retry_schedule = vec!["0s".into(), "1h".into()];
    raw.endpoint_verification = hookd_server::EndpointVerification::Off;
    let app = TestApp::spawn_with(raw).await;
    let failing = Receiver::start().await;
    failing.script(std::iter::repeat_n(Reply::Status(500), 20));
    let created = app
        .call(
            "POST",
            "/app",
            Some(json!({"name": "Billing", "uid": "billing"})),
        )
        .await;
    let billing = created.body["id"].as_str().unwrap().to_owned();
    let held_url = "http://127.0.0.1:1/held";
    app.create_endpoint(&billing, json!({ "url": failing.url }))
        .await;
    app.create_endpoint(&billing, json!({ "url": held_url }))
        .await;
    for n in 0..6 {
        app.send_message(
            &billing,
            json!({"eventType": "invoice.paid", "payload": {"n": n}}),
        )
        .await;
    }
    let held = wait_until_held(&app).await;
    assert_eq!(held["url"], held_url);
    let (_, portal_token) = portal(&app, &billing, false).await;
    let fixture = json!({
        "base": root(&app),
        "adminToken": app.token,
        "portalToken": portal_token,
        "failingUrl": failing.url,
        "heldUrl": held_url,
        "screenshots": screenshots(),
    });
    browser.run("console.mjs", &fixture).await;
}

/// The overview's first held endpoint, once the worker's circuit opened.
async fn wait_until_held(app: &TestApp) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let overview = app.call("GET", "/stats/overview", None).await;
        assert_eq!(overview.status, 200, "{}", overview.body);
        if let Some(first) = overview.body["held"].get(0) {
            return first.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never held: {}",
            overview.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_portal_s_first_paint_is_under_300_ms_with_10_000_messages_in_the_log() {
    let Some(browser) = Browser::from_env("the first-paint measure") else {
        return;
    };
    let app = TestApp::spawn().await;
    let perf = app.create_app("Perf").await;
    insert_messages(&app, &perf, 10_000).await;
    let (url, _) = portal(&app, &perf, true).await;
    let url = url.replacen("#", "?next=/messages#", 1);
    let fixture = json!({ "base": root(&app), "portalUrl": url, "screenshots": screenshots() });
    let out = browser.run("perf.mjs", &fixture).await;
    for line in out.lines().filter(|l| l.starts_with("figure:")) {
        eprintln!("{line}");
    }
}

/// Stores `count` messages straight through the store, a thousand a transaction.
async fn insert_messages(app: &TestApp, app_id: &str, count: usize) {
    use hookd_core::{AppId, IdGenerator, Message, MessageId};
    let ids = IdGenerator::new();
    let now = hookd_server::clock::now();
    let app_id = AppId::parse(app_id).expect("an app id");
    let all: Vec<_> = (0..count)
        .map(|n| {
            hookd_store::NewMessage::new(Message {
                id: MessageId::from_raw(ids.next_raw(now.as_millis(), n as u128)),
                app_id: app_id.clone(),
                event_type: ["invoice.paid", "invoice.failed"][n % 2].to_owned(),
                event_id: None,
                channels: None,
                payload: Some(format!(r#"{{"n": {n}}}"#)),
                retention_days: 90,
                created_at: now,
            })
        })
        .collect();
    for batch in all.chunks(1000) {
        for result in app.store.insert_messages(batch).await.expect("insert") {
            result.expect("stored");
        }
    }
}

#[tokio::test]
async fn a_read_only_portal_token_reads_and_is_refused_every_write() {
    let app = TestApp::spawn().await;
    let acme = app.create_app("Acme").await;
    let (_, token) = portal(&app, &acme, true).await;
    let read = app
        .call_raw("GET", &format!("/app/{acme}/endpoint"), None, Some(&token))
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    let session = app
        .call_raw("GET", "/auth/session", None, Some(&token))
        .await;
    assert_eq!(session.body["readOnly"], true);
    assert_eq!(session.body["appId"], acme.as_str());
    let body = Some(r#"{"eventType": "a.b", "payload": {}}"#.to_owned());
    let write = app
        .call_raw("POST", &format!("/app/{acme}/msg"), body, Some(&token))
        .await;
    assert_eq!(write.status, 403, "{}", write.body);
    assert_eq!(write.body["code"], "forbidden");
    let delete = app
        .call_raw("DELETE", &format!("/app/{acme}"), None, Some(&token))
        .await;
    assert_eq!(delete.status, 403);
    let logout = app
        .call_raw("POST", "/auth/logout", None, Some(&token))
        .await;
    assert_eq!(logout.status, 204, "a read-only token may still end itself");
}

#[tokio::test]
async fn the_pages_carry_a_strict_policy_and_only_the_portal_may_be_framed_where_configured() {
    let mut raw = test_config();
    raw.portal_frame_ancestors = vec!["https://dash.example.com".into()];
    let app = TestApp::spawn_with(raw).await;
    let get = |path: &str| app.http.get(format!("{}{path}", root(&app))).send();
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", root(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.headers()["location"], "/console");
    for (path, ancestors) in [
        ("/portal", "frame-ancestors https://dash.example.com"),
        ("/console", "frame-ancestors 'none'"),
        (
            "/ui/js/portal.js",
            "frame-ancestors https://dash.example.com",
        ),
    ] {
        let page = get(path).await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.contains("script-src 'self'") && policy.contains(ancestors),
            "{policy}"
        );
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    }
    assert_eq!(get("/ui/portal.html").await.unwrap().status(), 404);
    assert_eq!(get("/ui/js/nothing.js").await.unwrap().status(), 404);
}

#[tokio::test]
async fn admin_tokens_are_made_listed_by_id_and_revoked_but_never_the_last() {
    let app = TestApp::spawn().await;
    let made = app
        .call("POST", "/token", Some(json!({"name": "CI"})))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let token = made.body["token"].as_str().unwrap().to_owned();
    let listed = app.call("GET", "/token", None).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    assert!(
        !listed.body.to_string().contains(&token),
        "a list never shows a token"
    );
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("tok_"), "{id}");
    let blank = app.call("POST", "/token", Some(json!({"name": " "}))).await;
    assert_eq!(blank.status, 422);
    assert_eq!(
        app.call("DELETE", &format!("/token/{id}"), None)
            .await
            .status,
        204
    );
    let gone = app.call_raw("GET", "/app", None, Some(&token)).await;
    assert_eq!(gone.status, 401);
    let mine = app.call("GET", "/token", None).await.body["data"][0]["id"].clone();
    let last = app
        .call(
            "DELETE",
            &format!("/token/{}", mine.as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(last.status, 409, "{}", last.body);
}
