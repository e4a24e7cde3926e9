//! The mutation lane on the server: editable items (care-plan items,
//! objectives, review points…) changed by many people offline. Each mutation
//! is applied once, in order per (account, device), in the same transaction
//! as the device's `last_mutation_id`, by the merge rules of
//! `parcours_domain::merge` — the same code the devices run.

use crate::audit::{self, Action, AuditEvent};
use crate::care_team;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::journal;
use crate::session::Session;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use parcours_domain::merge::{HistoryEntry, MergeError};
use parcours_domain::sync::{ItemState, Mutation};
use parcours_domain::ItemId;
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::AnyConnection;
use std::collections::HashMap;

/// The same answer for an unknown item and an item of a patient outside the
/// person's care teams: the existence of an item id does not leak.
pub const ITEM_NOT_FOUND: &str = "Élément du plan inconnu.";

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
    match e {
        // An item of another patient answers like an unknown item.
        MergeError::UnknownItem | MergeError::WrongPatient => ApiError::NotFound {
            field: format!("mutations[{index}].item_id"),
            message: ITEM_NOT_FOUND.into(),
        },
        MergeError::AlreadyExists => ApiError::Conflict {
            field,
            message: "Cet élément du plan existe déjà.".into(),
        },
        MergeError::FutureBase { .. } => ApiError::unprocessable(
            field,
            "La version de base est plus récente que l'élément lui-même.",
        ),
        MergeError::IncompleteCreate(message) => ApiError::unprocessable(field, message),
        MergeError::Invalid(f) => ApiError::unprocessable(field, f.message),
    }
}

fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
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
    let mut touched: HashMap<ItemId, (ItemState, i64)> = HashMap::new();
    let mut versions = Vec::with_capacity(mutations.len());
    let mut audited = Vec::with_capacity(mutations.len());
    for (i, mutation) in mutations.iter().enumerate() {
        let m = mutation.envelope();
        if m.mutation_id <= last {
            // Already applied: it must be the very same mutation, or this
            // device reused an id (its store was wiped) and would lose data.
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT mutation FROM item_versions
                 WHERE account_id = $1 AND device_id = $2 AND mutation_id = $3",
            )
            .bind(&account)
            .bind(&device)
            .bind(m.mutation_id as i64)
            .fetch_optional(&mut *tx)
            .await?;
            let same = stored
                .and_then(|s| Mutation::from_json(&s).ok())
                .is_some_and(|s| s == *mutation);
            if !same {
                return Err(ApiError::MutationIdTaken {
                    field: format!("mutations[{i}].mutation_id"),
                    next: last + 1,
                });
            }
            continue;
        }
        if m.mutation_id != last + 1 {
            // Ahead of what this server applied: it lost some (a restored
            // backup), or a part of the push overtook the rest. Either way
            // the answer says which id comes next.
            return Err(ApiError::MutationIdAhead {
                field: format!("mutations[{i}].mutation_id"),
                next: last + 1,
            });
        }
        // Items touched by this push are read once and written once, at the end.
        let current = match touched.remove(&m.item_id) {
            Some((state, _)) => Some(state),
            None => journal::item(tx, m.item_id.0).await?,
        };
        let (state, applied) = mutation.apply(current).map_err(|e| merge_error(i, e))?;
        let seq = seqs
            .next()
            .ok_or_else(|| ApiError::Internal("sync clock numbers exhausted".into()))?;
        versions.push((
            m.item_id.to_string(),
            state.version(),
            m.mutation_id,
            to_json(mutation)?,
            to_json(&applied)?,
        ));
        audited.push((m.patient_id, m.item_id, mutation.kind()));
        touched.insert(m.item_id, (state, seq));
        last = m.mutation_id;
    }
    for (state, seq) in touched.values() {
        journal::put_item(tx, state, *seq).await?;
    }
    let backend = crate::db::Backend::of(tx);
    for chunk in versions.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO item_versions
                 (item_id, version, account_id, device_id, mutation_id, applied_at, mutation, outcome)
             VALUES {}",
            crate::db::values_placeholders(backend, chunk.len(), 8)
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
        .map(|(patient, item, kind)| {
            AuditEvent::new(Action::WriteRecord)
                .patient(*patient)
                .record(item)
                .detail(kind)
        })
        .collect();
    audit::record_many(tx, &session.into(), &events).await?;
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

/// The history as sent: each stored mutation and outcome passed through as
/// the JSON of its kind.
type RawHistory = Vec<HistoryEntry<Box<RawValue>, Box<RawValue>>>;

/// `GET /api/items/{id}/history`: every version of an editable item, oldest
/// first.
pub async fn history(
    State(state): State<AppState>,
    session: Session,
    Path(item_id): Path<String>,
) -> ApiResult<Json<RawHistory>> {
    let not_found = || ApiError::NotFound {
        field: "item_id".into(),
        message: ITEM_NOT_FOUND.into(),
    };
    let item_id: ItemId = item_id.parse().map_err(|_| not_found())?;
    let item = {
        let mut conn = state.db.pool.acquire().await?;
        journal::item(&mut conn, item_id.0).await?
    };
    let Some(item) = item else {
        return Err(not_found());
    };
    let patient = item.patient_id();
    care_team::require_member_or(&state, &session, patient, "item_id", ITEM_NOT_FOUND).await?;
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT v.version, v.account_id, a.display_name, v.device_id, v.mutation_id, v.applied_at, v.mutation, v.outcome
         FROM item_versions v JOIN accounts a ON a.id = v.account_id
         WHERE v.item_id = $1 ORDER BY v.version",
    )
    .bind(item_id.to_string())
    .fetch_all(&state.db.pool)
    .await?;
    let event = AuditEvent::new(Action::ReadRecords)
        .patient(patient)
        .record(item_id)
        .detail(format!("{}_history", item.kind()));
    audit::record_reads(&state.db.pool, &session, vec![event]).await?;
    let unreadable = |what: &str| ApiError::Internal(format!("unreadable {what} in the history"));
    rows.into_iter()
        .map(|r| {
            Ok(HistoryEntry {
                version: r.version.max(0) as u64,
                author_id: r.account_id.parse().map_err(|_| unreadable("account"))?,
                author_name: r.display_name,
                device_id: r.device_id.parse().map_err(|_| unreadable("device"))?,
                mutation_id: r.mutation_id.max(0) as u64,
                applied_at: r.applied_at,
                mutation: RawValue::from_string(r.mutation).map_err(|_| unreadable("mutation"))?,
                outcome: RawValue::from_string(r.outcome).map_err(|_| unreadable("outcome"))?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Json)
}
