//! Synthesis meetings through the append lane, on SQLite and PostgreSQL:
//! a sheet per patient on the agenda, with attendees of that patient's
//! team; each attendee's view; the report finalised with steps that are
//! the plan's items; the care team reads it, nobody else. What is refused
//! changes nothing.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use parcours_domain::meeting::{MeetingContribution, MeetingReport, MeetingSheet, MeetingStep};
use parcours_domain::sync::{Record, PROTOCOL_VERSION};
use parcours_domain::{ItemId, RecordId};
use serde_json::{json, Value};

on_both_backends!(a_meeting_s_sheets_are_prepared_finalised_and_read_by_each_patient_s_team);

const NOW: i64 = 1_790_000_000_000;

fn sheet(
    author: &Client,
    patient: &str,
    meeting: uuid::Uuid,
    attendees: &[&Client],
) -> MeetingSheet {
    let (author_id, device_id) = author.ids();
    MeetingSheet {
        id: RecordId::new(),
        patient_id: patient.parse().unwrap(),
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        meeting_id: meeting,
        title: "Concertation douleur de décembre".into(),
        held_on: "2026-12-10".parse().unwrap(),
        programme_id: Some("chronic_pain".into()),
        attendees: attendees.iter().map(|c| c.ids().0).collect(),
    }
}

async fn push(
    app: &TestApp,
    client: &Client,
    records: Vec<Record>,
    mutations: Vec<Value>,
) -> common::Reply {
    app.post_sync(
        "/api/sync/push",
        &client.cookie,
        &json!({ "protocol": PROTOCOL_VERSION, "records": records, "mutations": mutations }),
    )
    .await
}

async fn a_meeting_s_sheets_are_prepared_finalised_and_read_by_each_patient_s_team(
    backend: common::Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let physio = app.session_for("lea").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let meeting = uuid::Uuid::now_v7();

    // An attendee outside a patient's team is refused; nothing is kept.
    let before = app.count("SELECT count(*) FROM journal").await;
    let wrong = sheet(&gp, &henri, meeting, &[&gp, &outsider]);
    let reply = push(&app, &gp, vec![Record::MeetingSheet(wrong)], vec![]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "records[0].attendees[1]");
    assert_eq!(app.count("SELECT count(*) FROM journal").await, before);

    // The agenda: Jeanne and Henri, the GP and the nurse attending.
    let for_jeanne = sheet(&gp, &jeanne, meeting, &[&gp, &nurse]);
    let for_henri = sheet(&gp, &henri, meeting, &[&gp, &nurse]);
    let reply = push(
        &app,
        &gp,
        vec![
            Record::MeetingSheet(for_jeanne.clone()),
            Record::MeetingSheet(for_henri.clone()),
        ],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Each attendee prepares their part.
    for (who, view) in [
        (&nurse, "Douleur mieux contrôlée, sommeil meilleur."),
        (&gp, "Traitement bien toléré."),
    ] {
        let (author_id, device_id) = who.ids();
        let part = MeetingContribution {
            id: RecordId::new(),
            patient_id: for_jeanne.patient_id,
            author_id,
            device_id,
            recorded_at: NOW + 1000,
            amends: None,
            sheet_id: for_jeanne.id,
            view: view.into(),
        };
        let reply = push(&app, who, vec![Record::MeetingContribution(part)], vec![]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    // The physiotherapist is in Jeanne's team but not at the meeting: she
    // writes no view on its sheet, nor its report.
    let before = app.count("SELECT count(*) FROM journal").await;
    let (physio_id, physio_device) = physio.ids();
    let not_attending = MeetingContribution {
        id: RecordId::new(),
        patient_id: for_jeanne.patient_id,
        author_id: physio_id,
        device_id: physio_device,
        recorded_at: NOW + 1000,
        amends: None,
        sheet_id: for_jeanne.id,
        view: "Progrès en kinésithérapie.".into(),
    };
    let reply = push(
        &app,
        &physio,
        vec![Record::MeetingContribution(not_attending)],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].author_id");
    assert_eq!(
        reply.body["error"],
        "Seuls les participants de la réunion écrivent sur sa fiche."
    );
    assert_eq!(app.count("SELECT count(*) FROM journal").await, before);

    // Finalised: a step owned by someone outside the team is refused; the
    // steps owned by the physiotherapist become plan items in the same push.
    let (gp_id, gp_device) = gp.ids();
    let step_item = ItemId::new();
    let report = |owner: &Client| MeetingReport {
        id: RecordId::new(),
        patient_id: for_jeanne.patient_id,
        author_id: gp_id,
        device_id: gp_device,
        recorded_at: NOW + 2000,
        amends: None,
        sheet_id: for_jeanne.id,
        situation: "Amélioration depuis la dernière réunion.".into(),
        decision: "Poursuivre la kinésithérapie six semaines.".into(),
        patient_position: "D'accord ; préfère les séances le matin.".into(),
        steps: vec![MeetingStep {
            item_id: step_item,
            title: "Six séances de kinésithérapie".into(),
            owner_id: owner.ids().0,
            due_on: Some("2027-01-31".parse().unwrap()),
        }],
    };
    let reply = push(
        &app,
        &gp,
        vec![Record::MeetingReport(report(&outsider))],
        vec![],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "records[0].steps[0].owner_id");
    let item = gp.mutation(
        1,
        &step_item.to_string(),
        &jeanne,
        0,
        json!([
            { "field": "title", "value": "Six séances de kinésithérapie" },
            { "field": "owner", "value": physio.account_id },
            { "field": "status", "value": "proposed" },
            { "field": "ends_on", "value": "2027-01-31" },
        ]),
    );
    let finalised = report(&physio);
    let reply = push(
        &app,
        &gp,
        vec![Record::MeetingReport(finalised.clone())],
        vec![item],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // A correction amends the report, by an attendee only; its step stays.
    let correction = |author: &Client| {
        let (author_id, device_id) = author.ids();
        MeetingReport {
            id: RecordId::new(),
            author_id,
            device_id,
            recorded_at: NOW + 3000,
            amends: Some(finalised.id),
            patient_position: "D'accord ; préfère les séances l'après-midi.".into(),
            ..finalised.clone()
        }
    };
    let reply = push(
        &app,
        &physio,
        vec![Record::MeetingReport(correction(&physio))],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let reply = push(
        &app,
        &nurse,
        vec![Record::MeetingReport(correction(&nurse))],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM journal WHERE kind = 'meeting_report' AND amends IS NOT NULL"
        )
        .await,
        1
    );

    // The whole care team reads the sheet, the views and the report, and
    // has the step in the plan; someone outside reads none of it.
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &physio.cookie)
        .await;
    let text = pulled.body.to_string();
    for kind in ["meeting_sheet", "meeting_contribution", "meeting_report"] {
        assert!(text.contains(kind), "{kind}");
    }
    assert!(pulled.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["item"]["id"] == step_item.to_string()));
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &outsider.cookie)
        .await;
    assert!(!pulled.body.to_string().contains("meeting_"));
    // Henri's sheet reaches Henri's team only: the physiotherapist is not in it.
    let physio_sheets = app
        .get_sync("/api/sync/pull?protocol=4", &physio.cookie)
        .await
        .body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "meeting_sheet")
        .count();
    assert_eq!(physio_sheets, 1);
}
