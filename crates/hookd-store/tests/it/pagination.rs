//! Pagination: both orders, the iterator and prev_iterator cursors, `done` and `limit`.

use hookd_store::{MessageFilter, Ordering, Page, PageQuery, Store};

use crate::each_store;
use crate::fixtures::{endpoint, message, new_app, new_endpoint, send};

/// Five applications; their ids in creation order.
async fn five_apps(store: &dyn Store) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(new_app(store).await.id.as_str().to_owned());
    }
    ids
}

async fn apps_page(store: &dyn Store, query: PageQuery) -> Page<String> {
    let page = store.list_applications(&query).await.unwrap();
    Page {
        items: page
            .items
            .into_iter()
            .map(|a| a.id.as_str().to_owned())
            .collect(),
        iterator: page.iterator,
        prev_iterator: page.prev_iterator,
        done: page.done,
    }
}

fn query(limit: u32, order: Ordering) -> PageQuery {
    PageQuery {
        limit,
        iterator: None,
        prev_iterator: None,
        order,
    }
}

fn after(limit: u32, order: Ordering, iterator: &str) -> PageQuery {
    PageQuery {
        iterator: Some(iterator.to_owned()),
        ..query(limit, order)
    }
}

fn before(limit: u32, order: Ordering, prev_iterator: &str) -> PageQuery {
    PageQuery {
        prev_iterator: Some(prev_iterator.to_owned()),
        ..query(limit, order)
    }
}

fn page(items: &[&String], done: bool) -> Page<String> {
    Page {
        items: items.iter().map(|s| s.to_string()).collect(),
        iterator: items.last().map(|s| s.to_string()),
        prev_iterator: items.first().map(|s| s.to_string()),
        done,
    }
}

#[tokio::test]
async fn pages_go_newest_first_by_default_until_done() {
    each_store(async |store| {
        let [a, b, c, d, e] = <[String; 5]>::try_from(five_apps(store).await).unwrap();
        let desc = Ordering::Descending;

        let first = apps_page(
            store,
            PageQuery {
                limit: 2,
                ..PageQuery::default()
            },
        )
        .await;
        assert_eq!(first, page(&[&e, &d], false));
        let second = apps_page(store, after(2, desc, &d)).await;
        assert_eq!(second, page(&[&c, &b], false));
        let last = apps_page(store, after(2, desc, &b)).await;
        assert_eq!(last, page(&[&a], true));
    })
    .await;
}

#[tokio::test]
async fn pages_go_oldest_first_in_ascending_order() {
    each_store(async |store| {
        let [a, b, c, d, e] = <[String; 5]>::try_from(five_apps(store).await).unwrap();
        let asc = Ordering::Ascending;

        assert_eq!(
            apps_page(store, query(2, asc)).await,
            page(&[&a, &b], false)
        );
        assert_eq!(
            apps_page(store, after(2, asc, &b)).await,
            page(&[&c, &d], false)
        );
        assert_eq!(apps_page(store, after(2, asc, &d)).await, page(&[&e], true));
    })
    .await;
}

#[tokio::test]
async fn a_page_that_ends_exactly_at_the_last_item_is_done() {
    each_store(async |store| {
        let ids = five_apps(store).await;

        let all = apps_page(store, query(5, Ordering::Descending)).await;
        assert_eq!((all.items.len(), all.done), (5, true));
        let tail = apps_page(store, after(2, Ordering::Ascending, &ids[2])).await;
        assert_eq!(tail, page(&[&ids[3], &ids[4]], true));
    })
    .await;
}

#[tokio::test]
async fn prev_iterator_returns_the_items_just_before_it_in_the_requested_order() {
    each_store(async |store| {
        let [a, b, c, d, e] = <[String; 5]>::try_from(five_apps(store).await).unwrap();
        let (asc, desc) = (Ordering::Ascending, Ordering::Descending);

        assert_eq!(
            apps_page(store, before(2, desc, &c)).await,
            page(&[&e, &d], false)
        );
        assert_eq!(
            apps_page(store, before(2, desc, &d)).await,
            page(&[&e], false)
        );
        assert_eq!(
            apps_page(store, before(2, asc, &c)).await,
            page(&[&a, &b], false)
        );
        assert_eq!(
            apps_page(store, before(2, asc, &e)).await,
            page(&[&c, &d], false)
        );
    })
    .await;
}

#[tokio::test]
async fn an_empty_page_has_no_iterators_and_is_done() {
    each_store(async |store| {
        let empty = Page {
            items: Vec::new(),
            iterator: None,
            prev_iterator: None,
            done: true,
        };
        assert_eq!(apps_page(store, PageQuery::default()).await, empty);

        let ids = five_apps(store).await;
        assert_eq!(
            apps_page(store, after(2, Ordering::Descending, &ids[0])).await,
            empty
        );
    })
    .await;
}

#[tokio::test]
async fn endpoint_and_message_lists_page_by_the_same_rules() {
    each_store(async |store| {
        let app = new_app(store).await;
        let mut endpoints = Vec::new();
        for _ in 0..3 {
            endpoints.push(new_endpoint(store, endpoint(&app.id)).await.id);
        }
        let messages: Vec<_> = (0..3).map(|_| message(&app.id, "a")).collect();
        send(store, &messages).await;

        let asc = PageQuery {
            limit: 2,
            order: Ordering::Ascending,
            ..PageQuery::default()
        };
        let eps = store.list_endpoints(&app.id, &asc).await.unwrap();
        let ids: Vec<_> = eps.items.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, endpoints[..2]);
        assert!(!eps.done);

        let desc = PageQuery {
            limit: 2,
            ..PageQuery::default()
        };
        let msgs = store
            .list_messages(&app.id, &desc, &MessageFilter::default())
            .await
            .unwrap();
        let ids: Vec<_> = msgs.items.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids, [messages[2].id.clone(), messages[1].id.clone()]);
        let rest = PageQuery {
            iterator: msgs.iterator,
            ..desc
        };
        let msgs = store
            .list_messages(&app.id, &rest, &MessageFilter::default())
            .await
            .unwrap();
        assert_eq!(msgs.items, [messages[0].clone()]);
        assert!(msgs.done);
    })
    .await;
}
