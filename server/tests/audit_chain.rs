//! The audit trail cannot be rewritten quietly, on SQLite and PostgreSQL:
//! rows are append-only in the database (no update but the sealing, no
//! delete), and once sealed each is chained to the one before, so a row
//! changed behind the database's back is found by `audit_chain::verify`.

mod common;

use common::{Backend, TestApp};
use parcours_server::audit_chain::{seal, verify, SEAL_AFTER_MS};
use parcours_server::clock::now_ms;
use parcours_server::db;

on_both_backends!(the_audit_trail_is_append_only_and_its_chain_shows_a_changed_row);

async fn the_audit_trail_is_append_only_and_its_chain_shows_a_changed_row(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    // Some activity: sign-ins, a caseload read.
    let nurse = app.session_for("claire").await;
    app.session_for("dr.durand").await;
    app.get("/api/caseload", &nurse.cookie).await;
    let rows = app.count("SELECT count(*) FROM audit_events").await;
    assert!(rows >= 3, "{rows}");

    // Too recent to seal: a transaction might still commit a lower id.
    assert_eq!(seal(&app.db, now_ms()).await.unwrap(), 0);
    let later = now_ms() + SEAL_AFTER_MS + 1;
    assert_eq!(seal(&app.db, later).await.unwrap(), rows as u64);
    let found = verify(&app.db).await.unwrap();
    assert_eq!(
        (found.sealed, found.waiting, found.first_broken),
        (rows as u64, 0, None)
    );
    let head = found.head.clone().unwrap();
    // Sealing again changes nothing.
    assert_eq!(seal(&app.db, later).await.unwrap(), 0);

    // New activity waits for its turn; the sealed part still verifies.
    app.get("/api/caseload", &nurse.cookie).await;
    let found = verify(&app.db).await.unwrap();
    assert!(found.waiting >= 1);
    assert_eq!((found.first_broken, found.head), (None, Some(head)));

    // The database refuses to change or remove a row, even a waiting one.
    let middle: i64 = sqlx::query_scalar("SELECT min(id) + 1 FROM audit_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    for statement in [
        format!("UPDATE audit_events SET detail = 'rien' WHERE id = {middle}"),
        format!("UPDATE audit_events SET chain_hash = NULL WHERE id = {middle}"),
        format!("DELETE FROM audit_events WHERE id = {middle}"),
        "DELETE FROM audit_events WHERE chain_hash IS NULL".to_string(),
    ] {
        let refused = sqlx::query(&statement).execute(&app.db.pool).await;
        assert!(refused.is_err(), "{statement}");
    }

    // Someone with the power to lift that (a superuser, the file's owner)
    // changes a row: the chain shows where.
    let lift = match app.db.backend {
        db::Backend::Sqlite => "DROP TRIGGER audit_events_seal_only",
        db::Backend::Postgres => {
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
        }
    };
    sqlx::query(lift).execute(&app.db.pool).await.unwrap();
    sqlx::query(&format!(
        "UPDATE audit_events SET detail = detail || ' (modifié)' WHERE id = {middle}"
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(verify(&app.db).await.unwrap().first_broken, Some(middle));
}
