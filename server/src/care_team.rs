//! The care team: who may see and act for a patient. Access is decided here
//! and nowhere else; every handler that touches a patient asks this module.

use crate::audit::{self, Action, AuditEvent};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::session::Session;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use parcours_domain::patient::TeamMember;
use parcours_domain::{AccountId, Patient, Profession};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// True when the account is a current member of the patient's care team.
pub async fn is_member(
    conn: &mut AnyConnection,
    account: AccountId,
    patient_id: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM care_team_members
         WHERE patient_id = $1 AND account_id = $2 AND ended_at IS NULL",
    )
    .bind(patient_id)
    .bind(account.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Fails with 404 (unknown and not-yours look the same) unless the session's
/// account is in the patient's care team. A refusal is audited on its own
/// connection, so it is kept even when the caller's transaction rolls back.
pub async fn require_member(
    state: &AppState,
    session: &Session,
    patient_id: &str,
    field: &str,
) -> ApiResult<()> {
    let mut conn = state.db.pool.acquire().await?;
    if is_member(&mut conn, session.account_id, patient_id).await? {
        return Ok(());
    }
    tracing::warn!(account = %session.account_id, patient = patient_id, "access outside the care team refused");
    audit::record(
        &mut conn,
        Some(session),
        AuditEvent::new(Action::Denied)
            .patient(patient_id)
            .detail(field),
    )
    .await?;
    Err(ApiError::patient_not_found(field))
}

/// `GET /api/caseload`: the patients whose care team the person is in.
pub async fn caseload(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<Vec<Patient>>> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT p.id, p.family_name, p.given_name, p.birth_date, p.town
         FROM patients p JOIN care_team_members m ON m.patient_id = p.id
         WHERE m.account_id = $1 AND m.ended_at IS NULL
         ORDER BY p.family_name, p.given_name",
    )
    .bind(session.account_id.to_string())
    .fetch_all(&state.db.pool)
    .await?;
    let events = rows
        .iter()
        .map(|r| AuditEvent::new(Action::ReadCaseload).patient(&r.0))
        .collect();
    audit::record_reads(&state.db.pool, &session, events).await?;
    let members: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT m.patient_id, a.id, a.display_name, a.profession
         FROM care_team_members m JOIN accounts a ON a.id = m.account_id
         WHERE m.ended_at IS NULL AND m.patient_id IN
             (SELECT patient_id FROM care_team_members WHERE account_id = $1 AND ended_at IS NULL)
         ORDER BY a.display_name",
    )
    .bind(session.account_id.to_string())
    .fetch_all(&state.db.pool)
    .await?;
    let mut teams: HashMap<String, Vec<TeamMember>> = HashMap::new();
    for (patient_id, account_id, display_name, profession) in members {
        teams.entry(patient_id).or_default().push(TeamMember {
            account_id: account_id
                .parse()
                .map_err(|_| ApiError::Internal(format!("bad account id {account_id}")))?,
            display_name,
            profession_label: profession
                .parse::<Profession>()
                .map(|p| p.label_fr().to_string())
                .unwrap_or(profession),
        });
    }
    let mut patients = Vec::with_capacity(rows.len());
    for (id, family_name, given_name, birth_date, town) in rows {
        let care_team = teams.remove(&id).unwrap_or_default();
        patients.push(Patient {
            id: id
                .parse()
                .map_err(|_| ApiError::Internal(format!("bad patient id {id}")))?,
            family_name,
            given_name,
            birth_date,
            town,
            care_team,
        });
    }
    Ok(Json(patients))
}

/// Adds an account to a patient's care team (operator command and demo data).
pub async fn add_member(
    conn: &mut AnyConnection,
    patient_id: &str,
    account_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO care_team_members (patient_id, account_id, added_at) VALUES ($1, $2, $3)
         ON CONFLICT (patient_id, account_id) DO UPDATE SET ended_at = NULL",
    )
    .bind(patient_id)
    .bind(account_id)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}
