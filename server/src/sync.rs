//! The sync protocol's endpoints (docs/sync-protocol.md, version 2).
//!
//! Push: append-lane records are inserted once, whatever the number of
//! retries (`ON CONFLICT (id) DO NOTHING`); mutation-lane changes are applied
//! once each, in order per device (`care_plan`). Both in one transaction.
//! Pull: records and items come back in the order of the sync clock (see the
//! first migration), in pages, from a cursor.

use crate::audit::{self, Action, AuditEvent};
use crate::care_plan;
use crate::care_team;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::pain_assessment;
use crate::session::Session;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use parcours_domain::sync::{
    ChecksumResponse, Cursor, PullResponse, PushRequest, PushResponse, Record, DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
};
use serde::Deserialize;
use std::collections::BTreeSet;

/// A push as it arrives: records are decoded one by one (below) so that an
/// error inside one is reported with its full path; serde cannot see into an
/// internally tagged enum.
#[derive(Deserialize)]
pub struct PushEnvelope {
    protocol: u32,
    #[serde(default)]
    records: Vec<serde_json::Value>,
    #[serde(default)]
    mutations: Vec<serde_json::Value>,
}

fn decode_mutation(
    index: usize,
    value: serde_json::Value,
) -> ApiResult<parcours_domain::care_plan::Mutation> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            format!("mutations[{index}]")
        } else {
            format!("mutations[{index}].{path}")
        };
        ApiError::bad_request(field, format!("JSON invalide : {}", e.inner()))
    })
}

fn decode_record(index: usize, value: serde_json::Value) -> ApiResult<Record> {
    let at = |field: &str| format!("records[{index}]{field}");
    let kind = value
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or_else(|| ApiError::bad_request(at(".kind"), "Type d'enregistrement manquant."))?
        .to_string();
    match kind.as_str() {
        "pain_assessment" => serde_path_to_error::deserialize(value)
            .map(Record::PainAssessment)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    at("")
                } else {
                    at(&format!(".{path}"))
                };
                ApiError::bad_request(field, format!("JSON invalide : {}", e.inner()))
            }),
        other => Err(ApiError::bad_request(
            at(".kind"),
            format!("Type d'enregistrement inconnu : {other}"),
        )),
    }
}

/// `POST /api/sync/push`.
pub async fn push(
    State(state): State<AppState>,
    session: Session,
    JsonBody(envelope): JsonBody<PushEnvelope>,
) -> ApiResult<Json<PushResponse>> {
    let request = PushRequest {
        protocol: envelope.protocol,
        records: envelope
            .records
            .into_iter()
            .enumerate()
            .map(|(i, v)| decode_record(i, v))
            .collect::<ApiResult<_>>()?,
        mutations: envelope
            .mutations
            .into_iter()
            .enumerate()
            .map(|(i, v)| decode_mutation(i, v))
            .collect::<ApiResult<_>>()?,
    };
    request.validate().map_err(ApiError::invalid)?;

    // A device speaks only for the account and the device of its session.
    for (i, record) in request.records.iter().enumerate() {
        let Record::PainAssessment(a) = record;
        if a.author_id != session.account_id {
            return Err(ApiError::Forbidden {
                field: format!("records[{i}].author_id"),
                message: "L'auteur doit être la personne connectée.".into(),
            });
        }
        if a.device_id != session.device_id {
            return Err(ApiError::Forbidden {
                field: format!("records[{i}].device_id"),
                message: "L'appareil doit être celui de la session.".into(),
            });
        }
    }
    for (i, m) in request.mutations.iter().enumerate() {
        if m.author_id != session.account_id {
            return Err(ApiError::Forbidden {
                field: format!("mutations[{i}].author_id"),
                message: "L'auteur doit être la personne connectée.".into(),
            });
        }
        if m.device_id != session.device_id {
            return Err(ApiError::Forbidden {
                field: format!("mutations[{i}].device_id"),
                message: "L'appareil doit être celui de la session.".into(),
            });
        }
    }
    // Access is checked before anything is written; a refusal writes nothing
    // but its audit row. (An item's own patient is checked against the
    // mutation's by the merge rules.)
    let mut checked = BTreeSet::new();
    let patients = request
        .records
        .iter()
        .enumerate()
        .map(|(i, Record::PainAssessment(a))| (a.patient_id, format!("records[{i}].patient_id")))
        .chain(
            request
                .mutations
                .iter()
                .enumerate()
                .map(|(i, m)| (m.patient_id, format!("mutations[{i}].patient_id"))),
        );
    for (patient, field) in patients {
        let patient = patient.to_string();
        if checked.insert(patient.clone()) {
            care_team::require_member(&state, &session, &patient, &field).await?;
        }
    }
    if request.records.is_empty() && request.mutations.is_empty() {
        let mut conn = state.db.pool.acquire().await?;
        return Ok(Json(PushResponse {
            acknowledged: vec![],
            last_mutation_id: care_plan::last_mutation_id(&mut conn, &session).await?,
        }));
    }

    let mut tx = state.db.pool.begin().await?;
    // Take the clock's row lock first: it orders this transaction after every
    // other writer (see the migration), and on SQLite it makes this a write
    // transaction from its first statement, so it never has to upgrade.
    let count = i64::try_from(request.records.len() + request.mutations.len())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let top: i64 =
        sqlx::query_scalar("UPDATE sync_clock SET value = value + $1 WHERE id = 1 RETURNING value")
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
    let acknowledged =
        pain_assessment::insert_pushed(&mut tx, &session, &request.records, top - count + 1)
            .await?;
    let first_item_seq = top - count + 1 + request.records.len() as i64;
    let last_mutation_id =
        care_plan::apply_mutations(&mut tx, &session, &request.mutations, first_item_seq..=top)
            .await?;
    // Only a committed push is acknowledged: the answer leaves after this line.
    tx.commit().await?;
    Ok(Json(PushResponse {
        acknowledged,
        last_mutation_id,
    }))
}

#[derive(Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    /// Ask for `remaining` (costs two counts: the first page of a sync only).
    #[serde(default)]
    estimate: bool,
}

fn parse_cursor(cursor: Option<&str>) -> ApiResult<i64> {
    match cursor.filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(c) => c.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            ApiError::bad_request(
                "cursor",
                "Curseur invalide : renvoyez celui que le serveur a donné.",
            )
        }),
    }
}

/// `GET /api/sync/pull?cursor=…&limit=…`.
pub async fn pull(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> ApiResult<Json<PullResponse>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let after = parse_cursor(query.cursor.as_deref())?;
    let limit = query.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if limit == 0 || limit > MAX_PULL_LIMIT {
        return Err(ApiError::bad_request(
            "limit",
            format!("La taille de page va de 1 à {MAX_PULL_LIMIT}."),
        ));
    }

    // One more row than asked tells whether another page is waiting.
    let rows: Vec<(i64, pain_assessment::Row)> = sqlx::query_as::<_, SeqRow>(&format!(
        "SELECT a.seq, {} FROM pain_assessments a
         JOIN care_team_members m ON m.patient_id = a.patient_id
         WHERE m.account_id = $1 AND m.ended_at IS NULL AND a.seq > $2
         ORDER BY a.seq LIMIT $3",
        pain_assessment::COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(session.account_id.to_string())
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .map(|r| (r.seq, r.row))
    .collect();

    let items = care_plan::items_after(&state, &session, after, i64::from(limit) + 1).await?;

    // Merge the two streams by clock number and keep the first `limit`.
    let mut changes: Vec<Change> = rows
        .into_iter()
        .map(|(seq, row)| Change::Record(seq, row))
        .chain(items.into_iter().map(Change::Item))
        .collect();
    changes.sort_by_key(Change::seq);
    let has_more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let next = changes.last().map(Change::seq).unwrap_or(after);

    let patients: BTreeSet<String> = changes.iter().map(|c| c.patient_id().to_string()).collect();
    let events = patients
        .iter()
        .map(|p| {
            AuditEvent::new(Action::ReadRecords)
                .patient(p)
                .detail("sync_pull")
        })
        .collect();
    audit::record_reads(&state.db.pool, &session, events).await?;

    let mut records = Vec::new();
    let mut item_states = Vec::new();
    for change in changes {
        match change {
            Change::Record(_, row) => records.push(Record::PainAssessment(row.into_domain()?)),
            Change::Item(row) => item_states.push(row.into_state()?),
        }
    }
    let remaining = if query.estimate {
        Some(remaining_after(&state, &session, next).await?)
    } else {
        None
    };
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(PullResponse {
        remaining,
        records,
        items: item_states,
        last_mutation_id: care_plan::last_mutation_id(&mut conn, &session).await?,
        next_cursor: Cursor(next.to_string()),
        has_more,
    }))
}

/// How many records and items this person would still pull after `after`.
async fn remaining_after(state: &AppState, session: &Session, after: i64) -> ApiResult<u64> {
    let mut total = 0;
    for table in ["pain_assessments", "care_plan_items"] {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} t
             JOIN care_team_members m ON m.patient_id = t.patient_id
             WHERE m.account_id = $1 AND m.ended_at IS NULL AND t.seq > $2"
        ))
        .bind(session.account_id.to_string())
        .bind(after)
        .fetch_one(&state.db.pool)
        .await?;
        total += n.max(0) as u64;
    }
    Ok(total)
}

/// One entry of a pull page, from either lane.
enum Change {
    Record(i64, pain_assessment::Row),
    Item(care_plan::ItemRow),
}

impl Change {
    fn seq(&self) -> i64 {
        match self {
            Change::Record(seq, _) => *seq,
            Change::Item(row) => row.seq,
        }
    }

    fn patient_id(&self) -> &str {
        match self {
            Change::Record(_, row) => row.patient_id(),
            Change::Item(row) => &row.patient_id,
        }
    }
}

/// `GET /api/sync/checksum`: the checksum of the care-plan items this person
/// may see, to compare with the device's copy after a pull.
pub async fn checksum(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<ChecksumResponse>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT i.id, i.version FROM care_plan_items i
         JOIN care_team_members m ON m.patient_id = i.patient_id
         WHERE m.account_id = $1 AND m.ended_at IS NULL",
    )
    .bind(session.account_id.to_string())
    .fetch_all(&state.db.pool)
    .await?;
    let pairs = rows
        .iter()
        .map(|(id, version)| {
            Ok((
                id.parse()
                    .map_err(|_| ApiError::Internal(format!("bad item id {id}")))?,
                *version as u64,
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(ChecksumResponse {
        items: pairs.len() as u64,
        checksum: parcours_domain::care_plan::checksum(pairs).to_string(),
    }))
}

#[derive(sqlx::FromRow)]
struct SeqRow {
    seq: i64,
    #[sqlx(flatten)]
    row: pain_assessment::Row,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_non_negative_numbers_or_absent() {
        assert_eq!(parse_cursor(None).unwrap(), 0);
        assert_eq!(parse_cursor(Some("")).unwrap(), 0);
        assert_eq!(parse_cursor(Some("42")).unwrap(), 42);
        for bad in ["-1", "abc", "1.5", "99999999999999999999"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}
