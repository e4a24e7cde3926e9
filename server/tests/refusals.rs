//! Giving up, on a device, what the server refused (`POST /api/sync/
//! discarded`), on SQLite and PostgreSQL: the audit trail keeps who gave up
//! what, for which patient and why; bad input is refused naming the field
//! and writes nothing; only a signed-in person may.

mod common;

use axum::http::StatusCode;
use common::{Backend, TestApp};
use serde_json::json;

on_both_backends!(a_refused_record_given_up_leaves_an_audit_row_and_nothing_else,);

async fn a_refused_record_given_up_leaves_an_audit_row_and_nothing_else(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let id = uuid::Uuid::now_v7();
    let rows = || app.count("SELECT count(*) FROM audit_events WHERE action = 'discard_refused'");
    let journal = app.count("SELECT count(*) FROM journal").await;
    let given_up = json!({
        "patient_id": jeanne, "kind": "notebook_entry", "id": id,
        "reason": "Ce destinataire ne fait pas partie de l'équipe de soins du patient.",
    });

    // Bad input: the field named, nothing written.
    for (body, field, status) in [
        (
            json!({ "patient_id": jeanne, "kind": " ", "id": id, "reason": "" }),
            "kind",
            422,
        ),
        (
            json!({ "patient_id": jeanne, "kind": "x", "id": id, "reason": "é".repeat(301) }),
            "reason",
            422,
        ),
        (
            json!({ "patient_id": uuid::Uuid::now_v7(), "kind": "x", "id": id, "reason": "" }),
            "patient_id",
            404,
        ),
        // A missing field: the body is refused (its message names the field).
        (
            json!({ "patient_id": jeanne, "kind": "x", "reason": "" }),
            "body",
            400,
        ),
    ] {
        let reply = app.post("/api/sync/discarded", &nurse.cookie, &body).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
        assert_eq!(reply.body["field"], field, "{}", reply.text);
    }
    assert_eq!(rows().await, 0);
    let anonymous = app.post("/api/sync/discarded", "", &given_up).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rows().await, 0);

    let reply = app
        .post("/api/sync/discarded", &nurse.cookie, &given_up)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(rows().await, 1);
    let row = app
        .count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'discard_refused'
             AND account_id = '{}' AND patient_id = '{jeanne}' AND record_id = '{id}'
             AND detail LIKE 'notebook_entry — Ce destinataire%'",
            nurse.account_id
        ))
        .await;
    assert_eq!(row, 1, "who, which patient, what and why");
    assert_eq!(
        app.count("SELECT count(*) FROM journal").await,
        journal,
        "nothing stored"
    );
}
