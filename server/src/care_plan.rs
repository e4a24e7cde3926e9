//! The mutation lane on the server: care-plan items changed by many people
//! offline. Each mutation is applied once, in order per (account, device), in
//! the same transaction as the device's `last_mutation_id`, by the merge rules
//! of `parcours_domain::care_plan` — the same code the devices run.

use crate::audit::{self, Action, AuditEvent};
use crate::care_team;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::session::Session;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use parcours_domain::care_plan::{self, Applied, ItemState, MergeError, Mutation};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use std::collections::HashMap;

pub async fn last_mutation_id(
    conn: &mut AnyConnection,
    session: &Session,
) -> Result<u64, sqlx::Error> {
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT last_mutation_id FROM device_mutations WHERE account_id = $1 AND device_id = $2",
    )
    .bind(session.account_id.to_string())
    .bind(session.device_id.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(last.unwrap_or(0).max(0) as u64)
}

fn merge_error(index: usize, e: MergeError) -> ApiError {
    let field = format!("mutations[{index}].{}", e.field());
    let (status, message) = match &e {
        MergeError::UnknownItem => (
            StatusCode::NOT_FOUND,
            "Action du plan inconnue.".to_string(),
        ),
        MergeError::AlreadyExists => (
            StatusCode::CONFLICT,
            "Cette action du plan existe déjà.".to_string(),
        ),
        MergeError::FutureBase { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "La version de base est plus récente que l'action elle-même.".to_string(),
        ),
        MergeError::WrongPatient => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Cette action appartient au plan d'un autre patient.".to_string(),
        ),
        MergeError::IncompleteCreate(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Une nouvelle action demande un intitulé, un responsable et un statut.".to_string(),
        ),
        MergeError::Invalid(f) => (StatusCode::UNPROCESSABLE_ENTITY, f.message.clone()),
    };
    match status {
        StatusCode::FORBIDDEN => ApiError::Forbidden { field, message },
        StatusCode::NOT_FOUND => ApiError::NotFound { field, message },
        StatusCode::CONFLICT => ApiError::Conflict { field, message },
        _ => ApiError::Invalid {
            status,
            field,
            message,
        },
    }
}

fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}

fn item_from_json(json: &str) -> ApiResult<ItemState> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("unreadable item state: {e}")))
}

/// Applies a push's mutations inside the caller's transaction, which already
/// holds the sync clock (`seqs` are the numbers it reserved). Mutations the
/// server applied before (a retry after a lost acknowledgement) are skipped
/// after checking they are the same mutation; a gap is refused. Returns the
/// device's last applied mutation id.
pub async fn apply_mutations(
    tx: &mut AnyConnection,
    session: &Session,
    mutations: &[Mutation],
    mut seqs: impl Iterator<Item = i64>,
) -> ApiResult<u64> {
    let mut last = last_mutation_id(tx, session).await?;
    let applied_at = now_ms();
    let account = session.account_id.to_string();
    let device = session.device_id.to_string();
    let mut touched: HashMap<String, (ItemState, i64)> = HashMap::new();
    let mut versions = Vec::with_capacity(mutations.len());
    let mut audited = Vec::with_capacity(mutations.len());
    for (i, m) in mutations.iter().enumerate() {
        if m.mutation_id <= last {
            // Already applied: it must be the very same mutation, or this
            // device reused an id (its store was wiped) and would lose data.
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT mutation FROM care_plan_item_versions
                 WHERE account_id = $1 AND device_id = $2 AND mutation_id = $3",
            )
            .bind(&account)
            .bind(&device)
            .bind(m.mutation_id as i64)
            .fetch_optional(&mut *tx)
            .await?;
            let same = stored
                .and_then(|s| serde_json::from_str::<Mutation>(&s).ok())
                .is_some_and(|s| s == *m);
            if !same {
                return Err(ApiError::Conflict {
                    field: format!("mutations[{i}].mutation_id"),
                    message: format!("Numéro de mutation déjà utilisé par une autre mutation ; le suivant attendu est {}.", last + 1),
                });
            }
            continue;
        }
        if m.mutation_id != last + 1 {
            return Err(ApiError::Conflict {
                field: format!("mutations[{i}].mutation_id"),
                message: format!(
                    "Mutation hors d'ordre : la suivante attendue est {}.",
                    last + 1
                ),
            });
        }
        let item_id = m.item_id.to_string();
        // Items touched by this push are read once and written once, at the end.
        let current = match touched.remove(&item_id) {
            Some((state, _)) => Some(state),
            None => {
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT state FROM care_plan_items WHERE id = $1")
                        .bind(&item_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                stored.as_deref().map(item_from_json).transpose()?
            }
        };
        let (state, applied): (ItemState, Applied) =
            care_plan::apply(current, m).map_err(|e| merge_error(i, e))?;
        let seq = seqs
            .next()
            .ok_or_else(|| ApiError::Internal("sync clock numbers exhausted".into()))?;
        versions.push((
            item_id.clone(),
            state.version,
            m.mutation_id,
            to_json(m)?,
            to_json(&applied)?,
        ));
        audited.push((m.patient_id.to_string(), item_id.clone()));
        touched.insert(item_id, (state, seq));
        last = m.mutation_id;
    }
    for (item_id, (state, seq)) in &touched {
        sqlx::query(
            "INSERT INTO care_plan_items (id, patient_id, seq, version, state) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, state = excluded.state",
        )
        .bind(item_id)
        .bind(state.item.patient_id.to_string())
        .bind(*seq)
        .bind(state.version as i64)
        .bind(to_json(state)?)
        .execute(&mut *tx)
        .await?;
    }
    for chunk in versions.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO care_plan_item_versions
                 (item_id, version, account_id, device_id, mutation_id, applied_at, mutation, outcome)
             VALUES {}",
            crate::db::values_placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for (item_id, version, mutation_id, mutation, outcome) in chunk {
            query = query
                .bind(item_id.clone())
                .bind(*version as i64)
                .bind(account.clone())
                .bind(device.clone())
                .bind(*mutation_id as i64)
                .bind(applied_at)
                .bind(mutation.clone())
                .bind(outcome.clone());
        }
        query.execute(&mut *tx).await?;
    }
    let events: Vec<AuditEvent> = audited
        .iter()
        .map(|(patient, item)| {
            AuditEvent::new(Action::WriteRecord)
                .patient(patient)
                .record(item)
                .detail("care_plan_item")
        })
        .collect();
    audit::record_many(tx, Some(session), &events).await?;
    sqlx::query(
        "INSERT INTO device_mutations (account_id, device_id, last_mutation_id) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, device_id) DO UPDATE SET last_mutation_id = excluded.last_mutation_id",
    )
    .bind(&account)
    .bind(&device)
    .bind(last as i64)
    .execute(&mut *tx)
    .await?;
    Ok(last)
}

#[derive(sqlx::FromRow)]
pub struct ItemRow {
    pub seq: i64,
    pub patient_id: String,
    pub state: String,
}

impl ItemRow {
    pub fn into_state(self) -> ApiResult<ItemState> {
        item_from_json(&self.state)
    }
}

/// Items of the person's patients changed after `after`, in clock order.
pub async fn items_after(
    state: &AppState,
    session: &Session,
    after: i64,
    limit: i64,
) -> ApiResult<Vec<ItemRow>> {
    Ok(sqlx::query_as(
        "SELECT i.seq, i.patient_id, i.state FROM care_plan_items i
         JOIN care_team_members m ON m.patient_id = i.patient_id
         WHERE m.account_id = $1 AND m.ended_at IS NULL AND i.seq > $2
         ORDER BY i.seq LIMIT $3",
    )
    .bind(session.account_id.to_string())
    .bind(after)
    .bind(limit)
    .fetch_all(&state.db.pool)
    .await?)
}

/// One version of an item, as the history shows it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HistoryEntry {
    pub version: u64,
    pub author_id: String,
    pub author_name: String,
    pub device_id: String,
    pub mutation_id: u64,
    pub applied_at: i64,
    pub mutation: Mutation,
    pub outcome: Applied,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    version: i64,
    account_id: String,
    display_name: String,
    device_id: String,
    mutation_id: i64,
    applied_at: i64,
    mutation: String,
    outcome: String,
}

/// `GET /api/items/{id}/history`: every version of an item, oldest first.
pub async fn history(
    State(state): State<AppState>,
    session: Session,
    Path(item_id): Path<String>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let patient: Option<String> =
        sqlx::query_scalar("SELECT patient_id FROM care_plan_items WHERE id = $1")
            .bind(&item_id)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some(patient) = patient else {
        return Err(ApiError::NotFound {
            field: "item_id".into(),
            message: "Action du plan inconnue.".into(),
        });
    };
    care_team::require_member(&state, &session, &patient, "item_id").await?;
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT v.version, v.account_id, a.display_name, v.device_id, v.mutation_id, v.applied_at, v.mutation, v.outcome
         FROM care_plan_item_versions v JOIN accounts a ON a.id = v.account_id
         WHERE v.item_id = $1 ORDER BY v.version",
    )
    .bind(&item_id)
    .fetch_all(&state.db.pool)
    .await?;
    let event = AuditEvent::new(Action::ReadRecords)
        .patient(&patient)
        .record(&item_id)
        .detail("care_plan_item_history");
    audit::record_reads(&state.db.pool, &session, vec![event]).await?;
    let unreadable = |e: serde_json::Error| ApiError::Internal(format!("unreadable history: {e}"));
    rows.into_iter()
        .map(|r| {
            Ok(HistoryEntry {
                version: r.version as u64,
                author_id: r.account_id,
                author_name: r.display_name,
                device_id: r.device_id,
                mutation_id: r.mutation_id as u64,
                applied_at: r.applied_at,
                mutation: serde_json::from_str(&r.mutation).map_err(unreadable)?,
                outcome: serde_json::from_str(&r.outcome).map_err(unreadable)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Json)
}
