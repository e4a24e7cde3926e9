//! Pain assessments read back outside the sync (stored in the journal like
//! every record of the append lane).

use crate::audit::{self, Action, AuditEvent};
use crate::care_team;
use crate::error::{ApiError, ApiResult};
use crate::journal;
use crate::session::Session;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use parcours_domain::PatientId;
use serde_json::value::RawValue;

/// `GET /api/patients/{id}/assessments`: one patient's assessments, oldest
/// first, for clients that read without syncing (and for audits of access).
pub async fn list_for_patient(
    State(state): State<AppState>,
    session: Session,
    Path(patient_id): Path<String>,
) -> ApiResult<Json<Vec<Box<RawValue>>>> {
    // Not an id: unknown, like a patient outside the team (checked before any query).
    let patient: PatientId = patient_id
        .parse()
        .map_err(|_| ApiError::patient_not_found("patient_id"))?;
    care_team::require_member(&state, &session, patient, "patient_id").await?;
    let bodies = journal::records_of(&state.db.pool, patient, "pain_assessment").await?;
    let event = AuditEvent::new(Action::ReadRecords)
        .patient(patient)
        .detail("pain_assessments");
    audit::record_reads(&state.db.pool, &session, vec![event]).await?;
    bodies
        .into_iter()
        .map(|b| RawValue::from_string(b).map_err(|e| ApiError::Internal(e.to_string())))
        .collect::<ApiResult<Vec<_>>>()
        .map(Json)
}
