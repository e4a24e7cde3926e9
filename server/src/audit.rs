//! Every read and write of a patient's data leaves a row here: who, what,
//! when, from which device and which address. A write's row is in the same
//! transaction as the write; a read's rows are committed before the data is
//! sent; a refusal's row is written on its own, whatever the request did.

use crate::clock::now_ms;
use crate::error::{AlreadyAudited, RefusedField};
use crate::session::Session;
use crate::state::AppState;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use parcours_domain::{AccountId, DeviceId, PatientId};
use sqlx::AnyConnection;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Copy)]
pub enum Action {
    SignIn,
    SignInFailed,
    SignOut,
    ReadCaseload,
    ReadRecords,
    WriteRecord,
    /// An attempt on a patient outside the person's care teams.
    Denied,
    /// Any other refused request of a signed-in person (400, 403, 409, 422…),
    /// or an anonymous request on a patient's data.
    Refused,
    /// An operator's command (account, care team).
    Operator,
    /// A patient's invitation made, revoked, used or refused (the detail says which).
    Invitation,
    /// A support coordinator read (or exported) the audit trail.
    ReadAudit,
    /// A person gave up, on their device, a record or change the server
    /// had refused (`sync::discarded`).
    DiscardRefused,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignOut => "sign_out",
            Action::ReadCaseload => "read_caseload",
            Action::ReadRecords => "read_records",
            Action::WriteRecord => "write_record",
            Action::Denied => "denied",
            Action::Refused => "refused",
            Action::Operator => "operator",
            Action::Invitation => "invitation",
            Action::ReadAudit => "read_audit",
            Action::DiscardRefused => "discard_refused",
        }
    }
}

/// Who acted: a signed-in person on a device, an anonymous client, or an
/// operator at the command line.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub account_id: Option<AccountId>,
    pub device_id: Option<DeviceId>,
    pub client_addr: Option<String>,
    pub operator: Option<String>,
}

impl Actor {
    pub fn anonymous(client_addr: Option<String>) -> Self {
        Self {
            client_addr,
            ..Self::default()
        }
    }

    pub fn operator(name: &str) -> Self {
        Self {
            operator: Some(name.to_string()),
            ..Self::default()
        }
    }
}

impl From<&Session> for Actor {
    fn from(s: &Session) -> Self {
        Self {
            account_id: Some(s.account_id),
            device_id: Some(s.device_id),
            client_addr: s.client_addr.clone(),
            operator: None,
        }
    }
}

pub struct AuditEvent {
    pub action: Action,
    pub patient_id: Option<PatientId>,
    pub record_id: Option<String>,
    pub detail: String,
}

impl AuditEvent {
    pub fn new(action: Action) -> Self {
        Self {
            action,
            patient_id: None,
            record_id: None,
            detail: String::new(),
        }
    }
    pub fn patient(mut self, id: PatientId) -> Self {
        self.patient_id = Some(id);
        self
    }
    pub fn record(mut self, id: impl ToString) -> Self {
        self.record_id = Some(id.to_string());
        self
    }
    /// Free detail, bounded: whatever a client sent never fills the table.
    pub fn detail(mut self, detail: impl AsRef<str>) -> Self {
        self.detail = detail.as_ref().chars().take(DETAIL_MAX_CHARS).collect();
        self
    }
}

const DETAIL_MAX_CHARS: usize = 300;

/// Writes the audit rows of a read, in one transaction that starts with a
/// write (so SQLite never has to upgrade a read lock). Callers read first and
/// answer only after this returns: no data leaves without its audit row.
pub async fn record_reads(
    pool: &sqlx::AnyPool,
    who: &Session,
    events: Vec<AuditEvent>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    record_many(&mut tx, &who.into(), &events).await?;
    tx.commit().await
}

/// Writes one audit row on the given connection (usually inside the
/// transaction of the access it records).
pub async fn record(
    conn: &mut AnyConnection,
    who: &Actor,
    event: AuditEvent,
) -> Result<(), sqlx::Error> {
    record_many(conn, who, &[event]).await
}

/// Writes many audit rows with few statements (a push of 500 records writes
/// 500 rows).
pub async fn record_many(
    conn: &mut AnyConnection,
    who: &Actor,
    events: &[AuditEvent],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 9;
    let backend = crate::db::Backend::of(conn);
    let at = now_ms();
    let account = who.account_id.map(|a| a.to_string());
    let device = who.device_id.map(|d| d.to_string());
    for chunk in events.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO audit_events (at, account_id, device_id, action, patient_id, record_id, detail, client_addr, operator) VALUES {}",
            crate::db::values_placeholders(backend, chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = query
                .bind(at)
                .bind(account.clone())
                .bind(device.clone())
                .bind(event.action.code())
                .bind(event.patient_id.map(|p| p.to_string()))
                .bind(event.record_id.clone())
                .bind(event.detail.clone())
                .bind(who.client_addr.clone())
                .bind(who.operator.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Where a request came from: the first address of `X-Forwarded-For` when
/// the server sits behind a proxy it trusts, else the peer's address.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

/// Filled by the `Session` extractor, read back once the answer is known.
#[derive(Clone, Default)]
pub struct SessionSlot(pub Arc<OnceLock<Session>>);

/// Paths whose anonymous use is worth a row: they name a patient's data.
fn names_patient_data(path: &str) -> bool {
    ["/api/patients/", "/api/items/", "/api/sync/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Middleware: notes where the request came from, and writes one audit row
/// for every refused request of a signed-in person (400, 403, 404, 409,
/// 413, 415, 422…) that no handler audited already, and for anonymous
/// requests on patients' data. Logs one line per request.
pub async fn trail(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string());
    let forwarded = state
        .trust_proxy
        .then(|| {
            request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().chars().take(64).collect::<String>())
        })
        .flatten();
    let addr = forwarded.or(peer);
    let slot = SessionSlot::default();
    request.extensions_mut().insert(ClientAddr(addr.clone()));
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    // The full path: inside a nested router, `uri()` has lost its prefix.
    let path: String = request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.path())
        .unwrap_or(request.uri().path())
        .chars()
        .take(200)
        .collect();

    let response = next.run(request).await;

    let status = response.status();
    tracing::info!(%method, %path, status = status.as_u16(), client = addr.as_deref().unwrap_or("-"), "request");
    // 408 and 429 say "later", not "no": nothing was refused.
    let later = matches!(
        status,
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
    );
    if !status.is_client_error() || later || response.extensions().get::<AlreadyAudited>().is_some()
    {
        return response;
    }
    let field = response
        .extensions()
        .get::<RefusedField>()
        .map(|f| f.0.as_str())
        .unwrap_or("");
    let detail = format!("{} {method} {path} {field}", status.as_u16());
    let actor = match slot.0.get() {
        Some(session) => Actor::from(session),
        None if status == StatusCode::UNAUTHORIZED && names_patient_data(&path) => {
            Actor::anonymous(addr)
        }
        None => return response,
    };
    let written = async {
        let mut conn = state.db.pool.acquire().await?;
        record(
            &mut conn,
            &actor,
            AuditEvent::new(Action::Refused).detail(detail),
        )
        .await
    };
    if let Err(e) = written.await {
        // The refusal stands either way; a missing row is worth an alert.
        tracing::error!(error = %e, "could not audit a refused request");
    }
    response
}
