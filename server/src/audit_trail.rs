//! Reading the audit trail (see the domain's `audit`): a page of rows,
//! newest first, filtered by patient and by person, and the same as CSV.
//! Only support coordinators read it, and every reading is itself a row.

use crate::audit::{self, Action, AuditEvent};
use crate::error::{ApiError, ApiResult};
use crate::session::Session;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_domain::audit::{
    may_read_audit, AuditEntry, AuditPage, AuditSubjects, AUDIT_PAGE_MAX,
};
use parcours_domain::{AccountId, PatientId};
use serde::Deserialize;

/// The most rows one export holds (a year of a busy CPTS is far less).
const EXPORT_MAX: i64 = 200_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    patient_id: Option<PatientId>,
    account_id: Option<AccountId>,
    /// Rows older than this id (the previous page's `next_before`).
    before: Option<i64>,
    limit: Option<u32>,
}

fn require_reader(session: &Session) -> ApiResult<()> {
    match session.professional() {
        Ok(p) if may_read_audit(p) => Ok(()),
        _ => Err(ApiError::Forbidden {
            field: "role".into(),
            message: "Le journal d'audit est réservé aux coordinateurs d'appui de la CPTS.".into(),
        }),
    }
}

fn parse(raw: Option<&str>) -> ApiResult<AuditQuery> {
    let de =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.unwrap_or("").as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad_request(
            if field == "." { "query".into() } else { field },
            "Filtre invalide : patient_id et account_id sont des identifiants, before et limit des nombres.",
        )
    })
}

type Row = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

/// The rows matching `query`, newest first, at most `limit`.
async fn rows(state: &AppState, query: &AuditQuery, limit: i64) -> ApiResult<Vec<AuditEntry>> {
    let mut conditions = vec![];
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if query.patient_id.is_some() {
        conditions.push(format!("e.patient_id = {}", next()));
    }
    if query.account_id.is_some() {
        conditions.push(format!("e.account_id = {}", next()));
    }
    if query.before.is_some() {
        conditions.push(format!("e.id < {}", next()));
    }
    let limit_at = next();
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT e.id, e.at, e.account_id, a.display_name, e.operator, e.device_id, e.action,
                e.patient_id, p.family_name, p.given_name, e.record_id, e.detail, e.client_addr
         FROM audit_events e
         LEFT JOIN accounts a ON a.id = e.account_id
         LEFT JOIN patients p ON p.id = e.patient_id
         {filter} ORDER BY e.id DESC LIMIT {limit_at}"
    );
    let mut q = sqlx::query_as::<_, Row>(&sql);
    if let Some(p) = query.patient_id {
        q = q.bind(p.to_string());
    }
    if let Some(a) = query.account_id {
        q = q.bind(a.to_string());
    }
    if let Some(b) = query.before {
        q = q.bind(b);
    }
    let found = q.bind(limit).fetch_all(&state.db.pool).await?;
    Ok(found
        .into_iter()
        .map(
            |(
                id,
                at,
                account,
                who,
                operator,
                device,
                action,
                patient,
                family,
                given,
                record,
                detail,
                addr,
            )| {
                AuditEntry {
                    id,
                    at,
                    account_id: account.and_then(|a| a.parse().ok()),
                    who,
                    operator,
                    device_id: device,
                    action,
                    patient_id: patient.and_then(|p| p.parse().ok()),
                    patient: family
                        .zip(given)
                        .map(|(f, g)| format!("{} {g}", f.to_uppercase())),
                    record_id: record,
                    detail,
                    client_addr: addr,
                }
            },
        )
        .collect())
}

/// Writes that the trail was read, and with which filters.
async fn record_reading(
    state: &AppState,
    session: &Session,
    query: &AuditQuery,
    how: &str,
) -> ApiResult<()> {
    let mut detail = how.to_string();
    if let Some(a) = query.account_id {
        detail.push_str(&format!(", personne {a}"));
    }
    let mut event = AuditEvent::new(Action::ReadAudit);
    if let Some(p) = query.patient_id {
        event = event.patient(p);
    }
    let mut conn = state.db.pool.acquire().await?;
    audit::record(&mut conn, &session.into(), event.detail(detail)).await?;
    Ok(())
}

/// `GET /api/audit?patient_id=&account_id=&before=&limit=`
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AuditPage>> {
    require_reader(&session)?;
    let query = parse(raw.as_deref())?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=AUDIT_PAGE_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "limit",
            format!("De 1 à {AUDIT_PAGE_MAX} lignes par page."),
        ));
    }
    record_reading(&state, &session, &query, "consultation").await?;
    let entries = rows(&state, &query, i64::from(limit) + 1).await?;
    let more = entries.len() > limit as usize;
    let entries: Vec<AuditEntry> = entries.into_iter().take(limit as usize).collect();
    let next_before = more.then(|| entries.last().map(|e| e.id)).flatten();
    Ok(Json(AuditPage {
        entries,
        next_before,
    }))
}

/// `GET /api/audit.csv?patient_id=&account_id=`: every matching row, newest
/// first, for a spreadsheet (UTF-8 with its byte-order mark, which French
/// spreadsheets need to read accents).
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    require_reader(&session)?;
    let query = parse(raw.as_deref())?;
    record_reading(&state, &session, &query, "export CSV").await?;
    let entries = rows(&state, &query, EXPORT_MAX).await?;
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let internal = |e: csv::Error| ApiError::Internal(format!("audit CSV: {e}"));
    out.write_record([
        "n°",
        "quand (UTC, ms)",
        "qui",
        "compte",
        "opérateur",
        "appareil",
        "action",
        "action (code)",
        "patient",
        "patient (id)",
        "enregistrement",
        "détail",
        "adresse",
    ])
    .map_err(internal)?;
    for e in &entries {
        out.write_record([
            e.id.to_string(),
            e.at.to_string(),
            e.who.clone().unwrap_or_default(),
            e.account_id.map(|a| a.to_string()).unwrap_or_default(),
            e.operator.clone().unwrap_or_default(),
            e.device_id.clone().unwrap_or_default(),
            e.action_fr().to_string(),
            e.action.clone(),
            e.patient.clone().unwrap_or_default(),
            e.patient_id.map(|p| p.to_string()).unwrap_or_default(),
            e.record_id.clone().unwrap_or_default(),
            e.detail.clone(),
            e.client_addr.clone().unwrap_or_default(),
        ])
        .map_err(internal)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("audit CSV: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"journal-audit-parcours.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/audit/subjects`: every person and patient, to filter by.
pub async fn subjects(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<AuditSubjects>> {
    require_reader(&session)?;
    let people: Vec<(String, String)> =
        sqlx::query_as("SELECT id, display_name FROM accounts ORDER BY display_name")
            .fetch_all(&state.db.pool)
            .await?;
    let patients: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, family_name, given_name FROM patients ORDER BY family_name, given_name",
    )
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(AuditSubjects {
        people: people
            .into_iter()
            .filter_map(|(id, name)| Some((id.parse().ok()?, name)))
            .collect(),
        patients: patients
            .into_iter()
            .filter_map(|(id, f, g)| Some((id.parse().ok()?, format!("{} {g}", f.to_uppercase()))))
            .collect(),
    }))
}
