//! The server's behaviour through its HTTP API, on SQLite and on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::{push_body, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    pushed_assessments_reach_the_care_team_once_however_often_they_are_retried,
    pull_pages_follow_the_cursor_without_gaps_or_repeats,
    bad_input_is_refused_with_the_field_and_changes_nothing,
    forged_authors_devices_and_reused_ids_are_refused,
    a_professional_outside_the_care_team_gets_404_and_the_attempt_is_audited,
    every_read_and_write_of_patient_data_is_audited,
    sessions_end_at_sign_out_and_bad_passwords_are_refused,
    concurrent_writers_never_make_a_reader_skip_a_record,
);

async fn app(backend: Backend) -> Option<TestApp> {
    TestApp::new(backend).await
}

async fn pull_all(app: &TestApp, cookie: &str, limit: u32) -> (Vec<Value>, usize) {
    let mut cursor = String::new();
    let mut records = vec![];
    let mut pages = 0;
    loop {
        let reply = app
            .get(
                &format!("/api/sync/pull?cursor={cursor}&limit={limit}"),
                cookie,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        pages += 1;
        records.extend(
            reply.body["records"]
                .as_array()
                .expect("records")
                .iter()
                .cloned(),
        );
        cursor = reply.body["next_cursor"]
            .as_str()
            .expect("cursor")
            .to_string();
        if !reply.body["has_more"].as_bool().expect("has_more") {
            return (records, pages);
        }
    }
}

async fn pushed_assessments_reach_the_care_team_once_however_often_they_are_retried(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    let gp = app.sign_in("dr.durand").await;
    let jeanne = app.patient_id("Lefèvre").await;

    let records = vec![nurse.assessment(&jeanne, 7), nurse.assessment(&jeanne, 4)];
    let body = push_body(records.clone());
    for _ in 0..3 {
        // A lost acknowledgement makes the device send the same push again.
        let reply = app.post("/api/sync/push", &nurse.cookie, &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let acked: Vec<&str> = reply.body["acknowledged"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            acked,
            vec![
                records[0]["id"].as_str().unwrap(),
                records[1]["id"].as_str().unwrap()
            ]
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'")
            .await,
        2
    );

    let (pulled, _) = pull_all(&app, &gp.cookie, 500).await;
    assert_eq!(pulled.len(), 2);
    let mut expected = records.clone();
    for (got, want) in pulled.iter().zip(expected.iter_mut()) {
        want.as_object_mut()
            .unwrap()
            .insert("amends".into(), Value::Null);
        assert_eq!(got, want, "the record comes back exactly as it was pushed");
    }
    let listed = app
        .get(&format!("/api/patients/{jeanne}/assessments"), &gp.cookie)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 2);

    // A push whose answer was lost after part of it had gone in: one record
    // the server holds, one it does not. Both are acknowledged; only the
    // new one is stored, and written down once as written.
    let third = nurse.assessment(&jeanne, 2);
    let reply = app
        .post(
            "/api/sync/push",
            &nurse.cookie,
            &push_body(vec![records[1].clone(), third.clone()]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["acknowledged"],
        serde_json::json!([records[1]["id"], third["id"]])
    );
    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'")
            .await,
        3
    );
    for record in [&records[0], &records[1], &third] {
        let id = record["id"].as_str().unwrap();
        let rows = app
            .count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = 'write_record' AND record_id = '{id}'"
            ))
            .await;
        assert_eq!(rows, 1, "one write row for {id}");
    }
}

async fn pull_pages_follow_the_cursor_without_gaps_or_repeats(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    let gp = app.sign_in("dr.durand").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let mut ids = vec![];
    for batch in 0..5 {
        let records: Vec<Value> = (0..7)
            .map(|i| {
                nurse.assessment(
                    if (batch + i) % 2 == 0 {
                        &jeanne
                    } else {
                        &henri
                    },
                    (i % 11) as u8,
                )
            })
            .collect();
        ids.extend(
            records
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        assert_eq!(
            app.post("/api/sync/push", &nurse.cookie, &push_body(records))
                .await
                .status,
            StatusCode::OK
        );
    }
    let (pulled, pages) = pull_all(&app, &gp.cookie, 4).await;
    let pulled_ids: Vec<String> = pulled
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        pulled_ids, ids,
        "every record once, in the order the server stored them"
    );
    assert_eq!(pages, 9, "35 records in pages of 4");

    // From the last cursor, nothing new.
    // The largest page the app asks for is taken; one more is not.
    let reply = app
        .get("/api/sync/pull?cursor=0&limit=2000", &gp.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let last = reply.body["next_cursor"].as_str().unwrap().to_string();
    let reply = app
        .get(&format!("/api/sync/pull?cursor={last}"), &gp.cookie)
        .await;
    assert_eq!(reply.body["records"].as_array().unwrap().len(), 0);
    assert_eq!(reply.body["next_cursor"], Value::String(last));

    for (query, field) in [
        ("cursor=abc", "cursor"),
        ("cursor=-4", "cursor"),
        ("limit=0", "limit"),
        ("limit=2001", "limit"),
        ("limit=x", "limit"),
        ("estimate=perhaps", "estimate"),
    ] {
        let reply = app
            .get(&format!("/api/sync/pull?{query}"), &gp.cookie)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.body["field"], field, "{query}");
    }
}

async fn bad_input_is_refused_with_the_field_and_changes_nothing(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let audit_before = app
        .count("SELECT count(*) FROM audit_events WHERE action = 'write_record'")
        .await;
    let clock_before = app.count("SELECT value FROM sync_clock").await;

    // A time no JavaScript number holds would stop every device of the team (H2).
    let mut far_future = nurse.assessment(&jeanne, 3);
    far_future["recorded_at"] = json!(9_223_372_036_854_775_807i64);
    let mut next_year = nurse.assessment(&jeanne, 3);
    next_year["recorded_at"] = json!(parcours_server::clock::now_ms() + 400 * 24 * 3600 * 1000);
    // PostgreSQL cannot store a NUL in text: refused on both, never a 500 (M7).
    let mut nul = nurse.assessment(&jeanne, 3);
    nul["note"] = json!("collé\u{0}depuis un PDF");
    let mut upper = nurse.assessment(&jeanne, 3);
    upper["id"] = json!(upper["id"].as_str().unwrap().to_uppercase());

    let mut too_high = nurse.assessment(&jeanne, 3);
    too_high["pain_worst_24h"] = json!(11);
    let mut negative = nurse.assessment(&jeanne, 3);
    negative["pain_now"] = json!(-1);
    let mut fractional = nurse.assessment(&jeanne, 3);
    fractional["pain_average_24h"] = json!(4.5);
    let mut missing = nurse.assessment(&jeanne, 3);
    missing.as_object_mut().unwrap().remove("patient_id");
    let mut bad_uuid = nurse.assessment(&jeanne, 3);
    bad_uuid["id"] = json!("not-a-uuid");
    let unknown_patient = nurse.assessment(&uuid::Uuid::new_v4().to_string(), 3);
    let mut amends_unknown = nurse.assessment(&jeanne, 3);
    amends_unknown["amends"] = json!(uuid::Uuid::new_v4());

    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            push_body(vec![nurse.assessment(&jeanne, 1), too_high]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[1].pain_worst_24h",
        ),
        (
            push_body(vec![negative]),
            StatusCode::BAD_REQUEST,
            "records[0].pain_now",
        ),
        (
            push_body(vec![fractional]),
            StatusCode::BAD_REQUEST,
            "records[0].pain_average_24h",
        ),
        (
            push_body(vec![missing]),
            StatusCode::BAD_REQUEST,
            "records[0]",
        ),
        (
            push_body(vec![bad_uuid]),
            StatusCode::BAD_REQUEST,
            "records[0].id",
        ),
        (
            push_body(vec![nurse.assessment(&jeanne, 1), unknown_patient]),
            StatusCode::NOT_FOUND,
            "records[1].patient_id",
        ),
        (
            push_body(vec![nurse.assessment(&jeanne, 1), amends_unknown]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[1].amends",
        ),
        (
            json!({ "protocol": 7, "records": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "protocol",
        ),
        (json!({ "records": [] }), StatusCode::BAD_REQUEST, "body"),
        (
            push_body(vec![far_future]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].recorded_at",
        ),
        (
            push_body(vec![next_year]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].recorded_at",
        ),
        (
            push_body(vec![nul]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].note",
        ),
        (
            push_body(vec![upper]),
            StatusCode::BAD_REQUEST,
            "records[0].id",
        ),
        (
            // Mutations came with protocol 2: a protocol-1 push carrying them is refused.
            json!({ "protocol": 1, "records": [], "mutations": [{
                "device_id": nurse.device_id, "mutation_id": 1, "item_id": uuid::Uuid::now_v7(),
                "patient_id": jeanne, "author_id": nurse.account_id, "base_version": 0,
                "hlc": { "wall_ms": 1_790_000_000_000i64, "counter": 0, "device": nurse.device_id },
                "changes": [{ "field": "title", "value": "x" }] }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "mutations",
        ),
    ];
    for (body, status, field) in cases {
        let reply = app.post("/api/sync/push", &nurse.cookie, &body).await;
        assert_eq!(reply.status, status, "{field}: {:?}", reply.body);
        assert_eq!(reply.body["field"], field, "{:?}", reply.body);
        assert!(reply.body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let malformed = app
        .request(
            "POST",
            "/api/sync/push",
            Some(&nurse.cookie),
            Some((
                "application/json",
                b"{\"protocol\": 1, \"records\": [".to_vec(),
            )),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        malformed.body["field"], "records",
        "where the parser stopped"
    );
    let garbage = app
        .request(
            "POST",
            "/api/sync/push",
            Some(&nurse.cookie),
            Some(("application/json", b"{nope".to_vec())),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.body["field"], "body");
    let not_json = app
        .request(
            "POST",
            "/api/sync/push",
            Some(&nurse.cookie),
            Some(("text/plain", b"hello".to_vec())),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(not_json.body["field"], "content-type");
    let oversized = app
        .request(
            "POST",
            "/api/sync/push",
            Some(&nurse.cookie),
            Some(("application/json", vec![b' '; 5 * 1024 * 1024])),
        )
        .await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversized.body["field"], "body");

    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'")
            .await,
        0,
        "no bad push wrote anything"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'write_record'")
            .await,
        audit_before
    );
    // The same field twice inside a record: the last would silently win.
    let twice = nurse.assessment(&jeanne, 3).to_string().replacen(
        "\"pain_now\":3",
        "\"pain_now\":3,\"pain_now\":9",
        1,
    );
    let reply = app
        .request(
            "POST",
            "/api/sync/push",
            Some(&nurse.cookie),
            Some((
                "application/json",
                format!("{{\"protocol\":2,\"records\":[{twice}]}}").into_bytes(),
            )),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0]");
    let not_quite_json = app
        .request(
            "POST",
            "/api/sync/push",
            Some(&nurse.cookie),
            Some(("application/jsonfoo", b"{}".to_vec())),
        )
        .await;
    assert_eq!(not_quite_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        app.count("SELECT value FROM sync_clock").await,
        clock_before,
        "refused pushes leave the clock alone"
    );
}

async fn forged_authors_devices_and_reused_ids_are_refused(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    let gp = app.sign_in("dr.durand").await;
    let jeanne = app.patient_id("Lefèvre").await;

    let mut forged_author = nurse.assessment(&jeanne, 3);
    forged_author["author_id"] = json!(gp.account_id);
    let reply = app
        .post(
            "/api/sync/push",
            &nurse.cookie,
            &push_body(vec![forged_author]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["field"], "records[0].author_id");

    let mut other_device = nurse.assessment(&jeanne, 3);
    other_device["device_id"] = json!(gp.device_id);
    let reply = app
        .post(
            "/api/sync/push",
            &nurse.cookie,
            &push_body(vec![other_device]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["field"], "records[0].device_id");

    // The GP reuses the id of the nurse's record: not a retry, a collision.
    let original = nurse.assessment(&jeanne, 3);
    assert_eq!(
        app.post(
            "/api/sync/push",
            &nurse.cookie,
            &push_body(vec![original.clone()])
        )
        .await
        .status,
        StatusCode::OK
    );
    let mut reused = gp.assessment(&jeanne, 9);
    reused["id"] = original["id"].clone();
    let reply = app
        .post("/api/sync/push", &gp.cookie, &push_body(vec![reused]))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body["field"], "records[0].id");
    let kept: String = sqlx::query_scalar("SELECT body FROM journal WHERE id = $1")
        .bind(original["id"].as_str().unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let kept: Value = serde_json::from_str(&kept).unwrap();
    assert_eq!(kept["pain_now"], 3, "the original record is untouched");
    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'")
            .await,
        1
    );
}

async fn a_professional_outside_the_care_team_gets_404_and_the_attempt_is_audited(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    let other_nurse = app.sign_in("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    assert_eq!(
        app.post(
            "/api/sync/push",
            &nurse.cookie,
            &push_body(vec![nurse.assessment(&jeanne, 6)])
        )
        .await
        .status,
        StatusCode::OK
    );

    let reply = app
        .get(
            &format!("/api/patients/{jeanne}/assessments"),
            &other_nurse.cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["field"], "patient_id");
    let denied: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT account_id, device_id, patient_id FROM audit_events WHERE action = 'denied'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        denied,
        vec![(
            other_nurse.account_id.clone(),
            other_nurse.device_id.clone(),
            Some(jeanne.clone())
        )]
    );

    // Writing for her is refused the same way, and writes nothing.
    let reply = app
        .post(
            "/api/sync/push",
            &other_nurse.cookie,
            &push_body(vec![other_nurse.assessment(&jeanne, 2)]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["field"], "records[0].patient_id");
    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'denied'")
            .await,
        2
    );

    // Her caseload and her pulls do not contain the other team's patient.
    let caseload = app.get("/api/caseload", &other_nurse.cookie).await;
    let names: Vec<&str> = caseload
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["family_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Roux"]);
    let (pulled, _) = pull_all(&app, &other_nurse.cookie, 500).await;
    assert!(pulled.is_empty());
}

async fn every_read_and_write_of_patient_data_is_audited(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    let gp = app.sign_in("dr.durand").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let pushed = vec![nurse.assessment(&jeanne, 6), nurse.assessment(&henri, 3)];
    app.post("/api/sync/push", &nurse.cookie, &push_body(pushed.clone()))
        .await;
    app.get("/api/caseload", &gp.cookie).await;
    pull_all(&app, &gp.cookie, 500).await;

    type AuditRow = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, account_id, device_id, patient_id, record_id FROM audit_events
         WHERE action IN ('write_record', 'read_caseload', 'read_records') ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let writes: Vec<_> = rows.iter().filter(|r| r.0 == "write_record").collect();
    assert_eq!(writes.len(), 2);
    for (w, record) in writes.iter().zip(&pushed) {
        assert_eq!((&w.1, &w.2), (&nurse.account_id, &nurse.device_id));
        assert_eq!(w.4.as_deref(), record["id"].as_str());
        assert_eq!(w.3.as_deref(), record["patient_id"].as_str());
    }
    let caseload_reads = rows
        .iter()
        .filter(|r| r.0 == "read_caseload" && r.1 == gp.account_id)
        .count();
    assert_eq!(caseload_reads, 3, "one row per patient shown");
    let mut pulled_patients: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "read_records" && r.1 == gp.account_id && r.2 == gp.device_id)
        .filter_map(|r| r.3.clone())
        .collect();
    pulled_patients.sort();
    let mut expected = vec![jeanne, henri];
    expected.sort();
    assert_eq!(pulled_patients, expected);
    let timestamps = app
        .count("SELECT count(*) FROM audit_events WHERE at <= 0")
        .await;
    assert_eq!(timestamps, 0, "every row says when");
}

async fn sessions_end_at_sign_out_and_bad_passwords_are_refused(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let nurse = app.sign_in("claire").await;
    assert_eq!(
        app.get("/api/session", &nurse.cookie).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.request("GET", "/api/caseload", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/caseload", "parcours_session=forged")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let reply = app
        .request("DELETE", "/api/session", Some(&nurse.cookie), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/caseload", &nurse.cookie).await.status,
        StatusCode::UNAUTHORIZED
    );

    let body =
        json!({ "username": "claire", "password": "wrong", "device_id": uuid::Uuid::new_v4() });
    let reply = app
        .request(
            "POST",
            "/api/session",
            None,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.set_cookie.is_none());
    let body =
        json!({ "username": "nobody", "password": "wrong", "device_id": uuid::Uuid::new_v4() });
    let reply = app
        .request(
            "POST",
            "/api/session",
            None,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sign_in_failed'")
            .await,
        2
    );
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = 'claire'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(stored.starts_with("$argon2id$"));
}

/// Writers commit batches concurrently while a reader pulls: whatever the
/// interleaving, the reader, by following its cursor, sees every record
/// exactly once. (A bare sequence fails this on PostgreSQL.)
async fn concurrent_writers_never_make_a_reader_skip_a_record(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let jeanne = app.patient_id("Lefèvre").await;
    let reader = app.sign_in("dr.durand").await;
    const WRITERS: usize = 4;
    const BATCHES: usize = 15;
    const PER_BATCH: usize = 10;
    let mut writers = vec![];
    for w in 0..WRITERS {
        let app = app.clone();
        let jeanne = jeanne.clone();
        writers.push(tokio::spawn(async move {
            // Two accounts: one account may hold only two sync places at once.
            let writer = app.sign_in(if w % 2 == 0 { "claire" } else { "lea" }).await;
            for _ in 0..BATCHES {
                let records = (0..PER_BATCH)
                    .map(|i| writer.assessment(&jeanne, (i % 11) as u8))
                    .collect();
                let reply = app
                    .post("/api/sync/push", &writer.cookie, &push_body(records))
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
            }
        }));
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    let total = WRITERS * BATCHES * PER_BATCH;
    let all_written = futures::future::join_all(writers);
    tokio::pin!(all_written);
    let mut writers_done = false;
    loop {
        let reply = app
            .get(
                &format!("/api/sync/pull?cursor={cursor}&limit=7"),
                &reader.cookie,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        for r in reply.body["records"].as_array().unwrap() {
            assert!(
                seen.insert(r["id"].as_str().unwrap().to_string()),
                "a record came twice"
            );
        }
        cursor = reply.body["next_cursor"].as_str().unwrap().to_string();
        if writers_done && !reply.body["has_more"].as_bool().unwrap() {
            break;
        }
        if !writers_done {
            tokio::select! {
                results = &mut all_written => {
                    for r in results { r.expect("writer"); }
                    writers_done = true;
                }
                _ = tokio::task::yield_now() => {}
            }
        }
    }
    assert_eq!(
        seen.len(),
        total,
        "the reader missed records committed behind its cursor"
    );
}
