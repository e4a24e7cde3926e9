//! Licensed instruments' wording: loaded from the deployment's folder and
//! checked against the instrument at start-up, handed to signed-in people
//! only.

mod common;

use axum::http::StatusCode;
use common::{Backend, TestApp};
use parcours_server::wording;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The DN4 wording file the e2e tests supply (test labels, not the licensed ones).
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/fixtures/wording")
}

fn folder_with(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parcours-wording-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn a_wording_file_that_fits_its_instrument_is_loaded() {
    let wordings = wording::load(&fixtures()).unwrap();
    assert_eq!(wordings.len(), 2);
    assert_eq!(wordings[0].instrument, "dn4");
    assert_eq!(wordings[1].instrument, "hads");
    assert_eq!(wordings[0].items.len(), 10);
}

#[test]
fn a_file_that_does_not_fit_stops_the_start_with_its_name_and_why() {
    let good = std::fs::read_to_string(fixtures().join("dn4.fr.json")).unwrap();
    let cases = [
        (
            good.replace("\"2005\"", "\"2010\""),
            "le fichier est pour dn4 2010",
        ),
        (
            good.replace(
                r#""brushing": { "text": "Test : douleur au frottement" }"#,
                r#""brushing": { "text": " " }"#,
            ),
            "texte vide pour l'item brushing",
        ),
        (
            good.replace("\"itching\"", "\"scratching\""),
            "pas de texte pour l'item itching",
        ),
        (
            good.replace("\"dn4\"", "\"dn5\""),
            "no instrument named dn5",
        ),
        ("{ not json".to_string(), "not a wording file"),
    ];
    for (text, why) in cases {
        let dir = folder_with(&[("dn4.fr.json", &text)]);
        let err = format!("{:#}", wording::load(&dir).unwrap_err());
        assert!(err.contains("dn4.fr.json"), "names the file: {err}");
        assert!(err.contains(why), "says why ({why}): {err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
    let dir = folder_with(&[
        ("a.json", &good),
        ("b.json", &good),
        ("notes.txt", "ignored"),
    ]);
    let err = format!("{:#}", wording::load(&dir).unwrap_err());
    assert!(err.contains("b.json: a second wording for dn4"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_signed_in_person_gets_the_wording() {
    let wordings = Arc::new(wording::load(&fixtures()).unwrap());
    let app = TestApp::with(Backend::Sqlite, |mut state| {
        state.wordings = wordings.clone();
        state
    })
    .await
    .expect("SQLite is always there");
    let anonymous = app.get("/api/instruments/wordings", "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let claire = app.session_for("claire").await;
    let reply = app.get("/api/instruments/wordings", &claire.cookie).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body[0]["instrument"], "dn4");
    assert_eq!(reply.body[0]["items"]["burning"]["text"], "Test : brûlure");

    // A deployment without the folder offers none.
    let bare = TestApp::new(Backend::Sqlite).await.expect("SQLite");
    let claire = bare.session_for("claire").await;
    let reply = bare.get("/api/instruments/wordings", &claire.cookie).await;
    assert_eq!(reply.body, serde_json::json!([]));
}
