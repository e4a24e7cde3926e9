//! The sync client: the one implementation of the protocol's client side,
//! run by the app (over IndexedDB and the network) and by the server's
//! simulator (over memory and the real router), so the simulator proves the
//! client that ships.
//!
//! One sync: send the outbox, oldest first, until the server has taken it;
//! refresh the caseload; pull pages from the cursor, each written with the
//! cursor after it; compare checksums, and pull again from the start if the
//! copies differ. An entry the device cannot read is set aside, never a
//! reason to stop.
//!
//! The client knows no kind: it moves records and item states as JSON with
//! their envelope (kind, id, patient, version) read, the way the device
//! stores them. Only a screen that shows a kind decodes it, so the code of
//! every kind stays out of what every screen needs.

use super::{
    checksum, ChecksumResponse, Cursor, Mutation, PullResponse, PushRequest, PushResponse, Record,
    LEGACY_EDITABLE_KIND, MAX_PUSH_MUTATIONS, MAX_PUSH_RECORDS, MAX_PUSH_RECORD_BYTES,
    PROTOCOL_VERSION,
};
use crate::hlc::Hlc;
use crate::validation::MAX_SAFE_INTEGER;
use crate::{Patient, PatientId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// A pull page as it comes: every record and item still raw JSON, so that
/// one a device cannot read costs it that entry, not the page.
pub type RawPage = PullResponse<Box<RawValue>, Box<RawValue>>;

/// A push as the client sends it: records and mutations as stored.
pub type RawPush = PushRequest<Box<RawValue>, Box<RawValue>>;

/// A mutation waiting to leave, as the device stored it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub mutation_id: u64,
    pub raw: Box<RawValue>,
}

/// What the client reads of a pulled record or item state, and the entry as
/// it came (the device stores that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub kind: String,
    pub id: Uuid,
    pub patient_id: PatientId,
    /// 0 for a record; the item's version for an item state.
    pub version: u64,
    pub raw: &'a str,
}

#[derive(Deserialize)]
struct RecordEnvelope {
    kind: String,
    id: String,
    patient_id: PatientId,
}

#[derive(Deserialize)]
struct Stamp {
    hlc: Hlc,
}

#[derive(Deserialize)]
struct ItemHeader {
    id: Uuid,
    patient_id: PatientId,
}

#[derive(Deserialize)]
struct ItemEnvelope {
    #[serde(default)]
    kind: Option<String>,
    item: ItemHeader,
    version: u64,
    #[serde(default)]
    stamps: BTreeMap<String, Stamp>,
}

/// Whether the JSON text holds an integer no JavaScript number holds
/// exactly (beyond 2^53 − 1): a device would store another number.
pub fn has_unsafe_integer(json: &str) -> bool {
    let bytes = json.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let fraction = i < bytes.len() && matches!(bytes[i], b'.' | b'e' | b'E');
            let digits = &json[start..i];
            if !fraction && digits.parse::<u64>().map_or(true, |n| n > MAX_SAFE_INTEGER) {
                return true;
            }
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
            {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    false
}

/// Reads a pulled record's envelope: a kind this build knows, an id in
/// canonical form, a patient; and no number the device would change.
pub fn read_record(raw: &str) -> Result<Entry<'_>, String> {
    let e: RecordEnvelope = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    if !Record::KINDS.contains(&e.kind.as_str()) {
        return Err(format!("type d'enregistrement inconnu : {}", e.kind));
    }
    let id: Uuid =
        e.id.parse()
            .map_err(|_| "identifiant invalide".to_string())?;
    if id.to_string() != e.id {
        return Err("identifiant non canonique".into());
    }
    if has_unsafe_integer(raw) {
        return Err("nombre trop grand pour l'appareil".into());
    }
    Ok(Entry {
        kind: e.kind,
        id,
        patient_id: e.patient_id,
        version: 0,
        raw,
    })
}

/// Reads a pulled item state's envelope, and the clocks of its fields.
pub fn read_item(raw: &str) -> Result<(Entry<'_>, Vec<Hlc>), String> {
    let e: ItemEnvelope = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let kind = e.kind.unwrap_or_else(|| LEGACY_EDITABLE_KIND.to_string());
    if !Mutation::KINDS.contains(&kind.as_str()) {
        return Err(format!("type d'élément inconnu : {kind}"));
    }
    if has_unsafe_integer(raw) {
        return Err("nombre trop grand pour l'appareil".into());
    }
    let clocks = e.stamps.values().map(|s| s.hlc).collect();
    Ok((
        Entry {
            kind,
            id: e.item.id,
            patient_id: e.item.patient_id,
            version: e.version,
            raw,
        },
        clocks,
    ))
}

/// Why the server did not do what was asked.
/// The two lanes of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Records,
    Mutations,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// No answer at all: offline, server stopped, or the request timed out.
    #[error("serveur injoignable")]
    Unreachable,
    /// The session is over (expired, ended elsewhere, account disabled).
    #[error("session expirée")]
    Unauthenticated,
    /// This account has its share of sync requests in flight (429): soon again.
    #[error("serveur occupé")]
    Busy,
    /// The server refused the request and said why.
    #[error("{message}")]
    Refused {
        status: u16,
        field: Option<String>,
        message: String,
    },
    /// The server applied other mutations of this device under the ids it
    /// sent from the push's `index`-th mutation on (409): the device's store
    /// was wiped, or restored from an old copy, while its id survived. It
    /// expects `next`.
    #[error("numéros de mutation déjà utilisés ; le suivant attendu est {next}")]
    MutationIdsTaken { index: usize, next: u64 },
}

impl RemoteError {
    /// What a refusal's status and body mean to the client.
    pub fn refused(status: u16, body: Option<crate::ErrorBody>) -> Self {
        let index = |field: &str| {
            field
                .strip_prefix("mutations[")?
                .strip_suffix("].mutation_id")?
                .parse::<usize>()
                .ok()
        };
        match body {
            Some(crate::ErrorBody {
                field: Some(field),
                next_mutation_id: Some(next),
                ..
            }) if status == 409 && index(&field).is_some() => RemoteError::MutationIdsTaken {
                index: index(&field).unwrap_or_default(),
                next,
            },
            Some(body) => RemoteError::Refused {
                status,
                field: body.field,
                message: body.error,
            },
            None => RemoteError::Refused {
                status,
                field: None,
                message: format!("erreur {status}"),
            },
        }
    }

    /// The record or mutation of a push that the server refused for what it
    /// is — its content, its author, its patient — named by the refusal's
    /// field (`records[2].pain_worst`, `mutations[0].changes[1].value`): it
    /// can never pass as it is, so it is set aside and the rest goes on.
    /// Not a refusal of the numbering (`mutations[i].mutation_id`: the
    /// device's bookkeeping, see `MutationIdsTaken`), nor of the request as
    /// a whole (its size, the session, the server's load).
    pub fn refused_element(&self) -> Option<(Lane, usize)> {
        let RemoteError::Refused {
            status: 400 | 403 | 409 | 422,
            field: Some(field),
            ..
        } = self
        else {
            return None;
        };
        let (lane, rest) = if let Some(rest) = field.strip_prefix("records[") {
            (Lane::Records, rest)
        } else {
            (Lane::Mutations, field.strip_prefix("mutations[")?)
        };
        let (index, after) = rest.split_once(']')?;
        if after == ".mutation_id" {
            return None;
        }
        Some((lane, index.parse().ok()?))
    }

    /// The server does not know this cursor (it never issued it, or was
    /// restored from a backup): the device starts again from the beginning.
    pub fn is_unknown_cursor(&self) -> bool {
        matches!(self, RemoteError::Refused { status: 400, field: Some(f), .. } if f == "cursor")
    }
}

/// The server, as the client needs it.
#[allow(async_fn_in_trait)] // driven on one thread (the browser's; a test's task): no Send bound.
pub trait Remote {
    async fn push(&self, request: &RawPush) -> Result<PushResponse, RemoteError>;
    async fn caseload(&self) -> Result<Vec<Patient>, RemoteError>;
    async fn pull(&self, cursor: Option<&Cursor>, estimate: bool) -> Result<RawPage, RemoteError>;
    async fn checksum(&self) -> Result<ChecksumResponse, RemoteError>;
}

/// A pulled entry the device could not read or store, kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    /// The entry's id when it could be read, else a key made on the device.
    pub key: String,
    /// The id and version the server's checksum counts for it.
    pub id: Option<Uuid>,
    pub version: u64,
    pub patient_id: Option<String>,
    /// Why it was set aside, in French.
    pub reason: String,
    /// The entry as the server sent it.
    pub raw: String,
}

impl SetAside {
    /// Reads what can be read of an entry that failed: its id, version and
    /// patient, where a record or an item state keeps them.
    pub fn new(raw: &str, reason: impl Into<String>) -> Self {
        let value: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
        let item = value.get("item");
        let text = |v: Option<&serde_json::Value>, field: &str| {
            v.and_then(|v| v.get(field))
                .and_then(|f| f.as_str())
                .map(str::to_string)
        };
        let id = text(item, "id")
            .or_else(|| text(Some(&value), "id"))
            .and_then(|i| i.parse::<Uuid>().ok());
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        Self {
            key: id
                .map(|i| i.to_string())
                .unwrap_or_else(|| Uuid::new_v4().to_string()),
            id,
            version,
            patient_id: text(item, "patient_id").or_else(|| text(Some(&value), "patient_id")),
            reason: reason.into(),
            raw: raw.to_string(),
        }
    }
}

/// A pulled page, read: what the device stores, with each entry's raw JSON
/// (to set it aside should the store refuse it), and what it could not read.
pub struct Page<'a> {
    pub records: Vec<Entry<'a>>,
    pub items: Vec<Entry<'a>>,
    pub unreadable: Vec<SetAside>,
    pub next_cursor: Cursor,
    /// The server has no more after it: the pull is complete (a device
    /// that started over may now drop what it held from before).
    pub last: bool,
}

/// What the client tells the device's screen as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Records and mutations still waiting on the device, counted (at the
    /// end of a push).
    Pending(u32),
    /// That many more have left the device (after each batch of a push:
    /// counting a long outbox again after every batch cost more than the
    /// batch itself — IndexedDB counts by walking every entry).
    Sent(u32),
    /// A long pull: entries received so far, and expected in all.
    Receiving { received: u64, expected: u64 },
    /// A page with entries is stored (short pulls: the screen may read the
    /// store again). An empty page — most syncs' only one — is not told.
    PageStored,
}

/// The device's store, as the client needs it. Each method is one local
/// transaction.
#[allow(async_fn_in_trait)] // see `Remote`
pub trait Local {
    type Error;
    /// Up to `limit` records waiting to leave, oldest first, as stored;
    /// only those after the record `after` (the next push read while one
    /// is on its way).
    async fn outbox(
        &self,
        limit: usize,
        after: Option<Uuid>,
    ) -> Result<Vec<Box<RawValue>>, Self::Error>;
    /// Up to `limit` mutations waiting, in mutation-id order; only those
    /// after the id `after`.
    async fn mutation_outbox(
        &self,
        limit: usize,
        after: Option<u64>,
    ) -> Result<Vec<Outgoing>, Self::Error>;
    /// The server stored these records: they leave the outbox.
    async fn acknowledge(&self, ids: &[Uuid]) -> Result<(), Self::Error>;
    /// The server applied every mutation up to `last`: they leave the outbox.
    async fn acknowledge_mutations(&self, last: u64) -> Result<(), Self::Error>;
    /// Gives the waiting mutations from id `from` on the ids `first`,
    /// `first + 1`… in their order, and new mutations the ids after them
    /// (see `RemoteError::MutationIdsTaken`).
    async fn renumber_mutations(&self, from: u64, first: u64) -> Result<(), Self::Error>;
    /// The server refused this record for good, saying why (in French): it
    /// leaves the outbox (and the screens) for the device's list of refused
    /// entries, where the person sends it again or gives it up. Nothing is
    /// dropped silently.
    async fn refuse_record(&self, id: Uuid, reason: &str) -> Result<(), Self::Error>;
    /// Likewise a mutation. The server applies a device's mutations without
    /// gaps: the waiting ones after it take the ids from its own on, and
    /// new ones follow them.
    async fn refuse_mutation(&self, mutation_id: u64, reason: &str) -> Result<(), Self::Error>;
    /// Records and mutations still waiting.
    async fn pending(&self) -> Result<u32, Self::Error>;
    /// The caseload as the server knows it; data of patients who left goes.
    /// Says whether anything the screens show changed (a sync that brings
    /// nothing new redraws nothing).
    async fn replace_patients(&self, patients: &[Patient]) -> Result<bool, Self::Error>;
    async fn pull_cursor(&self) -> Result<Option<Cursor>, Self::Error>;
    async fn reset_pull_cursor(&self) -> Result<(), Self::Error>;
    /// Stores a page and its cursor together; returns how many entries were
    /// set aside (unreadable, or refused by the store).
    async fn store_page(&self, page: Page<'_>) -> Result<usize, Self::Error>;
    /// New mutations take ids above what the server has applied. Waiting
    /// ones are NOT acknowledged by a pull: only a push answer says the
    /// server compared *those* mutations with the ones it applied.
    async fn raise_next_mutation_id(&self, server_last: u64) -> Result<(), Self::Error>;
    /// (id, version) of everything received (records at version 0, items,
    /// entries set aside), for the checksum.
    async fn checksum_entries(&self) -> Result<Vec<(Uuid, u64)>, Self::Error>;
    /// The device's clock moves past every timestamp it pulls.
    fn observe(&self, hlc: Hlc);
    fn progress(&self, _event: Progress) {}
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError<L> {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("base de données de l'appareil : {0}")]
    Local(L),
}

/// How a completed sync went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Entries set aside in this sync.
    pub set_aside: usize,
    /// Records and mutations of this device the server refused in this sync
    /// (moved to the device's refused list).
    pub refused: usize,
    /// The copies still differed after pulling everything again: the next
    /// sync tries again; the screen should say so.
    pub diverged: bool,
    /// Something the screens show changed on the device: records or
    /// mutations left it (or were refused), entries arrived, the caseload
    /// changed. A sync every 30 seconds that brings nothing new changes
    /// nothing, and the screens need not read the device again.
    pub changed: bool,
}

/// Runs one sync.
pub async fn sync<R: Remote, L: Local>(
    remote: &R,
    local: &L,
) -> Result<Outcome, SyncError<L::Error>> {
    let pushed = push_all(remote, local).await?;
    let patients = remote.caseload().await?;
    let caseload_changed = local
        .replace_patients(&patients)
        .await
        .map_err(SyncError::Local)?;
    // Then pull; if the copies differ (a bug, a restored device, a change
    // that landed between the pull and the checksum), pull once more from the
    // start: writing what the device has already is harmless. (One call site
    // for each step: each `.await` of a generic future costs the download.)
    let mut outcome = Outcome {
        refused: pushed.refused,
        changed: pushed.moved || pushed.refused > 0 || caseload_changed,
        ..Outcome::default()
    };
    for attempt in 0..2 {
        if attempt > 0 {
            local.reset_pull_cursor().await.map_err(SyncError::Local)?;
        }
        let pulled = pull_all(remote, local, &pushed.held).await?;
        outcome.set_aside += pulled.set_aside;
        outcome.changed |= pulled.received > 0;
        let server = remote.checksum().await?;
        let entries = local.checksum_entries().await.map_err(SyncError::Local)?;
        outcome.diverged = server.checksum != checksum(entries).to_string();
        if !outcome.diverged {
            break;
        }
    }
    Ok(outcome)
}

/// One element of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Record(Uuid),
    Mutation(u64),
}

/// A record's id, read without knowing its kind.
#[derive(Deserialize)]
struct IdOnly {
    id: Uuid,
}

/// What a push left behind: the refused count, and the records the server
/// acknowledged — this device holds them already, so the pull that follows
/// need not store them again (most of what a busy device pulls back).
#[derive(Debug, Default)]
pub struct Pushed {
    pub refused: usize,
    pub held: HashSet<Uuid>,
    /// The server took something (records, mutations).
    pub moved: bool,
}

/// What a pull brought.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pulled {
    /// Entries received (records and items).
    pub received: u64,
    /// Of them, set aside (unreadable, or refused by the store).
    pub set_aside: usize,
}

/// A place in the outbox: after this record, after this mutation (the
/// start when `None`).
type OutboxPlace = (Option<Uuid>, Option<u64>);

/// One push as read from the device, with what is needed of it afterwards.
struct Batch {
    request: RawPush,
    mutation_ids: Vec<u64>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.request.records.is_empty() && self.request.mutations.is_empty()
    }

    fn last_record(&self) -> Option<Uuid> {
        self.request
            .records
            .last()
            .and_then(|raw| serde_json::from_str::<IdOnly>(raw.get()).ok())
            .map(|r| r.id)
    }
}

/// The next pushes: one, or up to `at_most` (two) sent together when
/// records alone wait in numbers (a device back from days offline, a first
/// sync). Records need no order — each is acknowledged for itself — so two
/// pushes of records travel at once: the server takes one while the other
/// uploads, and the device builds neither while waiting. Mutations keep
/// their order: a push that carries any goes alone. The records of both
/// pushes are read (and opened) in one read of the outbox, beside the read
/// of the mutations: two read-only transactions the browser runs side by
/// side, where the records' read waited for the mutations' answer. When
/// mutations wait, the records read for a second push are left for later.
async fn read_batches<L: Local>(
    local: &L,
    (after_record, after_mutation): OutboxPlace,
    at_most: usize,
) -> Result<Vec<Batch>, L::Error> {
    let (mutations, records) = futures_util::future::join(
        local.mutation_outbox(MAX_PUSH_MUTATIONS, after_mutation),
        local.outbox(at_most * MAX_PUSH_RECORDS, after_record),
    )
    .await;
    let mutations = mutations?;
    let pushes = if mutations.is_empty() { at_most } else { 1 };
    let mut records = records?.into_iter();
    let mut batches = vec![];
    let mut mutations = Some(mutations);
    for _ in 0..pushes {
        // As many as one push carries, by count and by bytes.
        let mut taken: Vec<Box<RawValue>> = records.by_ref().take(MAX_PUSH_RECORDS).collect();
        let fits = records_within_push_bytes(&taken);
        let cut = taken.len() > fits;
        // What does not fit is read again for a later push.
        taken.truncate(fits);
        let mutations = mutations.take().unwrap_or_default();
        if taken.is_empty() && mutations.is_empty() && !batches.is_empty() {
            break;
        }
        batches.push(Batch {
            mutation_ids: mutations.iter().map(|m| m.mutation_id).collect(),
            request: RawPush {
                protocol: PROTOCOL_VERSION,
                records: taken,
                mutations: mutations.into_iter().map(|m| m.raw).collect(),
            },
        });
        if cut {
            break;
        }
    }
    Ok(batches)
}

/// Where the pushes after `batches` start reading: after the last record of
/// the last one, after the last mutation any carried.
fn end_of(batches: &[Batch], from: OutboxPlace) -> OutboxPlace {
    let record = batches.iter().rev().find_map(Batch::last_record);
    let mutation = batches
        .iter()
        .rev()
        .find_map(|b| b.mutation_ids.last().copied())
        .or(from.1);
    (record.or(from.0), mutation)
}

/// How many of these records one push carries under the body limit,
/// whatever they say: at least the first (alone, it always fits — no field
/// of a record is that long).
fn records_within_push_bytes(records: &[Box<RawValue>]) -> usize {
    let mut bytes = 0;
    records
        .iter()
        .position(|raw| {
            // The comma between two records counts too.
            bytes += raw.get().len() + 1;
            bytes > MAX_PUSH_RECORD_BYTES
        })
        .unwrap_or(records.len())
        .max(1)
        .min(records.len())
}

/// How many pushes the server took before the device marks them as sent,
/// in one acknowledgement, while a long outbox goes (and whatever is left
/// when it is empty, or when something stops it). Each acknowledgement is
/// an IndexedDB transaction over the outbox, and the browser runs it
/// between the reads of the next pushes, not beside them: one after every
/// pair of pushes was 5–100 ms of the time between two pairs: 20,000
/// records went in 0.61–0.85 s, and in 0.60–0.70 s acknowledged every ten
/// (docs/performance.md, session 16). A crash before it sends those pushes
/// again, which the server answers as already there.
const ACKNOWLEDGE_EVERY: usize = 10;

/// Sends the outbox in batches, oldest first. A record leaves the outbox
/// only once the server has acknowledged it (stored and committed);
/// mutations once the server says it applied up to their id. A record or
/// mutation the server refuses for what it is goes to the device's refused
/// list and the rest is sent (see `RemoteError::refused_element`).
///
/// While one batch travels (two, when records alone wait in numbers: see
/// `read_batches`), the next is read (and opened); the ones the server took
/// leave the outbox every `ACKNOWLEDGE_EVERY` pushes. The batch read ahead
/// is used only if the server took the whole of the one before, and read
/// again otherwise (a refusal, a renumbering), so what is sent is always
/// what waits next. A crash before
/// a batch left the outbox sends it again: the server answers it as
/// already there.
pub async fn push_all<R: Remote, L: Local>(
    remote: &R,
    local: &L,
) -> Result<Pushed, SyncError<L::Error>> {
    let mut renumbered = false;
    let mut pushed = Pushed::default();
    // The last element set aside: refused again, the device could not
    // move it (a bug there), and the sync stops rather than loop.
    let mut last_refused = None;
    let mut read_ahead: Option<(Vec<Batch>, OutboxPlace)> = None;
    // Taken by the server, still in the device's outbox, and how many
    // records and mutations that is.
    let mut taken: Vec<(PushResponse, usize)> = vec![];
    loop {
        let (batches, from) = match read_ahead.take() {
            Some(ahead) => ahead,
            None => {
                // Read from the start: what the server took leaves first.
                forget_taken(local, std::mem::take(&mut taken)).await?;
                let from = (None, None);
                // One push to start with: nothing overlaps this read, and
                // the next two are read while it travels.
                (
                    read_batches(local, from, 1)
                        .await
                        .map_err(SyncError::Local)?,
                    from,
                )
            }
        };
        if batches.first().is_none_or(Batch::is_empty) {
            forget_taken(local, std::mem::take(&mut taken)).await?;
            count_what_waits(local).await?;
            return Ok(pushed);
        }
        let next = end_of(&batches, from);
        // At most two pushes (see `read_batches`).
        let both = async {
            let second = async {
                match batches.get(1) {
                    Some(b) => Some(remote.push(&b.request).await),
                    None => None,
                }
            };
            let (first, second) =
                futures_util::future::join(remote.push(&batches[0].request), second).await;
            std::iter::once(first).chain(second).collect::<Vec<_>>()
        };
        // What the server took leaves the outbox every few pushes, not
        // after each (see `ACKNOWLEDGE_EVERY`) — and while the last pushes
        // travel, so that only those are left to acknowledge after their
        // answers. Fewer than two full pushes read says the outbox most
        // likely ends with them; when it does not (a push cut by its bytes,
        // one that carries mutations) this only acknowledges sooner.
        let last = batches.len() < 2
            || batches
                .iter()
                .any(|b| b.request.records.len() < MAX_PUSH_RECORDS);
        let forgetting = if taken.len() >= ACKNOWLEDGE_EVERY || last {
            std::mem::take(&mut taken)
        } else {
            vec![]
        };
        let (responses, following, forgotten) = futures_util::future::join3(
            both,
            read_batches(local, next, 2),
            forget_taken(local, forgetting),
        )
        .await;
        forgotten?;
        // Each push's answer on its own: a record the server took is taken
        // whatever became of the other push (it is sent again, and
        // answered as already there, only if it stays in the outbox).
        let mut took_all = true;
        let mut moved = false;
        let mut failure = None;
        for (batch, response) in batches.iter().zip(responses) {
            let ids = &batch.mutation_ids;
            let response = match response {
                Ok(response) => response,
                Err(e) => {
                    took_all = false;
                    failure = failure.or(Some((batch, e)));
                    continue;
                }
            };
            let mutations_moved = ids
                .first()
                .is_some_and(|&first| response.last_mutation_id >= first);
            took_all &= response.acknowledged.len() == batch.request.records.len()
                && ids
                    .last()
                    .is_none_or(|&last| response.last_mutation_id >= last);
            let gone = response.acknowledged.len()
                + ids
                    .iter()
                    .filter(|&&id| id <= response.last_mutation_id)
                    .count();
            moved |= !response.acknowledged.is_empty() || mutations_moved;
            pushed.moved |= moved;
            pushed.held.extend(response.acknowledged.iter().copied());
            taken.push((response, gone));
        }
        if let Some((batch, e)) = failure {
            let ids = &batch.mutation_ids;
            match e {
                // Every waiting mutation from there on is new (the device's
                // history parted from the server's there): they take the ids
                // the server expects, and the push goes again — once.
                RemoteError::MutationIdsTaken { index, next } if !renumbered => {
                    let Some(&from) = ids.get(index) else {
                        return Err(RemoteError::MutationIdsTaken { index, next }.into());
                    };
                    forget_taken(local, std::mem::take(&mut taken)).await?;
                    local
                        .renumber_mutations(from, next)
                        .await
                        .map_err(SyncError::Local)?;
                    renumbered = true;
                    continue;
                }
                e => {
                    let element = match e.refused_element() {
                        Some((Lane::Records, i)) => batch
                            .request
                            .records
                            .get(i)
                            .and_then(|raw| serde_json::from_str::<IdOnly>(raw.get()).ok())
                            .map(|r| Element::Record(r.id)),
                        Some((Lane::Mutations, i)) => ids.get(i).map(|&id| Element::Mutation(id)),
                        None => None,
                    };
                    match element.filter(|el| Some(*el) != last_refused) {
                        Some(element) => {
                            let reason = e.to_string();
                            match element {
                                Element::Record(id) => local.refuse_record(id, &reason).await,
                                Element::Mutation(id) => local.refuse_mutation(id, &reason).await,
                            }
                            .map_err(SyncError::Local)?;
                            last_refused = Some(element);
                            pushed.refused += 1;
                        }
                        // The other push of two went through (the account's
                        // other place was taken, the network dropped one):
                        // go on from what is left.
                        None if moved => {}
                        None => {
                            forget_taken(local, std::mem::take(&mut taken)).await?;
                            return Err(e.into());
                        }
                    }
                    continue;
                }
            }
        }
        renumbered = false;
        if !moved {
            forget_taken(local, std::mem::take(&mut taken)).await?;
            count_what_waits(local).await?;
            return Ok(pushed);
        }
        if took_all {
            read_ahead = Some((following.map_err(SyncError::Local)?, next));
        }
    }
}

/// The end of a push: what still waits, counted once (`Progress::Sent`
/// kept the screen's count meanwhile).
async fn count_what_waits<L: Local>(local: &L) -> Result<(), SyncError<L::Error>> {
    local.progress(Progress::Pending(
        local.pending().await.map_err(SyncError::Local)?,
    ));
    Ok(())
}

/// What the server took leaves the outbox, and the screen is told how many
/// left.
async fn forget_taken<L: Local>(
    local: &L,
    taken: Vec<(PushResponse, usize)>,
) -> Result<(), SyncError<L::Error>> {
    // The pushes that travelled together leave together: one
    // acknowledgement of their records (their keys follow each other in
    // the outbox, so they make one run), and of mutations up to the last
    // the server applied.
    let Some(last_mutation_id) = taken.iter().map(|(t, _)| t.last_mutation_id).max() else {
        return Ok(());
    };
    let ids: Vec<Uuid> = taken
        .iter()
        .flat_map(|(t, _)| t.acknowledged.iter().copied())
        .collect();
    local.acknowledge(&ids).await.map_err(SyncError::Local)?;
    local
        .acknowledge_mutations(last_mutation_id)
        .await
        .map_err(SyncError::Local)?;
    let gone: usize = taken.iter().map(|(_, gone)| gone).sum();
    local.progress(Progress::Sent(u32::try_from(gone).unwrap_or(u32::MAX)));
    Ok(())
}

/// Reads a raw page: each record and item's envelope on its own, and the
/// clocks the device must move past. Records in `held` (this device's own,
/// just acknowledged) are left out: the device holds them as they are, and
/// records never change once stored.
pub fn read_page<'p>(page: &'p RawPage, held: &HashSet<Uuid>) -> (Page<'p>, Vec<Hlc>) {
    let mut unreadable = vec![];
    let mut clocks = vec![];
    let mut records = Vec::with_capacity(page.records.len());
    for raw in &page.records {
        match read_record(raw.get()) {
            Ok(r) if held.contains(&r.id) => {}
            Ok(r) => records.push(r),
            Err(e) => unreadable.push(SetAside::new(raw.get(), format!("illisible : {e}"))),
        }
    }
    let mut items = Vec::with_capacity(page.items.len());
    for raw in &page.items {
        match read_item(raw.get()) {
            Ok((entry, seen)) => {
                items.push(entry);
                clocks.extend(seen);
            }
            Err(e) => unreadable.push(SetAside::new(raw.get(), format!("illisible : {e}"))),
        }
    }
    let page = Page {
        records,
        items,
        unreadable,
        next_cursor: page.next_cursor.clone(),
        last: !page.has_more,
    };
    (page, clocks)
}

/// Pulls pages from the stored cursor until the server has no more; returns
/// how many entries were set aside. Records in `held` are not stored again
/// (see `read_page`).
pub async fn pull_all<R: Remote, L: Local>(
    remote: &R,
    local: &L,
    held: &HashSet<Uuid>,
) -> Result<Pulled, SyncError<L::Error>> {
    let mut cursor = local.pull_cursor().await.map_err(SyncError::Local)?;
    // The first page from the stored cursor; a cursor the server never
    // issued (a restored server) starts over once.
    let mut page = match remote.pull(cursor.as_ref(), true).await {
        Ok(page) => page,
        Err(e) if e.is_unknown_cursor() => {
            local.reset_pull_cursor().await.map_err(SyncError::Local)?;
            cursor = None;
            remote.pull(cursor.as_ref(), true).await?
        }
        Err(e) => return Err(e.into()),
    };
    let mut received = 0u64;
    let mut expected = None;
    let mut set_aside = 0;
    loop {
        let first = received == 0;
        received += (page.records.len() + page.items.len()) as u64;
        if first && page.has_more {
            expected = Some(received + page.remaining.unwrap_or(0));
        }
        if let Some(total) = expected {
            local.progress(Progress::Receiving {
                received,
                expected: total.max(received),
            });
        }
        let has_entries = !page.records.is_empty() || !page.items.is_empty();
        let (read, clocks) = read_page(&page, held);
        for hlc in clocks {
            local.observe(hlc);
        }
        // The next page travels while this one is written: the device's
        // transaction (page and cursor together) is untouched by it, and it
        // is dropped unread if this one fails to be stored.
        let next = async {
            if page.has_more {
                Some(remote.pull(Some(&page.next_cursor), false).await)
            } else {
                None
            }
        };
        let (stored, next) = futures_util::future::join(local.store_page(read), next).await;
        set_aside += stored.map_err(SyncError::Local)?;
        local
            .raise_next_mutation_id(page.last_mutation_id)
            .await
            .map_err(SyncError::Local)?;
        if expected.is_none() && has_entries {
            local.progress(Progress::PageStored);
        }
        match next {
            None => {
                return Ok(Pulled {
                    received,
                    set_aside,
                })
            }
            Some(next) => page = next?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_stays_under_the_body_limit_whatever_its_records_say() {
        let of = |n: usize, note: usize| -> Vec<Box<RawValue>> {
            let text = serde_json::to_string(&serde_json::json!({ "note": "é".repeat(note / 2) }))
                .expect("a record");
            (0..n)
                .map(|_| RawValue::from_string(text.clone()).expect("a record"))
                .collect()
        };
        let short = of(MAX_PUSH_RECORDS, 400);
        assert_eq!(records_within_push_bytes(&short), MAX_PUSH_RECORDS);
        let long = of(MAX_PUSH_RECORDS, 4_000);
        let n = records_within_push_bytes(&long);
        assert!(n > 1 && n < MAX_PUSH_RECORDS, "{n}");
        let bytes: usize = long[..n].iter().map(|r| r.get().len() + 1).sum();
        assert!(bytes <= MAX_PUSH_RECORD_BYTES, "{bytes}");
        let one_more: usize = long[..=n].iter().map(|r| r.get().len() + 1).sum();
        assert!(
            one_more > MAX_PUSH_RECORD_BYTES,
            "no record left out that fitted"
        );
        let huge = of(3, MAX_PUSH_RECORD_BYTES);
        assert_eq!(
            records_within_push_bytes(&huge),
            1,
            "a record alone still goes"
        );
        assert_eq!(records_within_push_bytes(&[]), 0);
    }

    #[test]
    fn a_refusal_naming_a_taken_mutation_id_says_where_and_what_next() {
        let body = |field: &str, next: Option<u64>| crate::ErrorBody {
            error: "déjà utilisé".into(),
            field: Some(field.into()),
            next_mutation_id: next,
        };
        assert!(matches!(
            RemoteError::refused(409, Some(body("mutations[3].mutation_id", Some(12)))),
            RemoteError::MutationIdsTaken { index: 3, next: 12 }
        ));
        // Out of order (no id to expect given), or another field: a refusal.
        for (field, next) in [
            ("mutations[3].mutation_id", None),
            ("records[0].id", Some(12)),
        ] {
            assert!(matches!(
                RemoteError::refused(409, Some(body(field, next))),
                RemoteError::Refused { status: 409, .. }
            ));
        }
        assert!(matches!(
            RemoteError::refused(500, None),
            RemoteError::Refused {
                status: 500,
                field: None,
                ..
            }
        ));
    }

    #[test]
    fn a_refusal_names_the_element_set_aside_only_for_what_it_is() {
        let refusal = |status: u16, field: Option<&str>| RemoteError::Refused {
            status,
            field: field.map(str::to_string),
            message: "refusé".into(),
        };
        assert_eq!(
            refusal(422, Some("records[2].pain_worst")).refused_element(),
            Some((Lane::Records, 2))
        );
        assert_eq!(
            refusal(422, Some("mutations[0].changes[1].value")).refused_element(),
            Some((Lane::Mutations, 0))
        );
        assert_eq!(
            refusal(403, Some("records[11].author_id")).refused_element(),
            Some((Lane::Records, 11))
        );
        // The numbering, the whole request, a field of no element: not set aside.
        for e in [
            refusal(409, Some("mutations[3].mutation_id")),
            refusal(413, Some("records[0].note")),
            refusal(422, Some("protocol")),
            refusal(422, Some("records[x].note")),
            refusal(422, None),
            RemoteError::Busy,
        ] {
            assert_eq!(e.refused_element(), None, "{e:?}");
        }
    }

    #[test]
    fn integers_beyond_what_a_phone_holds_are_seen_wherever_they_are() {
        assert!(!has_unsafe_integer(
            r#"{"a":9007199254740991,"b":-3,"c":1.5e300}"#
        ));
        assert!(has_unsafe_integer(r#"{"a":9007199254740992}"#));
        assert!(has_unsafe_integer(
            r#"{"x":[1,{"y":-9223372036854775807}]}"#
        ));
        assert!(!has_unsafe_integer(
            r#"{"s":"9223372036854775807 \" 99999999999999999999"}"#
        ));
        assert!(!has_unsafe_integer(r#"{"f":12345678901234567890.5}"#));
    }

    #[test]
    fn envelopes_are_read_without_knowing_the_kind_s_fields() {
        let id = Uuid::now_v7();
        let p = PatientId::new();
        let raw = format!(
            r#"{{"kind":"visit","id":"{id}","patient_id":"{p}","anything":{{"deep":[1,2]}}}}"#
        );
        let e = read_record(&raw).unwrap();
        assert_eq!(
            (e.kind.as_str(), e.id, e.patient_id, e.version),
            ("visit", id, p, 0)
        );
        let upper = raw.replace(&id.to_string(), &id.to_string().to_uppercase());
        assert!(read_record(&upper).is_err(), "ids are canonical");
        let unknown = raw.replace("\"visit\"", "\"telepathy\"");
        assert!(read_record(&unknown).is_err());
        let item = format!(
            r#"{{"item":{{"id":"{id}","patient_id":"{p}","title":"x"}},"version":3,"stamps":{{"title":{{"version":1,"hlc":{{"wall_ms":5,"counter":0,"device":"{id}"}}}}}}}}"#
        );
        let (e, clocks) = read_item(&item).unwrap();
        assert_eq!((e.kind.as_str(), e.version), ("care_plan_item", 3));
        assert_eq!(clocks.len(), 1);
    }

    #[test]
    fn what_can_be_read_of_a_bad_entry_is_kept_for_the_checksum() {
        let id = Uuid::now_v7();
        let item = format!(
            r#"{{"item":{{"id":"{id}","patient_id":"p"}},"version":9007199254740993,"x":1}}"#
        );
        let aside = SetAside::new(&item, "non enregistrable");
        assert_eq!(aside.id, Some(id));
        assert_eq!(aside.key, id.to_string());
        assert_eq!(aside.patient_id.as_deref(), Some("p"));
        assert_eq!(aside.raw, item);
        let record = format!(r#"{{"kind":"telepathy","id":"{id}","patient_id":"q"}}"#);
        let aside = SetAside::new(&record, "illisible");
        assert_eq!((aside.id, aside.version), (Some(id), 0));
        let garbage = SetAside::new("[1,2", "illisible");
        assert_eq!(garbage.id, None);
        assert!(!garbage.key.is_empty());
    }
}
