//! Lists as the spec defines them: `limit` (50 by default, at most 250), `iterator` and
//! `prevIterator` both ways, `order`, the filters, and walks that stay stable while items are
//! added.

use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::receiver::Receiver;

/// One page: the ids (or names), `iterator`, `prevIterator`, `done`.
struct Listed {
    ids: Vec<String>,
    iterator: Option<String>,
    prev: Option<String>,
    done: bool,
}

async fn page(app: &TestApp, path: &str) -> Listed {
    let listed = app.call("GET", path, None).await;
    assert_eq!(listed.status, 200, "{path}: {}", listed.body);
    let key = if path.starts_with("/event-type") {
        "name"
    } else {
        "id"
    };
    let ids = listed.body["data"].as_array().unwrap().iter();
    Listed {
        ids: ids
            .map(|item| item[key].as_str().unwrap().to_owned())
            .collect(),
        iterator: listed.body["iterator"].as_str().map(str::to_owned),
        prev: listed.body["prevIterator"].as_str().map(str::to_owned),
        done: listed.body["done"].as_bool().unwrap(),
    }
}

fn with(path: &str, query: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{query}")
}

/// Walks `path` forward two at a time to the end, then back from the last page to the first:
/// both walks see every item once, in the same order.
async fn walk_both_ways(app: &TestApp, path: &str) -> Vec<String> {
    let mut pages = vec![page(app, &with(path, "limit=2")).await];
    while !pages.last().unwrap().done {
        let it = pages.last().unwrap().iterator.clone().unwrap();
        pages.push(page(app, &with(path, &format!("limit=2&iterator={it}"))).await);
    }
    let forward: Vec<String> = pages.iter().flat_map(|p| p.ids.clone()).collect();
    let mut back = pages.last().unwrap().ids.clone();
    let mut prev = pages.last().unwrap().prev.clone().unwrap();
    assert!(prev.starts_with('-'), "{prev}");
    for _ in 1..pages.len() {
        let before = page(app, &with(path, &format!("limit=2&iterator={prev}"))).await;
        assert!(!before.done, "walking back, the pages after still follow");
        back.splice(0..0, before.ids);
        prev = before.prev.unwrap();
    }
    assert_eq!(back, forward, "{path}");
    forward
}

#[tokio::test]
async fn every_list_walks_both_ways_with_iterator_and_prev_iterator() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let apps: Vec<String> = [
        app.create_app("a").await,
        app.create_app("b").await,
        app.create_app("c").await,
    ]
    .into();
    let shop = &apps[0];
    app.create_event_types(&["e.1", "e.2", "e.3", "e.4", "e.5"])
        .await;
    let mut endpoints = Vec::new();
    for _ in 0..3 {
        endpoints.push(
            app.create_endpoint(shop, json!({ "url": receiver.url }))
                .await
                .0,
        );
        receiver.next().await;
    }
    let mut messages = Vec::new();
    for n in 0..5 {
        messages.push(
            app.send_message(shop, json!({ "eventType": "e.1", "payload": {"n": n} }))
                .await,
        );
    }
    let ep = &endpoints[0];
    let attempts = format!("/app/{shop}/attempt/endpoint/{ep}");
    app.wait_for_list(&attempts, |items| items.len() == 5).await;

    assert_eq!(walk_both_ways(&app, "/app").await, apps, "oldest first");
    let newest_first: Vec<String> = endpoints.iter().rev().cloned().collect();
    assert_eq!(
        walk_both_ways(&app, &format!("/app/{shop}/endpoint")).await,
        newest_first
    );
    let newest_first: Vec<String> = messages.iter().rev().cloned().collect();
    assert_eq!(
        walk_both_ways(&app, &format!("/app/{shop}/msg")).await,
        newest_first
    );
    assert_eq!(
        walk_both_ways(&app, "/event-type").await,
        ["e.1", "e.2", "e.3", "e.4", "e.5"]
    );
    let descending = walk_both_ways(&app, "/event-type?order=descending").await;
    assert_eq!(descending, ["e.5", "e.4", "e.3", "e.2", "e.1"]);
    assert_eq!(walk_both_ways(&app, &attempts).await.len(), 5);
    let by_message = format!("/app/{shop}/attempt/msg/{}", messages[0]);
    app.wait_for_list(&by_message, |items| items.len() == 3)
        .await;
    assert_eq!(walk_both_ways(&app, &by_message).await.len(), 3);
    app.shutdown().await;
}

#[tokio::test]
async fn limit_is_50_by_default_and_at_most_250() {
    let app = TestApp::spawn().await;
    let names: Vec<String> = (0..55).map(|n| format!("t.{n:02}")).collect();
    app.create_event_types(&names.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let default = page(&app, "/event-type").await;
    assert_eq!((default.ids.len(), default.done), (50, false));
    let all = page(&app, "/event-type?limit=250").await;
    assert_eq!((all.ids.len(), all.done), (55, true));
    for bad in ["251", "0", "-1", "x"] {
        let refused = app
            .call("GET", &format!("/event-type?limit={bad}"), None)
            .await;
        assert_eq!(refused.status, 422, "limit={bad}");
        assert_eq!(refused.body["detail"][0]["loc"], json!(["query", "limit"]));
    }
    let bad_order = app.call("GET", "/app?order=sideways", None).await;
    assert_eq!(
        bad_order.body["detail"][0]["loc"],
        json!(["query", "order"])
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_walk_sees_each_item_once_while_new_ones_arrive() {
    let app = TestApp::spawn().await;
    let shop = app.create_app("shop").await;
    let send = async |n: u32| {
        app.send_message(&shop, json!({ "eventType": "a", "payload": {"n": n} }))
            .await
    };
    let mut before = Vec::new();
    for n in 0..6 {
        before.push(send(n).await);
    }
    let path = format!("/app/{shop}/msg?limit=2");
    let mut seen = Vec::new();
    let mut listed = page(&app, &path).await;
    let mut added = Vec::new();
    loop {
        seen.extend(listed.ids.clone());
        added.push(send(100).await);
        if listed.done {
            break;
        }
        listed = page(
            &app,
            &format!("{path}&iterator={}", listed.iterator.unwrap()),
        )
        .await;
    }
    before.reverse();
    assert_eq!(
        seen, before,
        "newest first: new messages land before the walk's start"
    );

    let mut apps = vec![shop.clone(), app.create_app("b").await];
    let mut walked = Vec::new();
    let mut listed = page(&app, "/app?limit=1&order=ascending").await;
    for step in 0.. {
        walked.extend(listed.ids.clone());
        if step < 3 {
            apps.push(app.create_app("late").await);
        }
        if listed.done {
            break;
        }
        let next = format!(
            "/app?limit=1&order=ascending&iterator={}",
            listed.iterator.unwrap()
        );
        listed = page(&app, &next).await;
    }
    assert_eq!(
        walked, apps,
        "oldest first: new applications land after the walk's end"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn messages_are_filtered_by_event_types_channel_and_time_with_or_without_content() {
    let app = TestApp::spawn().await;
    let shop = app.create_app("shop").await;
    let paid = app
        .send_message(
            &shop,
            json!({ "eventType": "paid", "payload": {"a": 1}, "channels": ["eu"] }),
        )
        .await;
    let void = app
        .send_message(&shop, json!({ "eventType": "void", "payload": {"a": 2} }))
        .await;
    let other = app
        .send_message(
            &shop,
            json!({ "eventType": "other", "payload": {}, "channels": ["us"] }),
        )
        .await;
    let list = async |query: &str| page(&app, &format!("/app/{shop}/msg?{query}")).await.ids;
    assert_eq!(
        list("event_types=paid&event_types=void").await,
        [void.clone(), paid.clone()]
    );
    assert_eq!(
        list("event_types=paid,other").await,
        [other.clone(), paid.clone()]
    );
    assert_eq!(list("channel=eu").await, std::slice::from_ref(&paid));
    let all = app.call("GET", &format!("/app/{shop}/msg"), None).await;
    let stamped: Vec<(String, String)> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["timestamp"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let at = stamped[1].1.clone(); // void's: messages may share a millisecond
    let expect = |keep: fn(&str, &str) -> bool| -> Vec<String> {
        stamped
            .iter()
            .filter(|(_, t)| keep(t, &at))
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(list(&format!("before={at}")).await, expect(|t, at| t < at));
    assert_eq!(list(&format!("after={at}")).await, expect(|t, at| t > at));
    let bare = app
        .call("GET", &format!("/app/{shop}/msg?with_content=false"), None)
        .await;
    assert!(
        bare.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["payload"] == json!({}))
    );
    let bad = app
        .call("GET", &format!("/app/{shop}/msg?before=yesterday"), None)
        .await;
    assert_eq!(bad.body["detail"][0]["loc"], json!(["query", "before"]));
    app.shutdown().await;
}

#[tokio::test]
async fn attempts_are_filtered_by_status_class_event_type_channel_and_endpoint() {
    let app = TestApp::spawn().await;
    let mut ok = Receiver::start().await;
    let mut failing = Receiver::start().await;
    let shop = app.create_app("shop").await;
    let (ok_ep, _) = app.create_endpoint(&shop, json!({ "url": ok.url })).await;
    let body = json!({ "url": failing.url, "uid": "failing" });
    let (bad_ep, _) = app.create_endpoint(&shop, body).await;
    ok.next().await;
    failing.next().await;
    failing.script(std::iter::repeat_n(crate::receiver::Reply::Status(500), 10));
    let msg = app
        .send_message(
            &shop,
            json!({ "eventType": "paid", "payload": {}, "channels": ["eu"] }),
        )
        .await;
    let path = format!("/app/{shop}/attempt/msg/{msg}");
    app.wait_for_list(&format!("{path}?status=2"), |items| !items.is_empty())
        .await;
    app.wait_for_list(&format!("{path}?status=0"), |items| items.len() == 1)
        .await;

    let endpoints = async |query: &str| -> Vec<Value> {
        let listed = app.call("GET", &format!("{path}?{query}"), None).await;
        let items = listed.body["data"].as_array().unwrap().clone();
        items.iter().map(|a| a["endpointId"].clone()).collect()
    };
    assert_eq!(endpoints("status=0").await, [json!(ok_ep)]);
    assert!(
        endpoints("status_code_class=500")
            .await
            .iter()
            .all(|e| *e == json!(bad_ep))
    );
    assert_eq!(endpoints("status_code_class=200").await, [json!(ok_ep)]);
    assert!(
        endpoints("endpoint_id=failing")
            .await
            .iter()
            .all(|e| *e == json!(bad_ep))
    );
    assert_eq!(
        endpoints(&format!("endpoint_id={ok_ep}")).await,
        [json!(ok_ep)]
    );
    assert_eq!(endpoints("event_types=void").await, Vec::<Value>::new());
    assert_eq!(endpoints("channel=us").await, Vec::<Value>::new());
    assert!(!endpoints("event_types=paid&channel=eu").await.is_empty());
    let bare = app
        .call("GET", &format!("{path}?with_content=false"), None)
        .await;
    assert!(
        bare.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["response"] == "")
    );
    let bad = app
        .call("GET", &format!("{path}?status_code_class=250"), None)
        .await;
    assert_eq!(
        bad.body["detail"][0]["loc"],
        json!(["query", "status_code_class"])
    );
    app.shutdown().await;
}
