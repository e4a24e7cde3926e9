//! Coordination support on SQLite and PostgreSQL: a social worker of the
//! team asks; the queue is the coordinators' alone (and audited); a
//! coordinator outside the team sees the request, not the patient's file,
//! until they take it — which makes them a member, once; then they assess,
//! plan steps as care-plan items and follow up. What is refused changes
//! nothing.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use parcours_domain::coordination::{
    CoordinationEvent, CoordinationRequest, CoordinationStep, Need, NeedDomain, NeedsAssessment,
    Urgency, STEP_CATEGORY,
};
use parcours_domain::sync::{Record, PROTOCOL_VERSION};
use parcours_domain::{Profession, RecordId};
use parcours_server::admin::{self, NewAccount};
use parcours_server::audit::Actor;
use serde_json::json;

on_both_backends!(a_request_goes_from_the_team_to_the_queue_to_a_coordinator_who_follows_it_up);

const NOW: i64 = 1_790_000_000_000;

fn request(author: &Client, patient: &str, urgency: Urgency, details: &str) -> CoordinationRequest {
    let (author_id, device_id) = author.ids();
    CoordinationRequest {
        id: RecordId::new(),
        patient_id: patient.parse().unwrap(),
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        reasons: "Vit seule, chutes répétées, refuse les aides à domicile.".into(),
        urgency,
        urgent_details: details.into(),
        domains: vec![NeedDomain::Social, NeedDomain::Housing],
    }
}

fn assessment(author: &Client, request: &CoordinationRequest) -> NeedsAssessment {
    let (author_id, device_id) = author.ids();
    NeedsAssessment {
        id: RecordId::new(),
        patient_id: request.patient_id,
        author_id,
        device_id,
        recorded_at: NOW + 86_400_000,
        amends: None,
        request_id: request.id,
        patient_contacted: true,
        gp_contacted: true,
        needs: vec![Need {
            domain: NeedDomain::Housing,
            existing: "Aide-ménagère 2 h par semaine".into(),
            needed: "Téléassistance, barres d'appui".into(),
        }],
        summary: String::new(),
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

const QUEUE: &str = "/api/coordination/queue?today=2026-09-22&offset_minutes=120";

async fn a_request_goes_from_the_team_to_the_queue_to_a_coordinator_who_follows_it_up(
    backend: common::Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let jeanne = app.patient_id("Lefèvre").await;
    let operator = Actor::operator("test");
    admin::create_account(
        &app.db,
        &operator,
        NewAccount {
            username: "nadia",
            display_name: "Nadia Benali",
            profession: Profession::SocialWorker,
            password: "service-social-cpts",
        },
    )
    .await
    .unwrap();
    admin::add_to_care_team(&app.db, &operator, &jeanne, "nadia")
        .await
        .unwrap();
    let social_worker = app.session_for("nadia").await;
    let gp = app.session_for("dr.durand").await;
    let physio = app.session_for("lea").await;
    let in_team_coordinator = app.session_for("claire").await;
    // Sophie coordinates too, for another team: Jeanne is not hers.
    let coordinator = app.session_for("sophie").await;

    // The social worker asks; what is urgent must be said.
    let before = app.count("SELECT count(*) FROM journal").await;
    let vague = request(&social_worker, &jeanne, Urgency::Soon, "");
    let reply = push(
        &app,
        &social_worker,
        vec![Record::CoordinationRequest(vague)],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "records[0].urgent_details");
    assert_eq!(app.count("SELECT count(*) FROM journal").await, before);
    let asked = request(
        &social_worker,
        &jeanne,
        Urgency::Soon,
        "Plus de repas livrés depuis lundi.",
    );
    let reply = push(
        &app,
        &social_worker,
        vec![Record::CoordinationRequest(asked.clone())],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The queue is the coordinators' alone.
    for who in [&social_worker, &gp, &physio] {
        let reply = app.get(QUEUE, &who.cookie).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    let reply = app
        .get("/api/coordination/queue", &coordinator.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["field"], "today");
    let queue = app.get(QUEUE, &coordinator.cookie).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let entries = queue.body.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["request"]["id"], asked.id.to_string());
    assert_eq!(entry["patient_name"], "LEFÈVRE Jeanne");
    assert_eq!(
        entry["asked_by"],
        "Nadia Benali (assistant·e de service social)"
    );
    assert_eq!(entry["progress"]["status"], "new");
    assert_eq!(entry["in_my_team"], false);
    let me = &coordinator.account_id;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE account_id = '{me}' AND patient_id = '{jeanne}'
             AND action = 'read_records' AND detail = 'coordination_queue'"
        ))
        .await,
        1
    );

    // Before taking it, Jeanne's file is not hers: nothing pulled, nothing written.
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &coordinator.cookie)
        .await;
    assert!(!pulled.body.to_string().contains(&jeanne));
    let early = assessment(&coordinator, &asked);
    let reply = push(&app, &coordinator, vec![Record::NeedsAssessment(early)]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    // Nor is taking a record a device may send.
    let (coordinator_id, coordinator_device) = coordinator.ids();
    let forged = CoordinationEvent {
        id: RecordId::new(),
        patient_id: asked.patient_id,
        author_id: coordinator_id,
        device_id: coordinator_device,
        recorded_at: NOW,
        amends: None,
        request_id: asked.id,
        on: "2026-09-22".parse().unwrap(),
        step: CoordinationStep::Taken,
        note: String::new(),
    };
    let reply = push(
        &app,
        &in_team_coordinator,
        vec![Record::CoordinationEvent(CoordinationEvent {
            author_id: in_team_coordinator.ids().0,
            device_id: in_team_coordinator.ids().1,
            ..forged.clone()
        })],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].event");

    // Taking it: only a coordinator, a request that exists, once.
    let take = |id: String| format!("/api/coordination/requests/{id}/take");
    let today = json!({ "on": "2026-09-22" });
    let reply = app
        .post(&take(asked.id.to_string()), &gp.cookie, &today)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app
        .post(
            &take(uuid::Uuid::now_v7().to_string()),
            &coordinator.cookie,
            &today,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .post(
            &take(asked.id.to_string()),
            &coordinator.cookie,
            &json!({ "on": "hier" }),
        )
        .await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM care_team_members WHERE account_id = '{me}' AND patient_id = '{jeanne}'"
        ))
        .await,
        0
    );
    let reply = app
        .post(&take(asked.id.to_string()), &coordinator.cookie, &today)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["event"], "taken");
    let reply = app
        .post(
            &take(asked.id.to_string()),
            &in_team_coordinator.cookie,
            &today,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body["error"]
        .as_str()
        .unwrap()
        .contains("Sophie Bernard"));

    // Now a member: she pulls Jeanne's file, the request and who took it.
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &coordinator.cookie)
        .await;
    let kinds: Vec<&str> = pulled.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["patient_id"] == jeanne.as_str())
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"coordination_request"), "{kinds:?}");
    assert!(kinds.contains(&"coordination_event"), "{kinds:?}");

    // She assesses and follows up; the physiotherapist may not.
    let by_physio = assessment(&physio, &asked);
    let reply = push(&app, &physio, vec![Record::NeedsAssessment(by_physio)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].author_id");
    let check_in = CoordinationEvent {
        id: RecordId::new(),
        recorded_at: NOW + 2 * 86_400_000,
        on: "2026-09-24".parse().unwrap(),
        step: CoordinationStep::CheckIn {
            next_on: Some("2026-10-08".parse().unwrap()),
        },
        note: "Téléassistance demandée ; passage de l'ergothérapeute prévu.".into(),
        ..forged
    };
    let reply = push(
        &app,
        &coordinator,
        vec![
            Record::NeedsAssessment(assessment(&coordinator, &asked)),
            Record::CoordinationEvent(check_in),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // A step of the plan, owned by the physiotherapist: a care-plan item.
    let step = uuid::Uuid::now_v7().to_string();
    let reply = app
        .post_sync(
            "/api/sync/push",
            &coordinator.cookie,
            &json!({
                "protocol": PROTOCOL_VERSION,
                "records": [],
                "mutations": [coordinator.mutation(1, &step, &jeanne, 0, json!([
                    { "field": "title", "value": "Bilan de la marche et des transferts" },
                    { "field": "owner", "value": physio.account_id },
                    { "field": "status", "value": "active" },
                    { "field": "category", "value": STEP_CATEGORY },
                    { "field": "ends_on", "value": "2026-10-01" },
                ]))],
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let queue = app.get(QUEUE, &coordinator.cookie).await;
    let entry = &queue.body.as_array().unwrap()[0];
    assert_eq!(entry["progress"]["status"], "follow_up");
    assert_eq!(entry["progress"]["next_check_in"], "2026-10-08");
    assert_eq!(
        entry["taken_by_name"],
        "Sophie Bernard (infirmière ressource douleur)"
    );
    assert_eq!(entry["in_my_team"], true);
}
