//! The care team: who may see and act for a patient. Access is decided here
//! and nowhere else; every handler that touches a patient asks this module.

use crate::audit::{self, Action, Actor, AuditEvent};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, PATIENT_NOT_FOUND};
use crate::session::Session;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parcours_domain::patient::TeamMember;
use parcours_domain::{AccountId, Patient, PatientId, Profession};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// True when the account is a current member of the patient's care team.
pub async fn is_member(
    conn: &mut AnyConnection,
    account: AccountId,
    patient: PatientId,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM care_team_members
         WHERE patient_id = $1 AND account_id = $2 AND ended_at IS NULL",
    )
    .bind(patient.to_string())
    .bind(account.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Fails with 404 (unknown and not-yours look the same, with `message`)
/// unless the session's account is in the patient's care team. A refusal is
/// audited on its own connection, so it is kept even when the caller's
/// transaction rolls back.
pub async fn require_member_or(
    state: &AppState,
    session: &Session,
    patient: PatientId,
    field: &str,
    message: &str,
) -> ApiResult<()> {
    let mut conn = state.db.pool.acquire().await?;
    if is_member(&mut conn, session.account_id, patient).await? {
        return Ok(());
    }
    tracing::warn!(account = %session.account_id, %patient, "access outside the care team refused");
    audit::record(
        &mut conn,
        &session.into(),
        AuditEvent::new(Action::Denied)
            .patient(patient)
            .detail(field),
    )
    .await?;
    Err(ApiError::OutsideCareTeam {
        field: field.to_string(),
        message: message.to_string(),
    })
}

/// `require_member_or` with the patient's message.
pub async fn require_member(
    state: &AppState,
    session: &Session,
    patient: PatientId,
    field: &str,
) -> ApiResult<()> {
    require_member_or(state, session, patient, field, PATIENT_NOT_FOUND).await
}

/// `GET /api/caseload`: the patients whose care team the person is in.
///
/// Answered with an `ETag` (a hash of exactly what is sent). A device that
/// sends it back in `If-None-Match` and already holds that very caseload
/// gets `304 Not Modified`, with no body and no audit row: nothing is
/// disclosed that it did not already have (docs/sync-protocol.md, "What a
/// read is for the audit"). A device syncing every 30 s thus writes rows
/// only when its caseload changes.
pub async fn caseload(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // A professional's caseload is their care teams' patients; a patient's
    // is themself (with their team: whom they can expect).
    let (patients_sql, teams_sql, key) = match session.patient() {
        None => (
            "SELECT p.id, p.family_name, p.given_name, p.birth_date, p.town
             FROM patients p JOIN care_team_members m ON m.patient_id = p.id
             WHERE m.account_id = $1 AND m.ended_at IS NULL
             ORDER BY p.family_name, p.given_name",
            "SELECT m.patient_id, a.id, a.display_name, a.profession
             FROM care_team_members m JOIN accounts a ON a.id = m.account_id
             WHERE m.ended_at IS NULL AND m.patient_id IN
                 (SELECT patient_id FROM care_team_members WHERE account_id = $1 AND ended_at IS NULL)
             ORDER BY a.display_name",
            session.account_id.to_string(),
        ),
        Some(own) => (
            "SELECT p.id, p.family_name, p.given_name, p.birth_date, p.town
             FROM patients p WHERE p.id = $1",
            "SELECT m.patient_id, a.id, a.display_name, a.profession
             FROM care_team_members m JOIN accounts a ON a.id = m.account_id
             WHERE m.ended_at IS NULL AND m.patient_id = $1
             ORDER BY a.display_name",
            own.to_string(),
        ),
    };
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(patients_sql)
        .bind(&key)
        .fetch_all(&state.db.pool)
        .await?;
    let unreadable = |what: &str| ApiError::Internal(format!("unreadable {what} in the database"));
    let mut patients = Vec::with_capacity(rows.len());
    for (id, family_name, given_name, birth_date, town) in rows {
        patients.push(Patient {
            id: id.parse().map_err(|_| unreadable("patient id"))?,
            family_name,
            given_name,
            birth_date,
            town,
            care_team: vec![],
        });
    }
    let members: Vec<(String, String, String, String)> = sqlx::query_as(teams_sql)
        .bind(&key)
        .fetch_all(&state.db.pool)
        .await?;
    let mut teams: HashMap<String, Vec<TeamMember>> = HashMap::new();
    for (patient_id, account_id, display_name, profession) in members {
        let profession: Profession = profession.parse().map_err(|_| unreadable("profession"))?;
        teams.entry(patient_id).or_default().push(TeamMember {
            account_id: account_id.parse().map_err(|_| unreadable("account id"))?,
            display_name,
            profession_label: profession.label_fr().to_string(),
            profession: Some(profession),
        });
    }
    for p in &mut patients {
        p.care_team = teams.remove(&p.id.to_string()).unwrap_or_default();
    }
    let body = serde_json::to_vec(&patients).map_err(|e| ApiError::Internal(e.to_string()))?;
    // Whose caseload it is, too: another person holding the same list on
    // the same phone has not read it yet.
    let mut tagged = session.account_id.to_string().into_bytes();
    tagged.extend_from_slice(&body);
    let etag = format!("\"{}\"", crate::session::sha256_base64(&tagged));
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if held {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let events = patients
        .iter()
        .map(|p| AuditEvent::new(Action::ReadCaseload).patient(p.id))
        .collect();
    audit::record_reads(&state.db.pool, &session, events).await?;
    Ok((
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        body,
    )
        .into_response())
}

/// Puts an account in a patient's care team, or back in it. The membership
/// begins at a new number of the sync clock: the patient's whole history
/// reaches the member's devices at their next sync, whatever their cursor
/// (see `journal`). Adding a current member changes nothing.
pub async fn add_member(
    conn: &mut AnyConnection,
    who: &Actor,
    patient: PatientId,
    account: AccountId,
) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let seq = crate::journal::reserve(&mut tx, 1).await?;
    join(&mut tx, who, patient, account, seq, "care_team_add").await?;
    tx.commit().await
}

/// The membership itself, in the caller's transaction, beginning at clock
/// number `seq` (reserved by the caller), audited with `detail`.
pub async fn join(
    tx: &mut AnyConnection,
    who: &Actor,
    patient: PatientId,
    account: AccountId,
    seq: i64,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO care_team_members (patient_id, account_id, added_at, added_seq) VALUES ($1, $2, $3, $4)
         ON CONFLICT (patient_id, account_id) DO UPDATE SET
             added_seq = CASE WHEN care_team_members.ended_at IS NULL
                              THEN care_team_members.added_seq ELSE excluded.added_seq END,
             added_at = CASE WHEN care_team_members.ended_at IS NULL
                             THEN care_team_members.added_at ELSE excluded.added_at END,
             ended_at = NULL",
    )
    .bind(patient.to_string())
    .bind(account.to_string())
    .bind(now_ms())
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    let action = if who.operator.is_some() {
        Action::Operator
    } else {
        Action::WriteRecord
    };
    let event = AuditEvent::new(action)
        .patient(patient)
        .record(account)
        .detail(detail);
    audit::record(tx, who, event).await
}

/// The professions of every enabled account, for the rules of records that
/// name people (who may include, who is in the team).
pub struct Directory(HashMap<AccountId, Profession>);

impl Directory {
    pub async fn load(conn: &mut AnyConnection) -> Result<Self, sqlx::Error> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, profession FROM accounts WHERE disabled_at IS NULL")
                .fetch_all(conn)
                .await?;
        Ok(Directory(
            rows.into_iter()
                .filter_map(|(id, p)| Some((id.parse().ok()?, p.parse().ok()?)))
                .collect(),
        ))
    }
}

impl parcours_domain::record::Directory for Directory {
    fn profession(&self, account: AccountId) -> Option<Profession> {
        self.0.get(&account).copied()
    }
}

/// Whether a patient with this id exists.
pub async fn patient_exists(
    conn: &mut AnyConnection,
    patient: PatientId,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM patients WHERE id = $1")
        .bind(patient.to_string())
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Brings a patient in (an inclusion of someone the server did not know):
/// the patient row and the care team, in the caller's transaction, the
/// memberships at clock number `seq`.
pub async fn open_patient(
    tx: &mut AnyConnection,
    who: &Actor,
    opening: &parcours_domain::record::Opening,
    seq: i64,
) -> Result<(), sqlx::Error> {
    let p = &opening.patient;
    sqlx::query(
        "INSERT INTO patients (id, family_name, given_name, birth_date, town, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(p.id.to_string())
    .bind(&p.family_name)
    .bind(&p.given_name)
    .bind(&p.birth_date)
    .bind(&p.town)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    for account in &opening.team {
        join(tx, who, p.id, *account, seq, "care_team_open").await?;
    }
    Ok(())
}

/// Ends an account's membership of a patient's care team (the row stays:
/// who could see what, and when, remains known). Returns false when the
/// account was not a current member.
pub async fn end_member(
    conn: &mut AnyConnection,
    who: &Actor,
    patient: PatientId,
    account: AccountId,
) -> Result<bool, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let done = sqlx::query(
        "UPDATE care_team_members SET ended_at = $1
         WHERE patient_id = $2 AND account_id = $3 AND ended_at IS NULL",
    )
    .bind(now_ms())
    .bind(patient.to_string())
    .bind(account.to_string())
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new(Action::Operator)
        .patient(patient)
        .record(account)
        .detail("care_team_remove");
    audit::record(&mut tx, who, event).await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}
