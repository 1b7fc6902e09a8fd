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
