//! Every read and write of a patient's data leaves a row here: who, what,
//! when, from which device. A write's row is in the same transaction as the
//! write; a read's rows are committed before the data is sent.

use crate::clock::now_ms;
use crate::session::Session;
use sqlx::AnyConnection;

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
        }
    }
}

pub struct AuditEvent<'a> {
    pub action: Action,
    pub patient_id: Option<&'a str>,
    pub record_id: Option<&'a str>,
    pub detail: &'a str,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: Action) -> Self {
        Self {
            action,
            patient_id: None,
            record_id: None,
            detail: "",
        }
    }
    pub fn patient(mut self, id: &'a str) -> Self {
        self.patient_id = Some(id);
        self
    }
    pub fn record(mut self, id: &'a str) -> Self {
        self.record_id = Some(id);
        self
    }
    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = detail;
        self
    }
}

/// Writes the audit rows of a read, in one transaction that starts with a
/// write (so SQLite never has to upgrade a read lock). Callers read first and
/// answer only after this returns: no data leaves without its audit row.
pub async fn record_reads(
    pool: &sqlx::AnyPool,
    who: &Session,
    events: Vec<AuditEvent<'_>>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    record_many(&mut tx, Some(who), &events).await?;
    tx.commit().await
}

/// Writes one audit row on the given connection (usually inside the
/// transaction of the access it records).
pub async fn record(
    conn: &mut AnyConnection,
    who: Option<&Session>,
    event: AuditEvent<'_>,
) -> Result<(), sqlx::Error> {
    record_many(conn, who, &[event]).await
}

/// Writes many audit rows with few statements (a push of 500 records writes
/// 500 rows).
pub async fn record_many(
    conn: &mut AnyConnection,
    who: Option<&Session>,
    events: &[AuditEvent<'_>],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 7;
    let at = now_ms();
    let account = who.map(|s| s.account_id.to_string());
    let device = who.map(|s| s.device_id.to_string());
    for chunk in events.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO audit_events (at, account_id, device_id, action, patient_id, record_id, detail) VALUES {}",
            crate::db::values_placeholders(chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = query
                .bind(at)
                .bind(account.clone())
                .bind(device.clone())
                .bind(event.action.code())
                .bind(event.patient_id)
                .bind(event.record_id)
                .bind(event.detail);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
