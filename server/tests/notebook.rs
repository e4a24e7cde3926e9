//! The liaison notebook through the append lane, on SQLite and PostgreSQL:
//! entries addressed to members of the team (and only them), read receipts,
//! corrections, the pharmacist's medication review and the GP's answers —
//! and what is refused changes nothing.

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use parcours_domain::notebook::{
    Decision, MedicationReview, NoteKind, NotebookEntry, NotebookRead, RecommendationAnswer,
};
use parcours_domain::sync::{Record, PROTOCOL_VERSION};
use parcours_domain::{Profession, RecordId};
use parcours_server::admin::{self, NewAccount};
use parcours_server::audit::Actor;
use serde_json::json;

on_both_backends!(
    an_entry_addressed_to_the_gp_is_read_and_the_team_sees_who_read_it,
    a_medication_review_is_the_pharmacist_s_and_its_answers_the_gp_s,
    a_psychologist_s_note_reaches_only_the_roles_its_programme_names,
);

const NOW: i64 = 1_790_000_000_000;

fn entry(author: &Client, patient: &str, to: &[&Client], text: &str) -> NotebookEntry {
    let (author_id, device_id) = author.ids();
    NotebookEntry {
        id: RecordId::new(),
        patient_id: patient.parse().unwrap(),
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        note_kind: NoteKind::Observation,
        text: text.into(),
        addressed_to: to.iter().map(|c| c.account_id.parse().unwrap()).collect(),
        reply_to: None,
        medication_review: None,
        answers: vec![],
        programme_id: None,
    }
}

fn read(reader: &Client, patient: &str, entry: RecordId) -> NotebookRead {
    let (author_id, device_id) = reader.ids();
    NotebookRead {
        id: RecordId::new(),
        patient_id: patient.parse().unwrap(),
        author_id,
        device_id,
        recorded_at: NOW + 60_000,
        amends: None,
        entry_id: entry,
    }
}

async fn push(app: &TestApp, client: &Client, records: Vec<Record>) -> common::Reply {
    app.post_sync(
        "/api/sync/push",
        &client.cookie,
        &json!({ "protocol": PROTOCOL_VERSION, "records": records }),
    )
    .await
}

async fn pulled(app: &TestApp, client: &Client, kind: &str) -> Vec<serde_json::Value> {
    let reply = app
        .get_sync("/api/sync/pull?protocol=4", &client.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == kind)
        .cloned()
        .collect()
}

async fn an_entry_addressed_to_the_gp_is_read_and_the_team_sees_who_read_it(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;

    // Addressed to someone outside Jeanne's team: refused, nothing stored.
    let before = app.count("SELECT count(*) FROM journal").await;
    let stray = entry(&nurse, &jeanne, &[&gp, &outsider], "Chute ce matin.");
    let reply = push(&app, &nurse, vec![Record::NotebookEntry(stray)]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "records[0].addressed_to[1]");
    assert_eq!(app.count("SELECT count(*) FROM journal").await, before);

    let mut fall = entry(
        &nurse,
        &jeanne,
        &[&gp],
        "Chute ce matin, sans fracture apparente.",
    );
    fall.note_kind = NoteKind::Fall;
    let reply = push(&app, &nurse, vec![Record::NotebookEntry(fall.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let seen = pulled(&app, &gp, "notebook_entry").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["note_kind"], "fall");
    assert_eq!(seen[0]["addressed_to"][0], gp.account_id);
    assert!(pulled(&app, &outsider, "notebook_entry").await.is_empty());

    // The GP reads it: the receipt reaches the nurse.
    let receipt = read(&gp, &jeanne, fall.id);
    let reply = push(&app, &gp, vec![Record::NotebookRead(receipt.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let receipts = pulled(&app, &nurse, "notebook_read").await;
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["entry_id"], fall.id.to_string());
    assert_eq!(receipts[0]["author_id"], gp.account_id);
    // A receipt for an entry that does not exist, or of another patient: 422.
    let reply = push(
        &app,
        &gp,
        vec![Record::NotebookRead(read(&gp, &jeanne, RecordId::new()))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].entry_id");
    let reply = push(
        &app,
        &gp,
        vec![Record::NotebookRead(read(&gp, &henri, fall.id))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Someone outside the team cannot mark it read.
    let reply = push(
        &app,
        &outsider,
        vec![Record::NotebookRead(read(&outsider, &jeanne, fall.id))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A correction keeps the original; both reach the team.
    let correction = NotebookEntry {
        id: RecordId::new(),
        amends: Some(fall.id),
        text: "Chute ce matin ; hématome au coude gauche.".into(),
        recorded_at: NOW + 120_000,
        ..fall.clone()
    };
    let reply = push(&app, &nurse, vec![Record::NotebookEntry(correction)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(pulled(&app, &gp, "notebook_entry").await.len(), 2);
    // A reply names an entry of the same patient.
    let mut answer = entry(&gp, &jeanne, &[&nurse], "Je passe demain.");
    answer.reply_to = Some(fall.id);
    let reply = push(&app, &gp, vec![Record::NotebookEntry(answer.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut astray = entry(&gp, &henri, &[], "Réponse égarée.");
    astray.reply_to = Some(fall.id);
    let reply = push(&app, &gp, vec![Record::NotebookEntry(astray)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].reply_to");
    // Audited.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'write_record' AND detail = 'notebook_read' AND patient_id = '{jeanne}'"
        ))
        .await,
        1
    );
}

async fn a_medication_review_is_the_pharmacist_s_and_its_answers_the_gp_s(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let jeanne = app.patient_id("Lefèvre").await;
    let operator = Actor::operator("test");
    admin::create_account(
        &app.db,
        &operator,
        NewAccount {
            username: "marc",
            display_name: "Marc Petit",
            profession: Profession::Pharmacist,
            password: "pharmacie-du-port",
        },
    )
    .await
    .unwrap();
    admin::add_to_care_team(&app.db, &operator, &jeanne, "marc")
        .await
        .unwrap();
    let pharmacist = app.session_for("marc").await;
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;

    let mut review = entry(&pharmacist, &jeanne, &[&gp], "");
    review.note_kind = NoteKind::MedicationReview;
    review.medication_review = Some(MedicationReview {
        medications: vec![
            "Tramadol 50 mg, 3 fois par jour".into(),
            "Zolpidem 10 mg le soir".into(),
            "Ramipril 5 mg".into(),
        ],
        findings: "Deux sédatifs chez une patiente qui chute.".into(),
        recommendations: vec![
            "Arrêt progressif du zolpidem".into(),
            "Tramadol : réévaluer la dose".into(),
        ],
    });
    // Written by the nurse, it is refused as hers to write (403).
    let by_nurse = NotebookEntry {
        id: RecordId::new(),
        author_id: nurse.account_id.parse().unwrap(),
        device_id: nurse.device_id.parse().unwrap(),
        ..review.clone()
    };
    let reply = push(&app, &nurse, vec![Record::NotebookEntry(by_nurse)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let reply = push(
        &app,
        &pharmacist,
        vec![Record::NotebookEntry(review.clone())],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let mut answers = entry(&gp, &jeanne, &[&pharmacist], "");
    answers.reply_to = Some(review.id);
    answers.answers = vec![
        RecommendationAnswer {
            recommendation: 1,
            decision: Decision::Accepted,
            reason: String::new(),
        },
        RecommendationAnswer {
            recommendation: 2,
            decision: Decision::Refused,
            reason: "Douleur mal contrôlée sans lui.".into(),
        },
    ];
    let by_nurse = NotebookEntry {
        id: RecordId::new(),
        author_id: nurse.account_id.parse().unwrap(),
        device_id: nurse.device_id.parse().unwrap(),
        ..answers.clone()
    };
    let reply = push(&app, &nurse, vec![Record::NotebookEntry(by_nurse)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = push(&app, &gp, vec![Record::NotebookEntry(answers)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let thread = pulled(&app, &nurse, "notebook_entry").await;
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[1]["reply_to"], review.id.to_string());
    assert_eq!(thread[1]["answers"][1]["decision"], "refused");
}

/// Adds an account of this profession to Jeanne Lefèvre's care team.
async fn colleague(app: &TestApp, username: &str, name: &str, profession: Profession) -> Client {
    let jeanne = app.patient_id("Lefèvre").await;
    let operator = Actor::operator("test");
    admin::create_account(
        &app.db,
        &operator,
        NewAccount {
            username,
            display_name: name,
            profession,
            password: "un mot de passe long",
        },
    )
    .await
    .unwrap();
    admin::add_to_care_team(&app.db, &operator, &jeanne, username)
        .await
        .unwrap();
    app.session_for(username).await
}

async fn a_psychologist_s_note_reaches_only_the_roles_its_programme_names(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let jeanne = app.patient_id("Lefèvre").await;
    let psychologist = colleague(&app, "ines", "Inès Moreau", Profession::Psychologist).await;
    let social = colleague(&app, "paul", "Paul Garnier", Profession::SocialWorker).await;
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let physio = app.session_for("lea").await;

    let restricted = |author: &Client, text: &str| {
        let mut e = entry(author, &jeanne, &[], text);
        e.note_kind = NoteKind::Psychological;
        e.programme_id = Some("chronic_pain".into());
        e
    };
    let note = restricted(&psychologist, "Idées noires évoquées ; suivi rapproché.");
    let reply = push(
        &app,
        &psychologist,
        vec![Record::NotebookEntry(note.clone())],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM journal WHERE id = '{}' AND readers = ',psychologist,general_practitioner,'",
            note.id
        ))
        .await,
        1
    );
    // Without its programme it cannot say who reads it: refused.
    let mut loose = restricted(&psychologist, "Sans parcours");
    loose.programme_id = None;
    let reply = push(&app, &psychologist, vec![Record::NotebookEntry(loose)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].programme_id");
    // Who may not read it may not write it.
    for who in [&social, &nurse] {
        let reply = push(
            &app,
            who,
            vec![Record::NotebookEntry(restricted(who, "Essai"))],
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(reply.body["field"], "records[0].author_id");
    }
    // An ordinary entry, for everyone.
    let plain = entry(&nurse, &jeanne, &[], "Bonne nuit, moral meilleur.");
    let reply = push(&app, &nurse, vec![Record::NotebookEntry(plain.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK);

    // The matrix: role × (pull, checksum, answering it).
    let secret = note.text.as_str();
    for (who, role, reads) in [
        (&psychologist, "psychologist", true),
        (&gp, "general practitioner", true),
        (&nurse, "pain nurse", false),
        (&physio, "physiotherapist", false),
        (&social, "social worker", false),
    ] {
        let pulled = app.get_sync("/api/sync/pull?protocol=4", &who.cookie).await;
        let text = pulled.body.to_string();
        assert_eq!(text.contains(secret), reads, "{role}: pull");
        assert!(text.contains("Bonne nuit"), "{role}: the plain entry");
        // Paged one by one, the same.
        let mut cursor = String::new();
        let mut seen = String::new();
        loop {
            let page = app
                .get_sync(
                    &format!("/api/sync/pull?protocol=4&limit=1&cursor={cursor}"),
                    &who.cookie,
                )
                .await;
            seen.push_str(&page.body["records"].to_string());
            cursor = page.body["next_cursor"].as_str().unwrap().to_string();
            if page.body["has_more"] == false {
                break;
            }
        }
        assert_eq!(seen.contains(secret), reads, "{role}: paged pull");
        let sum = app
            .get_sync("/api/sync/checksum?protocol=4", &who.cookie)
            .await;
        let records = sum.body["records"].as_u64().unwrap();
        assert_eq!(records, if reads { 2 } else { 1 }, "{role}: checksum");
    }
    // Answering it: for those who cannot read it, it does not exist.
    for (who, role, reads) in [
        (&psychologist, "psychologist", true),
        (&gp, "general practitioner", true),
        (&nurse, "pain nurse", false),
        (&physio, "physiotherapist", false),
        (&social, "social worker", false),
    ] {
        let mut answer = entry(who, &jeanne, &[], "Vu.");
        answer.reply_to = Some(note.id);
        let reply = push(&app, who, vec![Record::NotebookEntry(answer)]).await;
        if reads {
            assert_eq!(reply.status, StatusCode::OK, "{role}: {}", reply.body);
        } else {
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{role}");
            assert_eq!(reply.body["field"], "records[0].reply_to");
        }
    }
    // Read by the GP: audited, as every read.
    assert!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'read_records' AND patient_id = '{jeanne}' AND account_id = '{}'",
            gp.account_id
        ))
        .await
            >= 1
    );
}
