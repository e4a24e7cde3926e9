//! The chronic-pain pathway's records through the sync lanes, on SQLite and
//! PostgreSQL: an inclusion brings a patient in with their care team, who
//! may include, eligibility, consent and exit naming their inclusion, filled
//! instruments whose scores the server checks, visits — and what is refused
//! changes nothing.

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use parcours_domain::enrollment::{Consent, Enrollment, Exit, Identity, Sex, TeamMember};
use parcours_domain::instrument::{Answer, Instrument, ResponseMode};
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::programme::{CriterionKind, Programme};
use parcours_domain::sync::{Record, PROTOCOL_VERSION};
use parcours_domain::visit::{Visit, VisitKind};
use parcours_domain::{PatientId, Profession, RecordId};
use serde_json::{json, Value};
use std::collections::BTreeMap;

on_both_backends!(
    a_gp_includes_a_new_patient_who_reaches_the_whole_team_and_no_one_else,
    an_ineligible_patient_or_an_unauthorised_includer_is_refused_and_nothing_is_created,
    consent_visits_instruments_and_exit_refer_to_what_exists_and_scores_are_checked,
    older_clients_are_not_sent_kinds_they_do_not_know,
    objectives_reviews_and_a_countersigned_tens_order_go_through_the_mutation_lane,
    problems_are_edited_by_the_team_only_and_bad_values_change_nothing,
    a_plan_made_offline_for_a_patient_included_in_the_same_push_is_owned_by_the_new_team,
    a_visit_is_planned_moved_and_kept_from_outsiders,
    a_relapse_is_an_episode_of_the_inclusion_not_an_exit,
);

const NOW: i64 = 1_790_000_000_000;

fn enrollment(author: &Client, gp: &Client, patient: PatientId) -> Enrollment {
    let p = Programme::find("chronic_pain").unwrap();
    let (author_id, device_id) = author.ids();
    Enrollment {
        id: RecordId::new(),
        patient_id: patient,
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        programme_id: p.id.clone(),
        programme_version: p.version,
        included_on: "2026-09-20".parse().unwrap(),
        referring_gp_id: gp.account_id.parse().unwrap(),
        reason: "Lombalgie chronique".into(),
        identity: Identity {
            family_name: "Morel".into(),
            given_name: "Lucie".into(),
            birth_date: "1971-05-02".parse().unwrap(),
            sex: Sex::Female,
            phone: String::new(),
            address: String::new(),
            town: "Pontivy".into(),
            ins: None,
        },
        eligibility: p
            .criteria
            .iter()
            .map(|c| (c.id.clone(), c.kind == CriterionKind::Inclusion))
            .collect(),
        care_team: vec![],
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

async fn pulled_kinds(app: &TestApp, client: &Client, query: &str) -> Vec<String> {
    let reply = app
        .get_sync(&format!("/api/sync/pull?{query}"), &client.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn a_gp_includes_a_new_patient_who_reaches_the_whole_team_and_no_one_else(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let physio = app.session_for("lea").await;
    let nurse = app.session_for("claire").await;
    let outsider = app.session_for("sophie").await;
    let patient = PatientId::new();
    let mut e = enrollment(&gp, &gp, patient);
    for (who, role) in [
        (&physio, Profession::Physiotherapist),
        (&nurse, Profession::PainResourceNurse),
    ] {
        e.care_team.push(TeamMember {
            account_id: who.account_id.parse().unwrap(),
            role,
            from: "2026-09-20".parse().unwrap(),
        });
    }
    let reply = push(&app, &gp, vec![Record::Enrollment(e.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The patient exists, with the GP and the named team.
    let members = app
        .count(&format!(
            "SELECT count(*) FROM care_team_members WHERE patient_id = '{patient}' AND ended_at IS NULL"
        ))
        .await;
    assert_eq!(members, 3);
    for who in [&gp, &physio, &nurse] {
        let caseload = app.get("/api/caseload", &who.cookie).await;
        let found = caseload.body.as_array().unwrap().iter().any(|p| {
            p["id"] == patient.to_string() && p["family_name"] == "Morel" && p["town"] == "Pontivy"
        });
        assert!(found, "{}", caseload.body);
        assert_eq!(
            pulled_kinds(&app, who, "protocol=4").await,
            vec!["enrollment"]
        );
    }
    // Someone outside the team sees nothing, and cannot write for them.
    let caseload = app.get("/api/caseload", &outsider.cookie).await;
    assert!(!caseload.body.to_string().contains("Morel"));
    assert!(pulled_kinds(&app, &outsider, "protocol=4")
        .await
        .iter()
        .all(|k| k != "enrollment"));
    let mut takeover = enrollment(&outsider, &gp, patient);
    takeover.identity.family_name = "Intrus".into();
    let reply = push(&app, &outsider, vec![Record::Enrollment(takeover)]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let name: String = sqlx::query_scalar("SELECT family_name FROM patients WHERE id = $1")
        .bind(patient.to_string())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(name, "Morel");

    // Sent again (a lost acknowledgement): acknowledged, nothing doubled.
    let reply = push(&app, &gp, vec![Record::Enrollment(e.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM journal WHERE patient_id = '{patient}'"
        ))
        .await,
        1
    );
    // Audited: the record, and each membership it opened.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE patient_id = '{patient}' AND detail = 'care_team_open'"
        ))
        .await,
        3
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE patient_id = '{patient}' AND detail = 'enrollment' AND record_id = '{}'",
            e.id
        ))
        .await,
        1
    );
    // The envelope's columns.
    let (device, recorded_at): (String, i64) =
        sqlx::query_as("SELECT device_id, recorded_at FROM journal WHERE id = $1")
            .bind(e.id.to_string())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((device, recorded_at), (gp.device_id.clone(), NOW));
}

async fn an_ineligible_patient_or_an_unauthorised_includer_is_refused_and_nothing_is_created(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let physio = app.session_for("lea").await;
    let before = app.count("SELECT count(*) FROM patients").await;

    let mut cancer = enrollment(&gp, &gp, PatientId::new());
    cancer
        .eligibility
        .insert("ongoing_cancer_treatment".into(), true);
    let reply = push(&app, &gp, vec![Record::Enrollment(cancer)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["field"],
        "records[0].eligibility.ongoing_cancer_treatment"
    );
    assert!(reply.body["error"].as_str().unwrap().contains("cancer"));

    let mut fourteen = enrollment(&gp, &gp, PatientId::new());
    fourteen.identity.birth_date = "2011-09-21".parse().unwrap();
    let reply = push(&app, &gp, vec![Record::Enrollment(fourteen.clone())]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].identity.birth_date");
    // Fifteen that very day: included.
    fourteen.identity.birth_date = "2011-09-20".parse().unwrap();
    fourteen.id = RecordId::new();
    let reply = push(&app, &gp, vec![Record::Enrollment(fourteen)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let reply = push(
        &app,
        &physio,
        vec![Record::Enrollment(enrollment(
            &physio,
            &gp,
            PatientId::new(),
        ))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].author_id");

    // A nurse includes for a GP; not for a physiotherapist.
    let reply = push(
        &app,
        &nurse,
        vec![Record::Enrollment(enrollment(
            &nurse,
            &physio,
            PatientId::new(),
        ))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].referring_gp_id");
    let reply = push(
        &app,
        &nurse,
        vec![Record::Enrollment(enrollment(
            &nurse,
            &gp,
            PatientId::new(),
        ))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    assert_eq!(
        app.count("SELECT count(*) FROM patients").await,
        before + 2,
        "only the two accepted inclusions created a patient"
    );
    // Every refusal is audited.
    assert!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'refused'")
            .await
            >= 4
    );
}

fn consent(author: &Client, e: &Enrollment) -> Consent {
    let p = Programme::find(&e.programme_id).unwrap();
    let (author_id, device_id) = author.ids();
    Consent {
        id: RecordId::new(),
        patient_id: e.patient_id,
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        enrollment_id: e.id,
        programme_id: p.id.clone(),
        contract_version: p.consent.version.clone(),
        consented_on: "2026-09-21".parse().unwrap(),
        collected_by: author_id,
        starts_on: "2026-09-21".parse().unwrap(),
        planned_end_on: "2027-09-21".parse().unwrap(),
    }
}

fn response(author: &Client, patient: PatientId, visit: Option<RecordId>) -> InstrumentResponse {
    let ins = Instrument::find("dn4").unwrap();
    let (author_id, device_id) = author.ids();
    let answers: BTreeMap<String, Answer> = ins
        .items
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                Answer::YesNo(i.id == "burning" || i.id == "brushing"),
            )
        })
        .collect();
    InstrumentResponse {
        id: RecordId::new(),
        patient_id: patient,
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        instrument_id: ins.id.clone(),
        instrument_version: ins.version.clone(),
        language: ins.language.clone(),
        mode: ResponseMode::Examination,
        visit_id: visit,
        scores: ins.score(&answers),
        answers,
    }
}

async fn consent_visits_instruments_and_exit_refer_to_what_exists_and_scores_are_checked(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let jeanne: PatientId = app.patient_id("Lefèvre").await.parse().unwrap();
    let e = enrollment(&nurse, &gp, jeanne);
    let journal_before = app.count("SELECT count(*) FROM journal").await;

    // A consent naming an inclusion the server does not have: refused.
    let reply = push(&app, &nurse, vec![Record::Consent(consent(&nurse, &e))]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].enrollment_id");
    // The inclusion earlier in the same push: accepted, for an existing
    // patient of the nurse's team (no new patient).
    let (nurse_id, nurse_device) = nurse.ids();
    let visit = Visit {
        id: RecordId::new(),
        patient_id: jeanne,
        author_id: nurse_id,
        device_id: nurse_device,
        recorded_at: NOW,
        amends: None,
        visit_type: VisitKind::Home,
        started_at: NOW - 3_600_000,
        duration_minutes: 60,
        place: "Domicile".into(),
        with: vec![],
        actions: vec!["Évaluation initiale".into()],
        notes: String::new(),
        evaluation: None,
    };
    let reply = push(
        &app,
        &nurse,
        vec![
            Record::Enrollment(e.clone()),
            Record::Consent(consent(&nurse, &e)),
            Record::Visit(visit.clone()),
            Record::InstrumentResponse(response(&nurse, jeanne, Some(visit.id))),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.count("SELECT count(*) FROM journal").await,
        journal_before + 4
    );

    // Forged scores, examination items answered in an interview, an
    // unknown visit, a consent for another patient's inclusion.
    let mut forged = response(&nurse, jeanne, None);
    forged.scores[0].value = Some(parcours_domain::instrument::Hundredths(1000));
    let mut interview = response(&nurse, jeanne, None);
    interview.mode = ResponseMode::Interview;
    let unknown_visit = response(&nurse, jeanne, Some(RecordId::new()));
    let other: PatientId = app.patient_id("Roux").await.parse().unwrap();
    let mut crossed = consent(&nurse, &e);
    crossed.patient_id = other;
    let mut bad_exit = Exit {
        id: RecordId::new(),
        patient_id: jeanne,
        author_id: nurse_id,
        device_id: nurse_device,
        recorded_at: NOW,
        amends: None,
        enrollment_id: e.id,
        programme_id: "chronic_pain".into(),
        exited_on: "2026-09-22".parse().unwrap(),
        reason: "lassitude".into(),
        note: String::new(),
    };
    for (record, status, field) in [
        (
            Record::InstrumentResponse(forged),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].scores",
        ),
        (
            Record::InstrumentResponse(interview),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].answers.brushing",
        ),
        (
            Record::InstrumentResponse(unknown_visit),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].visit_id",
        ),
        (
            Record::Exit(bad_exit.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].reason",
        ),
    ] {
        let reply = push(&app, &nurse, vec![record]).await;
        assert_eq!(reply.status, status, "{field}: {}", reply.body);
        assert_eq!(reply.body["field"], field);
    }
    // Another team's patient: the nurse is no member — the same 404 as
    // for an unknown patient, whatever the record says.
    let reply = push(&app, &nurse, vec![Record::Consent(crossed)]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(
        app.count("SELECT count(*) FROM journal").await,
        journal_before + 4,
        "refusals stored nothing"
    );
    bad_exit.reason = "goals_met".into();
    let reply = push(&app, &nurse, vec![Record::Exit(bad_exit)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The GP, in the team, receives all of it.
    let kinds = pulled_kinds(&app, &gp, "protocol=4").await;
    for kind in [
        "enrollment",
        "consent",
        "visit",
        "instrument_response",
        "exit",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

async fn older_clients_are_not_sent_kinds_they_do_not_know(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let reply = app
        .post_sync(
            "/api/sync/push",
            &nurse.cookie,
            &common::push_body(vec![nurse.assessment(&jeanne, 4)]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let e = enrollment(&nurse, &gp, jeanne.parse().unwrap());
    let reply = push(&app, &nurse, vec![Record::Enrollment(e)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    assert_eq!(
        pulled_kinds(&app, &gp, "").await,
        vec!["pain_assessment"],
        "a version-3 client"
    );
    assert_eq!(
        pulled_kinds(&app, &gp, "protocol=4").await,
        vec!["pain_assessment", "enrollment"]
    );
    let checksum = |q: &'static str| {
        let (app, gp) = (&app, &gp);
        async move {
            app.get_sync(&format!("/api/sync/checksum?{q}"), &gp.cookie)
                .await
                .body
        }
    };
    let v3: Value = checksum("protocol=3").await;
    let v4: Value = checksum("protocol=4").await;
    assert_eq!(
        (v3["records"].as_u64(), v4["records"].as_u64()),
        (Some(1), Some(2))
    );
}

fn edit(
    client: &Client,
    kind: &str,
    id: u64,
    item: &str,
    patient: &str,
    base: u64,
    changes: Value,
) -> Value {
    let mut m = client.mutation(id, item, patient, base, changes);
    m["kind"] = kind.into();
    m
}

async fn push_mutations(app: &TestApp, client: &Client, mutations: Vec<Value>) -> common::Reply {
    app.post_sync(
        "/api/sync/push",
        &client.cookie,
        &json!({ "protocol": PROTOCOL_VERSION, "mutations": mutations }),
    )
    .await
}

async fn objectives_reviews_and_a_countersigned_tens_order_go_through_the_mutation_lane(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let plan = parcours_domain::care_plan::CarePlan::id_for(jeanne.parse().unwrap()).to_string();
    let (objective, review, tens) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let reply = push_mutations(
        &app,
        &nurse,
        vec![
            edit(&nurse, "care_plan", 1, &plan, &jeanne, 0, json!([
                { "field": "owner", "value": nurse.account_id },
                { "field": "irdp", "value": nurse.account_id },
                { "field": "expectations", "value": "Pouvoir jardiner" },
            ])),
            edit(&nurse, "objective", 2, &objective, &jeanne, 0, json!([
                { "field": "title", "value": "Douleur moyenne ≤ 4" },
                { "field": "owner", "value": nurse.account_id },
                { "field": "status", "value": "active" },
                { "field": "due_on", "value": "2027-03-01" },
            ])),
            edit(&nurse, "review", 3, &review, &jeanne, 0, json!([
                { "field": "review_type", "value": "irdp_gp" },
                { "field": "owner", "value": nurse.account_id },
                { "field": "due_on", "value": "2026-12-24" },
                { "field": "status", "value": "planned" },
            ])),
            edit(&nurse, "care_plan_item", 4, &tens, &jeanne, 0, json!([
                { "field": "title", "value": "TENS lombaire" },
                { "field": "owner", "value": nurse.account_id },
                { "field": "status", "value": "active" },
                { "field": "category", "value": "tens" },
                { "field": "legal_basis", "value": "Prescription infirmière (arrêté du 20 mars 2012)" },
            ])),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let pulled = app.get_sync("/api/sync/pull?protocol=4", &gp.cookie).await;
    let mut kinds: Vec<&str> = pulled.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        vec!["care_plan", "care_plan_item", "objective", "review"]
    );
    // A version-3 client gets the care-plan item only.
    let pulled = app.get_sync("/api/sync/pull", &gp.cookie).await;
    assert_eq!(pulled.body["items"].as_array().unwrap().len(), 1);
    // Nobody outside the team.
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &outsider.cookie)
        .await;
    assert!(!pulled.body.to_string().contains(&objective));

    // The nurse cannot countersign her own order; the GP can, in his name.
    let sign = |who: &Client| json!([{ "field": "countersignature", "value": { "by": who.account_id, "on": "2026-11-24" } }]);
    let reply = push_mutations(
        &app,
        &nurse,
        vec![edit(
            &nurse,
            "care_plan_item",
            5,
            &tens,
            &jeanne,
            1,
            sign(&nurse),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "mutations[0].changes[0].value");
    let reply = push_mutations(
        &app,
        &gp,
        vec![edit(
            &gp,
            "care_plan_item",
            1,
            &tens,
            &jeanne,
            1,
            sign(&nurse),
        )],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "someone else's name: {}",
        reply.body
    );
    let reply = push_mutations(
        &app,
        &gp,
        vec![edit(&gp, "care_plan_item", 1, &tens, &jeanne, 1, sign(&gp))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body: String = sqlx::query_scalar("SELECT body FROM journal WHERE id = $1")
        .bind(&tens)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        state["item"]["countersignature"]["by"],
        gp.account_id.as_str()
    );

    // An objective owned by someone outside the team; an unknown kind; a
    // kind that is not the item's.
    let reply = push_mutations(
        &app,
        &nurse,
        vec![edit(
            &nurse,
            "objective",
            5,
            &objective,
            &jeanne,
            1,
            json!([{ "field": "owner", "value": outsider.account_id }]),
        )],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let reply = push_mutations(
        &app,
        &nurse,
        vec![edit(
            &nurse,
            "horoscope",
            5,
            &objective,
            &jeanne,
            1,
            json!([]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body["field"], "mutations[0].kind");
    let reply = push_mutations(
        &app,
        &nurse,
        vec![edit(
            &nurse,
            "objective",
            5,
            &review,
            &jeanne,
            1,
            json!([{ "field": "notes", "value": "x" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);

    // The GP, not seeing the nurse's start, starts the plan too: merged.
    let reply = push_mutations(
        &app,
        &gp,
        vec![edit(
            &gp,
            "care_plan",
            2,
            &plan,
            &jeanne,
            0,
            json!([
                { "field": "owner", "value": gp.account_id },
                { "field": "expectations", "value": "Dormir la nuit" },
            ]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let history = app
        .get(&format!("/api/items/{plan}/history"), &gp.cookie)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(history.body.as_array().unwrap().len(), 2);
    assert_eq!(history.body[1]["mutation"]["kind"], "care_plan");
    let history = app
        .get(&format!("/api/items/{objective}/history"), &outsider.cookie)
        .await;
    assert_eq!(history.status, StatusCode::NOT_FOUND);
}

async fn problems_are_edited_by_the_team_only_and_bad_values_change_nothing(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let physio = app.session_for("lea").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let problem = uuid::Uuid::now_v7().to_string();
    let versions = "SELECT count(*) FROM item_versions";
    let before = app.count(versions).await;

    // A domain that does not exist, an empty description: refused, named, nothing stored.
    for (changes, field) in [
        (
            json!([
                { "field": "domain", "value": "astrological" },
                { "field": "description", "value": "Isolement" },
                { "field": "priority", "value": "high" },
                { "field": "status", "value": "open" },
                { "field": "owner", "value": nurse.account_id },
            ]),
            "mutations[0]",
        ),
        (
            json!([
                { "field": "domain", "value": "social" },
                { "field": "description", "value": "   " },
                { "field": "priority", "value": "high" },
                { "field": "status", "value": "open" },
                { "field": "owner", "value": nurse.account_id },
            ]),
            "mutations[0].changes",
        ),
    ] {
        let reply = push_mutations(
            &app,
            &nurse,
            vec![edit(&nurse, "problem", 1, &problem, &jeanne, 0, changes)],
        )
        .await;
        assert!(reply.status.is_client_error(), "{}", reply.body);
        let named = reply.body["field"].as_str().unwrap_or_default();
        assert!(named.starts_with(field), "names the field: {}", reply.body);
    }
    assert_eq!(app.count(versions).await, before, "nothing stored");

    let reply = push_mutations(
        &app,
        &nurse,
        vec![edit(
            &nurse,
            "problem",
            1,
            &problem,
            &jeanne,
            0,
            json!([
                { "field": "domain", "value": "social" },
                { "field": "description", "value": "Isolement depuis le déménagement de sa fille" },
                { "field": "priority", "value": "high" },
                { "field": "status", "value": "open" },
                { "field": "owner", "value": nurse.account_id },
            ]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The physiotherapist, in the team, marks it resolved; the outsider cannot.
    let reply = push_mutations(
        &app,
        &physio,
        vec![edit(
            &physio,
            "problem",
            1,
            &problem,
            &jeanne,
            1,
            json!([{ "field": "status", "value": "resolved" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = push_mutations(
        &app,
        &outsider,
        vec![edit(
            &outsider,
            "problem",
            1,
            &problem,
            &jeanne,
            2,
            json!([{ "field": "priority", "value": "low" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let history = app
        .get(&format!("/api/items/{problem}/history"), &nurse.cookie)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(
        history.body.as_array().map(Vec::len),
        Some(2),
        "{}",
        history.body
    );
    assert_eq!(
        history.body[1]["mutation"]["changes"][0]["value"],
        "resolved"
    );
}

async fn a_plan_made_offline_for_a_patient_included_in_the_same_push_is_owned_by_the_new_team(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let outsider = app.session_for("sophie").await;
    let patient = PatientId::new();
    let mut e = enrollment(&gp, &gp, patient);
    e.care_team.push(TeamMember {
        account_id: nurse.account_id.parse().unwrap(),
        role: Profession::PainResourceNurse,
        from: "2026-09-20".parse().unwrap(),
    });
    let item = |owner: &str| {
        let mut m = gp.create_item(
            1,
            &uuid::Uuid::now_v7().to_string(),
            &patient.to_string(),
            owner,
        );
        m["kind"] = "care_plan_item".into();
        m
    };
    let body = |mutation: Value| json!({ "protocol": PROTOCOL_VERSION, "records": [Record::Enrollment(e.clone())], "mutations": [mutation] });
    // Owned by someone outside the team it opens with: refused, nothing created.
    let reply = app
        .post_sync(
            "/api/sync/push",
            &gp.cookie,
            &body(item(&outsider.account_id)),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM patients WHERE id = '{patient}'"
        ))
        .await,
        0
    );
    // Owned by the nurse the inclusion names: the patient, the team and the item, together.
    let reply = app
        .post_sync("/api/sync/push", &gp.cookie, &body(item(&nurse.account_id)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &nurse.cookie)
        .await;
    assert_eq!(
        pulled.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        pulled.body
    );
    assert_eq!(
        pulled.body["items"][0]["item"]["owner_id"],
        nurse.account_id.as_str()
    );
}

async fn a_visit_is_planned_moved_and_kept_from_outsiders(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let visit = uuid::Uuid::now_v7().to_string();
    let create = |time: &str| {
        edit(
            &nurse,
            "appointment",
            1,
            &visit,
            &jeanne,
            0,
            json!([
                { "field": "on", "value": "2026-12-02" },
                { "field": "time", "value": time },
                { "field": "visit_type", "value": "home" },
                { "field": "owner", "value": nurse.account_id },
                { "field": "status", "value": "planned" },
            ]),
        )
    };
    let reply = push_mutations(&app, &nurse, vec![create("25:00")]).await;
    assert!(reply.status.is_client_error(), "{}", reply.body);
    assert!(
        reply.body["field"]
            .as_str()
            .unwrap_or_default()
            .starts_with("mutations[0]"),
        "{}",
        reply.body
    );
    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'appointment'")
            .await,
        0
    );
    let reply = push_mutations(&app, &nurse, vec![create("14:30")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The GP, in the team, moves it; the outsider can neither move nor see it.
    let reply = push_mutations(
        &app,
        &gp,
        vec![edit(
            &gp,
            "appointment",
            1,
            &visit,
            &jeanne,
            1,
            json!([{ "field": "time", "value": "16:00" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = push_mutations(
        &app,
        &outsider,
        vec![edit(
            &outsider,
            "appointment",
            1,
            &visit,
            &jeanne,
            2,
            json!([{ "field": "status", "value": "cancelled" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &outsider.cookie)
        .await;
    assert!(!pulled.body.to_string().contains(&visit), "{}", pulled.body);
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &nurse.cookie)
        .await;
    let item = pulled.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"]["id"] == visit.as_str())
        .cloned();
    assert_eq!(
        item.map(|i| i["item"]["time"].clone()),
        Some(json!("16:00"))
    );
}

async fn a_relapse_is_an_episode_of_the_inclusion_not_an_exit(backend: Backend) {
    use parcours_domain::episode::{Episode, EpisodeKind};
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let outsider = app.session_for("sophie").await;
    let patient = PatientId::new();
    let inclusion = enrollment(&gp, &gp, patient);
    let reply = push(&app, &gp, vec![Record::Enrollment(inclusion.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (author_id, device_id) = gp.ids();
    let episode = |enrollment_id: RecordId, patient_id: PatientId, kind: EpisodeKind| Episode {
        id: RecordId::new(),
        patient_id,
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        enrollment_id,
        episode_kind: kind,
        on: "2026-09-18".parse().unwrap(),
        note: "Plus de nouvelles depuis trois semaines.".into(),
    };
    let relapse = episode(inclusion.id, patient, EpisodeKind::BreakInFollowUp);
    let reply = push(&app, &gp, vec![Record::Episode(relapse.clone())]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        pulled_kinds(&app, &gp, "protocol=4").await,
        vec!["enrollment", "episode"]
    );
    // An episode names an inclusion of the same patient.
    let before = app.count("SELECT count(*) FROM journal").await;
    let reply = push(
        &app,
        &gp,
        vec![Record::Episode(episode(
            RecordId::new(),
            patient,
            EpisodeKind::Relapse,
        ))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "records[0].enrollment_id");
    let jeanne: PatientId = app.patient_id("Lefèvre").await.parse().unwrap();
    let reply = push(
        &app,
        &gp,
        vec![Record::Episode(episode(
            inclusion.id,
            jeanne,
            EpisodeKind::Relapse,
        ))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Outside the team: not found, and nothing stored.
    let mut theirs = episode(inclusion.id, patient, EpisodeKind::Relapse);
    theirs.author_id = outsider.account_id.parse().unwrap();
    theirs.device_id = outsider.device_id.parse().unwrap();
    let reply = push(&app, &outsider, vec![Record::Episode(theirs)]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM journal").await, before);
    // The pathway goes on: no exit was made.
    assert_eq!(
        app.count("SELECT count(*) FROM journal WHERE kind = 'exit'")
            .await,
        0
    );
}
