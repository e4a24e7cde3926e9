//! The mutation lane through the HTTP API, on SQLite and PostgreSQL: what is
//! applied, what is refused, and that refusals change nothing.

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_item_is_created_edited_and_pulled_with_its_history,
    replayed_pushes_apply_nothing_twice_and_gaps_are_refused,
    malformed_forged_and_impossible_mutations_are_refused_and_change_nothing,
    concurrent_writers_to_one_plan_never_make_a_reader_skip_a_change,
);

async fn push(app: &TestApp, client: &Client, mutations: Vec<Value>) -> common::Reply {
    app.post_sync(
        "/api/sync/push",
        &client.cookie,
        &json!({ "protocol": 2, "mutations": mutations }),
    )
    .await
}

async fn an_item_is_created_edited_and_pulled_with_its_history(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let item = uuid::Uuid::now_v7().to_string();

    let reply = push(
        &app,
        &nurse,
        vec![
            nurse.create_item(1, &item, &jeanne, &gp.account_id),
            nurse.mutation(
                2,
                &item,
                &jeanne,
                0,
                json!([{ "field": "notes", "value": "Le matin" }]),
            ),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["last_mutation_id"], 2);

    let pulled = app.get("/api/sync/pull", &gp.cookie).await;
    let items = pulled.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["version"], 2);
    assert_eq!(items[0]["item"]["notes"], "Le matin");
    assert_eq!(items[0]["item"]["owner_id"], gp.account_id.as_str());

    // The GP, owner, edits the same field on version 1, unaware: his value stands.
    let reply = push(
        &app,
        &gp,
        vec![gp.mutation(
            1,
            &item,
            &jeanne,
            1,
            json!([{ "field": "notes", "value": "Le soir" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let history = app
        .get(&format!("/api/items/{item}/history"), &nurse.cookie)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let versions = history.body.as_array().unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2]["author_name"], "Dr Paul Durand");
    assert_eq!(versions[2]["outcome"]["conflicted"], json!(["notes"]));
    let pulled = app.get("/api/sync/pull", &nurse.cookie).await;
    let state = &pulled.body["items"][0];
    assert_eq!(state["item"]["notes"], "Le soir");
    assert_eq!(
        state["conflicts"][0]["other"]["change"]["value"],
        "Le matin"
    );

    // Someone outside the care team sees neither the item nor its history.
    let other = app.session_for("sophie").await;
    assert_eq!(
        app.get(&format!("/api/items/{item}/history"), &other.cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(app.get("/api/sync/pull", &other.cookie).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'write_record' AND detail = 'care_plan_item'").await, 3);
}

async fn replayed_pushes_apply_nothing_twice_and_gaps_are_refused(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let item = uuid::Uuid::now_v7().to_string();
    let batch = vec![
        nurse.create_item(1, &item, &jeanne, &nurse.account_id),
        nurse.mutation(
            2,
            &item,
            &jeanne,
            0,
            json!([{ "field": "status", "value": "active" }]),
        ),
    ];
    for _ in 0..3 {
        let reply = push(&app, &nurse, batch.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["last_mutation_id"], 2);
    }
    assert_eq!(app.count("SELECT count(*) FROM item_versions").await, 2);

    // A gap: mutation 4 before 3.
    let gap = push(
        &app,
        &nurse,
        vec![nurse.mutation(
            4,
            &item,
            &jeanne,
            2,
            json!([{ "field": "notes", "value": "x" }]),
        )],
    )
    .await;
    assert_eq!(gap.status, StatusCode::CONFLICT);
    assert_eq!(gap.body["field"], "mutations[0].mutation_id");
    // A reused id with other content (a wiped device): refused, not skipped.
    let reused = push(
        &app,
        &nurse,
        vec![nurse.mutation(
            2,
            &item,
            &jeanne,
            1,
            json!([{ "field": "notes", "value": "y" }]),
        )],
    )
    .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(reused.body["field"], "mutations[0].mutation_id");
    assert_eq!(app.count("SELECT count(*) FROM item_versions").await, 2);
    assert_eq!(
        app.count("SELECT max(version) FROM journal WHERE kind = 'care_plan_item'")
            .await,
        2
    );
}

async fn malformed_forged_and_impossible_mutations_are_refused_and_change_nothing(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let other = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let roux = app.patient_id("Roux").await;
    let item = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        push(
            &app,
            &nurse,
            vec![nurse.create_item(1, &item, &jeanne, &nurse.account_id)]
        )
        .await
        .status,
        StatusCode::OK
    );
    let before = app.count("SELECT count(*) FROM item_versions").await;
    let clock = app.count("SELECT value FROM sync_clock").await;

    let notes = json!([{ "field": "notes", "value": "x" }]);
    let mut other_device = nurse.mutation(2, &item, &jeanne, 1, notes.clone());
    other_device["device_id"] = json!(gp.device_id);
    let mut other_author = nurse.mutation(2, &item, &jeanne, 1, notes.clone());
    other_author["author_id"] = json!(gp.account_id);
    let mut no_hlc = nurse.mutation(2, &item, &jeanne, 1, notes.clone());
    no_hlc.as_object_mut().unwrap().remove("hlc");
    let cases: Vec<(Vec<Value>, StatusCode, &str)> = vec![
        (
            vec![nurse.mutation(
                2,
                &item,
                &jeanne,
                1,
                json!([{ "field": "diagnosis", "value": "x" }]),
            )],
            StatusCode::BAD_REQUEST,
            "mutations[0].changes[0].field",
        ),
        (
            vec![nurse.mutation(
                2,
                &item,
                &jeanne,
                1,
                json!([{ "field": "status", "value": "lost" }]),
            )],
            StatusCode::BAD_REQUEST,
            "mutations[0].changes[0].value",
        ),
        (vec![no_hlc], StatusCode::BAD_REQUEST, "mutations[0]"),
        (
            vec![nurse.mutation(2, &item, &jeanne, 1, json!([]))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations[0].changes",
        ),
        (
            vec![nurse.mutation(
                2,
                &item,
                &jeanne,
                1,
                json!([{ "field": "title", "value": "" }]),
            )],
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations[0].changes[0].value",
        ),
        (
            vec![nurse.mutation(
                2,
                &item,
                &jeanne,
                1,
                json!([{ "field": "notes", "value": "x".repeat(5000) }]),
            )],
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations[0].changes[0].value",
        ),
        (
            vec![nurse.mutation(2, &item, &jeanne, 9, notes.clone())],
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations[0].base_version",
        ),
        (
            // An action may not end before it starts (issue 12).
            vec![nurse.mutation(
                2,
                &item,
                &jeanne,
                1,
                json!([
                    { "field": "starts_on", "value": "2026-03-10" },
                    { "field": "ends_on", "value": "2026-03-01" }
                ]),
            )],
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations[0].changes[1].value",
        ),
        (
            vec![nurse.mutation(
                2,
                &uuid::Uuid::now_v7().to_string(),
                &jeanne,
                1,
                notes.clone(),
            )],
            StatusCode::NOT_FOUND,
            "mutations[0].item_id",
        ),
        (
            vec![nurse.create_item(
                2,
                &uuid::Uuid::now_v7().to_string(),
                &roux,
                &nurse.account_id,
            )],
            StatusCode::NOT_FOUND,
            "mutations[0].patient_id",
        ),
        (
            vec![other_device],
            StatusCode::FORBIDDEN,
            "mutations[0].device_id",
        ),
        (
            vec![other_author],
            StatusCode::FORBIDDEN,
            "mutations[0].author_id",
        ),
        (
            vec![
                nurse.mutation(2, &item, &jeanne, 1, notes.clone()),
                nurse.mutation(4, &item, &jeanne, 1, notes.clone()),
            ],
            // Out of order: the client sends its outbox again from the start.
            StatusCode::CONFLICT,
            "mutations[1].mutation_id",
        ),
        (
            vec![nurse.mutation(0, &item, &jeanne, 1, notes.clone())],
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations[0].mutation_id",
        ),
    ];
    let too_many: Vec<Value> = (2..=502)
        .map(|id| nurse.mutation(id, &item, &jeanne, 1, notes.clone()))
        .collect();
    let mut cases = cases;
    cases.push((too_many, StatusCode::UNPROCESSABLE_ENTITY, "mutations"));
    for (mutations, status, field) in cases {
        let reply = push(&app, &nurse, mutations).await;
        assert_eq!(reply.status, status, "{field}: {}", reply.body);
        assert_eq!(reply.body["field"], field, "{}", reply.body);
    }
    // Another team's nurse cannot touch the item, nor create in the plan.
    let reply = push(
        &app,
        &other,
        vec![other.mutation(1, &item, &jeanne, 1, notes.clone())],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // The GP re-creating the nurse's item id is a collision, not an edit.
    let reply = push(
        &app,
        &gp,
        vec![gp.create_item(1, &item, &jeanne, &gp.account_id)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["field"], "mutations[0].item_id");

    assert_eq!(
        app.count("SELECT count(*) FROM item_versions").await,
        before
    );
    assert_eq!(
        app.count("SELECT value FROM sync_clock").await,
        clock,
        "refused pushes leave the clock alone"
    );
    let last: i64 =
        sqlx::query_scalar("SELECT last_mutation_id FROM device_mutations WHERE device_id = $1")
            .bind(&nurse.device_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(last, 1);
}

/// Several people edit one plan at once while a reader pulls: the reader,
/// following its cursor, sees every item's final version and never a change
/// it then misses.
async fn concurrent_writers_to_one_plan_never_make_a_reader_skip_a_change(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let jeanne = app.patient_id("Lefèvre").await;
    let reader = app.session_for("dr.durand").await;
    const WRITERS: usize = 4;
    const ROUNDS: u64 = 12;
    let mut writers = vec![];
    for w in 0..WRITERS {
        let app = app.clone();
        let jeanne = jeanne.clone();
        writers.push(tokio::spawn(async move {
            let me = app
                .session_for(if w % 2 == 0 { "claire" } else { "dr.durand" })
                .await;
            let item = uuid::Uuid::now_v7().to_string();
            let reply = push(
                &app,
                &me,
                vec![me.create_item(1, &item, &jeanne, &me.account_id)],
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            for round in 2..=ROUNDS {
                let change = json!([{ "field": "notes", "value": format!("{w}-{round}") }]);
                let reply = push(
                    &app,
                    &me,
                    vec![me.mutation(round, &item, &jeanne, 0, change)],
                )
                .await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            }
            item
        }));
    }
    let mut seen: std::collections::HashMap<String, (u64, String)> = Default::default();
    let mut cursor = String::new();
    let all_written = futures::future::join_all(writers);
    tokio::pin!(all_written);
    let mut items = None;
    loop {
        let reply = app
            .get_sync(
                &format!("/api/sync/pull?cursor={cursor}&limit=3"),
                &reader.cookie,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        for state in reply.body["items"].as_array().unwrap() {
            let id = state["item"]["id"].as_str().unwrap().to_string();
            let version = state["version"].as_u64().unwrap();
            let previous = seen.insert(
                id,
                (
                    version,
                    state["item"]["notes"].as_str().unwrap().to_string(),
                ),
            );
            assert!(
                previous.is_none_or(|(v, _)| v < version),
                "an item went back in time"
            );
        }
        cursor = reply.body["next_cursor"].as_str().unwrap().to_string();
        if items.is_some() && !reply.body["has_more"].as_bool().unwrap() {
            break;
        }
        if items.is_none() {
            tokio::select! {
                results = &mut all_written => {
                    items = Some(results.into_iter().map(|r| r.expect("writer")).collect::<Vec<String>>());
                }
                _ = tokio::task::yield_now() => {}
            }
        }
    }
    let items = items.unwrap();
    assert_eq!(seen.len(), WRITERS);
    for (w, item) in items.iter().enumerate() {
        assert_eq!(
            seen[item],
            (ROUNDS, format!("{w}-{ROUNDS}")),
            "the reader missed a committed change"
        );
    }
}
