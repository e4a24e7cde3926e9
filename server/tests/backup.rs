//! A backup taken while a device pushes (SQLite's `VACUUM INTO`, through
//! `parcours-server backup`): restored, it holds every record acknowledged
//! before it, whole pushes only, its audit chain verifies, and a device
//! pulling everything from it finds the server's checksum. PostgreSQL's
//! backups are pg_dump's (the command says so).

mod common;

use axum::http::StatusCode;
use common::{push_body, Backend, TestApp};
use parcours_domain::sync::client::{read_page, RawPage};
use parcours_domain::sync::{checksum, ChecksumResponse};
use parcours_server::audit::Actor;
use parcours_server::backup::{self, BackupError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_a_device_pushes_restores_whole_and_consistent() {
    let Some(mut app) = TestApp::new(Backend::Sqlite).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let push = |pain: u8| {
        let body = push_body(vec![
            nurse.assessment(&jeanne, pain),
            nurse.assessment(&jeanne, pain),
        ]);
        let (app, cookie) = (&app, nurse.cookie.clone());
        async move {
            let reply = app.post_sync("/api/sync/push", &cookie, &body).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            reply.body["acknowledged"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let mut before = vec![];
    for i in 0..10 {
        before.extend(push(i % 11).await);
    }
    let dir =
        std::env::temp_dir().join(format!("parcours_backup_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("copie.db");
    // The device keeps pushing while the copy is taken.
    let during = async {
        let mut acknowledged = vec![];
        for i in 0..20 {
            acknowledged.push(push(i % 11).await);
        }
        acknowledged
    };
    let taken = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        backup::to_file(&app.db, &copy, &Actor::operator("test")).await
    };
    let (during, taken) = tokio::join!(during, taken);
    taken.expect("backup");
    let after = push(3).await;
    // Never over an existing file.
    assert!(matches!(
        backup::to_file(&app.db, &copy, &Actor::operator("test")).await,
        Err(BackupError::Exists(_))
    ));

    // Restored: the server runs on the copy.
    app.url = format!("sqlite://{}", copy.display());
    app.restart().await;
    let held = |id: &str| {
        let app = &app;
        let id = id.to_string();
        async move {
            app.count(&format!("SELECT count(*) FROM journal WHERE id = '{id}'"))
                .await
        }
    };
    for id in &before {
        assert_eq!(held(id).await, 1, "acknowledged before the copy: in it");
    }
    for id in &after {
        assert_eq!(held(id).await, 0, "acknowledged after the copy: not in it");
    }
    for pair in &during {
        let (a, b) = (held(&pair[0]).await, held(&pair[1]).await);
        assert_eq!(a, b, "a push is in the copy whole or not at all");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE detail LIKE 'sauvegarde vers %'")
            .await,
        1,
        "the copy says who took it"
    );
    let chain = parcours_server::audit_chain::verify(&app.db).await.unwrap();
    assert_eq!(chain.first_broken, None);

    // A device pulling everything from the copy agrees with its checksum.
    let reader = app.session_for("claire").await;
    let mut entries = vec![];
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!("/api/sync/pull?protocol=4&limit=50&cursor={cursor}"),
                &reader.cookie,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let raw: RawPage = serde_json::from_str(&page.text).unwrap();
        let (read, _) = read_page(&raw, &Default::default());
        assert!(read.unreadable.is_empty());
        entries.extend(read.records.iter().map(|e| (e.id, 0)));
        entries.extend(read.items.iter().map(|e| (e.id, e.version)));
        cursor = read.next_cursor.0.clone();
        if !raw.has_more {
            break;
        }
    }
    assert!(entries.len() >= before.len());
    let server: ChecksumResponse = serde_json::from_str(
        &app.get("/api/sync/checksum?protocol=4", &reader.cookie)
            .await
            .text,
    )
    .unwrap();
    assert_eq!(server.checksum, checksum(entries).to_string());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn postgres_backups_are_pg_dumps() {
    let Some(app) = TestApp::new(Backend::Postgres).await else {
        return;
    };
    let to = std::env::temp_dir().join("jamais.db");
    assert!(matches!(
        backup::to_file(&app.db, &to, &Actor::operator("test")).await,
        Err(BackupError::Postgres)
    ));
    assert!(!to.exists());
}
