//! Reading the audit trail, on SQLite and PostgreSQL: a support coordinator
//! finds who read or wrote a patient's file, filters by patient and by
//! person, pages back, exports CSV; every reading is itself a row; nobody
//! else reads it; a bad filter is refused naming it.

mod common;

use axum::http::StatusCode;
use common::{Backend, TestApp};
use parcours_domain::Profession;
use parcours_server::admin::{self, NewAccount};
use parcours_server::audit::Actor;

on_both_backends!(
    a_support_coordinator_reads_who_accessed_a_file_and_exports_it,
    a_caseload_the_device_already_holds_is_neither_sent_nor_audited_again,
);

/// A phone syncing every 30 s does not write a row per patient each time:
/// the caseload it already holds (its `ETag`) answers 304, unaudited; a
/// change, or another person, gets it whole and audited.
async fn a_caseload_the_device_already_holds_is_neither_sent_nor_audited_again(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let rows = || app.count("SELECT count(*) FROM audit_events WHERE action = 'read_caseload'");
    let first = app.get("/api/caseload", &nurse.cookie).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    let read_once = rows().await;
    assert_eq!(read_once, 3, "a row per patient of hers");
    let again = |who: &common::Client, tag: String| {
        let cookie = who.cookie.clone();
        let app = &app;
        async move {
            app.request_with(
                "GET",
                "/api/caseload",
                Some(&cookie),
                None,
                &[("if-none-match", &tag)],
            )
            .await
        }
    };
    let held = again(&nurse, etag.clone()).await;
    assert_eq!(held.status, StatusCode::NOT_MODIFIED);
    assert_eq!(held.text, "");
    assert_eq!(rows().await, read_once);
    // The GP, with the same list, has not read it: sent and audited.
    assert_eq!(again(&gp, etag.clone()).await.status, StatusCode::OK);
    // A patient joins her caseload: sent again, whole, and audited.
    let roux = app.patient_id("Roux").await;
    admin::add_to_care_team(&app.db, &Actor::operator("test"), &roux, "claire")
        .await
        .unwrap();
    let changed = again(&nurse, etag).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body.as_array().unwrap().len(), 4);
    assert_eq!(rows().await, read_once + 3 + 4);
}

async fn a_support_coordinator_reads_who_accessed_a_file_and_exports_it(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    admin::create_account(
        &app.db,
        &Actor::operator("test"),
        NewAccount {
            username: "camille",
            display_name: "Camille Petit",
            profession: Profession::SupportCoordinator,
            password: "coordination-cpts",
        },
    )
    .await
    .unwrap();
    let coordinator = app.session_for("camille").await;
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let jeanne = app.patient_id("Lefèvre").await;
    // The nurse and the GP read their caseloads (a row per patient).
    let reply = app.get("/api/caseload", &nurse.cookie).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    app.get("/api/caseload", &gp.cookie).await;

    // Nobody else reads the trail, not even a pain resource nurse.
    for who in [&nurse, &gp] {
        let reply = app.get("/api/audit", &who.cookie).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.body["field"], "role");
        assert_eq!(
            app.get("/api/audit.csv", &who.cookie).await.status,
            StatusCode::FORBIDDEN
        );
    }

    // Jeanne's rows: the nurse's reading is there, named.
    let reply = app
        .get(
            &format!("/api/audit?patient_id={jeanne}"),
            &coordinator.cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let entries = reply.body["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["patient_id"] == jeanne.as_str()));
    assert!(entries
        .iter()
        .any(|e| e["who"] == "Claire Martin" && e["patient"] == "LEFÈVRE Jeanne"));
    // The GP's rows only, a page of one at a time, newest first.
    let first = app
        .get(
            &format!("/api/audit?account_id={}&limit=1", gp.account_id),
            &coordinator.cookie,
        )
        .await;
    let before = first.body["next_before"].as_i64().expect("an older page");
    let second = app
        .get(
            &format!(
                "/api/audit?account_id={}&limit=1&before={before}",
                gp.account_id
            ),
            &coordinator.cookie,
        )
        .await;
    let (a, b) = (&first.body["entries"][0], &second.body["entries"][0]);
    assert_eq!(
        (a["who"].as_str(), b["who"].as_str()),
        (Some("Dr Paul Durand"), Some("Dr Paul Durand"))
    );
    assert!(a["id"].as_i64() > b["id"].as_i64());

    // Exported: a CSV a spreadsheet opens, with the nurse's reading in it.
    let csv = app
        .request(
            "GET",
            &format!("/api/audit.csv?patient_id={jeanne}"),
            Some(&coordinator.cookie),
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.text.clone();
    assert!(text.starts_with('\u{feff}'));
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert!(lines.next().unwrap().starts_with("n°;quand (UTC, ms);qui;"));
    assert!(lines.any(|l| l.contains("Claire Martin") && l.contains("LEFÈVRE Jeanne")));

    // Each reading is a row of its own, by the coordinator.
    let readings = app
        .count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'read_audit' AND account_id = '{}'",
            coordinator.account_id
        ))
        .await;
    assert_eq!(readings, 4);

    // A bad filter is refused, naming it.
    for (query, field) in [
        ("patient_id=quelqu-un", "patient_id"),
        ("limit=0", "limit"),
        ("qui=moi", "qui"),
    ] {
        let reply = app
            .get(&format!("/api/audit?{query}"), &coordinator.cookie)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.body["field"], field, "{query}");
    }
}
