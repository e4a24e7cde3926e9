//! Invitations: how a patient gets their own account (see the domain's
//! `invitation`). A care-team member makes one for an included patient;
//! the patient activates it once, on their phone, choosing their identifier
//! and password, and is signed in. The server keeps only the code's hash.

use crate::audit::{self, Action, Actor, AuditEvent, ClientAddr};
use crate::care_team;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::session::{self, DeviceClaim, Role, Session, SignedIn};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::cookie::CookieJar;
use parcours_domain::invitation::{
    normalize_code, ActivationRequest, InvitationStatus, InvitationSummary, NewInvitation,
    CODE_ALPHABET, CODE_LENGTH, INVITATION_VALID_MS,
};
use parcours_domain::session::Me;
use parcours_domain::{AccountId, PatientId};
use rand::Rng;
use uuid::Uuid;

/// Action codes of the audit rows this module writes.
const MADE: &str = "invitation_create";
const REVOKED: &str = "invitation_revoke";
const USED: &str = "invitation_use";
const REFUSED: &str = "invitation_refused";

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Only professionals of the patient's care team manage its invitations.
async fn require_team(state: &AppState, session: &Session, patient: PatientId) -> ApiResult<()> {
    care_team::require_member(state, session, patient, "patient_id").await
}

/// Whether the patient is in a programme now: an inclusion, and no exit
/// after the latest one.
async fn is_included(conn: &mut sqlx::AnyConnection, patient: PatientId) -> ApiResult<bool> {
    let latest: Option<String> = sqlx::query_scalar(
        "SELECT kind FROM journal WHERE patient_id = $1 AND kind IN ('enrollment', 'exit')
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(patient.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(latest.as_deref() == Some("enrollment"))
}

/// `POST /api/patients/{id}/invitations`: a new code, shown once.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(patient): Path<PatientId>,
) -> ApiResult<(StatusCode, Json<NewInvitation>)> {
    require_team(&state, &session, patient).await?;
    let mut tx = state.db.pool.begin().await?;
    if !is_included(&mut tx, patient).await? {
        return Err(ApiError::unprocessable(
            "patient_id",
            "Seul un patient inclus dans un parcours peut être invité.",
        ));
    }
    let code = new_code();
    let id = Uuid::now_v7();
    let now = now_ms();
    let expires_at = now + INVITATION_VALID_MS;
    sqlx::query(
        "INSERT INTO invitations (id, patient_id, code_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(patient.to_string())
    .bind(session::token_hash(&code))
    .bind(session.account_id.to_string())
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &(&session).into(),
        AuditEvent::new(Action::Invitation)
            .patient(patient)
            .record(id)
            .detail(MADE),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(NewInvitation {
            id,
            code,
            expires_at,
        }),
    ))
}

type InvitationRow = (String, i64, String, i64, Option<i64>, Option<i64>);

/// `GET /api/patients/{id}/invitations`: every invitation, newest first.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(patient): Path<PatientId>,
) -> ApiResult<Json<Vec<InvitationSummary>>> {
    require_team(&state, &session, patient).await?;
    let rows: Vec<InvitationRow> = sqlx::query_as(
        "SELECT i.id, i.created_at, a.display_name, i.expires_at, i.used_at, i.revoked_at
         FROM invitations i JOIN accounts a ON a.id = i.created_by
         WHERE i.patient_id = $1 ORDER BY i.created_at DESC",
    )
    .bind(patient.to_string())
    .fetch_all(&state.db.pool)
    .await?;
    let now = now_ms();
    let mut list = Vec::with_capacity(rows.len());
    for (id, created_at, created_by, expires_at, used_at, revoked_at) in rows {
        let (status, ended_at) = status_of(used_at, revoked_at, expires_at, now);
        list.push(InvitationSummary {
            id: id
                .parse()
                .map_err(|_| ApiError::Internal("unreadable invitation id".into()))?,
            created_at,
            created_by,
            expires_at,
            status,
            ended_at,
        });
    }
    audit::record_reads(
        &state.db.pool,
        &session,
        vec![AuditEvent::new(Action::ReadRecords)
            .patient(patient)
            .detail("invitations")],
    )
    .await?;
    Ok(Json(list))
}

/// `POST /api/invitations/{id}/revoke`: the code can no longer be used (the
/// row stays, with who revoked it and when).
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let patient: Option<String> =
        sqlx::query_scalar("SELECT patient_id FROM invitations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&state.db.pool)
            .await?;
    let unknown = || ApiError::NotFound {
        field: "id".into(),
        message: "Invitation inconnue.".into(),
    };
    let patient: PatientId = patient.and_then(|p| p.parse().ok()).ok_or_else(unknown)?;
    care_team::require_member_or(&state, &session, patient, "id", "Invitation inconnue.").await?;
    let mut tx = state.db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $1, revoked_by = $2
         WHERE id = $3 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(session.account_id.to_string())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict {
            field: "id".into(),
            message: "Cette invitation a déjà servi ou été annulée.".into(),
        });
    }
    audit::record(
        &mut tx,
        &(&session).into(),
        AuditEvent::new(Action::Invitation)
            .patient(patient)
            .record(id)
            .detail(REVOKED),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where an invitation stands at `now`, and since when it has ended.
fn status_of(
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    expires_at: i64,
    now: i64,
) -> (InvitationStatus, Option<i64>) {
    match (used_at, revoked_at) {
        (Some(at), _) => (InvitationStatus::Used, Some(at)),
        (None, Some(at)) => (InvitationStatus::Revoked, Some(at)),
        (None, None) if expires_at <= now => (InvitationStatus::Expired, Some(expires_at)),
        (None, None) => (InvitationStatus::Live, None),
    }
}

/// Why a code cannot be used, in words the patient can act on.
fn refusal(status: Option<InvitationStatus>) -> ApiError {
    let (status, message) = match status {
        None | Some(InvitationStatus::Live) => (
            StatusCode::NOT_FOUND,
            "Ce code d'invitation n'existe pas : vérifiez-le, ou demandez-en un nouveau à votre équipe.",
        ),
        Some(InvitationStatus::Used) => (
            StatusCode::GONE,
            "Ce code a déjà servi. Connectez-vous avec votre identifiant, ou demandez un nouveau code à votre équipe.",
        ),
        Some(InvitationStatus::Revoked) => (
            StatusCode::GONE,
            "Ce code a été annulé par votre équipe : demandez-en un nouveau.",
        ),
        Some(InvitationStatus::Expired) => (
            StatusCode::GONE,
            "Ce code a expiré (il vaut 7 jours) : demandez-en un nouveau à votre équipe.",
        ),
    };
    ApiError::Invalid {
        status,
        field: "code".into(),
        message: message.into(),
    }
}

/// `POST /api/invitations/activate`: the patient's first sign-in. Taking
/// the code and making (or re-keying) the account are one transaction: a
/// code is used once, even by two phones at the same moment.
pub async fn activate(
    State(state): State<AppState>,
    jar: CookieJar,
    client: axum::Extension<ClientAddr>,
    JsonBody(req): JsonBody<ActivationRequest>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    let actor = Actor::anonymous(client.0 .0.clone());
    if let Some(problem) = req.problems().into_iter().next() {
        return Err(ApiError::invalid(problem));
    }
    let code = normalize_code(&req.code).ok_or_else(|| refusal(None))?;
    let code_hash = session::token_hash(&code);
    // The password is hashed before the transaction (it takes a while), and
    // under the same bound as sign-in checks.
    let password = req.password.clone();
    let password_hash = {
        let _permit = state
            .password_checks
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || session::hash_password(&password))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    let stored_device = session::device_secret_hash(&state.db.pool, req.device_id).await?;
    let now = now_ms();
    let mut tx = state.db.pool.begin().await?;
    let taken: Option<(String, String)> = sqlx::query_as(
        "UPDATE invitations SET used_at = $1
         WHERE code_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
         RETURNING id, patient_id",
    )
    .bind(now)
    .bind(&code_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((invitation, patient)) = taken else {
        let row: Option<(String, Option<i64>, Option<i64>, i64)> = sqlx::query_as(
            "SELECT patient_id, used_at, revoked_at, expires_at FROM invitations
             WHERE code_hash = $1",
        )
        .bind(&code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let status = row
            .as_ref()
            .map(|(_, used, revoked, expires)| status_of(*used, *revoked, *expires, now).0);
        let mut event = AuditEvent::new(Action::Invitation).detail(format!(
            "{REFUSED} {}",
            status.map_or("inconnue", InvitationStatus::label_fr)
        ));
        if let Some(p) = row.and_then(|(p, ..)| p.parse().ok()) {
            event = event.patient(p);
        }
        audit::record(&mut tx, &actor, event).await?;
        tx.commit().await?;
        return Err(refusal(status));
    };
    let patient: PatientId = patient
        .parse()
        .map_err(|_| ApiError::Internal("unreadable patient id".into()))?;
    let display_name: String =
        sqlx::query_scalar("SELECT given_name || ' ' || family_name FROM patients WHERE id = $1")
            .bind(patient.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let username = req.username.trim();
    // Whose the identifier is, if anyone's: a professional's (no patient)
    // or a patient's.
    let taken_by: Option<Option<String>> =
        sqlx::query_scalar("SELECT patient_id FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE patient_id = $1")
            .bind(patient.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    if taken_by.is_some_and(|owner| owner != Some(patient.to_string())) {
        // Nothing is kept: the code stays usable with another identifier.
        return Err(ApiError::Conflict {
            field: "username".into(),
            message: "Cet identifiant est déjà pris : choisissez-en un autre.".into(),
        });
    }
    // A patient who already has an account (a new phone, a forgotten
    // password) gets it back with the new identifier and password; their
    // other sessions end.
    let account_id = match existing {
        Some(id) => {
            let id: AccountId = id
                .parse()
                .map_err(|_| ApiError::Internal("unreadable account id".into()))?;
            sqlx::query(
                "UPDATE accounts SET username = $1, password_hash = $2, disabled_at = NULL
                 WHERE id = $3",
            )
            .bind(username)
            .bind(&password_hash)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            session::end_sessions(&mut tx, id, None).await?;
            id
        }
        None => {
            let id = AccountId::new();
            sqlx::query(
                "INSERT INTO accounts (id, username, display_name, profession, password_hash,
                                       created_at, patient_id)
                 VALUES ($1, $2, $3, 'patient', $4, $5, $6)",
            )
            .bind(id.to_string())
            .bind(username)
            .bind(&display_name)
            .bind(&password_hash)
            .bind(now)
            .bind(patient.to_string())
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    sqlx::query("UPDATE invitations SET account_id = $1 WHERE id = $2")
        .bind(account_id.to_string())
        .bind(&invitation)
        .execute(&mut *tx)
        .await?;
    let used = Actor {
        account_id: Some(account_id),
        ..actor
    };
    audit::record(
        &mut tx,
        &used,
        AuditEvent::new(Action::Invitation)
            .patient(patient)
            .record(&invitation)
            .detail(USED),
    )
    .await?;
    session::start_session(
        &state,
        tx,
        jar,
        client.0 .0.clone(),
        SignedIn {
            account_id,
            display_name,
            role: Role::Patient(patient),
        },
        DeviceClaim {
            id: req.device_id,
            stored_secret_hash: stored_device,
            secret: req.device_secret,
        },
        "invitation",
    )
    .await
}
