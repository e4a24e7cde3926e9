//! The journal: every append-lane record, of every kind, and the latest state
//! of every editable item, of every kind, each at a number of the sync clock
//! (`seq`). All the SQL of the sync lanes' data lives here; the handlers
//! speak domain types.
//!
//! Why a pull never skips anything: every write transaction of the lanes
//! starts by moving the one-row `sync_clock` and holds its row lock until it
//! commits, so clock numbers become visible in order. A pull reads the
//! clock's committed value V first and reads nothing above V: every entry at
//! or below V was committed before V was, so the page is one consistent view
//! on both databases, whatever commits meanwhile.
//!
//! Why a new care-team member receives the patient's history: a membership
//! records the clock number at which it began (`added_seq`). For a member,
//! an entry's position is its own `seq`, or `added_seq` for entries older
//! than the membership. A pull goes through positions in order, so older
//! entries arrive at the position of the membership, whatever the device's
//! cursor was.

use crate::clock::now_ms;
use parcours_domain::sync::{ItemState, Mutation, Record};
use parcours_domain::{AccountId, PatientId, Profession};
use sqlx::{AnyConnection, AnyPool};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Whether entries of this kind are editable items' states (the rest are
/// append-lane records).
pub fn is_editable(kind: &str) -> bool {
    Mutation::KINDS.contains(&kind)
}

/// The kinds a pull or a checksum covers: every kind, or only those an older
/// client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    All,
    Only(&'static [&'static str]),
}

impl Kinds {
    /// An SQL condition on `j.kind`. The names are the domain's own
    /// constants, never a client's text: they are written into the SQL.
    fn condition(self) -> String {
        match self {
            Kinds::All => String::new(),
            Kinds::Only(kinds) => {
                debug_assert!(kinds
                    .iter()
                    .all(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
                let list: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
                format!(" AND j.kind IN ({})", list.join(", "))
            }
        }
    }
}

/// Whose view of the journal a pull or a checksum reads: a professional's
/// (every patient of their care teams, from when they joined) or a
/// patient's (their own file; what of it they may read is decided by the
/// domain, entry by entry, in `sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A professional: their care teams' patients, and of those the
    /// restricted records their profession may read.
    Team(AccountId, Profession),
    Patient(PatientId),
}

/// An SQL condition on `j.readers`: the entries this profession may read.
/// The code is the domain's own constant, never a client's text.
fn readable_by(profession: Profession) -> String {
    let code = profession.code();
    debug_assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    format!(" AND (j.readers IS NULL OR j.readers LIKE '%,{code},%')")
}

/// How a record's readers are stored (see migration 0008).
pub fn readers_column(readers: Option<&[Profession]>) -> Option<String> {
    readers.map(|r| {
        let codes: Vec<&str> = r.iter().map(|p| p.code()).collect();
        format!(",{},", codes.join(","))
    })
}

/// Whether a stored `readers` value lets this profession read the entry.
pub fn may_read(readers: Option<&str>, profession: Option<Profession>) -> bool {
    match (readers, profession) {
        (None, _) => true,
        (Some(r), Some(p)) => r.contains(&format!(",{},", p.code())),
        (Some(_), None) => false,
    }
}

/// Where a device is in its pull: entries before (`pos`, `seq`) it has.
/// Written `pos` when both are equal, else `pos.seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub pos: i64,
    pub seq: i64,
}

impl Position {
    pub fn at(pos: i64) -> Self {
        Self { pos, seq: pos }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seq == self.pos {
            write!(f, "{}", self.pos)
        } else {
            write!(f, "{}.{}", self.pos, self.seq)
        }
    }
}

impl FromStr for Position {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let number = |t: &str| {
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<i64>().ok())
                .flatten()
        };
        match s.split_once('.') {
            None => number(s).map(Position::at).ok_or(()),
            Some((pos, seq)) => match (number(pos), number(seq)) {
                (Some(pos), Some(seq)) if seq < pos => Ok(Position { pos, seq }),
                _ => Err(()),
            },
        }
    }
}

/// The clock's committed value: nothing above it may be read in this pull.
pub async fn clock(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM sync_clock WHERE id = 1")
        .fetch_one(pool)
        .await
}

/// Takes `count` clock numbers for the caller's transaction and returns the
/// first. Must be the transaction's first write (see the module doc): on
/// SQLite it also makes the transaction a writer from the start, so it never
/// has to upgrade a read lock.
pub async fn reserve(tx: &mut AnyConnection, count: i64) -> Result<i64, sqlx::Error> {
    let top: i64 =
        sqlx::query_scalar("UPDATE sync_clock SET value = value + $1 WHERE id = 1 RETURNING value")
            .bind(count)
            .fetch_one(tx)
            .await?;
    Ok(top - count + 1)
}

/// Who wrote the stored record with this id, its patient and what it says;
/// None if no entry has this id.
pub struct StoredRecord {
    pub kind: String,
    pub patient_id: String,
    pub author_id: Option<String>,
    pub body: String,
    /// Who may read it, when restricted (see `may_read`).
    pub readers: Option<String>,
}

pub async fn stored(
    conn: &mut AnyConnection,
    id: Uuid,
) -> Result<Option<StoredRecord>, sqlx::Error> {
    #[allow(clippy::type_complexity)]
    let row: Option<(String, String, Option<String>, String, Option<String>)> = sqlx::query_as(
        "SELECT kind, patient_id, author_id, body, readers FROM journal WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(kind, patient_id, author_id, body, readers)| StoredRecord {
            kind,
            patient_id,
            author_id,
            body,
            readers,
        },
    ))
}

use crate::db::ROWS_PER_INSERT;

/// Inserts records at `first_seq`, `first_seq + 1`… unless an entry with the
/// same id exists; returns the ids actually inserted.
///
/// Without `RETURNING`: sqlx's SQLite driver hands each returned row from
/// its worker thread to the request's task on its own, and those 2,000
/// hand-overs per push were a good part of the server's time for a push
/// (threads woken and put to sleep). Almost always every row goes in, which
/// the count of rows says; when some did not (a retry), the rows of this
/// statement are the ones at its clock numbers, which no other writer uses.
pub async fn insert_records(
    tx: &mut AnyConnection,
    records: &[&Record],
    first_seq: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let received_at = now_ms();
    let backend = crate::db::Backend::of(tx);
    let mut inserted = Vec::with_capacity(records.len());
    for (chunk_index, chunk) in records.chunks(ROWS_PER_INSERT).enumerate() {
        let sql = format!(
            "INSERT INTO journal (id, kind, patient_id, author_id, device_id, recorded_at, amends,
                                  seq, version, received_at, body, readers)
             VALUES {} ON CONFLICT (id) DO NOTHING",
            crate::db::values_placeholders(backend, chunk.len(), 12)
        );
        let chunk_seq = first_seq + (chunk_index * ROWS_PER_INSERT) as i64;
        let mut query = sqlx::query(&sql);
        for (k, record) in chunk.iter().enumerate() {
            let body = serde_json::to_string(record).map_err(|e| sqlx::Error::Encode(e.into()))?;
            query = query
                .bind(record.id().to_string())
                .bind(record.kind())
                .bind(record.patient_id().to_string())
                .bind(record.author_id().to_string())
                .bind(record.device_id().to_string())
                .bind(record.recorded_at())
                .bind(record.amends().map(|a| a.to_string()))
                .bind(chunk_seq + k as i64)
                .bind(0i64)
                .bind(received_at)
                .bind(body)
                .bind(readers_column(record.readers().as_deref()));
        }
        let affected = query.execute(&mut *tx).await?.rows_affected();
        if usize::try_from(affected).is_ok_and(|n| n == chunk.len()) {
            inserted.extend(chunk.iter().map(|r| r.id()));
            continue;
        }
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM journal WHERE seq >= $1 AND seq < $2")
                .bind(chunk_seq)
                .bind(chunk_seq + chunk.len() as i64)
                .fetch_all(&mut *tx)
                .await?;
        for id in ids {
            inserted.push(
                id.parse()
                    .map_err(|e: uuid::Error| sqlx::Error::Decode(e.into()))?,
            );
        }
    }
    Ok(inserted)
}

/// An editable item's current state, if it exists (whatever its kind).
pub async fn item(conn: &mut AnyConnection, id: Uuid) -> Result<Option<ItemState>, sqlx::Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT kind, body FROM journal WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(conn)
            .await?;
    row.filter(|(kind, _)| is_editable(kind))
        .map(|(_, body)| ItemState::from_json(&body).map_err(|e| sqlx::Error::Decode(e.into())))
        .transpose()
}

/// Stores an item's new state at a new clock number.
pub async fn put_item(
    tx: &mut AnyConnection,
    state: &ItemState,
    seq: i64,
) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(state).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let version = i64::try_from(state.version()).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO journal (id, kind, patient_id, author_id, seq, version, received_at, body)
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
             received_at = excluded.received_at, body = excluded.body",
    )
    .bind(state.id().to_string())
    .bind(state.kind())
    .bind(state.patient_id().to_string())
    .bind(seq)
    .bind(version)
    .bind(now_ms())
    .bind(body)
    .execute(tx)
    .await?;
    Ok(())
}

/// One entry of a pull page, as stored.
#[derive(sqlx::FromRow)]
pub struct Entry {
    pub pos: i64,
    pub seq: i64,
    pub kind: String,
    pub patient_id: String,
    pub body: String,
}

impl Entry {
    pub fn position(&self) -> Position {
        Position {
            pos: self.pos,
            seq: self.seq,
        }
    }
}

/// Up to `limit` entries the account may see after `after` and at or below
/// `upto` (the clock value read first), in position order.
pub async fn page(
    pool: &AnyPool,
    audience: Audience,
    kinds: Kinds,
    after: Position,
    upto: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let only = kinds.condition();
    let (account, only) = match audience {
        Audience::Team(account, profession) => (account, only + &readable_by(profession)),
        // A patient's own file, in clock order: no membership, no backfill.
        Audience::Patient(patient) => {
            return sqlx::query_as(&format!(
                "SELECT j.seq AS pos, j.seq, j.kind, j.patient_id, j.body FROM journal j
                 WHERE j.patient_id = $1 AND j.seq > $2 AND j.seq <= $3{only}
                 ORDER BY j.seq LIMIT $4"
            ))
            .bind(patient.to_string())
            .bind(after.pos)
            .bind(upto)
            .bind(limit)
            .fetch_all(pool)
            .await;
        }
    };
    // Entries newer than the membership: their position is their own number.
    let mut entries: Vec<Entry> = sqlx::query_as(&format!(
        "SELECT j.seq AS pos, j.seq, j.kind, j.patient_id, j.body FROM journal j
         JOIN care_team_members m ON m.patient_id = j.patient_id
         WHERE m.account_id = $1 AND m.ended_at IS NULL
           AND j.seq > $2 AND j.seq > m.added_seq AND j.seq <= $3{only}
         ORDER BY j.seq LIMIT $4"
    ))
    .bind(account.to_string())
    .bind(after.pos)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    // Entries older than a membership that began after the cursor: they come
    // at the membership's position. Usually no row.
    let backfill: Vec<Entry> = sqlx::query_as(&format!(
        "SELECT m.added_seq AS pos, j.seq, j.kind, j.patient_id, j.body FROM care_team_members m
         JOIN journal j ON j.patient_id = m.patient_id AND j.seq < m.added_seq
         WHERE m.account_id = $1 AND m.ended_at IS NULL AND m.added_seq <= $4
           AND (m.added_seq > $2 OR (m.added_seq = $2 AND j.seq > $3)){only}
         ORDER BY m.added_seq, j.seq LIMIT $5"
    ))
    .bind(account.to_string())
    .bind(after.pos)
    .bind(after.seq)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    if !backfill.is_empty() {
        entries.extend(backfill);
        entries.sort_by_key(Entry::position);
        entries.truncate(limit.max(0) as usize);
    }
    Ok(entries)
}

/// How many entries the account would still pull after `after`, up to `upto`.
pub async fn remaining(
    pool: &AnyPool,
    audience: Audience,
    kinds: Kinds,
    after: Position,
    upto: i64,
) -> Result<u64, sqlx::Error> {
    let only = kinds.condition();
    let (account, only) = match audience {
        Audience::Team(account, profession) => (account, only + &readable_by(profession)),
        Audience::Patient(patient) => {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM journal j
                 WHERE j.patient_id = $1 AND j.seq > $2 AND j.seq <= $3{only}"
            ))
            .bind(patient.to_string())
            .bind(after.pos)
            .bind(upto)
            .fetch_one(pool)
            .await?;
            return Ok(n.max(0) as u64);
        }
    };
    let newer: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM journal j
         JOIN care_team_members m ON m.patient_id = j.patient_id
         WHERE m.account_id = $1 AND m.ended_at IS NULL
           AND j.seq > $2 AND j.seq > m.added_seq AND j.seq <= $3{only}"
    ))
    .bind(account.to_string())
    .bind(after.pos)
    .bind(upto)
    .fetch_one(pool)
    .await?;
    let older: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM care_team_members m
         JOIN journal j ON j.patient_id = m.patient_id AND j.seq < m.added_seq
         WHERE m.account_id = $1 AND m.ended_at IS NULL AND m.added_seq <= $4
           AND (m.added_seq > $2 OR (m.added_seq = $2 AND j.seq > $3)){only}"
    ))
    .bind(account.to_string())
    .bind(after.pos)
    .bind(after.seq)
    .bind(upto)
    .fetch_one(pool)
    .await?;
    Ok((newer.max(0) + older.max(0)) as u64)
}

/// (id, version) of every entry of `kinds` the account may see, for the
/// checksum, and how many are records; with `items_only`, editable items
/// only (what protocol 2 compared).
pub async fn versions(
    pool: &AnyPool,
    account: AccountId,
    profession: Profession,
    kinds: Kinds,
    items_only: bool,
) -> Result<(Vec<(Uuid, u64)>, u64), sqlx::Error> {
    let only = kinds.condition() + &readable_by(profession);
    let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT j.id, j.kind, j.version FROM journal j
         JOIN care_team_members m ON m.patient_id = j.patient_id
         WHERE m.account_id = $1 AND m.ended_at IS NULL{only}"
    ))
    .bind(account.to_string())
    .fetch_all(pool)
    .await?;
    let mut records = 0;
    let mut pairs = Vec::with_capacity(rows.len());
    for (id, kind, version) in rows {
        if !is_editable(&kind) {
            records += 1;
            if items_only {
                continue;
            }
        }
        let id = id
            .parse()
            .map_err(|e: uuid::Error| sqlx::Error::Decode(e.into()))?;
        pairs.push((id, version.max(0) as u64));
    }
    Ok((pairs, records))
}

/// (id, kind, version, body) of every entry of one patient's file, for a
/// patient's checksum (what of it they see is decided by the caller).
pub async fn patient_file(
    pool: &AnyPool,
    patient: PatientId,
    kinds: Kinds,
) -> Result<Vec<(String, String, i64, String)>, sqlx::Error> {
    let only = kinds.condition();
    sqlx::query_as(&format!(
        "SELECT j.id, j.kind, j.version, j.body FROM journal j WHERE j.patient_id = $1{only}"
    ))
    .bind(patient.to_string())
    .fetch_all(pool)
    .await
}

/// One patient's records of one kind, as stored, oldest first.
pub async fn records_of(
    pool: &AnyPool,
    patient: PatientId,
    kind: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT body FROM journal WHERE patient_id = $1 AND kind = $2 ORDER BY seq")
        .bind(patient.to_string())
        .bind(kind)
        .fetch_all(pool)
        .await
}

/// Checks a record read back from the journal is the one pushed (a retry).
pub fn same_record(stored_body: &str, pushed: &Record) -> bool {
    Record::from_json(stored_body).is_ok_and(|stored| stored == *pushed)
}

#[cfg(test)]
mod cursor_properties {
    use super::Position;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a device sends as its cursor: parsed or refused, no
        /// panic; what parses is written back the same way, and means the
        /// same position (a cursor is never read as another).
        #[test]
        fn any_cursor_parses_or_is_refused_and_round_trips(text in "[0-9.+-]{0,24}|.{0,24}") {
            if let Ok(position) = text.parse::<Position>() {
                prop_assert!(position.seq <= position.pos && position.seq >= 0);
                let written = position.to_string();
                prop_assert_eq!(written.parse::<Position>(), Ok(position));
            }
        }

        #[test]
        fn every_position_the_server_writes_reads_back(pos in 0..i64::MAX, behind in 0..1_000i64) {
            let position = Position { pos, seq: pos.saturating_sub(behind).max(0) };
            prop_assert_eq!(position.to_string().parse::<Position>(), Ok(position));
        }
    }
}
