//! The audit trail's hash chain: each row, once sealed, carries
//! `chain_hash = SHA-256(previous row's chain_hash ‖ this row's fields)`, so
//! a row changed or removed after sealing breaks every hash after it, and
//! `parcours-server audit verify` says where.
//!
//! Rows are written without a hash (many requests write at once, and a
//! chain computed at write time would make them all wait for one another);
//! the sealer chains them in id order once they are older than
//! `SEAL_AFTER_MS`. By then every transaction that could still commit a
//! lower id has ended (requests are cut at `REQUEST_TIMEOUT`), so the chain
//! never skips a row that commits late. In the database, rows are
//! append-only (migration 0010): only the sealing may touch a row, once.
//!
//! The bytes hashed, for a second implementation: the previous row's
//! `chain_hash` as its 64 lowercase hex characters (nothing for the first
//! row), then `id` and `at` as 8 bytes little-endian each, then each of
//! `account_id, device_id, action, patient_id, record_id, detail,
//! client_addr, operator` as one byte 0 when NULL, else one byte 1, its
//! UTF-8 length as 8 bytes little-endian and its UTF-8 bytes. `chain_hash` is
//! the SHA-256 of that, in lowercase hex.

use crate::db::{Backend, Database};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Longer than any request's transaction may last (`REQUEST_TIMEOUT`).
pub const SEAL_AFTER_MS: i64 = 2 * crate::REQUEST_TIMEOUT.as_millis() as i64 + 60_000;

/// Rows sealed per transaction.
const SEAL_BATCH: i64 = 2_000;

/// Any number, the same for every instance: one sealer at a time.
const SEALER_LOCK: i64 = 0x5041_5243_4f55_5253; // "PARCOURS"

/// One audit row as it is hashed.
struct AuditRow {
    id: i64,
    at: i64,
    texts: [Option<String>; 8],
    chain_hash: Option<String>,
}

const COLUMNS: &str = "id, at, account_id, device_id, action, patient_id, record_id, detail, \
                       client_addr, operator, chain_hash";

fn read(row: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    let mut texts: [Option<String>; 8] = Default::default();
    for (i, text) in texts.iter_mut().enumerate() {
        *text = row.try_get(i + 2)?;
    }
    Ok(AuditRow {
        id: row.try_get(0)?,
        at: row.try_get(1)?,
        texts,
        chain_hash: row.try_get(10)?,
    })
}

/// The row's hash after `previous` (None: the first row).
fn chain(previous: Option<&str>, row: &AuditRow) -> String {
    let mut h = Sha256::new();
    h.update(previous.unwrap_or("").as_bytes());
    h.update(row.id.to_le_bytes());
    h.update(row.at.to_le_bytes());
    for text in &row.texts {
        match text {
            None => h.update([0u8]),
            Some(t) => {
                h.update([1u8]);
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals the rows older than `SEAL_AFTER_MS` at `now_ms`, in id order,
/// after the last sealed one; returns how many.
pub async fn seal(db: &Database, now_ms: i64) -> Result<u64, sqlx::Error> {
    let cutoff = now_ms - SEAL_AFTER_MS;
    let mut sealed = 0;
    loop {
        let mut tx = db.pool.begin().await?;
        if db.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SEALER_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let head: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, chain_hash FROM audit_events WHERE chain_hash IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (last_id, mut previous) = match head {
            Some((id, hash)) => (id, Some(hash)),
            None => (0, None),
        };
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(last_id)
        .bind(SEAL_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let mut in_batch = 0;
        for row in &rows {
            let row = read(row)?;
            if row.at >= cutoff {
                break;
            }
            let hash = chain(previous.as_deref(), &row);
            sqlx::query("UPDATE audit_events SET chain_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
            previous = Some(hash);
            in_batch += 1;
        }
        tx.commit().await?;
        sealed += in_batch;
        if in_batch < SEAL_BATCH as u64 {
            return Ok(sealed);
        }
    }
}

/// What `verify` found.
#[derive(Debug, PartialEq, Eq)]
pub struct Verification {
    pub sealed: u64,
    /// Rows after the last sealed one, waiting for the sealer.
    pub waiting: u64,
    /// The first row whose hash does not follow from the rows before it
    /// (changed, or a row before it removed), or an unsealed row among
    /// sealed ones.
    pub first_broken: Option<i64>,
    /// The last sealed row's hash: written down elsewhere, it shows that no
    /// row was removed from the end either.
    pub head: Option<String>,
}

/// Recomputes the whole chain.
pub async fn verify(db: &Database) -> Result<Verification, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let mut result = Verification {
        sealed: 0,
        waiting: 0,
        first_broken: None,
        head: None,
    };
    let mut after = 0_i64;
    let mut previous: Option<String> = None;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE id > $1 ORDER BY id LIMIT 5000"
        ))
        .bind(after)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(result);
        }
        for row in &rows {
            let row = read(row)?;
            after = row.id;
            let Some(stored) = row.chain_hash.clone() else {
                result.waiting += 1;
                continue;
            };
            // A row left unsealed before a sealed one was skipped.
            let skipped = result.waiting > 0;
            result.waiting = 0;
            if (skipped || stored != chain(previous.as_deref(), &row))
                && result.first_broken.is_none()
            {
                result.first_broken = Some(row.id);
            }
            result.sealed += 1;
            previous = Some(stored);
        }
        result.head = previous.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, detail: &str) -> AuditRow {
        AuditRow {
            id,
            at: 1_790_000_000_000,
            texts: [
                Some("a".into()),
                None,
                Some("sign_in".into()),
                None,
                None,
                Some(detail.into()),
                None,
                None,
            ],
            chain_hash: None,
        }
    }

    #[test]
    fn each_hash_depends_on_the_row_and_the_one_before() {
        let first = chain(None, &row(1, "x"));
        assert_eq!(first.len(), 64);
        assert_ne!(first, chain(None, &row(1, "y")));
        assert_ne!(chain(Some(&first), &row(2, "x")), chain(None, &row(2, "x")));
        // NULL and empty are not the same text.
        let mut empty = row(1, "x");
        empty.texts[1] = Some(String::new());
        assert_ne!(first, chain(None, &empty));
    }
}
