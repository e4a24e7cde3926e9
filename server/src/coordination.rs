//! The coordinators' side of coordination support (see the domain's
//! `coordination`): the queue of every request of the CPTS, and taking one.
//! This is the one access rule that reaches outside care teams: a
//! coordinator reads the requests (who, why, how urgent — not the patient's
//! file) of patients they do not follow yet, and taking a request is what
//! makes them a member of the patient's care team. Both are audited per
//! patient.

use crate::audit::{self, Action, AuditEvent};
use crate::care_team;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::journal;
use crate::json::JsonBody;
use crate::session::Session;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use parcours_domain::coordination::{
    is_coordinator, CoordinationEvent, CoordinationStep, NeedsAssessment, Progress, QueueEntry,
};
use parcours_domain::date::CalendarDate;
use parcours_domain::sync::Record;
use parcours_domain::{AccountId, PatientId, RecordId};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const KINDS: &str = "('coordination_request', 'coordination_event', 'needs_assessment')";

/// Only the CPTS's coordinators see the queue and take requests.
fn require_coordinator(session: &Session) -> ApiResult<()> {
    match session.professional() {
        Ok(p) if is_coordinator(p) => Ok(()),
        _ => Err(ApiError::Forbidden {
            field: "role".into(),
            message: "Réservé aux coordinateurs de la CPTS.".into(),
        }),
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
    /// The coordinator's day (their device's), for what is late.
    today: CalendarDate,
    /// Minutes their time zone is ahead of UTC.
    #[serde(default)]
    offset_minutes: i32,
}

/// `GET /api/coordination/queue?today=YYYY-MM-DD&offset_minutes=60`: every
/// request, with its progress, newest first.
pub async fn queue(
    State(state): State<AppState>,
    session: Session,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<Vec<QueueEntry>>> {
    require_coordinator(&session)?;
    let query: QueueQuery =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(|_| {
            ApiError::bad_request("today", "« today » est le jour de l'appareil, AAAA-MM-JJ.")
        })?;
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT kind, body FROM journal WHERE kind IN {KINDS} ORDER BY seq"
    ))
    .fetch_all(&state.db.pool)
    .await?;
    let mut requests = vec![];
    let mut events = vec![];
    let mut assessments = vec![];
    for (kind, body) in rows {
        let record = Record::from_json(&body)
            .map_err(|e| ApiError::Internal(format!("unreadable {kind}: {e}")))?;
        match record {
            Record::CoordinationRequest(r) => requests.push(r),
            Record::CoordinationEvent(e) => events.push(e),
            Record::NeedsAssessment(a) => assessments.push(a),
            _ => {}
        }
    }
    // A corrected request is read as its correction.
    let replaced: BTreeSet<RecordId> = requests.iter().filter_map(|r| r.amends).collect();
    requests.retain(|r| !replaced.contains(&r.id));

    let people = names(&state).await?;
    let patients = patients(&state).await?;
    let mut conn = state.db.pool.acquire().await?;
    let mut entries = vec![];
    for request in requests {
        // The events and assessments of a correction's original count too.
        let ids: Vec<RecordId> = std::iter::once(request.id).chain(request.amends).collect();
        let mine_events: Vec<CoordinationEvent> = events
            .iter()
            .filter(|e| ids.contains(&e.request_id))
            .map(|e| CoordinationEvent {
                request_id: request.id,
                ..e.clone()
            })
            .collect();
        let mine_assessments: Vec<NeedsAssessment> = assessments
            .iter()
            .filter(|a| ids.contains(&a.request_id))
            .map(|a| NeedsAssessment {
                request_id: request.id,
                ..a.clone()
            })
            .collect();
        let progress = Progress::of(
            &request,
            &mine_events,
            &mine_assessments,
            query.today,
            query.offset_minutes,
        );
        let (patient_name, patient_town, patient_birth_date) = patients
            .get(&request.patient_id.to_string())
            .cloned()
            .unwrap_or_default();
        entries.push(QueueEntry {
            asked_by: people
                .get(&request.author_id)
                .cloned()
                .unwrap_or_else(|| "un professionnel".into()),
            taken_by_name: progress.taken_by.and_then(|a| people.get(&a).cloned()),
            in_my_team: care_team::is_member(&mut conn, session.account_id, request.patient_id)
                .await?,
            patient_name,
            patient_town,
            patient_birth_date,
            progress,
            request,
        });
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.request.recorded_at));
    // Each request names a patient and why they need support: a read of
    // that patient's data, audited as such.
    let read: BTreeSet<PatientId> = entries.iter().map(|e| e.request.patient_id).collect();
    let audit = read
        .into_iter()
        .map(|p| {
            AuditEvent::new(Action::ReadRecords)
                .patient(p)
                .detail("coordination_queue")
        })
        .collect();
    audit::record_reads(&state.db.pool, &session, audit).await?;
    Ok(Json(entries))
}

/// "Claire Martin (infirmière ressource douleur)" for every account.
async fn names(state: &AppState) -> ApiResult<BTreeMap<AccountId, String>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, display_name, profession FROM accounts")
            .fetch_all(&state.db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, profession)| {
            let label = profession
                .parse::<parcours_domain::Profession>()
                .map(|p| p.label_fr().to_lowercase())
                .unwrap_or(profession);
            Some((id.parse().ok()?, format!("{name} ({label})")))
        })
        .collect())
}

/// (display name, town, birth date) of every patient with a request.
async fn patients(state: &AppState) -> ApiResult<BTreeMap<String, (String, String, String)>> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT p.id, p.family_name, p.given_name, p.town, p.birth_date FROM patients p
         WHERE p.id IN (SELECT patient_id FROM journal WHERE kind = 'coordination_request')",
    )
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, family, given, town, birth)| {
            (
                id,
                (format!("{} {given}", family.to_uppercase()), town, birth),
            )
        })
        .collect())
}

#[derive(Deserialize)]
pub struct Take {
    /// The day, on the coordinator's device.
    pub on: CalendarDate,
}

/// `POST /api/coordination/requests/{id}/take`: the coordinator takes the
/// request — joins the patient's care team and the `taken` event is written,
/// in one transaction; a request already taken is refused (409) with who
/// has it.
pub async fn take(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
    JsonBody(body): JsonBody<Take>,
) -> ApiResult<Json<CoordinationEvent>> {
    require_coordinator(&session)?;
    let mut tx = state.db.pool.begin().await?;
    // Reserving the clock first serialises two coordinators taking at
    // once: the second reads the first's event once it is committed.
    let seq = journal::reserve(&mut tx, 2).await?;
    let stored = journal::stored(&mut tx, id).await?;
    let request = match stored {
        Some(s) if s.kind == "coordination_request" => match Record::from_json(&s.body) {
            Ok(Record::CoordinationRequest(r)) => r,
            _ => return Err(ApiError::Internal("unreadable coordination request".into())),
        },
        _ => {
            return Err(ApiError::NotFound {
                field: "request_id".into(),
                message: "Demande d'appui introuvable.".into(),
            })
        }
    };
    let taken: Vec<(String,)> = sqlx::query_as(
        "SELECT body FROM journal WHERE kind = 'coordination_event' AND patient_id = $1",
    )
    .bind(request.patient_id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let holder = taken
        .iter()
        .filter_map(|(body,)| match Record::from_json(body) {
            Ok(Record::CoordinationEvent(e)) => Some(e),
            _ => None,
        })
        .find(|e| e.request_id == request.id && e.step == CoordinationStep::Taken);
    if let Some(holder) = holder {
        let people = names(&state).await?;
        return Err(ApiError::Conflict {
            field: "request_id".into(),
            message: format!(
                "Déjà prise en charge par {}.",
                people
                    .get(&holder.author_id)
                    .cloned()
                    .unwrap_or_else(|| "un autre coordinateur".into())
            ),
        });
    }
    let event = CoordinationEvent {
        id: RecordId(Uuid::now_v7()),
        patient_id: request.patient_id,
        author_id: session.account_id,
        device_id: session.device_id,
        recorded_at: now_ms(),
        amends: None,
        request_id: request.id,
        on: body.on,
        step: CoordinationStep::Taken,
        note: String::new(),
    };
    let record = Record::CoordinationEvent(event.clone());
    record.validate_at(now_ms()).map_err(ApiError::invalid)?;
    let who = (&session).into();
    care_team::join(
        &mut tx,
        &who,
        request.patient_id,
        session.account_id,
        seq,
        "coordination_take",
    )
    .await?;
    journal::insert_records(&mut tx, &[&record], seq + 1).await?;
    audit::record(
        &mut tx,
        &who,
        AuditEvent::new(Action::WriteRecord)
            .patient(request.patient_id)
            .record(event.id.0)
            .detail("coordination_event"),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(event))
}
