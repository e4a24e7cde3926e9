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
    a_new_care_team_member_receives_the_patients_whole_history_and_a_leaver_stops,
);

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
                    "mutations": [me.create_item(n, &item, &jeanne, &me.account_id)],
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

/// Pulls from `cursor` until `has_more` is false, `limit` at a time.
async fn pull_to_end(app: &TestApp, who: &Client, into: &mut Pulled, limit: u32) {
    loop {
        let page = pull_page(app, who, &into.cursor.clone(), limit).await;
        take_page(into, &page);
        if !page["has_more"].as_bool().unwrap() {
            return;
        }
    }
}

async fn checksum_of(app: &TestApp, who: &Client) -> Value {
    let reply = app
        .get_sync("/api/sync/checksum?protocol=3", &who.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// What a device holding exactly these records and items computes.
fn local_checksum(app_items: &[(String, u64)], records: &HashSet<String>) -> String {
    parcours_domain::sync::checksum(
        records
            .iter()
            .map(|r| (r.parse().unwrap(), 0))
            .chain(app_items.iter().map(|(i, v)| (i.parse().unwrap(), *v))),
    )
    .to_string()
}

/// Léa (physiotherapist) follows Jeanne Lefèvre and has synced. She joins
/// Henri Moreau's care team: her next pull, from her cursor, brings Moreau's
/// whole history (records and plan), each once; her checksum then matches.
/// She leaves: nothing of Moreau comes any more, and the checksum no longer
/// counts him. She comes back: the whole history again.
async fn a_new_care_team_member_receives_the_patients_whole_history_and_a_leaver_stops(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let claire = app.session_for("claire").await;
    let lea = app.session_for("lea").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let push = |records: Vec<Value>, mutations: Vec<Value>| json!({ "protocol": 3, "records": records, "mutations": mutations });
    let moreau_records = [claire.assessment(&henri, 6), claire.assessment(&henri, 4)];
    let moreau_item = uuid::Uuid::now_v7().to_string();
    let body = push(
        vec![
            moreau_records[0].clone(),
            claire.assessment(&jeanne, 2),
            moreau_records[1].clone(),
        ],
        vec![claire.create_item(1, &moreau_item, &henri, &claire.account_id)],
    );
    assert_eq!(
        app.post("/api/sync/push", &claire.cookie, &body)
            .await
            .status,
        StatusCode::OK
    );

    let mut device = Pulled {
        records: HashSet::new(),
        items: HashSet::new(),
        cursor: String::new(),
    };
    pull_to_end(&app, &lea, &mut device, 2).await;
    assert_eq!(device.records.len(), 1, "Léa sees Lefèvre's record only");
    assert!(device.items.is_empty());
    let before = checksum_of(&app, &lea).await;
    assert_eq!(before["records"], 1);
    assert_eq!(before["checksum"], local_checksum(&[], &device.records));

    let mut conn = app.db.pool.acquire().await.unwrap();
    let operator = parcours_server::audit::Actor::operator("test");
    let (henri_id, lea_id) = (henri.parse().unwrap(), lea.account_id.parse().unwrap());
    parcours_server::care_team::add_member(&mut conn, &operator, henri_id, lea_id)
        .await
        .unwrap();
    // Written after she joined: comes at its own place, once.
    let later = claire.assessment(&henri, 8);
    let body = push(vec![later.clone()], vec![]);
    assert_eq!(
        app.post("/api/sync/push", &claire.cookie, &body)
            .await
            .status,
        StatusCode::OK
    );

    pull_to_end(&app, &lea, &mut device, 2).await;
    for r in moreau_records.iter().chain([&later]) {
        assert!(
            device.records.contains(r["id"].as_str().unwrap()),
            "a record of Moreau's history is missing"
        );
    }
    assert_eq!(device.records.len(), 4);
    assert!(device.items.contains(&moreau_item), "the plan came too");
    let after = checksum_of(&app, &lea).await;
    assert_eq!(
        (after["records"].clone(), after["items"].clone()),
        (json!(4), json!(1))
    );
    assert_eq!(
        after["checksum"],
        local_checksum(&[(moreau_item.clone(), 1)], &device.records),
        "the device's copy matches the server's"
    );
    // Adding a current member again changes nothing: no second backfill.
    parcours_server::care_team::add_member(&mut conn, &operator, henri_id, lea_id)
        .await
        .unwrap();
    let page = pull_page(&app, &lea, &device.cursor.clone(), 10).await;
    assert_eq!(page["records"].as_array().unwrap().len(), 0);

    // She leaves the team: nothing of Moreau reaches her any more.
    assert!(
        parcours_server::care_team::end_member(&mut conn, &operator, henri_id, lea_id)
            .await
            .unwrap()
    );
    let body = push(vec![claire.assessment(&henri, 3)], vec![]);
    assert_eq!(
        app.post("/api/sync/push", &claire.cookie, &body)
            .await
            .status,
        StatusCode::OK
    );
    let mut after_leaving = Pulled {
        records: HashSet::new(),
        items: HashSet::new(),
        cursor: device.cursor.clone(),
    };
    pull_to_end(&app, &lea, &mut after_leaving, 2).await;
    assert!(after_leaving.records.is_empty() && after_leaving.items.is_empty());
    let gone = checksum_of(&app, &lea).await;
    assert_eq!(
        (gone["records"].clone(), gone["items"].clone()),
        (json!(1), json!(0))
    );
    let reply = app
        .get(&format!("/api/patients/{henri}/assessments"), &lea.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Back in the team (her device dropped Moreau's data when she left):
    // Moreau's whole history again, the record written meanwhile included.
    parcours_server::care_team::add_member(&mut conn, &operator, henri_id, lea_id)
        .await
        .unwrap();
    let mut rejoined = Pulled {
        records: HashSet::new(),
        items: HashSet::new(),
        cursor: after_leaving.cursor.clone(),
    };
    pull_to_end(&app, &lea, &mut rejoined, 3).await;
    assert_eq!(rejoined.records.len(), 4);
    assert_eq!(rejoined.items.len(), 1);
}
