//! The findings of the security review that live on the server, each shown
//! fixed, on SQLite and PostgreSQL: sessions, sign-in limits, the audit of
//! refusals, care-team rules on items, existence oracles, retries with other
//! content, cross-site writes, health, headers.

mod common;

use axum::http::StatusCode;
use common::{push_body, Backend, Client, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    sessions_end_when_idle_at_the_devices_next_sign_in_and_everywhere,
    sign_in_is_bounded_and_its_audit_keeps_nothing_typed,
    every_refusal_is_audited_with_the_client_address,
    an_items_owner_must_be_in_the_patients_care_team,
    unknown_items_and_other_teams_items_answer_alike,
    a_record_sent_again_with_other_content_is_refused,
    writes_from_another_site_are_refused,
    health_means_the_database_takes_writes_and_answers_carry_security_headers,
    a_device_id_belongs_to_the_browser_that_registered_it,
    sign_in_waits_after_repeated_failures_per_account_and_per_address,
);

/// A password is not guessed by trying: past five failures for a name, the
/// name waits (an unknown name exactly as an existing one), even with the
/// right password; a success clears the count. Past thirty from one
/// address, that address waits whatever the name.
async fn sign_in_waits_after_repeated_failures_per_account_and_per_address(backend: Backend) {
    let Some(app) = TestApp::with(backend, |s| s.trusting_proxy(true)).await else {
        return;
    };
    let attempt = |username: &'static str, password: &'static str, from: &'static str| {
        let app = &app;
        async move {
            let body = json!({ "username": username, "password": password,
                "device_id": uuid::Uuid::new_v4().to_string() });
            app.request_with(
                "POST",
                "/api/session",
                None,
                Some(("application/json", body.to_string().into_bytes())),
                &[("x-forwarded-for", from)],
            )
            .await
        }
    };
    // Four mistakes, then the right password: in, and the count starts over.
    for _ in 0..4 {
        let reply = attempt("claire", "wrong", "203.0.113.1").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt("claire", "demo-claire", "203.0.113.1").await.status,
        StatusCode::OK
    );
    // Five failures in a row, for an existing name and for an unknown one.
    for name in ["claire", "nobody-here"] {
        for _ in 0..5 {
            let reply = attempt(name, "wrong", "203.0.113.2").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
        }
        let reply = attempt(name, "wrong", "203.0.113.3").await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert_eq!(
            reply.body["error"],
            "Trop d'essais de connexion : réessayez dans une minute."
        );
        assert_eq!(reply.body["field"], "username");
        let wait: u64 = reply.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
    }
    // Even the right password waits: it is not checked.
    assert_eq!(
        attempt("claire", "demo-claire", "203.0.113.4").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other names are not held up by Claire's.
    assert_eq!(
        attempt("dr.durand", "demo-durand", "203.0.113.4")
            .await
            .status,
        StatusCode::OK
    );
    // One address trying many names: past thirty failures, it waits, even
    // for a name it never tried.
    for i in 0..30 {
        let name: &'static str = Box::leak(format!("guess-{i}").into_boxed_str());
        let reply = attempt(name, "wrong", "198.51.100.9").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    assert_eq!(
        attempt("lea", "demo-lea", "198.51.100.9").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt("lea", "demo-lea", "198.51.100.10").await.status,
        StatusCode::OK
    );
    // Every refusal is audited, without what was typed.
    let refused = app
        .count("SELECT count(*) FROM audit_events WHERE action = 'sign_in_failed' AND detail LIKE 'trop d''essais%'")
        .await;
    assert_eq!(refused, 4);
}

/// The device id in every audit row is one the device proved: a sign-in
/// claiming another browser's id without its secret gets an id of its own.
async fn a_device_id_belongs_to_the_browser_that_registered_it(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let mut claires_phone = Browser::new();
    let made_here = claires_phone.device.clone();
    let (reply, _) = claires_phone
        .sign_in(&app, "claire", "demo-claire", None)
        .await;
    assert_eq!(
        reply.body["device_id"],
        made_here.as_str(),
        "a new id is registered as it is"
    );
    assert!(
        claires_phone.secret.is_some(),
        "with a secret for that browser"
    );

    // Dr Durand claims Claire's phone id: without the secret, a new id.
    for secret in [None, Some("not the secret")] {
        let reply = sign_in_on(&app, "dr.durand", "demo-durand", &made_here, secret, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_ne!(reply.body["device_id"], made_here.as_str());
        assert!(reply.body["device_secret"].is_string());
    }
    // Claire's phone, with its secret, keeps its id and gets no new secret.
    let (reply, _) = claires_phone
        .sign_in(&app, "claire", "demo-claire", None)
        .await;
    assert_eq!(reply.body["device_id"], made_here.as_str());
    assert!(reply.body.get("device_secret").is_none());
    // Another person on that same phone (a shared device) shares its id.
    let (reply, _) = claires_phone
        .sign_in(&app, "dr.durand", "demo-durand", None)
        .await;
    assert_eq!(reply.body["device_id"], made_here.as_str());
    let claimed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'sign_in' AND detail LIKE 'appareil revendiqué%'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(claimed, 2);
}

/// A browser: its device id, and the secret the server gave it once.
struct Browser {
    device: String,
    secret: Option<String>,
}

impl Browser {
    fn new() -> Self {
        Self {
            device: uuid::Uuid::new_v4().to_string(),
            secret: None,
        }
    }

    /// Signs in as a browser does: with its id and secret, keeping what the
    /// server gives back. Returns the answer and the session cookie.
    async fn sign_in(
        &mut self,
        app: &TestApp,
        username: &str,
        password: &str,
        cookie: Option<&str>,
    ) -> (common::Reply, String) {
        let reply = sign_in_on(
            app,
            username,
            password,
            &self.device,
            self.secret.as_deref(),
            cookie,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if let Some(secret) = reply.body["device_secret"].as_str() {
            self.device = reply.body["device_id"].as_str().unwrap().to_string();
            self.secret = Some(secret.to_string());
        }
        let cookie = reply.set_cookie.clone().expect("cookie");
        (reply, cookie)
    }
}

async fn sign_in_on(
    app: &TestApp,
    username: &str,
    password: &str,
    device: &str,
    secret: Option<&str>,
    cookie: Option<&str>,
) -> common::Reply {
    let body = json!({ "username": username, "password": password, "device_id": device, "device_secret": secret });
    app.request(
        "POST",
        "/api/session",
        cookie,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn status_of(app: &TestApp, cookie: &str) -> StatusCode {
    app.get("/api/session", cookie).await.status
}

async fn sessions_end_when_idle_at_the_devices_next_sign_in_and_everywhere(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let mut phone = Browser::new();
    let (_, first) = phone.sign_in(&app, "claire", "demo-claire", None).await;
    let (_, second) = phone.sign_in(&app, "claire", "demo-claire", None).await;
    assert_eq!(
        status_of(&app, &first).await,
        StatusCode::UNAUTHORIZED,
        "signing in again on the device ended the first session"
    );
    assert_eq!(status_of(&app, &second).await, StatusCode::OK);

    // Someone else signs in on the browser that carries Claire's cookie.
    phone
        .sign_in(&app, "sophie", "demo-sophie", Some(&second))
        .await;
    assert_eq!(status_of(&app, &second).await, StatusCode::UNAUTHORIZED);

    // Twelve hours without a request end a session.
    let mut tablet = Browser::new();
    let (_, idle) = tablet.sign_in(&app, "claire", "demo-claire", None).await;
    assert_eq!(status_of(&app, &idle).await, StatusCode::OK);
    let thirteen_hours_ago = parcours_server::clock::now_ms() - 13 * 3600 * 1000;
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE device_id = $2")
        .bind(thirteen_hours_ago)
        .bind(&tablet.device)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(status_of(&app, &idle).await, StatusCode::UNAUTHORIZED);

    // "Sign out everywhere" ends every session of the account, and only hers.
    let a = app.sign_in("claire").await;
    let b = app.sign_in("claire").await;
    let gp = app.sign_in("dr.durand").await;
    let reply = app
        .request("DELETE", "/api/sessions", Some(&a.cookie), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["ended"], 2);
    assert_eq!(status_of(&app, &a.cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &b.cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &gp.cookie).await, StatusCode::OK);

    // An operator disabling the account ends its sessions at once.
    let c = app.sign_in("claire").await;
    let operator = parcours_server::audit::Actor::operator("test");
    parcours_server::admin::set_disabled(&app.db, &operator, "claire", true)
        .await
        .unwrap();
    assert_eq!(status_of(&app, &c.cookie).await, StatusCode::UNAUTHORIZED);
    let refused = sign_in_on(
        &app,
        "claire",
        "demo-claire",
        &phone.device,
        phone.secret.as_deref(),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    parcours_server::admin::set_disabled(&app.db, &operator, "claire", false)
        .await
        .unwrap();
    phone.sign_in(&app, "claire", "demo-claire", None).await;
}

async fn sign_in_is_bounded_and_its_audit_keeps_nothing_typed(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let device = uuid::Uuid::new_v4().to_string();
    let huge = json!({ "username": "a".repeat(5000), "password": "x", "device_id": device });
    let reply = app
        .request(
            "POST",
            "/api/session",
            None,
            Some(("application/json", huge.to_string().into_bytes())),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    for username in [
        "b".repeat(100),
        "cla\u{0}ire".to_string(),
        "MonMotDePasse!2026".to_string(),
    ] {
        let reply = sign_in_on(&app, &username, "x", &device, None, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{username:?}: {}",
            reply.body
        );
        assert_eq!(
            reply.body["error"],
            "Identifiant ou mot de passe incorrect."
        );
    }
    let reply = sign_in_on(&app, "claire", "hunter2-secret", &device, None, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let rows: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT account_id, detail FROM audit_events WHERE action = 'sign_in_failed' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 4);
    for (_, detail) in &rows {
        for typed in ["bbbb", "cla", "MonMotDePasse", "hunter2"] {
            assert!(
                !detail.contains(typed),
                "the audit keeps what was typed: {detail}"
            );
        }
        assert!(detail.chars().count() <= 300);
    }
    let claire: String = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'claire'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        rows[3].0.as_deref(),
        Some(claire.as_str()),
        "a failed sign-in names the account"
    );
}

async fn count_action(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn every_refusal_is_audited_with_the_client_address(backend: Backend) {
    let Some(app) = TestApp::with(backend, |s| s.trusting_proxy(true)).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let sophie = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let from = [("x-forwarded-for", "203.0.113.7, 10.0.0.1")];
    let post = |who: &Client, body: Value| {
        let cookie = who.cookie.clone();
        let app = &app;
        async move {
            app.request_with(
                "POST",
                "/api/sync/push",
                Some(&cookie),
                Some(("application/json", body.to_string().into_bytes())),
                &from,
            )
            .await
        }
    };

    let mut forged = nurse.assessment(&jeanne, 3);
    forged["author_id"] = json!(gp.account_id);
    let original = nurse.assessment(&jeanne, 3);
    assert_eq!(
        post(&nurse, push_body(vec![original.clone()])).await.status,
        StatusCode::OK
    );
    let mut reused = gp.assessment(&jeanne, 4);
    reused["id"] = original["id"].clone();
    let mut too_high = nurse.assessment(&jeanne, 3);
    too_high["pain_now"] = json!(11);
    let cases = [
        (
            post(&nurse, push_body(vec![forged])).await,
            StatusCode::FORBIDDEN,
        ),
        (
            post(&gp, push_body(vec![reused])).await,
            StatusCode::CONFLICT,
        ),
        (
            post(&nurse, push_body(vec![too_high])).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            app.request_with(
                "GET",
                &format!("/api/items/{}/history", uuid::Uuid::now_v7()),
                Some(&sophie.cookie),
                None,
                &from,
            )
            .await,
            StatusCode::NOT_FOUND,
        ),
        (
            app.request_with(
                "GET",
                &format!("/api/patients/{jeanne}/assessments"),
                None,
                None,
                &from,
            )
            .await,
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (reply, status) in &cases {
        assert_eq!(reply.status, *status, "{}", reply.body);
    }
    let rows: Vec<(Option<String>, String, Option<String>)> = sqlx::query_as(
        "SELECT account_id, detail, client_addr FROM audit_events WHERE action = 'refused' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), cases.len(), "{rows:?}");
    for ((account, detail, addr), (_, status)) in rows.iter().zip(&cases) {
        assert!(detail.starts_with(&status.as_u16().to_string()), "{detail}");
        assert_eq!(addr.as_deref(), Some("203.0.113.7"));
        if *status == StatusCode::UNAUTHORIZED {
            assert_eq!(account, &None);
            assert!(detail.contains("/api/patients/"), "{detail}");
        } else {
            assert!(account.is_some());
        }
    }
    assert!(rows[0].1.contains("records[0].author_id"), "{}", rows[0].1);

    // Outside the care team: one `denied` row with the patient, not two.
    let before = count_action(&app, "refused").await;
    let reply = app
        .get(
            &format!("/api/patients/{jeanne}/assessments"),
            &sophie.cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(count_action(&app, "refused").await, before);
    let denied: Option<String> = sqlx::query_scalar(
        "SELECT patient_id FROM audit_events WHERE action = 'denied' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(denied.as_deref(), Some(jeanne.as_str()));

    // Reading the checksum is a read of what exists.
    let reads = count_action(&app, "read_records").await;
    assert_eq!(
        app.get("/api/sync/checksum?protocol=3", &nurse.cookie)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(count_action(&app, "read_records").await, reads + 1);
}

async fn push_mutations(app: &TestApp, who: &Client, mutations: Vec<Value>) -> common::Reply {
    app.post(
        "/api/sync/push",
        &who.cookie,
        &json!({ "protocol": 3, "mutations": mutations }),
    )
    .await
}

async fn an_items_owner_must_be_in_the_patients_care_team(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let sophie = app.session_for("sophie").await;
    let lea = app.session_for("lea").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let item = uuid::Uuid::now_v7().to_string();
    for (owner, patient) in [(&sophie.account_id, &jeanne), (&lea.account_id, &henri)] {
        let reply = push_mutations(
            &app,
            &nurse,
            vec![nurse.create_item(1, &item, patient, owner)],
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert_eq!(reply.body["field"], "mutations[0].changes[1].value");
    }
    let reply = push_mutations(
        &app,
        &nurse,
        vec![nurse.create_item(1, &item, &jeanne, &lea.account_id)],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "Léa is in Jeanne Lefèvre's team: {}",
        reply.body
    );
}

async fn unknown_items_and_other_teams_items_answer_alike(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let sophie = app.session_for("sophie").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let roux = app.patient_id("Roux").await;
    let theirs = uuid::Uuid::now_v7().to_string();
    let reply = push_mutations(
        &app,
        &sophie,
        vec![sophie.create_item(1, &theirs, &roux, &sophie.account_id)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let unknown = uuid::Uuid::now_v7().to_string();

    let history = |item: String| {
        let cookie = nurse.cookie.clone();
        let app = &app;
        async move {
            app.get(&format!("/api/items/{item}/history"), &cookie)
                .await
        }
    };
    let (a, b) = (
        history(unknown.clone()).await,
        history(theirs.clone()).await,
    );
    assert_eq!((a.status, &a.body), (StatusCode::NOT_FOUND, &b.body));
    assert_eq!(b.status, StatusCode::NOT_FOUND);
    let not_an_id = app.get("/api/items/zzz/history", &nurse.cookie).await;
    assert_eq!(
        (not_an_id.status, &not_an_id.body),
        (StatusCode::NOT_FOUND, &a.body)
    );

    // A mutation naming another team's item under one's own patient answers
    // like one naming an item that does not exist.
    let edit = |item: &str| {
        json!({
            "device_id": nurse.device_id, "mutation_id": 1, "item_id": item,
            "patient_id": jeanne, "author_id": nurse.account_id, "base_version": 1,
            "hlc": { "wall_ms": 1_790_000_000_000i64, "counter": 0, "device": nurse.device_id },
            "changes": [{ "field": "notes", "value": "x" }],
        })
    };
    let a = push_mutations(&app, &nurse, vec![edit(&unknown)]).await;
    let b = push_mutations(&app, &nurse, vec![edit(&theirs)]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    assert_eq!((b.status, &b.body), (a.status, &a.body));
}

async fn a_record_sent_again_with_other_content_is_refused(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let henri = app.patient_id("Moreau").await;
    let record = nurse.assessment(&jeanne, 3);
    for _ in 0..2 {
        let reply = app
            .post(
                "/api/sync/push",
                &nurse.cookie,
                &push_body(vec![record.clone()]),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "the very same record again is a retry"
        );
    }
    let mut changed = record.clone();
    changed["patient_id"] = json!(henri);
    changed["pain_now"] = json!(7);
    changed["note"] = json!("CHANGED");
    let reply = app
        .post("/api/sync/push", &nurse.cookie, &push_body(vec![changed]))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["field"], "records[0].id");
    let body: String = sqlx::query_scalar("SELECT body FROM journal WHERE id = $1")
        .bind(record["id"].as_str().unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(!body.contains("CHANGED"));
}

async fn writes_from_another_site_are_refused(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let nurse = app.session_for("claire").await;
    let jeanne = app.patient_id("Lefèvre").await;
    let body = push_body(vec![nurse.assessment(&jeanne, 3)])
        .to_string()
        .into_bytes();
    let cases: [(&[(&str, &str)], StatusCode); 5] = [
        (
            &[
                ("origin", "https://evil.example"),
                ("host", "parcours.example"),
            ],
            StatusCode::FORBIDDEN,
        ),
        (&[("sec-fetch-site", "cross-site")], StatusCode::FORBIDDEN),
        (&[("sec-fetch-site", "same-site")], StatusCode::FORBIDDEN),
        (
            &[
                ("origin", "https://parcours.example"),
                ("host", "parcours.example"),
                ("sec-fetch-site", "same-origin"),
            ],
            StatusCode::OK,
        ),
        (&[], StatusCode::OK),
    ];
    for (headers, status) in cases {
        let reply = app
            .request_with(
                "POST",
                "/api/sync/push",
                Some(&nurse.cookie),
                Some(("application/json", body.clone())),
                headers,
            )
            .await;
        assert_eq!(reply.status, status, "{headers:?}: {}", reply.body);
        if status == StatusCode::FORBIDDEN {
            assert_eq!(reply.body["field"], "origin");
        }
    }
    // Reads are not writes: a cross-site GET is left to SameSite.
    let reply = app
        .request_with(
            "GET",
            "/api/caseload",
            Some(&nurse.cookie),
            None,
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

async fn health_means_the_database_takes_writes_and_answers_carry_security_headers(
    backend: Backend,
) {
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let before: i64 = sqlx::query_scalar("SELECT at FROM heartbeat")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let reply = app.request("GET", "/healthz", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let after: i64 = sqlx::query_scalar("SELECT at FROM heartbeat")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(after > before, "the health check wrote its heartbeat");
    // Another writer holding the database: not ready, said within seconds.
    let mut holder = app.db.pool.begin().await.unwrap();
    sqlx::query("UPDATE heartbeat SET at = at WHERE id = 1")
        .execute(&mut *holder)
        .await
        .unwrap();
    let reply = app.request("GET", "/healthz", None, None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    holder.rollback().await.unwrap();
    assert_eq!(
        app.request("GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );
    let nurse = app.session_for("claire").await;
    let reply = app.get("/api/caseload", &nurse.cookie).await;
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("cross-origin-opener-policy", "same-origin"),
        ("permissions-policy", parcours_server::PERMISSIONS_POLICY),
    ] {
        assert_eq!(
            reply.headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }
    // A policy that runs no inline script, evaluates nothing but
    // WebAssembly, and lets nobody frame the app.
    let policy = reply
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval';",
        "style-src 'self';",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(
        reply.headers.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );

    // Over HTTPS: a __Host- cookie, Secure, and HSTS.
    let Some(secure) = TestApp::with(backend, |s| {
        let mut s = s;
        s.secure_cookies = true;
        s
    })
    .await
    else {
        return;
    };
    let reply = sign_in_on(
        &secure,
        "claire",
        "demo-claire",
        &uuid::Uuid::new_v4().to_string(),
        None,
        None,
    )
    .await;
    let cookie = reply
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.starts_with("__Host-parcours_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(reply.headers.get("strict-transport-security").is_some());
    let session = cookie.split(';').next().unwrap();
    assert_eq!(status_of(&secure, session).await, StatusCode::OK);
    let plain_name = session.replacen("__Host-parcours_session", "parcours_session", 1);
    assert_eq!(
        status_of(&secure, &plain_name).await,
        StatusCode::UNAUTHORIZED,
        "only the __Host- cookie counts over HTTPS"
    );
}

/// The app's addresses get its page; robots are told there is nothing to
/// index; any other address that is no file is a 404, not the app with a 200.
#[tokio::test]
async fn only_the_apps_own_addresses_get_the_app() {
    let dist = std::env::temp_dir().join(format!("parcours-dist-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Parcours</title>",
    )
    .unwrap();
    let robots =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/robots.txt"))
            .unwrap();
    std::fs::write(dist.join("robots.txt"), &robots).unwrap();
    let Some(app) = TestApp::serving(Backend::Sqlite, dist.clone()).await else {
        return;
    };
    for page in [
        "/",
        "/connexion",
        "/patients/0193",
        "/patients/0193/evaluation",
        "/journal/saisie",
        "/reunions/1",
    ] {
        let reply = app.get(page, "").await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert!(
            reply
                .body
                .as_str()
                .is_some_and(|b| b.contains("<title>Parcours")),
            "{page}"
        );
    }
    let reply = app.get("/robots.txt", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .body
            .as_str()
            .is_some_and(|b| b.contains("Disallow: /")),
        "{:?}",
        reply.body
    );
    for unknown in [
        "/wp-login.php",
        "/.env",
        "/admin",
        "/favicon.ico",
        "/patientsx",
    ] {
        let reply = app.get(unknown, "").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{unknown}");
        assert_eq!(
            reply.body,
            Value::String("Page introuvable.".into()),
            "{unknown}"
        );
    }
    std::fs::remove_dir_all(dist).unwrap();
}

/// Android crops a home-screen icon to its own shape: the manifest offers a
/// maskable one (full-bleed background, the letter inside the central 80 %),
/// and the file it names is there.
#[test]
fn the_manifest_offers_a_maskable_icon_that_exists() {
    let public = concat!(env!("CARGO_MANIFEST_DIR"), "/../public");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{public}/manifest.webmanifest")).unwrap(),
    )
    .unwrap();
    let maskable: Vec<&str> = manifest["icons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["purpose"]
                .as_str()
                .is_some_and(|p| p.split(' ').any(|p| p == "maskable"))
        })
        .filter_map(|i| i["src"].as_str())
        .collect();
    assert!(!maskable.is_empty(), "no maskable icon");
    for src in maskable {
        assert!(
            std::path::Path::new(&format!("{public}{src}")).is_file(),
            "{src}"
        );
    }
}
