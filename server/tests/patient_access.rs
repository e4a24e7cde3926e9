//! A patient's own account, on SQLite and PostgreSQL: invitations (one use,
//! 7 days, revocable, clear refusals), and the access matrix — a patient ×
//! every route and both lanes, a professional outside the team × the diary.

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use parcours_domain::diary::{DiaryEntry, MedicineTaken, Mood};
use parcours_domain::enrollment::{Enrollment, Identity, Sex};
use parcours_domain::patient_share::PatientShare;
use parcours_domain::programme::{CriterionKind, Programme};
use parcours_domain::sync::{Record, PROTOCOL_VERSION};
use parcours_domain::visit::{Visit, VisitKind};
use parcours_domain::{PatientId, RecordId};
use serde_json::{json, Value};

on_both_backends!(
    an_invitation_opens_one_account_once_and_says_why_it_cannot,
    a_patient_reads_and_writes_their_own_diary_and_nothing_else,
);

const NOW: i64 = 1_790_000_000_000;
const SECRET: &str = "NOTE-DE-L-EQUIPE";

/// Jeanne Lefèvre (a demo patient) included in the pain pathway by her GP.
fn inclusion(gp: &Client, patient: PatientId) -> Record {
    let p = Programme::find("chronic_pain").unwrap();
    let (author_id, device_id) = gp.ids();
    Record::Enrollment(Enrollment {
        id: RecordId::new(),
        patient_id: patient,
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        programme_id: p.id.clone(),
        programme_version: p.version,
        included_on: "2026-09-20".parse().unwrap(),
        referring_gp_id: author_id,
        reason: "Lombalgie chronique".into(),
        identity: Identity {
            family_name: "Lefèvre".into(),
            given_name: "Jeanne".into(),
            birth_date: "1948-03-14".parse().unwrap(),
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
    })
}

fn diary(author: &Client, patient: PatientId, day: &str, average: u8) -> DiaryEntry {
    let (author_id, device_id) = author.ids();
    DiaryEntry {
        id: RecordId::new(),
        patient_id: patient,
        author_id,
        device_id,
        recorded_at: NOW,
        amends: None,
        on: day.parse().unwrap(),
        pain_now: average,
        pain_average: average,
        pain_worst: average + 1,
        sleep: Some(6),
        activities: vec![],
        medicines: vec![MedicineTaken {
            name: "Paracétamol 1 g".into(),
            as_needed: false,
            taken_at: None,
        }],
        mood: Some(Mood::Good),
        better: String::new(),
        worse: String::new(),
        note: "Bonne journée".into(),
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

fn edit(client: &Client, kind: &str, id: u64, item: &str, patient: &str, changes: Value) -> Value {
    let mut m = client.mutation(id, item, patient, 0, changes);
    m["kind"] = kind.into();
    m
}

fn activation(code: &str, username: &str) -> Value {
    json!({
        "code": code,
        "username": username,
        "password": "mon jardin fleuri",
        "device_id": uuid::Uuid::new_v4(),
    })
}

async fn activate(app: &TestApp, body: &Value) -> common::Reply {
    app.request(
        "POST",
        "/api/invitations/activate",
        None,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

/// The patient's client after activation (cookie, account, device).
fn patient_client(reply: &common::Reply, body: &Value) -> Client {
    Client {
        cookie: reply.set_cookie.clone().expect("session cookie"),
        account_id: reply.body["account_id"].as_str().unwrap().to_string(),
        device_id: reply.body["device_id"]
            .as_str()
            .unwrap_or(body["device_id"].as_str().unwrap())
            .to_string(),
    }
}

async fn invite(app: &TestApp, who: &Client, patient: &str) -> common::Reply {
    app.post(
        &format!("/api/patients/{patient}/invitations"),
        &who.cookie,
        &json!({}),
    )
    .await
}

async fn an_invitation_opens_one_account_once_and_says_why_it_cannot(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;

    // Only an included patient can be invited.
    let reply = invite(&app, &nurse, &jeanne).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "patient_id");
    let reply = push(
        &app,
        &gp,
        vec![inclusion(&gp, jeanne.parse().unwrap())],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Someone outside her team can neither invite nor see invitations.
    let reply = invite(&app, &outsider, &jeanne).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .get(
            &format!("/api/patients/{jeanne}/invitations"),
            &outsider.cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let reply = invite(&app, &nurse, &jeanne).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let code = reply.body["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 12);
    let expires_at = reply.body["expires_at"].as_i64().unwrap();
    assert!((expires_at - parcours_server::clock::now_ms() - 7 * 86_400_000).abs() < 60_000);
    // Only the hash is kept.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM invitations WHERE code_hash = '{code}'"
        ))
        .await,
        0
    );
    let list = app
        .get(
            &format!("/api/patients/{jeanne}/invitations"),
            &nurse.cookie,
        )
        .await;
    assert_eq!(list.body[0]["status"], "live", "{}", list.body);
    assert_eq!(list.body[0]["created_by"], "Claire Martin");

    // Every problem of a bad request at once is not needed here: the first
    // one named, nothing used.
    let mut bad = activation(&code, "jeanne.lefevre");
    bad["password"] = "court".into();
    let reply = activate(&app, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "password");
    // An identifier someone has: refused, and the code stays usable.
    let reply = activate(&app, &activation(&code, "claire")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["field"], "username");

    // Typed in lower case with spaces: the same code.
    let typed = format!("{} {} {}", &code[..4], &code[4..8], &code[8..]).to_lowercase();
    let body = activation(&typed, "jeanne.lefevre");
    let reply = activate(&app, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["patient_id"], jeanne);
    assert_eq!(reply.body["profession"], Value::Null);
    assert_eq!(reply.body["display_name"], "Jeanne Lefèvre");
    let patient = patient_client(&reply, &body);
    let me = app.get("/api/session", &patient.cookie).await;
    assert_eq!(me.body["patient_id"], jeanne);

    // Used once: a second use, even with another identifier, is refused.
    let reply = activate(&app, &activation(&code, "quelqu.un")).await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert!(reply.body["error"].as_str().unwrap().contains("déjà servi"));
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE username = 'quelqu.un'")
            .await,
        0
    );
    // The account signs in with what she chose.
    let reply = app
        .request(
            "POST",
            "/api/session",
            None,
            Some((
                "application/json",
                json!({ "username": "jeanne.lefevre", "password": "mon jardin fleuri", "device_id": uuid::Uuid::new_v4() })
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Revoked and expired codes say so; an unknown one too.
    let revoked = invite(&app, &nurse, &jeanne).await;
    let revoked_id = revoked.body["id"].as_str().unwrap();
    let reply = app
        .post(
            &format!("/api/invitations/{revoked_id}/revoke"),
            &outsider.cookie,
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .post(
            &format!("/api/invitations/{revoked_id}/revoke"),
            &nurse.cookie,
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = app
        .post(
            &format!("/api/invitations/{revoked_id}/revoke"),
            &nurse.cookie,
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = activate(
        &app,
        &activation(revoked.body["code"].as_str().unwrap(), "jl2"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert!(reply.body["error"].as_str().unwrap().contains("annulé"));

    let expired = invite(&app, &gp, &jeanne).await;
    sqlx::query("UPDATE invitations SET expires_at = 1 WHERE id = $1")
        .bind(expired.body["id"].as_str().unwrap())
        .execute(&app.db.pool)
        .await
        .unwrap();
    let reply = activate(
        &app,
        &activation(expired.body["code"].as_str().unwrap(), "jl3"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert!(reply.body["error"].as_str().unwrap().contains("expiré"));
    let reply = activate(&app, &activation("ABCD-EFGH-JKMN", "jl4")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["field"], "code");

    let list = app
        .get(
            &format!("/api/patients/{jeanne}/invitations"),
            &nurse.cookie,
        )
        .await;
    let statuses: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["expired", "revoked", "used"]);

    // A patient's account cannot invite anyone, itself included.
    let reply = invite(&app, &patient, &jeanne).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = invite(&app, &patient, &henri).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A new code for a patient who has an account gives it back (new phone,
    // forgotten password): no second account, the old sessions end.
    let again = invite(&app, &nurse, &jeanne).await;
    let body = activation(again.body["code"].as_str().unwrap(), "jeanne.l");
    let reply = activate(&app, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["account_id"].as_str().unwrap(),
        patient.account_id
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM accounts WHERE patient_id = '{jeanne}'"
        ))
        .await,
        1
    );
    let me = app.get("/api/session", &patient.cookie).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);

    // Audited: made (4), revoked (1), used (2), refused (3), with the patient.
    for (detail, n) in [
        ("invitation_create", 4),
        ("invitation_revoke", 1),
        ("invitation_use", 2),
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = 'invitation' AND detail = '{detail}' AND patient_id = '{jeanne}'"
            ))
            .await,
            n,
            "{detail}"
        );
    }
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events WHERE action = 'invitation' AND detail LIKE 'invitation_refused%'"
        )
        .await,
        4
    );
}

async fn a_patient_reads_and_writes_their_own_diary_and_nothing_else(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let gp = app.session_for("dr.durand").await;
    let nurse = app.session_for("claire").await;
    let outsider = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let jeanne_id: PatientId = jeanne.parse().unwrap();
    let henri_id: PatientId = henri.parse().unwrap();

    // Jeanne's file: inclusion, a visit and an assessment with the team's
    // notes, her plan (an item, an objective, a planned visit, a review
    // point — each with notes — and a problem).
    let (gp_id, gp_device) = gp.ids();
    let visit = Record::Visit(Visit {
        id: RecordId::new(),
        patient_id: jeanne_id,
        author_id: gp_id,
        device_id: gp_device,
        recorded_at: NOW,
        amends: None,
        visit_type: VisitKind::Practice,
        started_at: NOW - 3_600_000,
        duration_minutes: 30,
        place: String::new(),
        with: vec![],
        actions: vec![],
        notes: SECRET.into(),
        evaluation: None,
    });
    let mut assessment = gp.assessment(&jeanne, 6);
    assessment["note"] = SECRET.into();
    // What the GP chose to share of that visit: a message of its own.
    let share = |author: &Client, patient: PatientId, about: RecordId| {
        let (author_id, device_id) = author.ids();
        PatientShare {
            id: RecordId::new(),
            patient_id: patient,
            author_id,
            device_id,
            recorded_at: NOW,
            amends: None,
            about: Some(about),
            title: "Après notre consultation".into(),
            message: "MESSAGE-POUR-JEANNE".into(),
        }
    };
    let visit_id = RecordId(visit.id());
    let records: Vec<Value> = vec![
        serde_json::to_value(inclusion(&gp, jeanne_id)).unwrap(),
        serde_json::to_value(&visit).unwrap(),
        assessment,
        serde_json::to_value(Record::PatientShare(share(&gp, jeanne_id, visit_id))).unwrap(),
    ];
    let reply = app
        .post_sync(
            "/api/sync/push",
            &gp.cookie,
            &json!({ "protocol": PROTOCOL_VERSION, "records": records }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let ids4: Vec<String> = (0..5).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let n = &nurse.account_id;
    let reply = push(
        &app,
        &nurse,
        vec![],
        vec![
            edit(
                &nurse,
                "care_plan_item",
                1,
                &ids4[0],
                &jeanne,
                json!([
                    { "field": "title", "value": "Marche quotidienne" },
                    { "field": "owner", "value": n },
                    { "field": "status", "value": "active" },
                    { "field": "notes", "value": SECRET },
                ]),
            ),
            edit(
                &nurse,
                "objective",
                2,
                &ids4[1],
                &jeanne,
                json!([
                    { "field": "title", "value": "Jardiner une heure" },
                    { "field": "owner", "value": n },
                    { "field": "status", "value": "active" },
                    { "field": "notes", "value": SECRET },
                ]),
            ),
            edit(
                &nurse,
                "appointment",
                3,
                &ids4[2],
                &jeanne,
                json!([
                    { "field": "on", "value": "2026-12-10" },
                    { "field": "owner", "value": n },
                    { "field": "status", "value": "planned" },
                    { "field": "notes", "value": SECRET },
                ]),
            ),
            edit(
                &nurse,
                "review",
                4,
                &ids4[3],
                &jeanne,
                json!([
                    { "field": "review_type", "value": "irdp" },
                    { "field": "owner", "value": n },
                    { "field": "due_on", "value": "2026-12-20" },
                    { "field": "status", "value": "planned" },
                    { "field": "conclusions", "value": SECRET },
                ]),
            ),
            edit(
                &nurse,
                "problem",
                5,
                &ids4[4],
                &jeanne,
                json!([
                    { "field": "domain", "value": "psychological" },
                    { "field": "description", "value": SECRET },
                    { "field": "priority", "value": "high" },
                    { "field": "status", "value": "open" },
                    { "field": "owner", "value": n },
                ]),
            ),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Henri's file has a record too.
    let reply = app
        .post_sync(
            "/api/sync/push",
            &gp.cookie,
            &json!({ "protocol": PROTOCOL_VERSION, "records": [gp.assessment(&henri, 4)] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let code = invite(&app, &nurse, &jeanne).await.body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let body = activation(&code, "jeanne.lefevre");
    let reply = activate(&app, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let patient = patient_client(&reply, &body);

    // Her diary: written, corrected — never overwritten.
    let first = diary(&patient, jeanne_id, "2026-09-21", 6);
    let reply = push(
        &app,
        &patient,
        vec![Record::DiaryEntry(first.clone())],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let correction = DiaryEntry {
        id: RecordId::new(),
        amends: Some(first.id),
        pain_average: 3,
        pain_now: 3,
        ..first.clone()
    };
    let reply = push(
        &app,
        &patient,
        vec![Record::DiaryEntry(correction.clone())],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // What she may not write: another patient's diary (404, audited), a
    // professional's kind, a plan change, in someone else's name.
    let before = app.count("SELECT count(*) FROM journal").await;
    let reply = push(
        &app,
        &patient,
        vec![Record::DiaryEntry(diary(
            &patient,
            henri_id,
            "2026-09-21",
            2,
        ))],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].patient_id");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'denied' AND patient_id = '{henri}' AND account_id = '{}'",
            patient.account_id
        ))
        .await,
        1
    );
    let mut own_assessment = patient.assessment(&jeanne, 2);
    own_assessment["author_id"] = patient.account_id.clone().into();
    let reply = app
        .post_sync(
            "/api/sync/push",
            &patient.cookie,
            &json!({ "protocol": PROTOCOL_VERSION, "records": [own_assessment] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].kind");
    let reply = push(
        &app,
        &patient,
        vec![],
        vec![edit(
            &patient,
            "objective",
            1,
            &ids4[1],
            &jeanne,
            json!([{ "field": "status", "value": "achieved" }]),
        )],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "mutations");
    let mut forged = diary(&patient, jeanne_id, "2026-09-22", 2);
    forged.author_id = nurse.account_id.parse().unwrap();
    let reply = push(&app, &patient, vec![Record::DiaryEntry(forged)], vec![]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A professional does not write in the patient's diary.
    let reply = push(
        &app,
        &nurse,
        vec![Record::DiaryEntry(diary(
            &nurse,
            jeanne_id,
            "2026-09-22",
            2,
        ))],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].kind");
    // Sharing is the team's: not the patient's, and only about a record of
    // the same patient.
    let reply = push(
        &app,
        &patient,
        vec![Record::PatientShare(share(&patient, jeanne_id, visit_id))],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].kind");
    let reply = push(
        &app,
        &gp,
        vec![Record::PatientShare(share(&gp, henri_id, visit_id))],
        vec![],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"], "records[0].about");
    assert_eq!(app.count("SELECT count(*) FROM journal").await, before);

    // What she reads through the pull: her diary, what the team shared with
    // her, her plan's actions, objectives, next visits and review points —
    // no note of the team, no problem list, no visit (the share about it
    // does not bring it), no assessment, nothing of Henri.
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &patient.cookie)
        .await;
    assert_eq!(pulled.status, StatusCode::OK);
    let text = pulled.body.to_string();
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains(&henri));
    let kinds = |key: &str| -> Vec<String> {
        let mut k: Vec<String> = pulled.body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap().to_string())
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        kinds("records"),
        ["diary_entry", "diary_entry", "patient_share"]
    );
    assert!(text.contains("MESSAGE-POUR-JEANNE"));
    assert_eq!(
        kinds("items"),
        ["appointment", "care_plan_item", "objective", "review"]
    );
    assert!(text.contains("Jardiner une heure") && text.contains("2026-12-10"));
    assert_eq!(pulled.body["has_more"], false);
    // Paged, the same: what is held back still moves the cursor.
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get_sync(
                &format!("/api/sync/pull?protocol=4&limit=1&cursor={cursor}"),
                &patient.cookie,
            )
            .await;
        seen += page.body["records"].as_array().unwrap().len()
            + page.body["items"].as_array().unwrap().len();
        cursor = page.body["next_cursor"].as_str().unwrap().to_string();
        if page.body["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen, 7);
    // The checksum covers what she may see, and only that.
    let sum = app
        .get_sync("/api/sync/checksum?protocol=4", &patient.cookie)
        .await;
    assert_eq!(
        (sum.body["records"].as_u64(), sum.body["items"].as_u64()),
        (Some(3), Some(4)),
        "{}",
        sum.body
    );

    // Every other route, for her: her own caseload (herself, with her
    // team), and nothing else.
    let caseload = app.get("/api/caseload", &patient.cookie).await;
    let list = caseload.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], jeanne);
    assert!(list[0]["care_team"].to_string().contains("Claire Martin"));
    for path in [
        format!("/api/patients/{jeanne}/assessments"),
        format!("/api/patients/{henri}/assessments"),
        format!("/api/items/{}/history", ids4[1]),
        format!("/api/patients/{jeanne}/invitations"),
    ] {
        let reply = app.get(&path, &patient.cookie).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.body
        );
    }
    let invitation = invite(&app, &nurse, &jeanne).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app
        .post(
            &format!("/api/invitations/{invitation}/revoke"),
            &patient.cookie,
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let reply = invite(&app, &patient, &jeanne).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app.get("/api/instruments/wordings", &patient.cookie).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Read and written like a professional: audited with her account.
    let me = &patient.account_id;
    for (action, min) in [
        ("read_records", 1),
        ("write_record", 2),
        ("read_caseload", 1),
    ] {
        let n = app
            .count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = '{action}' AND account_id = '{me}' AND patient_id = '{jeanne}'"
            ))
            .await;
        assert!(n >= min, "{action}: {n}");
    }

    // The team reads both the entry and its correction; someone outside the
    // team reads neither.
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &nurse.cookie)
        .await;
    let diary_ids: Vec<&str> = pulled.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "diary_entry")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(diary_ids, [first.id.to_string(), correction.id.to_string()]);
    let pulled = app
        .get_sync("/api/sync/pull?protocol=4", &outsider.cookie)
        .await;
    assert!(!pulled.body.to_string().contains("diary_entry"));
    let reply = push(
        &app,
        &outsider,
        vec![Record::DiaryEntry(diary(
            &outsider,
            jeanne_id,
            "2026-09-22",
            2,
        ))],
        vec![],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}
