//! Pain assessments on the server: stored once, read back by the care team.

use crate::audit::{self, Action, AuditEvent};
use crate::care_team;
use crate::error::{ApiError, ApiResult};
use crate::session::Session;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use parcours_domain::{AssessmentMode, PainAssessment};

/// The columns of `pain_assessments` the protocol carries, in this order.
pub const COLUMNS: &str = "id, patient_id, author_id, device_id, recorded_at, mode, \
     pain_now, pain_average_24h, pain_worst_24h, location, note, amends";

#[derive(sqlx::FromRow)]
pub struct Row {
    id: String,
    patient_id: String,
    author_id: String,
    device_id: String,
    recorded_at: i64,
    mode: String,
    pain_now: i64,
    pain_average_24h: i64,
    pain_worst_24h: i64,
    location: String,
    note: String,
    amends: Option<String>,
}

fn corrupt(what: &str) -> ApiError {
    ApiError::Internal(format!("unreadable {what} in pain_assessments"))
}

impl Row {
    pub fn patient_id(&self) -> &str {
        &self.patient_id
    }

    pub fn into_domain(self) -> ApiResult<PainAssessment> {
        let score = |v: i64| u8::try_from(v).map_err(|_| corrupt("score"));
        Ok(PainAssessment {
            id: self.id.parse().map_err(|_| corrupt("id"))?,
            patient_id: self.patient_id.parse().map_err(|_| corrupt("patient_id"))?,
            recorded_at: self.recorded_at,
            author_id: self.author_id.parse().map_err(|_| corrupt("author_id"))?,
            device_id: self.device_id.parse().map_err(|_| corrupt("device_id"))?,
            mode: mode_from_code(&self.mode).ok_or_else(|| corrupt("mode"))?,
            pain_now: score(self.pain_now)?,
            pain_average_24h: score(self.pain_average_24h)?,
            pain_worst_24h: score(self.pain_worst_24h)?,
            location: self.location,
            note: self.note,
            amends: self
                .amends
                .map(|a| a.parse())
                .transpose()
                .map_err(|_| corrupt("amends"))?,
        })
    }
}

pub fn mode_code(mode: AssessmentMode) -> &'static str {
    match mode {
        AssessmentMode::Interview => "interview",
        AssessmentMode::SelfReported => "self_reported",
    }
}

fn mode_from_code(code: &str) -> Option<AssessmentMode> {
    match code {
        "interview" => Some(AssessmentMode::Interview),
        "self_reported" => Some(AssessmentMode::SelfReported),
        _ => None,
    }
}

/// `GET /api/patients/{id}/assessments`: one patient's assessments, oldest
/// first, for clients that read without syncing (and for audits of access).
pub async fn list_for_patient(
    State(state): State<AppState>,
    session: Session,
    Path(patient_id): Path<String>,
) -> ApiResult<Json<Vec<PainAssessment>>> {
    care_team::require_member(&state, &session, &patient_id, "patient_id").await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM pain_assessments WHERE patient_id = $1 ORDER BY seq"
    ))
    .bind(&patient_id)
    .fetch_all(&state.db.pool)
    .await?;
    let event = AuditEvent::new(Action::ReadRecords)
        .patient(&patient_id)
        .detail("pain_assessments");
    audit::record_reads(&state.db.pool, &session, vec![event]).await?;
    rows.into_iter()
        .map(Row::into_domain)
        .collect::<ApiResult<Vec<_>>>()
        .map(Json)
}
