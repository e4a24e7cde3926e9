//! Who may read what, route by route, on SQLite and PostgreSQL: anonymous,
//! a revoked session, each profession of Jeanne's care team, a nurse of
//! another team and a CPTS support coordinator, against every route that
//! serves or takes a patient's data. Each cell's status is stated; and no
//! answer to someone outside Jeanne's team holds her id or her name (the
//! audit trail aside, which is the coordinator's to read).

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use parcours_domain::care_plan::{self, FieldChange, ItemStatus};
use parcours_domain::hlc::Hlc;
use parcours_domain::{sync, ItemId, Profession};
use parcours_server::admin::{self, NewAccount};
use parcours_server::audit::Actor;
use serde_json::json;

on_both_backends!(every_route_answers_each_role_as_stated_and_leaks_nothing,);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    Anonymous,
    Revoked,
    /// Claire, the pain resource nurse.
    Nurse,
    Gp,
    Physio,
    /// Another profession of Jeanne's team, made for this test.
    Team(Profession),
    OtherTeam,
    Coordinator,
}

use Role::*;

/// The professions of Jeanne's team beyond the demo's three.
const OTHER_PROFESSIONS: [(&str, Profession); 5] = [
    ("ide", Profession::Nurse),
    ("psy", Profession::Psychologist),
    ("apa", Profession::AdaptedActivityCoach),
    ("pharma", Profession::Pharmacist),
    ("social", Profession::SocialWorker),
];

fn in_team(role: Role) -> bool {
    matches!(role, Nurse | Gp | Physio | Team(_))
}

async fn every_route_answers_each_role_as_stated_and_leaks_nothing(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    admin::create_account(
        &app.db,
        &Actor::operator("test"),
        NewAccount {
            username: "camille",
            display_name: "Camille Roche",
            profession: Profession::SupportCoordinator,
            password: "coordination-cpts",
        },
    )
    .await
    .unwrap();
    let jeanne = app.patient_id("Lefèvre").await;
    for (username, profession) in OTHER_PROFESSIONS {
        admin::create_account(
            &app.db,
            &Actor::operator("test"),
            NewAccount {
                username,
                display_name: username,
                profession,
                password: "une phrase de passe",
            },
        )
        .await
        .unwrap();
        admin::add_to_care_team(&app.db, &Actor::operator("test"), &jeanne, username)
            .await
            .unwrap();
    }
    let revoked = app.session_for("claire").await;
    let ender = app.session_for("claire").await;
    assert_eq!(
        app.request("DELETE", "/api/sessions", Some(&ender.cookie), None)
            .await
            .status,
        StatusCode::OK
    );
    let nurse = app.session_for("claire").await;
    // An item of Jeanne's plan, for its history.
    let item = uuid::Uuid::now_v7();
    let (account, device) = nurse.ids();
    let mutation = care_plan::Mutation {
        device_id: device,
        mutation_id: 1,
        item_id: ItemId(item),
        patient_id: jeanne.parse().unwrap(),
        author_id: account,
        base_version: 0,
        hlc: Hlc::zero(device).tick(parcours_server::clock::now_ms()),
        changes: vec![
            FieldChange::Title("Marche quotidienne".into()),
            FieldChange::Owner(account),
            FieldChange::Status(ItemStatus::Proposed),
        ],
        resolves: vec![],
    };
    let pushed = app
        .post_sync(
            "/api/sync/push",
            &nurse.cookie,
            &json!({ "protocol": 4, "records": [],
                     "mutations": [sync::Mutation::CarePlanItem(mutation)] }),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.text);
    let mut clients: Vec<(Role, Option<Client>)> = vec![
        (Anonymous, None),
        (Revoked, Some(revoked)),
        (Nurse, Some(nurse)),
        (Gp, Some(app.session_for("dr.durand").await)),
        (Physio, Some(app.session_for("lea").await)),
        (OtherTeam, Some(app.session_for("sophie").await)),
        (Coordinator, Some(app.session_for("camille").await)),
    ];
    for (username, profession) in OTHER_PROFESSIONS {
        clients.push((Team(profession), Some(app.session_for(username).await)));
    }

    // (method, path, what each signed-in role gets)
    let patient_scoped = |role: Role| {
        if in_team(role) {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        }
    };
    let coordinators_only = |role: Role| {
        if role == Coordinator {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        }
    };
    // The CPTS's coordinators: its support coordinators and its pain
    // resource nurses, whatever their teams (docs/sync-protocol.md).
    let queue = |role: Role| {
        if matches!(role, Nurse | OtherTeam | Coordinator) {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        }
    };
    let everyone = |_: Role| StatusCode::OK;
    type Rule<'a> = &'a dyn Fn(Role) -> StatusCode;
    let routes: Vec<(&str, String, Rule)> = vec![
        ("GET", "/api/session".into(), &everyone),
        ("GET", "/api/caseload".into(), &everyone),
        (
            "GET",
            format!("/api/patients/{jeanne}/assessments"),
            &patient_scoped,
        ),
        (
            "GET",
            format!("/api/patients/{jeanne}/invitations"),
            &patient_scoped,
        ),
        ("GET", format!("/api/items/{item}/history"), &patient_scoped),
        ("GET", "/api/sync/pull?protocol=4".into(), &everyone),
        ("GET", "/api/sync/checksum?protocol=4".into(), &everyone),
        (
            "GET",
            "/api/coordination/queue?today=2026-12-05".into(),
            &queue,
        ),
        ("GET", "/api/instruments/wordings".into(), &everyone),
        ("GET", "/api/audit".into(), &coordinators_only),
        ("GET", "/api/audit.csv".into(), &coordinators_only),
        ("GET", "/api/audit/subjects".into(), &coordinators_only),
    ];
    let mut cells = 0;
    for (method, path, rule) in &routes {
        for (role, client) in &clients {
            let reply = app
                .request(
                    method,
                    path,
                    client.as_ref().map(|c| c.cookie.as_str()),
                    None,
                )
                .await;
            let expected = match role {
                Anonymous | Revoked => StatusCode::UNAUTHORIZED,
                role => rule(*role),
            };
            assert_eq!(
                reply.status, expected,
                "{method} {path} as {role:?}: {}",
                reply.text
            );
            let audit = path.starts_with("/api/audit") && *role == Coordinator;
            if !in_team(*role) && !audit {
                assert!(
                    !reply.text.contains(&jeanne) && !reply.text.contains("Lefèvre"),
                    "{method} {path} as {role:?} leaks Jeanne: {}",
                    reply.text
                );
            }
            cells += 1;
        }
    }
    assert_eq!(cells, routes.len() * 12, "every route × every role");

    // Writes on Jeanne's file from outside her team change nothing.
    let journal = app.count("SELECT count(*) FROM journal").await;
    for (role, client) in clients.iter().filter(|(r, _)| !in_team(*r)) {
        let cookie = client.as_ref().map(|c| c.cookie.as_str()).unwrap_or("");
        let invite = app
            .post(
                &format!("/api/patients/{jeanne}/invitations"),
                cookie,
                &json!({}),
            )
            .await;
        let expected = match role {
            Anonymous | Revoked => StatusCode::UNAUTHORIZED,
            _ => StatusCode::NOT_FOUND,
        };
        assert_eq!(
            invite.status, expected,
            "invitation as {role:?}: {}",
            invite.text
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM journal").await, journal);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM invitations WHERE patient_id = '{jeanne}'"
        ))
        .await,
        0
    );
}
