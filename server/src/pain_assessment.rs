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

/// Stores a push's assessments in the caller's transaction, `first_seq`
/// onwards, with few statements; returns the ids to acknowledge. A record
/// already stored by its author (a retry) is acknowledged again; an id
/// already used by someone else's record is refused.
pub async fn insert_pushed(
    tx: &mut sqlx::AnyConnection,
    session: &Session,
    records: &[parcours_domain::sync::Record],
    first_seq: i64,
) -> ApiResult<Vec<uuid::Uuid>> {
    use parcours_domain::sync::Record;
    use std::collections::{HashMap, HashSet};
    const FIELDS: usize = 14;
    let received_at = crate::clock::now_ms();
    let pushed: HashMap<String, String> = records
        .iter()
        .map(|Record::PainAssessment(a)| (a.id.to_string(), a.patient_id.to_string()))
        .collect();
    // A correction names a record of the same patient: stored already, or earlier in this push.
    for (i, Record::PainAssessment(a)) in records.iter().enumerate() {
        let Some(amended) = a.amends else { continue };
        let amended = amended.to_string();
        let patient = match pushed.get(&amended) {
            Some(p) => Some(p.clone()),
            None => {
                sqlx::query_scalar("SELECT patient_id FROM pain_assessments WHERE id = $1")
                    .bind(&amended)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        if patient.as_deref() != Some(a.patient_id.to_string().as_str()) {
            return Err(ApiError::Invalid {
                status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                field: format!("records[{i}].amends"),
                message: "L'évaluation corrigée est inconnue pour ce patient.".into(),
            });
        }
    }
    let mut inserted = HashSet::new();
    for (chunk_index, chunk) in records.chunks(crate::db::ROWS_PER_INSERT).enumerate() {
        let sql = format!(
            "INSERT INTO pain_assessments ({COLUMNS}, seq, received_at) VALUES {}
             ON CONFLICT (id) DO NOTHING RETURNING id",
            crate::db::values_placeholders(chunk.len(), FIELDS)
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for (k, Record::PainAssessment(a)) in chunk.iter().enumerate() {
            let seq = first_seq + (chunk_index * crate::db::ROWS_PER_INSERT + k) as i64;
            query = query
                .bind(a.id.to_string())
                .bind(a.patient_id.to_string())
                .bind(a.author_id.to_string())
                .bind(a.device_id.to_string())
                .bind(a.recorded_at)
                .bind(mode_code(a.mode))
                .bind(i64::from(a.pain_now))
                .bind(i64::from(a.pain_average_24h))
                .bind(i64::from(a.pain_worst_24h))
                .bind(a.location.clone())
                .bind(a.note.clone())
                .bind(a.amends.map(|x| x.to_string()))
                .bind(seq)
                .bind(received_at);
        }
        inserted.extend(query.fetch_all(&mut *tx).await?);
    }
    // Not inserted: a retry of the author's own record, or a collision.
    for (i, Record::PainAssessment(a)) in records.iter().enumerate() {
        let id = a.id.to_string();
        if inserted.contains(&id) {
            continue;
        }
        let author: Option<String> =
            sqlx::query_scalar("SELECT author_id FROM pain_assessments WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        if author.as_deref() != Some(session.account_id.to_string().as_str()) {
            return Err(ApiError::Conflict {
                field: format!("records[{i}].id"),
                message: "Cet identifiant est déjà celui d'un autre enregistrement.".into(),
            });
        }
    }
    let ids: Vec<(String, String)> = records
        .iter()
        .map(|Record::PainAssessment(a)| (a.patient_id.to_string(), a.id.to_string()))
        .filter(|(_, id)| inserted.contains(id))
        .collect();
    let events: Vec<AuditEvent> = ids
        .iter()
        .map(|(patient, id)| {
            AuditEvent::new(Action::WriteRecord)
                .patient(patient)
                .record(id)
                .detail("pain_assessment")
        })
        .collect();
    audit::record_many(tx, Some(session), &events).await?;
    Ok(records
        .iter()
        .map(|Record::PainAssessment(a)| a.id.0)
        .collect())
}
