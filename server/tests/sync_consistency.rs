//! What a pull promises, under concurrency and as care teams change, on
//! SQLite and PostgreSQL: the cursor never skips anything committed behind
//! it, a new member receives the patient's whole history, a member who leaves
//! stops receiving it, and the checksum sees append records as well as items.

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

on_both_backends!(
    records_and_items_pushed_together_all_reach_a_concurrent_reader,
    a_cursor_the_server_never_issued_is_refused,
);

fn create_item(client: &Client, mutation_id: u64, item: &str, patient: &str) -> Value {
    json!({
        "device_id": client.device_id,
        "mutation_id": mutation_id,
        "item_id": item,
        "patient_id": patient,
        "author_id": client.account_id,
        "base_version": 0,
        "hlc": { "wall_ms": 1_790_000_000_000i64 + mutation_id as i64, "counter": 0, "device": client.device_id },
        "changes": [
            { "field": "title", "value": "Kinésithérapie" },
            { "field": "owner", "value": client.account_id },
            { "field": "status", "value": "proposed" },
        ],
    })
}

/// Everything one account receives from `cursor` until `has_more` is false.
struct Pulled {
    records: HashSet<String>,
    items: HashSet<String>,
    cursor: String,
}

async fn pull_page(app: &TestApp, who: &Client, cursor: &str, limit: u32) -> Value {
    let reply = app
        .get_sync(
            &format!("/api/sync/pull?cursor={cursor}&limit={limit}"),
            &who.cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

fn take_page(into: &mut Pulled, page: &Value) {
    for r in page["records"].as_array().expect("records") {
        assert!(
            into.records
                .insert(r["id"].as_str().expect("id").to_string()),
            "a record came twice"
        );
    }
    for i in page["items"].as_array().expect("items") {
        into.items
            .insert(i["item"]["id"].as_str().expect("item id").to_string());
    }
    into.cursor = page["next_cursor"].as_str().expect("cursor").to_string();
}

/// Several devices push records and a care-plan change in the same push while
/// another device pulls small pages: each page must be one consistent view,
/// or a page holding a push's item but not its records moves the cursor past
/// those records for good.
async fn records_and_items_pushed_together_all_reach_a_concurrent_reader(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let app = Arc::new(app);
    let jeanne = app.patient_id("Lefèvre").await;
    let reader = app.session_for("dr.durand").await;
    const WRITERS: usize = 3;
    const PUSHES: u64 = 60;
    const RECORDS_PER_PUSH: usize = 4;
    let mut writers = vec![];
    for _ in 0..WRITERS {
        let app = app.clone();
        let jeanne = jeanne.clone();
        writers.push(tokio::spawn(async move {
            let me = app.session_for("claire").await;
            let (mut records, mut items) = (vec![], vec![]);
            for n in 1..=PUSHES {
                let batch: Vec<Value> = (0..RECORDS_PER_PUSH)
                    .map(|i| me.assessment(&jeanne, i as u8))
                    .collect();
                let item = uuid::Uuid::now_v7().to_string();
                records.extend(batch.iter().map(|r| r["id"].as_str().unwrap().to_string()));
                let body = json!({
                    "protocol": 2,
                    "records": batch,
                    "mutations": [create_item(&me, n, &item, &jeanne)],
                });
                items.push(item);
                let reply = app.post_sync("/api/sync/push", &me.cookie, &body).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            }
            (records, items)
        }));
    }
    let mut pulled = Pulled {
        records: HashSet::new(),
        items: HashSet::new(),
        cursor: String::new(),
    };
    let all_written = futures::future::join_all(writers);
    tokio::pin!(all_written);
    let mut written = None;
    loop {
        let page = pull_page(&app, &reader, &pulled.cursor.clone(), 3).await;
        take_page(&mut pulled, &page);
        if written.is_some() && !page["has_more"].as_bool().unwrap() {
            break;
        }
        if written.is_none() {
            tokio::select! {
                results = &mut all_written => {
                    written = Some(results.into_iter().map(|r| r.expect("writer")).collect::<Vec<_>>());
                }
                _ = tokio::task::yield_now() => {}
            }
        }
    }
    let (mut records, mut items) = (HashSet::new(), HashSet::new());
    for (r, i) in written.unwrap() {
        records.extend(r);
        items.extend(i);
    }
    let missed = records.difference(&pulled.records).count();
    assert_eq!(
        missed, 0,
        "the reader's cursor went past {missed} committed records"
    );
    assert_eq!(pulled.items, items, "the reader missed committed items");
}

/// A cursor the server never gave (a typo, a device restored against another
/// server) is refused rather than parking the device past everything.
async fn a_cursor_the_server_never_issued_is_refused(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let body = json!({ "protocol": 2, "records": [nurse.assessment(&jeanne, 3)] });
    assert_eq!(
        app.post("/api/sync/push", &nurse.cookie, &body)
            .await
            .status,
        StatusCode::OK
    );
    let page = pull_page(&app, &nurse, "", 10).await;
    let issued = page["next_cursor"].as_str().unwrap().to_string();
    // The cursor it gave is good, again and again.
    pull_page(&app, &nurse, &issued, 10).await;
    for bad in ["99999999999", "-1", "abc", "1e3"] {
        let reply = app
            .get(&format!("/api/sync/pull?cursor={bad}"), &nurse.cookie)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "cursor {bad}");
        assert_eq!(reply.body["field"], "cursor");
    }
}
