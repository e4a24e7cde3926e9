//! The device store: IndexedDB, the device's source of truth. The UI reads
//! from here, never from the network.
//!
//! One database per account (`parcours-<account id>`), so a second person
//! signing in on the same browser never sees the first one's patients, and
//! records waiting to be sent stay with their author.
//!
//! Rule that must stay true: inside an open transaction, await nothing but
//! IndexedDB requests, or the browser commits it behind our back.

use crate::device_key::{DeviceKey, KeyError, WrappedKey};
use crate::document;
use indexed_db_futures::database::Database;
use indexed_db_futures::error::OpenDbError;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyPath;
use indexed_db_futures::KeyRange;
use parcours_domain::merge::{Editable, MutationOf, StateOf};
use parcours_domain::sync::acknowledged::{Acknowledged, Gap, Run};
use parcours_domain::sync::client::{Entry, Outgoing, SetAside};
use parcours_domain::sync::{Record, RecordKind, LEGACY_EDITABLE_KIND};
use parcours_domain::{AccountId, Patient, PatientId};
use serde_json::value::RawValue;
use std::collections::HashSet;
use wasm_bindgen::JsValue;

const VERSION: u8 = 7;
const PATIENTS: &str = "patients";
/// Append-lane records of every kind (`Record`, tagged by `kind`), made
/// here or received.
const RECORDS: &str = "records";
const BY_PATIENT: &str = "by_patient";
/// Records by kind (version 5): what a screen across patients reads (the
/// notebook entries addressed to me) without reading every record.
const BY_KIND: &str = "by_kind";
/// Records made here and not yet acknowledged by the server (`Record`) —
/// except the runs of `ACKNOWLEDGED_KEY`, acknowledged and not yet removed.
const OUTBOX: &str = "outbox";
/// The outbox's acknowledged runs (`parcours_domain::sync::acknowledged`),
/// in `META` as JSON text: outbox keys and counts, clear like the keys.
const ACKNOWLEDGED_KEY: &str = "outbox_acknowledged";
/// Acknowledged entries removed per transaction after a sync: a save
/// waiting behind one waits a few tens of milliseconds at most.
const FORGET_CHUNK: u32 = 2_000;
/// Small values that must change together with data (the pull cursor).
const META: &str = "meta";
/// The cursor of protocol 4. A protocol-3 cursor (`pull_cursor`) moved past
/// kinds that version was not sent: it is dropped, and everything is pulled
/// once more.
const CURSOR_KEY: &str = "pull_cursor_v4";
const LEGACY_CURSOR_KEY: &str = "pull_cursor";
/// Editable items of every kind as the server last sent them (`ItemState`).
const ITEMS: &str = "items";
/// Mutations of every editable kind not yet applied by the server (`Mutation`),
/// keyed by mutation id.
const MUTATIONS: &str = "mutations";
/// Version 3 kept pain assessments here, untagged; moved to `RECORDS` once.
const LEGACY_ASSESSMENTS: &str = "assessments";
/// Set when the version-3 data has been moved to the version-4 layout.
const LAYOUT_KEY: &str = "layout";
const NEXT_MUTATION_KEY: &str = "next_mutation_id";
/// What a pull brought that this device cannot read or store (an unknown
/// kind from a newer server, a number beyond what JavaScript holds): kept
/// aside, raw, so one bad entry never stops the sync, and shown.
const QUARANTINE: &str = "quarantine";
/// Records and mutations the server refused for what they are (version 6):
/// out of the outbox, kept until their author sends them again or gives
/// them up (`Refused`). Keyed `record:<id>` / `mutation:<item id>:<n>`.
const REFUSED: &str = "refused";
/// Records received from the server (version 7), packed: one sealed value
/// per pulled page and patient, its records as one JSON array. IndexedDB's
/// cost is per value far more than per byte, so a first sync of 100,000
/// records writes a few hundred values instead of 100,000 (the
/// records made on this device stay one per value in `RECORDS`, beside the
/// outbox). Clear part: its key (the page's number, then the patient), the
/// patient's id and the kinds it holds, for the indexes.
const PACKS: &str = "packs";
/// The packs holding a kind (multi-entry on `kinds`).
const BY_KINDS: &str = "by_kinds";
/// The ids of the records of each pack, by the pack's key, in clear: the
/// sync's checksum reads them at every sync, and must not open every pack.
const PACK_IDS: &str = "pack_ids";
/// The number the next pulled page's packs take, in `META`.
const NEXT_PACK_KEY: &str = "next_pack";
/// Set when the pull started over (`reset_pull_cursor`): the packs numbered
/// below it were written before, and go once the new pull is complete —
/// not before, so the screens keep showing them meanwhile, offline too.
const PACKS_BEFORE_KEY: &str = "packs_before";
/// The device key, wrapped by the person's PIN (`WrappedKey`), in `META`.
const WRAPPED_KEY: &str = "device_key";
/// Wrong PINs in a row since the last right one, in `META`.
const PIN_FAILURES_KEY: &str = "pin_failures";
/// Set once whatever the database held before it had a key is sealed.
const SEALED_LAYOUT_KEY: &str = "sealed_layout";
/// `META` keys whose values are not health data and stay readable: what
/// the lock screen needs before the key, and the sync's bookkeeping. Every
/// other `META` value is a kept text, sealed.
const CLEAR_META: &[&str] = &[
    CURSOR_KEY,
    LEGACY_CURSOR_KEY,
    LAYOUT_KEY,
    NEXT_MUTATION_KEY,
    WRAPPED_KEY,
    PIN_FAILURES_KEY,
    SEALED_LAYOUT_KEY,
    NEXT_PACK_KEY,
    PACKS_BEFORE_KEY,
    ACKNOWLEDGED_KEY,
];
/// The property of a stored value that holds its sealed content; beside it
/// only what the stores' keys and indexes need (ids, the patient's id, the
/// kind, an item's version), never health data.
const SEALED: &str = "sealed";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("base de données de l'appareil : {0}")]
    Db(String),
    /// The app is locked: the device key is not in memory.
    #[error("application verrouillée")]
    Locked,
    #[error("{0}")]
    Key(#[from] KeyError),
}

impl From<indexed_db_futures::error::Error> for StoreError {
    fn from(e: indexed_db_futures::error::Error) -> Self {
        Self::Db(e.to_string())
    }
}

impl From<OpenDbError> for StoreError {
    fn from(e: OpenDbError) -> Self {
        Self::Db(e.to_string())
    }
}

impl From<indexed_db_futures::error::SerialisationError> for StoreError {
    fn from(e: indexed_db_futures::error::SerialisationError) -> Self {
        Self::Db(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A record made on this device, ready to be saved.
pub struct NewRecord {
    value: JsValue,
    opens: Option<Patient>,
}

impl NewRecord {
    pub fn of<K: RecordKind + serde::Serialize>(record: &K) -> StoreResult<Self> {
        Ok(Self {
            value: document::tagged(K::KIND, record)?,
            opens: record.opens().map(|o| o.patient),
        })
    }

    /// The patient it brings in, with what only the device knows (the
    /// team's names), so the new patient's screens work before any sync.
    pub fn opening(mut self, patient: Patient) -> Self {
        if self.opens.is_some() {
            self.opens = Some(patient);
        }
        self
    }
}

/// A record as the device shows it: the record and whether it has left.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<K> {
    pub record: K,
    /// True while the record is on this device only.
    pub pending: bool,
}

pub struct DeviceStore {
    db: Database,
    /// One patient's records as last read, by patient: a patient's page
    /// reads several kinds (pathway, assessments, timeline…), and two years
    /// of records read once instead of once per kind. Still valid while the
    /// patient's record count is unchanged: records are never rewritten
    /// with other content (append lane), only added — also by another tab,
    /// which this check sees.
    /// Keyed by patient, with the counts of its single records and packs
    /// when read.
    #[allow(clippy::type_complexity)]
    by_patient: std::cell::RefCell<
        std::collections::HashMap<PatientId, ((u32, u32), std::rc::Rc<Vec<JsValue>>)>,
    >,
    /// One reading of a patient's records at a time (see
    /// `patient_records`): a patient's page opens with half a dozen
    /// sections asking for the same records in the same instant; the first
    /// reads and opens them, the others wait and find them in `by_patient`
    /// instead of each reading and opening two years again.
    reading_patient: futures_util::lock::Mutex<()>,
    /// The device key while the app is unlocked (see `device_key`).
    key: std::cell::RefCell<Option<std::rc::Rc<DeviceKey>>>,
}

/// What a sealed value is bound to: its store and key, so a value moved
/// under another key (or to another store) no longer opens. A record and
/// its copy in the outbox are one sealed value. Mutations are bound to
/// their store only: renumbering (`renumber_mutations`) moves them, and
/// their id is read from the clear key, never from the sealed content.
fn label(store: &str, envelope: &JsValue) -> String {
    let key = match store {
        ITEMS => document::object(envelope, "item").and_then(|i| document::string(&i, "id")),
        MUTATIONS => None,
        QUARANTINE | REFUSED | PACKS => document::string(envelope, "key"),
        _ => document::string(envelope, "id"),
    };
    let store = if store == OUTBOX { RECORDS } else { store };
    format!("{store}:{}", key.unwrap_or_default())
}

/// A stored value's clear part: the named properties of `value`.
fn clear_part(value: &JsValue, fields: &[&'static str]) -> JsValue {
    let properties: Vec<(&'static str, JsValue)> = fields
        .iter()
        .filter_map(|&field| Some((field, document::get(value, field)?)))
        .filter(|(_, v)| !v.is_undefined())
        .collect();
    document::object_of(&properties)
}

fn is_sealed(value: &JsValue) -> bool {
    document::object(value, SEALED).is_some()
}

/// The clear part of a value of `store`, by what its key and indexes read.
fn clear_of(store: &str, value: &JsValue) -> JsValue {
    match store {
        PATIENTS => clear_part(value, &["id"]),
        RECORDS | OUTBOX => clear_part(value, &["id", "patient_id", "kind"]),
        ITEMS => {
            let envelope = clear_part(value, &["kind", "version"]);
            if let Some(item) = document::object(value, "item") {
                let _ = js_sys::Reflect::set(
                    &envelope,
                    &"item".into(),
                    &clear_part(&item, &["id", "patient_id"]),
                );
            }
            envelope
        }
        MUTATIONS => clear_part(value, &["mutation_id", "kind", "patient_id"]),
        QUARANTINE => clear_part(value, &["key", "id", "version", "patient_id"]),
        REFUSED => clear_part(value, &["key", "lane", "kind", "patient_id", "refused_at"]),
        _ => js_sys::Object::new().into(),
    }
}

/// The outbox's acknowledged runs, as kept in `META`: `[first, last,
/// count]` for each (read and written by hand: serde's code for them cost
/// the first screen's download a few kilobytes).
async fn read_acknowledged(meta: &ObjectStore<'_>) -> StoreResult<Acknowledged> {
    acknowledged_of(meta.get(ACKNOWLEDGED_KEY).primitive()?.await?)
}

/// The runs, from their value in `META` as read.
fn acknowledged_of(kept: Option<JsValue>) -> StoreResult<Acknowledged> {
    let mut acknowledged = Acknowledged::default();
    let Some(kept) = kept
        .filter(js_sys::Array::is_array)
        .map(|k| js_sys::Array::from(&k))
    else {
        return Ok(acknowledged);
    };
    for run in kept.iter() {
        let part = |i| js_sys::Reflect::get_u32(&run, i).unwrap_or_default();
        let id = |v: JsValue| v.as_string().and_then(|s| uuid::Uuid::parse_str(&s).ok());
        let (Some(first), Some(last), Some(count)) = (id(part(0)), id(part(1)), part(2).as_f64())
        else {
            return Err(StoreError::Db(format!("{ACKNOWLEDGED_KEY} illisible")));
        };
        acknowledged.add(Run {
            first,
            last,
            count: count as u32,
        });
    }
    Ok(acknowledged)
}

/// Queues the runs' new value on the transaction (its commit waits for it).
fn keep_acknowledged(meta: &ObjectStore<'_>, acknowledged: &Acknowledged) -> StoreResult<()> {
    if acknowledged.is_empty() {
        drop(meta.delete(ACKNOWLEDGED_KEY).primitive()?);
        return Ok(());
    }
    let runs: js_sys::Array = acknowledged
        .runs()
        .iter()
        .map(|run| {
            js_sys::Array::of3(
                &run.first.to_string().into(),
                &run.last.to_string().into(),
                &run.count.into(),
            )
        })
        .collect();
    drop(meta.put(runs).with_key(ACKNOWLEDGED_KEY).primitive()?);
    Ok(())
}

/// The outbox keys of a gap between runs. Keys are ids as text: every one
/// is after the empty text, so an open start is the empty text, included.
fn gap_keys(gap: &Gap) -> KeyRange<String> {
    let (after, after_open) = gap
        .after
        .map_or((String::new(), false), |a| (a.to_string(), true));
    match gap.before {
        None => KeyRange::LowerBound(after, after_open),
        Some(before) => KeyRange::Bound(after, after_open, before.to_string(), true),
    }
}

/// The outbox keys of a run, both ends included.
fn run_keys(run: &Run) -> KeyRange<String> {
    KeyRange::Bound(run.first.to_string(), false, run.last.to_string(), false)
}

/// The keys of the outbox entries waiting (outside the acknowledged runs).
/// The runs and the keys are asked for at once: one trip to the browser's
/// database, not two (a patient's page asks this for each of its kinds).
async fn waiting_keys(
    outbox: &ObjectStore<'_>,
    meta: &ObjectStore<'_>,
) -> StoreResult<HashSet<String>> {
    let kept = meta.get(ACKNOWLEDGED_KEY).primitive()?;
    let keys = outbox.get_all_keys::<String>().primitive()?;
    let acknowledged = acknowledged_of(kept.await?)?;
    let keys: Vec<String> = keys.await?.collect::<Result<_, _>>()?;
    Ok(keys
        .into_iter()
        .filter(|key| uuid::Uuid::parse_str(key).map_or(true, |id| !acknowledged.contains(id)))
        .collect())
}

/// Up to `limit` outbox entries waiting after the key `after`, in key order.
async fn waiting_values(
    outbox: &ObjectStore<'_>,
    acknowledged: &Acknowledged,
    after: Option<uuid::Uuid>,
    limit: u32,
) -> StoreResult<Vec<JsValue>> {
    let mut values: Vec<JsValue> = vec![];
    for gap in acknowledged.gaps(after) {
        let left = limit.saturating_sub(u32::try_from(values.len()).unwrap_or(u32::MAX));
        if left == 0 {
            break;
        }
        for value in outbox
            .get_all()
            .with_query::<String, _>(gap_keys(&gap))
            .with_limit(left)
            .primitive()?
            .await?
        {
            values.push(value?);
        }
    }
    Ok(values)
}

/// After sealed entries were put in the outbox, on the caller's transaction
/// (which holds `OUTBOX` and `META`, read-write; `acknowledged` read in it,
/// asked for before the puts so its answer comes back while they are
/// written): an id inside an acknowledged run (made while the phone's clock
/// was set back) ends that run here — its entries go now, and the new ones
/// are put again after — so a waiting entry is never taken for sent.
fn end_runs_holding(
    outbox: &ObjectStore<'_>,
    meta: &ObjectStore<'_>,
    values: &[JsValue],
    mut acknowledged: Acknowledged,
) -> StoreResult<()> {
    let mut holding: Vec<Run> = vec![];
    for value in values {
        let run = document::string(value, "id")
            .and_then(|id| id.parse().ok())
            .and_then(|id| acknowledged.holding(id));
        if let Some(run) = run.filter(|run| !holding.contains(run)) {
            holding.push(run);
        }
    }
    if holding.is_empty() {
        return Ok(());
    }
    for run in &holding {
        drop(outbox.delete::<String, _>(run_keys(run)).primitive()?);
        acknowledged.remove(run);
    }
    for value in values {
        drop(outbox.put(value).primitive()?);
    }
    keep_acknowledged(meta, &acknowledged)
}

/// Adds the by-kind index to the records store of a version-4 database,
/// inside the upgrade under way (an index on an existing store can only be
/// made there). The wrapper does not hand out the upgrade's transaction;
/// the event being dispatched (`window.event`) holds it.
fn add_kind_index() -> Result<(), JsValue> {
    use wasm_bindgen::JsCast;
    let event: web_sys::Event = web_sys::window().ok_or("no window")?.event().dyn_into()?;
    let request: web_sys::IdbRequest = event.target().ok_or("no event target")?.dyn_into()?;
    let upgrade = request.transaction().ok_or("no upgrade transaction")?;
    upgrade
        .object_store(RECORDS)?
        .create_index_with_str(BY_KIND, "kind")?;
    Ok(())
}

impl DeviceStore {
    pub async fn open(account: AccountId) -> StoreResult<Self> {
        let db = Database::open(&format!("parcours-{account}"))
            .with_version(VERSION)
            .with_on_upgrade_needed(|event, db| {
                if event.old_version() < 1.0 {
                    db.create_object_store(PATIENTS)
                        .with_key_path(KeyPath::One("id"))
                        .build()?;
                    db.create_object_store(OUTBOX)
                        .with_key_path(KeyPath::One("id"))
                        .build()?;
                    db.create_object_store(META).build()?;
                }
                if event.old_version() < 2.0 {
                    db.create_object_store(ITEMS)
                        .with_key_path(KeyPath::One("item.id"))
                        .build()?
                        .create_index(BY_PATIENT, KeyPath::One("item.patient_id"))
                        .build()?;
                    db.create_object_store(MUTATIONS)
                        .with_key_path(KeyPath::One("mutation_id"))
                        .build()?;
                }
                if event.old_version() < 3.0 {
                    db.create_object_store(QUARANTINE)
                        .with_key_path(KeyPath::One("key"))
                        .build()?;
                }
                if event.old_version() < 6.0 {
                    db.create_object_store(REFUSED)
                        .with_key_path(KeyPath::One("key"))
                        .build()?;
                }
                if event.old_version() < 7.0 {
                    let packs = db
                        .create_object_store(PACKS)
                        .with_key_path(KeyPath::One("key"))
                        .build()?;
                    packs
                        .create_index(BY_PATIENT, KeyPath::One("patient_id"))
                        .build()?;
                    packs
                        .create_index(BY_KINDS, KeyPath::One("kinds"))
                        .with_multi_entry(true)
                        .build()?;
                    db.create_object_store(PACK_IDS)
                        .with_key_path(KeyPath::One("key"))
                        .build()?;
                }
                if event.old_version() < 4.0 {
                    let records = db
                        .create_object_store(RECORDS)
                        .with_key_path(KeyPath::One("id"))
                        .build()?;
                    records
                        .create_index(BY_PATIENT, KeyPath::One("patient_id"))
                        .build()?;
                    records
                        .create_index(BY_KIND, KeyPath::One("kind"))
                        .build()?;
                } else if event.old_version() < 5.0 {
                    add_kind_index()?;
                }
                Ok(())
            })
            .await?;
        let store = Self {
            db,
            by_patient: Default::default(),
            reading_patient: Default::default(),
            key: Default::default(),
        };
        store.move_version_3_data().await?;
        Ok(store)
    }

    /// A device updated from version 3 keeps everything it held, above all
    /// what waits to be sent: assessments move to `records`, and the
    /// outbox, items and mutations take their `kind`. One transaction, once.
    async fn move_version_3_data(&self) -> StoreResult<()> {
        let has_legacy = self
            .db
            .object_store_names()
            .any(|name| name == LEGACY_ASSESSMENTS);
        if !has_legacy {
            return Ok(());
        }
        let tx = self
            .db
            .transaction([LEGACY_ASSESSMENTS, RECORDS, OUTBOX, ITEMS, MUTATIONS, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        let layout: Option<f64> = meta.get(LAYOUT_KEY).primitive()?.await?;
        if layout.is_some() {
            return Ok(());
        }
        // Version 3 wrote pain assessments and care-plan items untagged.
        let tag = |values: Vec<JsValue>, kind: &str| -> StoreResult<Vec<JsValue>> {
            for v in &values {
                document::set(v, "kind", &JsValue::from_str(kind))?;
            }
            Ok(values)
        };
        let legacy = tx.object_store(LEGACY_ASSESSMENTS)?;
        let records = tx.object_store(RECORDS)?;
        let assessments: Vec<JsValue> = legacy
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        for a in tag(assessments, "pain_assessment")? {
            drop(records.put(a).primitive()?);
        }
        legacy.clear()?.await?;
        for (name, kind) in [
            (OUTBOX, "pain_assessment"),
            (ITEMS, LEGACY_EDITABLE_KIND),
            (MUTATIONS, LEGACY_EDITABLE_KIND),
        ] {
            let store = tx.object_store(name)?;
            let values: Vec<JsValue> = store
                .get_all()
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            for v in tag(values, kind)? {
                drop(store.put(v).primitive()?);
            }
        }
        drop(meta.delete(LEGACY_CURSOR_KEY).primitive()?);
        meta.put(JsValue::from_f64(4.0))
            .with_key(LAYOUT_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn patients(&self) -> StoreResult<Vec<Patient>> {
        let tx = self.db.transaction(PATIENTS).build()?;
        let store = tx.object_store(PATIENTS)?;
        let values: Vec<JsValue> = store
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let mut patients: Vec<Patient> = self
            .unseal(PATIENTS, values)
            .await?
            .iter()
            .map(document::read)
            .collect::<StoreResult<_>>()?;
        patients
            .sort_by(|a, b| (&a.family_name, &a.given_name).cmp(&(&b.family_name, &b.given_name)));
        Ok(patients)
    }

    pub async fn patient(&self, id: PatientId) -> StoreResult<Option<Patient>> {
        let tx = self.db.transaction(PATIENTS).build()?;
        let store = tx.object_store(PATIENTS)?;
        let Some(value) = store.get(id.to_string()).primitive()?.await? else {
            return Ok(None);
        };
        let opened = self.unseal(PATIENTS, vec![value]).await?;
        opened.first().map(document::read).transpose()
    }

    /// The caseload as the server last gave it, replacing the previous one in
    /// one transaction. A patient who left the person's caseload disappears
    /// with everything the device received about them, unless this device
    /// made something for them that has not been sent yet: then they stay
    /// until it leaves (a patient included here offline is in no caseload yet).
    /// Says whether it changed anything: the same caseload as the one kept
    /// (every sync's usual answer) is left as it is.
    pub async fn replace_patients(&self, patients: &[Patient]) -> StoreResult<bool> {
        let plain = patients
            .iter()
            .map(document::value)
            .collect::<StoreResult<Vec<_>>>()?;
        if self.keeps_caseload(patients, &plain).await? {
            return Ok(false);
        }
        let sealed = self.seal(PATIENTS, &plain).await?;
        let tx = self
            .db
            .transaction([
                PATIENTS, RECORDS, PACKS, PACK_IDS, ITEMS, OUTBOX, QUARANTINE, META,
            ])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(PATIENTS)?;
        let before: Vec<String> = store
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let now: HashSet<String> = patients.iter().map(|p| p.id.to_string()).collect();
        // A patient included on this device and not yet sent is in no
        // caseload the server knows: kept until the inclusion leaves.
        let acknowledged = read_acknowledged(&tx.object_store(META)?).await?;
        let outbox =
            waiting_values(&tx.object_store(OUTBOX)?, &acknowledged, None, u32::MAX).await?;
        let waiting_patients: HashSet<String> = outbox
            .iter()
            .filter_map(|v| document::string(v, "patient_id"))
            .collect();
        // Kept as stored (sealed): never opened here.
        let mut kept: Vec<JsValue> = vec![];
        for id in before
            .iter()
            .filter(|p| !now.contains(*p) && waiting_patients.contains(*p))
        {
            if let Some(p) = store.get(id.clone()).primitive()?.await? {
                kept.push(p);
            }
        }
        let departed: Vec<&String> = before
            .iter()
            .filter(|p| !now.contains(*p) && !waiting_patients.contains(*p))
            .collect();
        if !departed.is_empty() {
            let records = tx.object_store(RECORDS)?;
            let items = tx.object_store(ITEMS)?;
            let (packs, pack_ids) = (tx.object_store(PACKS)?, tx.object_store(PACK_IDS)?);
            for patient in &departed {
                let keys: Vec<String> = packs
                    .index(BY_PATIENT)?
                    .get_all_keys::<String>()
                    .with_query(patient.to_string())
                    .primitive()?
                    .await?
                    .collect::<Result<_, _>>()?;
                for key in keys {
                    drop(packs.delete(key.clone()).primitive()?);
                    drop(pack_ids.delete(key).primitive()?);
                }
                let ids: Vec<String> = records
                    .index(BY_PATIENT)?
                    .get_all_keys::<String>()
                    .with_query(patient.to_string())
                    .primitive()?
                    .await?
                    .collect::<Result<_, _>>()?;
                for id in ids {
                    drop(records.delete(id).primitive()?);
                }
                let item_ids: Vec<String> = items
                    .index(BY_PATIENT)?
                    .get_all_keys::<String>()
                    .with_query(patient.to_string())
                    .primitive()?
                    .await?
                    .collect::<Result<_, _>>()?;
                for id in item_ids {
                    drop(items.delete(id).primitive()?);
                }
            }
            let quarantine = tx.object_store(QUARANTINE)?;
            // The clear part of an entry set aside names its patient.
            let set_aside: Vec<JsValue> = quarantine
                .get_all()
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            for q in set_aside {
                let patient = document::string(&q, "patient_id");
                if patient.as_ref().is_some_and(|p| departed.contains(&p)) {
                    if let Some(key) = document::string(&q, "key") {
                        drop(quarantine.delete(key).primitive()?);
                    }
                }
            }
        }
        store.clear()?.await?;
        for p in sealed.iter().chain(&kept) {
            drop(store.put(p).primitive()?);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The device keeps exactly this caseload: the same patients, each as
    /// the server describes them now (their texts, opened, compared with
    /// what would be sealed). Opening 150 patients costs less than sealing
    /// and writing them again every 30 seconds, and an unchanged caseload
    /// leaves the screens as they are. Any difference — a patient who came,
    /// left, or is only on this device — goes the whole way.
    async fn keeps_caseload(&self, patients: &[Patient], plain: &[JsValue]) -> StoreResult<bool> {
        let kept: Vec<JsValue> = {
            let tx = self.db.transaction(PATIENTS).build()?;
            let values = tx.object_store(PATIENTS)?.get_all().primitive()?.await?;
            values.collect::<Result<_, _>>()?
        };
        if kept.len() != patients.len() {
            return Ok(false);
        }
        let ids: Vec<Option<String>> = kept.iter().map(|v| document::string(v, "id")).collect();
        let texts = self.unseal_texts(PATIENTS, &kept).await?;
        // A caseload is a few hundred patients at most: looked up in a list
        // (a map here was ~1 KB more of the first download).
        for (patient, value) in patients.iter().zip(plain) {
            let id = patient.id.to_string();
            let text = document::text(value)?;
            let same = ids
                .iter()
                .zip(&texts)
                .any(|(kept_id, kept_text)| kept_id.as_deref() == Some(&id) && *kept_text == text);
            if !same {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Saves records made on this device and queues them for sending, in
    /// one transaction: never shown without being queued, and records made
    /// together (a visit and the instruments filled in it) all or none.
    pub async fn record_all(&self, records: &[NewRecord]) -> StoreResult<()> {
        // One sealed value for the record and its place in the outbox.
        let values: Vec<JsValue> = records.iter().map(|r| r.value.clone()).collect();
        let sealed = self.seal(RECORDS, &values).await?;
        let opened: Vec<JsValue> = records
            .iter()
            .filter_map(|r| r.opens.as_ref())
            .map(document::value)
            .collect::<StoreResult<_>>()?;
        let opened = self.seal(PATIENTS, &opened).await?;
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, PATIENTS, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let (stored, outbox, patients, meta) = (
            tx.object_store(RECORDS)?,
            tx.object_store(OUTBOX)?,
            tx.object_store(PATIENTS)?,
            tx.object_store(META)?,
        );
        let runs = meta.get(ACKNOWLEDGED_KEY).primitive()?;
        for value in &sealed {
            // Queued on the transaction; the commit waits for them all.
            drop(stored.put(value).primitive()?);
            drop(outbox.put(value).primitive()?);
        }
        // A record that brings a patient in (an inclusion) puts them in
        // the caseload at once, offline: the server's caseload confirms it later.
        for patient in &opened {
            drop(patients.put(patient).primitive()?);
        }
        end_runs_holding(&outbox, &meta, &sealed, acknowledged_of(runs.await?)?)?;
        tx.commit().await?;
        Ok(())
    }

    /// Every record of one patient, as stored (see `by_patient`): made here
    /// or received one by one, and received in packs.
    async fn patient_records(&self, patient: PatientId) -> StoreResult<std::rc::Rc<Vec<JsValue>>> {
        let counts = self.patient_counts(patient).await?;
        if let Some(cached) = self.cached_records(patient, counts) {
            return Ok(cached);
        }
        // Half a dozen sections of a patient's page ask in the same
        // instant: the first reads and opens, the others find its result.
        let _one_at_a_time = self.reading_patient.lock().await;
        let tx = self.db.transaction([RECORDS, PACKS]).build()?;
        let (single_store, pack_store) = (tx.object_store(RECORDS)?, tx.object_store(PACKS)?);
        let singles = single_store.index(BY_PATIENT)?;
        let packs = pack_store.index(BY_PATIENT)?;
        let key = patient.to_string();
        // Counted again in the transaction that reads: what was read is
        // exactly what these counts describe.
        let (single_count, pack_count) = futures_util::future::join(
            singles.count().with_query(key.clone()).primitive()?,
            packs.count().with_query(key.clone()).primitive()?,
        )
        .await;
        let counts = (single_count?, pack_count?);
        if let Some(cached) = self.cached_records(patient, counts) {
            return Ok(cached);
        }
        let (single_values, pack_values) = futures_util::future::join(
            singles.get_all().with_query(key.clone()).primitive()?,
            packs.get_all().with_query(key).primitive()?,
        )
        .await;
        let single_values: Vec<JsValue> = single_values?.collect::<Result<_, _>>()?;
        let pack_values: Vec<JsValue> = pack_values?.collect::<Result<_, _>>()?;
        drop(tx);
        let values = std::rc::Rc::new(self.open_records(single_values, pack_values).await?);
        self.by_patient
            .borrow_mut()
            .insert(patient, (counts, values.clone()));
        Ok(values)
    }

    /// How many single records and packs one patient has on the device.
    async fn patient_counts(&self, patient: PatientId) -> StoreResult<(u32, u32)> {
        let tx = self.db.transaction([RECORDS, PACKS]).build()?;
        let key = patient.to_string();
        let (singles, packs) = futures_util::future::join(
            tx.object_store(RECORDS)?
                .index(BY_PATIENT)?
                .count()
                .with_query(key.clone())
                .primitive()?,
            tx.object_store(PACKS)?
                .index(BY_PATIENT)?
                .count()
                .with_query(key)
                .primitive()?,
        )
        .await;
        Ok((singles?, packs?))
    }

    /// One patient's records as last read, if they still count the same.
    fn cached_records(
        &self,
        patient: PatientId,
        counts: (u32, u32),
    ) -> Option<std::rc::Rc<Vec<JsValue>>> {
        self.by_patient
            .borrow()
            .get(&patient)
            .filter(|(cached_counts, _)| *cached_counts == counts)
            .map(|(_, cached)| cached.clone())
    }

    /// Opens records kept one by one and in packs; a record in both (pulled
    /// again after the device started over, or its own record pulled back)
    /// counts once.
    async fn open_records(
        &self,
        singles: Vec<JsValue>,
        packs: Vec<JsValue>,
    ) -> StoreResult<Vec<JsValue>> {
        let mut records = self.unseal(RECORDS, singles).await?;
        if packs.is_empty() {
            return Ok(records);
        }
        let mut seen: HashSet<String> = records
            .iter()
            .filter_map(|r| document::string(r, "id"))
            .collect();
        for pack in self.unseal(PACKS, packs).await? {
            for record in js_sys::Array::from(&pack).iter() {
                if document::string(&record, "id").is_some_and(|id| seen.insert(id)) {
                    records.push(record);
                }
            }
        }
        Ok(records)
    }

    /// Every record of one patient this build can read, whatever its kind
    /// (what the trajectory draws from), in no particular order.
    pub async fn records(&self, patient: PatientId) -> StoreResult<Vec<Record>> {
        let values = self.patient_records(patient).await?;
        // A kind this build does not know (a newer server) is skipped, not
        // an error: the screens show what they can read.
        Ok(values
            .iter()
            .filter_map(|v| document::read(v).ok())
            .collect())
    }

    /// Every record of one kind, all patients together, read through a
    /// projection `T` (by the kind's index: the other kinds are not read).
    pub async fn read_all_of_kind<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
    ) -> StoreResult<Vec<T>> {
        let tx = self.db.transaction([RECORDS, PACKS]).build()?;
        let singles: Vec<JsValue> = tx
            .object_store(RECORDS)?
            .index(BY_KIND)?
            .get_all()
            .with_query(kind)
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let packs: Vec<JsValue> = tx
            .object_store(PACKS)?
            .index(BY_KINDS)?
            .get_all()
            .with_query(kind)
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        drop(tx);
        // A pack holds the other kinds of its page and patient too.
        self.open_records(singles, packs)
            .await?
            .iter()
            .filter(|r| document::string(r, "kind").as_deref() == Some(kind))
            .map(document::read)
            .collect()
    }

    /// One patient's records of kind `K`, most recent first, each marked
    /// pending or not.
    pub async fn records_of<K: RecordKind + serde::de::DeserializeOwned>(
        &self,
        patient: PatientId,
    ) -> StoreResult<Vec<Stored<K>>> {
        let values = self.patient_records(patient).await?;
        let tx = self.db.transaction([OUTBOX, META]).build()?;
        let pending = waiting_keys(&tx.object_store(OUTBOX)?, &tx.object_store(META)?).await?;
        let mut stored = vec![];
        for v in values
            .iter()
            .filter(|v| document::string(v, "kind").as_deref() == Some(K::KIND))
        {
            let record: K = document::read(v)?;
            stored.push(Stored {
                pending: pending.contains(&record.id().to_string()),
                record,
            });
        }
        stored.sort_by_key(|s| std::cmp::Reverse(s.record.recorded_at()));
        Ok(stored)
    }

    /// Up to `limit` records waiting to be sent, oldest first (ids are v7,
    /// so key order is creation order), after the record `after` if given,
    /// as stored; never one of the acknowledged runs.
    pub async fn outbox(
        &self,
        limit: u32,
        after: Option<uuid::Uuid>,
    ) -> StoreResult<Vec<Box<RawValue>>> {
        let tx = self.db.transaction([OUTBOX, META]).build()?;
        let acknowledged = read_acknowledged(&tx.object_store(META)?).await?;
        let values = waiting_values(&tx.object_store(OUTBOX)?, &acknowledged, after, limit).await?;
        // Opened to their JSON text and sent as it is: no object made and
        // written out again for each of the 500 records of a push.
        self.unseal_texts(OUTBOX, &values)
            .await?
            .into_iter()
            .map(|text| RawValue::from_string(text).map_err(|e| StoreError::Db(e.to_string())))
            .collect()
    }

    /// Everything waiting to leave this device: records and mutations.
    pub async fn outbox_len(&self) -> StoreResult<u32> {
        let tx = self.db.transaction([OUTBOX, MUTATIONS, META]).build()?;
        // Asked at once, then read. The runs' counts are exact (checked
        // when written).
        let kept = tx.object_store(META)?.get(ACKNOWLEDGED_KEY).primitive()?;
        let held = tx.object_store(OUTBOX)?.count().primitive()?;
        let mutations = tx.object_store(MUTATIONS)?.count().primitive()?;
        let acknowledged = acknowledged_of(kept.await?)?;
        let held: u32 = held.await?;
        let mutations: u32 = mutations.await?;
        let records = u64::from(held).saturating_sub(acknowledged.count());
        Ok(u32::try_from(records)
            .unwrap_or(u32::MAX)
            .saturating_add(mutations))
    }

    /// The server has durably stored these records: they leave the outbox.
    /// Marked, not removed (see `ACKNOWLEDGED_KEY`): a push takes the
    /// outbox's first waiting keys in order, so what it acknowledges is
    /// usually every key from its smallest to its largest, and the run
    /// before it grows by them — one small value written instead of 2,000
    /// removals, which were most of a push's time on the phone. Only when
    /// the store holds exactly those keys there: a record whose id falls
    /// between them (made while the clock was set back) and not
    /// acknowledged must still wait. Otherwise they are removed one by one.
    pub async fn acknowledge(&self, ids: &[uuid::Uuid]) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([OUTBOX, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let (store, meta) = (tx.object_store(OUTBOX)?, tx.object_store(META)?);
        let mut acknowledged = read_acknowledged(&meta).await?;
        // Already in a run: acknowledged before (never read for a push
        // since, but said twice costs nothing).
        let fresh: Vec<uuid::Uuid> = ids
            .iter()
            .copied()
            .filter(|id| !acknowledged.contains(*id))
            .collect();
        let (Some(&first), Some(&last)) = (fresh.iter().min(), fresh.iter().max()) else {
            return Ok(());
        };
        let taken: HashSet<uuid::Uuid> = fresh.into_iter().collect();
        let count = u32::try_from(taken.len()).unwrap_or(u32::MAX);
        // From the run before (nothing else between it and these), or alone.
        let mut tries = vec![];
        if let Some(before) = acknowledged.before(first) {
            let keys = KeyRange::Bound(before.last.to_string(), true, last.to_string(), false);
            let run = Run {
                first: before.first,
                last,
                count: before.count.saturating_add(count),
            };
            tries.push((keys, run));
        }
        tries.push((
            KeyRange::Bound(first.to_string(), false, last.to_string(), false),
            Run { first, last, count },
        ));
        for (keys, run) in tries {
            // Counted, not listed: every acknowledged id lies between the
            // ends and is in the store — read from it for this push, and
            // nothing removes a waiting entry but a refusal (never
            // acknowledged), an acknowledgement (of other ids) or a
            // sign-out's tidying (which keeps what waits) — so as many
            // keys there as ids means no other key there. A record saved
            // there since (its clock set back) makes one more. Listing
            // the 2,000 keys to compare them took 10–45 ms of each push's
            // acknowledgement, during which the next read waited.
            let held: u32 = store
                .count()
                .with_query::<String, _>(keys)
                .primitive()?
                .await?;
            if held == count {
                acknowledged.add(run);
                keep_acknowledged(&meta, &acknowledged)?;
                tx.commit().await?;
                return Ok(());
            }
        }
        for id in &taken {
            drop(store.delete(id.to_string()).primitive()?);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the outbox entries the server acknowledged (the runs of
    /// `ACKNOWLEDGED_KEY`), `FORGET_CHUNK` at a time, each step its own
    /// transaction: after a sync, so the removal slows neither the push nor
    /// the pull, and a save never waits long behind it. Stopped half way,
    /// the runs say what is left.
    pub async fn forget_acknowledged(&self) -> StoreResult<()> {
        loop {
            let tx = self
                .db
                .transaction([OUTBOX, META])
                .with_mode(TransactionMode::Readwrite)
                .build()?;
            let (store, meta) = (tx.object_store(OUTBOX)?, tx.object_store(META)?);
            let mut acknowledged = read_acknowledged(&meta).await?;
            let Some(run) = acknowledged.runs().first().copied() else {
                return Ok(());
            };
            let keys: Vec<String> = store
                .get_all_keys::<String>()
                .with_query::<String, _>(run_keys(&run))
                .with_limit(FORGET_CHUNK + 1)
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            acknowledged.remove(&run);
            match (
                keys.get(FORGET_CHUNK as usize - 1),
                keys.get(FORGET_CHUNK as usize),
            ) {
                (Some(last_gone), Some(next)) => {
                    let gone =
                        KeyRange::Bound(run.first.to_string(), false, last_gone.clone(), false);
                    drop(store.delete::<String, _>(gone).primitive()?);
                    let first = next
                        .parse()
                        .map_err(|e: uuid::Error| StoreError::Db(e.to_string()))?;
                    acknowledged.add(Run {
                        first,
                        last: run.last,
                        count: run.count.saturating_sub(FORGET_CHUNK),
                    });
                }
                _ => drop(store.delete::<String, _>(run_keys(&run)).primitive()?),
            }
            keep_acknowledged(&meta, &acknowledged)?;
            tx.commit().await?;
        }
    }

    pub async fn pull_cursor(&self) -> StoreResult<Option<String>> {
        let tx = self.db.transaction(META).build()?;
        let store = tx.object_store(META)?;
        Ok(store.get(CURSOR_KEY).primitive()?.await?)
    }

    /// Writes a pulled page and the cursor after it in one transaction, so a
    /// crash between the two can never skip or half-apply a page. Each entry
    /// is sealed as the server sent it (its text, never decoded here), under
    /// the clear part its key and indexes need, which the client already
    /// read; the ones it could not read are set aside, sealed too, so the
    /// rest is stored and the cursor moves. Returns how many were set aside.
    pub async fn apply_pulled_page(
        &self,
        records: &[Entry<'_>],
        items: &[Entry<'_>],
        unreadable: Vec<SetAside>,
        next_cursor: &str,
        last: bool,
    ) -> StoreResult<usize> {
        // Built as objects directly: a serde round trip per entry would
        // cost a JSON text and a parse for each of 100,000 records.
        let text = |v: &dyn ToString| JsValue::from_str(&v.to_string());
        // The page's records, one pack per patient. Only one sync runs at a
        // time on the device (`tabs`), so the number read here is still the
        // next one when the transaction below takes it.
        let page_number = self.meta_number(NEXT_PACK_KEY).await?.unwrap_or(0.0) as u64;
        let mut by_patient: std::collections::BTreeMap<String, Vec<&Entry<'_>>> =
            Default::default();
        for e in records {
            by_patient
                .entry(e.patient_id.to_string())
                .or_default()
                .push(e);
        }
        let mut pack_envelopes = Vec::with_capacity(by_patient.len());
        let mut pack_ids = Vec::with_capacity(by_patient.len());
        let mut pack_texts = Vec::with_capacity(by_patient.len());
        for (patient, entries) in &by_patient {
            let key = text(&format!("{page_number:012}:{patient}"));
            let mut kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
            kinds.sort_unstable();
            kinds.dedup();
            let kinds: js_sys::Array = kinds.into_iter().map(JsValue::from_str).collect();
            let ids: js_sys::Array = entries.iter().map(|e| text(&e.id)).collect();
            pack_envelopes.push(document::object_of(&[
                ("key", key.clone()),
                ("patient_id", text(patient)),
                ("kinds", kinds.into()),
            ]));
            pack_ids.push(document::object_of(&[("key", key), ("ids", ids.into())]));
            let mut json = String::with_capacity(entries.iter().map(|e| e.raw.len() + 1).sum());
            json.push('[');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(e.raw);
            }
            json.push(']');
            pack_texts.push(json);
        }
        let sealed_packs = self.seal_texts(PACKS, pack_envelopes, &pack_texts).await?;
        let item_envelopes: Vec<JsValue> = items
            .iter()
            .map(|e| {
                let item = document::object_of(&[
                    ("id", text(&e.id)),
                    ("patient_id", text(&e.patient_id)),
                ]);
                document::object_of(&[
                    ("item", item),
                    ("kind", text(&e.kind)),
                    ("version", JsValue::from_f64(e.version as f64)),
                ])
            })
            .collect();
        let item_texts: Vec<&str> = items.iter().map(|e| e.raw).collect();
        let sealed_items = self.seal_texts(ITEMS, item_envelopes, &item_texts).await?;
        let aside = unreadable
            .iter()
            .map(document::value)
            .collect::<StoreResult<Vec<_>>>()?;
        let sealed_aside = self.seal(QUARANTINE, &aside).await?;
        let tx = self
            .db
            .transaction([PACKS, PACK_IDS, ITEMS, META, QUARANTINE])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let quarantine = tx.object_store(QUARANTINE)?;
        // An entry set aside earlier and now received in a readable state
        // leaves the quarantine (checked only when there is one, which is rare).
        let clear_quarantine = quarantine.count().primitive()?.await? > 0u32;
        if clear_quarantine {
            for key in records.iter().chain(items).map(|e| e.id.to_string()) {
                drop(quarantine.delete(key).primitive()?);
            }
        }
        // Requests are queued on the transaction as they are made; awaiting
        // each would cost a trip through the event loop per record. The
        // commit below waits for all of them and fails if any failed (the
        // page is then not written, the cursor does not move).
        // Pages arrive in position order, so a later state always replaces an earlier one.
        for (name, values) in [
            (PACKS, sealed_packs),
            (PACK_IDS, pack_ids),
            (ITEMS, sealed_items),
            (QUARANTINE, sealed_aside),
        ] {
            let store = tx.object_store(name)?;
            for value in values {
                drop(store.put(value).primitive()?);
            }
        }
        let meta = tx.object_store(META)?;
        if !by_patient.is_empty() {
            drop(
                meta.put(JsValue::from_f64((page_number + 1) as f64))
                    .with_key(NEXT_PACK_KEY)
                    .primitive()?,
            );
        }
        // The pull that started over is complete: what was held from before
        // it has all come again (or left the caseload) and goes.
        if last {
            let before: Option<f64> = meta.get(PACKS_BEFORE_KEY).primitive()?.await?;
            if let Some(before) = before {
                let older = || {
                    indexed_db_futures::KeyRange::UpperBound(format!("{:012}", before as u64), true)
                };
                drop(
                    tx.object_store(PACKS)?
                        .delete::<String, _>(older())
                        .primitive()?,
                );
                drop(
                    tx.object_store(PACK_IDS)?
                        .delete::<String, _>(older())
                        .primitive()?,
                );
                drop(meta.delete(PACKS_BEFORE_KEY).primitive()?);
                // Fewer packs may now count as many as were read before.
                self.by_patient.borrow_mut().clear();
            }
        }
        meta.put(JsValue::from_str(next_cursor))
            .with_key(CURSOR_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(unreadable.len())
    }

    /// Entries set aside because this device could not read or store them.
    pub async fn quarantined(&self) -> StoreResult<Vec<SetAside>> {
        let tx = self.db.transaction(QUARANTINE).build()?;
        let values: Vec<JsValue> = tx
            .object_store(QUARANTINE)?
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        self.unseal(QUARANTINE, values)
            .await?
            .iter()
            .map(document::read)
            .collect()
    }

    /// (id, version) of everything received from the server, for the sync
    /// checksum: stored records (version 0) not waiting to leave, items, and
    /// the entries set aside (the server counts them too).
    pub async fn checksum_entries(&self) -> StoreResult<Vec<(uuid::Uuid, u64)>> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, PACK_IDS, ITEMS, QUARANTINE, META])
            .build()?;
        let waiting = waiting_keys(&tx.object_store(OUTBOX)?, &tx.object_store(META)?).await?;
        let mut received: HashSet<String> = tx
            .object_store(RECORDS)?
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .filter_map(|k| k.ok())
            .filter(|k| !waiting.contains(k))
            .collect();
        // A record held twice (in a pack and alone, or in two packs after
        // the pull started over) counts once, as on the server.
        let packs: Vec<JsValue> = tx
            .object_store(PACK_IDS)?
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        for pack in &packs {
            if let Some(ids) = document::object(pack, "ids") {
                received.extend(
                    js_sys::Array::from(&ids)
                        .iter()
                        .filter_map(|id| id.as_string()),
                );
            }
        }
        let mut entries: Vec<(uuid::Uuid, u64)> = received
            .iter()
            .filter_map(|k| k.parse().ok())
            .map(|id| (id, 0))
            .collect();
        let states: Vec<JsValue> = tx
            .object_store(ITEMS)?
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let states: Vec<(uuid::Uuid, u64)> = states
            .iter()
            .filter_map(|s| {
                let id = document::string(&document::object(s, "item")?, "id")?
                    .parse()
                    .ok()?;
                Some((id, document::number(s, "version")? as u64))
            })
            .collect();
        /// What the checksum needs of an entry set aside: its clear part.
        #[derive(serde::Deserialize)]
        struct Aside {
            id: Option<uuid::Uuid>,
            version: u64,
        }
        let set_aside: Vec<Aside> = tx
            .object_store(QUARANTINE)?
            .get_all()
            .serde()?
            .await?
            .collect::<Result<_, _>>()?;
        // A newer state set aside stands for the item (the server counts that one).
        let aside: HashSet<uuid::Uuid> = set_aside.iter().filter_map(|q| q.id).collect();
        entries.extend(states.into_iter().filter(|(id, _)| !aside.contains(id)));
        entries.extend(
            set_aside
                .into_iter()
                .filter_map(|q| q.id.map(|id| (id, q.version))),
        );
        Ok(entries)
    }
}

impl DeviceStore {
    /// Queues a change to an editable item: gives it this device's next
    /// mutation id and stores it, in one transaction (ids never repeat, even
    /// across crashes).
    pub async fn record_mutation<E: Editable>(
        &self,
        mut mutation: MutationOf<E>,
    ) -> StoreResult<MutationOf<E>> {
        // Sealed before its id is known: a mutation's id is its clear key.
        let sealed = self
            .seal(MUTATIONS, &[document::tagged(E::KIND, &mutation)?])
            .await?;
        let envelope = sealed
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Db("mutation non scellée".into()))?;
        let tx = self
            .db
            .transaction([MUTATIONS, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        let next: Option<f64> = meta.get(NEXT_MUTATION_KEY).primitive()?.await?;
        mutation.mutation_id = next.unwrap_or(1.0) as u64;
        document::set(
            &envelope,
            "mutation_id",
            &JsValue::from_f64(mutation.mutation_id as f64),
        )?;
        tx.object_store(MUTATIONS)?
            .put(envelope)
            .primitive()?
            .await?;
        meta.put(JsValue::from_f64((mutation.mutation_id + 1) as f64))
            .with_key(NEXT_MUTATION_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(mutation)
    }

    /// Never hand out an id the server has already applied (a device store
    /// restored from an old copy would otherwise reuse them).
    pub async fn raise_next_mutation_id(&self, server_last: u64) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        let next: Option<f64> = meta.get(NEXT_MUTATION_KEY).primitive()?.await?;
        if (next.unwrap_or(1.0) as u64) <= server_last {
            meta.put(JsValue::from_f64((server_last + 1) as f64))
                .with_key(NEXT_MUTATION_KEY)
                .primitive()?
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` mutations waiting, in id order, after the id `after`
    /// if given, as stored.
    pub async fn mutation_outbox(
        &self,
        limit: u32,
        after: Option<u64>,
    ) -> StoreResult<Vec<Outgoing>> {
        let tx = self.db.transaction(MUTATIONS).build()?;
        // Ids start at 1: after nothing is after 0.
        let after = indexed_db_futures::KeyRange::LowerBound(after.unwrap_or(0) as f64, true);
        let values: Vec<JsValue> = tx
            .object_store(MUTATIONS)?
            .get_all()
            .with_query::<f64, _>(after)
            .with_limit(limit)
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        self.unseal(MUTATIONS, values)
            .await?
            .iter()
            .map(|v| {
                Ok(Outgoing {
                    mutation_id: document::number(v, "mutation_id").unwrap_or(0.0) as u64,
                    raw: document::raw(v)?,
                })
            })
            .collect()
    }

    /// The server applied every mutation up to `last`: they leave the outbox.
    pub async fn acknowledge_mutations(&self, last: u64) -> StoreResult<()> {
        if last == 0 {
            return Ok(());
        }
        let tx = self
            .db
            .transaction(MUTATIONS)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        // Spelled out: indexed_db_futures 0.6.4 turns `..=x` into an *open*
        // upper bound (and `..x` into a closed one), the reverse of Rust.
        let up_to_last = indexed_db_futures::KeyRange::UpperBound(last as f64, false);
        tx.object_store(MUTATIONS)?
            .delete::<f64, _>(up_to_last)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives the waiting mutations from id `from` on the ids `first`,
    /// `first + 1`… in their order, and new mutations the ids after them:
    /// the server applied other mutations of this device under those ids
    /// (its store was wiped while its id survived), or lost some it had
    /// applied (restored from a backup). One transaction: a crash leaves
    /// the old numbers or the new, never a mix.
    pub async fn renumber_mutations(&self, from: u64, first: u64) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([MUTATIONS, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let mutations = tx.object_store(MUTATIONS)?;
        // Closed lower bound (see `acknowledge_mutations` on the crate's bounds).
        let from_on = || indexed_db_futures::KeyRange::<f64>::LowerBound(from as f64, false);
        let moving: Vec<JsValue> = mutations
            .get_all::<JsValue>()
            .with_query::<f64, _>(from_on())
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        mutations.delete::<f64, _>(from_on()).primitive()?.await?;
        let mut next = first;
        for m in moving {
            js_sys::Reflect::set(&m, &"mutation_id".into(), &JsValue::from_f64(next as f64))
                .map_err(|_| StoreError::Db("mutation illisible".into()))?;
            mutations.put(m).primitive()?.await?;
            next += 1;
        }
        // New mutations follow the renumbered ones — also downwards, when
        // the server lost ids it had applied (restored from a backup).
        tx.object_store(META)?
            .put(JsValue::from_f64(next as f64))
            .with_key(NEXT_MUTATION_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One patient's editable items of kind `E` as the server sent them,
    /// and this device's mutations of them still waiting.
    pub async fn items_of<E: Editable>(
        &self,
        patient: PatientId,
    ) -> StoreResult<(Vec<StateOf<E>>, Vec<MutationOf<E>>)> {
        let tx = self.db.transaction([ITEMS, MUTATIONS]).build()?;
        let states: Vec<JsValue> = tx
            .object_store(ITEMS)?
            .index(BY_PATIENT)?
            .get_all()
            .with_query(patient.to_string())
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let pending: Vec<JsValue> = tx
            .object_store(MUTATIONS)?
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        // Chosen by their clear part; only those are opened.
        let of_kind = |v: &JsValue| document::string(v, "kind").as_deref() == Some(E::KIND);
        let patient = patient.to_string();
        let states: Vec<JsValue> = states.into_iter().filter(of_kind).collect();
        let pending: Vec<JsValue> = pending
            .into_iter()
            .filter(of_kind)
            .filter(|v| document::string(v, "patient_id").as_deref() == Some(patient.as_str()))
            .collect();
        Ok((
            self.unseal(ITEMS, states)
                .await?
                .iter()
                .map(document::read)
                .collect::<StoreResult<_>>()?,
            self.unseal(MUTATIONS, pending)
                .await?
                .iter()
                .map(document::read)
                .collect::<StoreResult<_>>()?,
        ))
    }

    /// One patient's editable items of kind `E`, as the server sent them and
    /// nothing more: for a reader who never changes them (the patient's own
    /// app), so neither the fields' clocks and conflicts nor the waiting
    /// changes are decoded — nor is their code downloaded.
    #[cfg(feature = "patient")]
    pub async fn items_as_sent<E: Editable>(&self, patient: PatientId) -> StoreResult<Vec<E>> {
        #[derive(serde::Deserialize)]
        #[serde(bound = "E: serde::de::DeserializeOwned")]
        struct ItemOnly<E> {
            item: E,
        }
        let tx = self.db.transaction(ITEMS).build()?;
        let states: Vec<JsValue> = tx
            .object_store(ITEMS)?
            .index(BY_PATIENT)?
            .get_all()
            .with_query(patient.to_string())
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let states: Vec<JsValue> = states
            .into_iter()
            .filter(|v| document::string(v, "kind").as_deref() == Some(E::KIND))
            .collect();
        self.unseal(ITEMS, states)
            .await?
            .iter()
            .map(|v| document::read::<ItemOnly<E>>(v).map(|s| s.item))
            .collect()
    }

    /// Forgets the pull cursor so the next sync pulls everything again
    /// (after the checksum showed the copy diverged).
    pub async fn reset_pull_cursor(&self) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        // Every pack held so far goes once everything has come again.
        let next: Option<f64> = meta.get(NEXT_PACK_KEY).primitive()?.await?;
        drop(
            meta.put(JsValue::from_f64(next.unwrap_or(0.0)))
                .with_key(PACKS_BEFORE_KEY)
                .primitive()?,
        );
        meta.delete(CURSOR_KEY).primitive()?.await?;
        tx.commit().await?;
        Ok(())
    }

    /// A number kept in clear in `META`.
    async fn meta_number(&self, key: &str) -> StoreResult<Option<f64>> {
        let tx = self.db.transaction(META).build()?;
        Ok(tx.object_store(META)?.get(key).primitive()?.await?)
    }

    /// A text kept on this device under `key` (a draft, the instruments'
    /// wording): not synced, kept across reloads and offline.
    pub async fn kept_text(&self, key: &str) -> StoreResult<Option<String>> {
        let tx = self.db.transaction(META).build()?;
        let Some(value): Option<JsValue> = tx.object_store(META)?.get(key).primitive()?.await?
        else {
            return Ok(None);
        };
        // Kept before the device had a key: clear until sealed.
        if let Some(text) = value.as_string() {
            return Ok(Some(text));
        }
        let sealed = document::object(&value, SEALED)
            .ok_or_else(|| StoreError::Db(format!("texte illisible : {key}")))?;
        let texts = self
            .key()?
            .open_all(&[(format!("{META}:{key}"), sealed)])
            .await?;
        Ok(texts.into_iter().next())
    }

    /// Keeps (or, with None, forgets) a text under `key`.
    pub async fn keep_text(&self, key: &str, text: Option<&str>) -> StoreResult<()> {
        let sealed = match text {
            Some(text) => {
                let label = format!("{META}:{key}");
                let sealed = self.key()?.seal_all(&[(&label, text)]).await?;
                let envelope = js_sys::Object::new();
                for s in sealed {
                    document::set(&envelope, SEALED, &s)?;
                }
                Some(JsValue::from(envelope))
            }
            None => None,
        };
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        // The commit below waits for the request and fails if it failed.
        match sealed {
            Some(sealed) => drop(meta.put(sealed).with_key(key).primitive()?),
            None => drop(meta.delete(key).primitive()?),
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Sealing: every health value is kept sealed by the device key.
impl DeviceStore {
    pub fn is_unlocked(&self) -> bool {
        self.key.borrow().is_some()
    }

    /// Forgets the key and every value opened with it.
    pub fn lock(&self) {
        *self.key.borrow_mut() = None;
        self.by_patient.borrow_mut().clear();
    }

    fn key(&self) -> StoreResult<std::rc::Rc<DeviceKey>> {
        self.key.borrow().clone().ok_or(StoreError::Locked)
    }

    /// Values of `store` as they will be kept: each one's clear part with
    /// its whole JSON text sealed beside it. Sealed before the transaction
    /// that writes them (awaiting WebCrypto inside one would commit it).
    async fn seal(&self, store: &str, values: &[JsValue]) -> StoreResult<Vec<JsValue>> {
        // Nothing to seal is no trip to the browser's crypto (a save seals
        // no patient unless it is an inclusion).
        if values.is_empty() {
            return Ok(vec![]);
        }
        let envelopes: Vec<JsValue> = values.iter().map(|v| clear_of(store, v)).collect();
        let texts = values
            .iter()
            .map(document::text)
            .collect::<StoreResult<Vec<_>>>()?;
        self.seal_texts(store, envelopes, &texts).await
    }

    /// Like `seal`, from JSON texts and their clear parts already made.
    async fn seal_texts(
        &self,
        store: &str,
        envelopes: Vec<JsValue>,
        texts: &[impl AsRef<str>],
    ) -> StoreResult<Vec<JsValue>> {
        let key = self.key()?;
        let labels: Vec<String> = envelopes.iter().map(|e| label(store, e)).collect();
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(String::as_str)
            .zip(texts.iter().map(AsRef::as_ref))
            .collect();
        let sealed = key.seal_all(&pairs).await?;
        for (envelope, sealed) in envelopes.iter().zip(sealed) {
            document::set(envelope, SEALED, &sealed)?;
        }
        Ok(envelopes)
    }

    /// The JSON texts of values of `store`: what was sealed, or the text of
    /// a value kept before this device had a key.
    async fn unseal_texts(&self, store: &str, values: &[JsValue]) -> StoreResult<Vec<String>> {
        let sealed: Vec<(String, JsValue)> = values
            .iter()
            .filter_map(|v| document::object(v, SEALED).map(|s| (label(store, v), s)))
            .collect();
        let mut texts = if sealed.is_empty() {
            Vec::new().into_iter()
        } else {
            self.key()?.open_all(&sealed).await?.into_iter()
        };
        values
            .iter()
            .map(|value| {
                if is_sealed(value) {
                    texts
                        .next()
                        .ok_or_else(|| StoreError::Db("valeur scellée manquante".into()))
                } else {
                    document::text(value)
                }
            })
            .collect()
    }

    /// The values of `store` as they were before sealing. A value kept
    /// before this device had a key (not yet sealed by `seal_what_is_clear`)
    /// is returned as it is. A mutation takes its id from its clear key.
    async fn unseal(&self, store: &str, values: Vec<JsValue>) -> StoreResult<Vec<JsValue>> {
        let sealed: Vec<(String, JsValue)> = values
            .iter()
            .filter_map(|v| document::object(v, SEALED).map(|s| (label(store, v), s)))
            .collect();
        if sealed.is_empty() {
            return Ok(values);
        }
        let mut texts = self.key()?.open_all(&sealed).await?.into_iter();
        let mut opened = Vec::with_capacity(values.len());
        for value in values {
            if !is_sealed(&value) {
                opened.push(value);
                continue;
            }
            let text = texts
                .next()
                .ok_or_else(|| StoreError::Db("valeur scellée manquante".into()))?;
            let plain = document::parse(&text)?;
            if store == MUTATIONS {
                if let Some(id) = document::number(&value, "mutation_id") {
                    document::set(&plain, "mutation_id", &JsValue::from_f64(id))?;
                }
            }
            opened.push(plain);
        }
        Ok(opened)
    }

    /// The device key as kept here, wrapped by the PIN, if this database has one.
    pub async fn wrapped_key(&self) -> StoreResult<Option<WrappedKey>> {
        let tx = self.db.transaction(META).build()?;
        Ok(tx.object_store(META)?.get(WRAPPED_KEY).serde()?.await?)
    }

    /// Wrong PINs in a row so far.
    pub async fn pin_failures(&self) -> StoreResult<u32> {
        let tx = self.db.transaction(META).build()?;
        let n: Option<f64> = tx
            .object_store(META)?
            .get(PIN_FAILURES_KEY)
            .primitive()?
            .await?;
        Ok(n.unwrap_or(0.0) as u32)
    }

    /// Counts one more wrong PIN; returns how many in a row.
    pub async fn count_pin_failure(&self) -> StoreResult<u32> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        let n: Option<f64> = meta.get(PIN_FAILURES_KEY).primitive()?.await?;
        let n = n.unwrap_or(0.0) as u32 + 1;
        drop(
            meta.put(JsValue::from_f64(n as f64))
                .with_key(PIN_FAILURES_KEY)
                .primitive()?,
        );
        tx.commit().await?;
        Ok(n)
    }

    /// Unlocks with the device key: kept wrapped when it is new, the wrong
    /// PINs forgotten, and whatever was kept before the device had a key
    /// sealed.
    pub async fn unlock(&self, key: DeviceKey, new: Option<&WrappedKey>) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        if let Some(wrapped) = new {
            drop(
                meta.put(document::value(wrapped)?)
                    .with_key(WRAPPED_KEY)
                    .primitive()?,
            );
        }
        drop(meta.delete(PIN_FAILURES_KEY).primitive()?);
        tx.commit().await?;
        *self.key.borrow_mut() = Some(std::rc::Rc::new(key));
        self.seal_what_is_clear().await
    }

    /// Seals, once, what this database held before it had a key (a device
    /// updated from a version without encryption). Store by store: a value
    /// is replaced only if it is still the clear one read, so nothing
    /// written meanwhile is overwritten.
    async fn seal_what_is_clear(&self) -> StoreResult<()> {
        let done: Option<f64> = self
            .db
            .transaction(META)
            .build()?
            .object_store(META)?
            .get(SEALED_LAYOUT_KEY)
            .primitive()?
            .await?;
        if done.is_some() {
            return Ok(());
        }
        for name in [PATIENTS, RECORDS, OUTBOX, ITEMS, MUTATIONS, QUARANTINE] {
            let tx = self.db.transaction(name).build()?;
            let store = tx.object_store(name)?;
            let keys: Vec<JsValue> = store
                .get_all_keys()
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            let values: Vec<JsValue> = store
                .get_all()
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            drop(tx);
            let clear: Vec<(JsValue, JsValue)> = keys
                .into_iter()
                .zip(values)
                .filter(|(_, v)| !is_sealed(v))
                .collect();
            if clear.is_empty() {
                continue;
            }
            let plain: Vec<JsValue> = clear.iter().map(|(_, v)| v.clone()).collect();
            let sealed = self.seal(name, &plain).await?;
            let tx = self
                .db
                .transaction(name)
                .with_mode(TransactionMode::Readwrite)
                .build()?;
            let store = tx.object_store(name)?;
            // Read again in this transaction, all at once (a request per
            // value would cost a trip through the event loop each).
            let keys_now: Vec<JsValue> = store
                .get_all_keys()
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            let values_now: Vec<JsValue> = store
                .get_all()
                .primitive()?
                .await?
                .collect::<Result<_, _>>()?;
            let still_clear: HashSet<String> = keys_now
                .iter()
                .zip(&values_now)
                .filter(|(_, v)| !is_sealed(v))
                .filter_map(|(k, _)| k.as_string().or_else(|| k.as_f64().map(|n| n.to_string())))
                .collect();
            for ((key, _), envelope) in clear.iter().zip(sealed) {
                let key = key
                    .as_string()
                    .or_else(|| key.as_f64().map(|n| n.to_string()));
                if key.is_some_and(|k| still_clear.contains(&k)) {
                    drop(store.put(envelope).primitive()?);
                }
            }
            tx.commit().await?;
        }
        // Kept texts (drafts): every META value but the clear ones.
        let tx = self.db.transaction(META).build()?;
        let meta = tx.object_store(META)?;
        let keys: Vec<String> = meta
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .filter_map(Result::ok)
            .filter(|k| !CLEAR_META.contains(&k.as_str()))
            .collect();
        let mut texts = vec![];
        for key in keys {
            let value: Option<JsValue> = meta.get(key.clone()).primitive()?.await?;
            if let Some(text) = value.and_then(|v| v.as_string()) {
                texts.push((key, text));
            }
        }
        drop(tx);
        for (key, text) in texts {
            // Through `keep_text`, which seals.
            self.keep_text(&key, Some(&text)).await?;
        }
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        drop(
            tx.object_store(META)?
                .put(JsValue::from_f64(1.0))
                .with_key(SEALED_LAYOUT_KEY)
                .primitive()?,
        );
        tx.commit().await?;
        Ok(())
    }

    /// Sign-out: forgets everything received from the server (the screens'
    /// data, the cursor: the next sign-in pulls it again) and keeps, sealed,
    /// what this device made and has not sent — records, their patients,
    /// changes, drafts — with the wrapped key that opens them. One transaction.
    pub async fn forget_synced(&self) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([
                PATIENTS, RECORDS, PACKS, PACK_IDS, OUTBOX, ITEMS, QUARANTINE, META,
            ])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let acknowledged = read_acknowledged(&tx.object_store(META)?).await?;
        let outbox = tx.object_store(OUTBOX)?;
        let waiting = waiting_values(&outbox, &acknowledged, None, u32::MAX).await?;
        // What the server acknowledged and the outbox still held goes too:
        // only what waits stays.
        for run in acknowledged.runs() {
            drop(outbox.delete::<String, _>(run_keys(run)).primitive()?);
        }
        let waiting_ids: HashSet<String> = waiting
            .iter()
            .filter_map(|v| document::string(v, "id"))
            .collect();
        let waiting_patients: HashSet<String> = waiting
            .iter()
            .filter_map(|v| document::string(v, "patient_id"))
            .collect();
        let records = tx.object_store(RECORDS)?;
        let record_ids: Vec<String> = records
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        for id in record_ids.iter().filter(|id| !waiting_ids.contains(*id)) {
            drop(records.delete(id.clone()).primitive()?);
        }
        let patients = tx.object_store(PATIENTS)?;
        let patient_ids: Vec<String> = patients
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        for id in patient_ids
            .iter()
            .filter(|id| !waiting_patients.contains(*id))
        {
            drop(patients.delete(id.clone()).primitive()?);
        }
        for store in [PACKS, PACK_IDS, ITEMS, QUARANTINE] {
            tx.object_store(store)?.clear()?.await?;
        }
        // The cursor goes (the next sign-in pulls everything again); the
        // rest stays: the key, the mutation ids (never handed out twice),
        // drafts (work not yet saved, sealed) and the instruments' wording.
        let meta = tx.object_store(META)?;
        drop(meta.delete(CURSOR_KEY).primitive()?);
        drop(meta.delete(LEGACY_CURSOR_KEY).primitive()?);
        drop(meta.delete(PACKS_BEFORE_KEY).primitive()?);
        drop(meta.delete(ACKNOWLEDGED_KEY).primitive()?);
        tx.commit().await?;
        self.by_patient.borrow_mut().clear();
        Ok(())
    }

    /// Deletes this person's whole database on this device (five wrong
    /// PINs: what it holds can no longer be opened). Not awaited to its end:
    /// another tab's open connection delays it until that tab closes, and
    /// nothing here depends on it having happened.
    pub fn delete(&self) -> StoreResult<()> {
        *self.key.borrow_mut() = None;
        drop(self.db.clone().delete()?);
        Ok(())
    }
}

/// A record or a change the server refused, as the person sees it in the
/// refused list.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Refused {
    pub key: String,
    /// "record" or "mutation".
    pub lane: String,
    pub kind: String,
    pub patient_id: PatientId,
    pub refused_at: i64,
    /// The server's reason, in French.
    pub reason: String,
    /// The record, or the mutation, as it was sent.
    pub value: Box<RawValue>,
}

/// The refused list (see `REFUSED`).
impl DeviceStore {
    /// The outbox's record `id`, refused: out of the outbox and of the
    /// screens, into the refused list with the reason. Opened and sealed
    /// again between two transactions (no await of WebCrypto inside one);
    /// the sync holds its lock meanwhile, and nothing else removes it.
    pub async fn refuse_record(&self, id: uuid::Uuid, reason: &str) -> StoreResult<()> {
        let Some(record) = self
            .opened_one(OUTBOX, JsValue::from_str(&id.to_string()))
            .await?
        else {
            return Ok(());
        };
        let refused = self
            .refused_entry(format!("record:{id}"), "record", &record, reason)
            .await?;
        let tx = self
            .db
            .transaction([OUTBOX, RECORDS, REFUSED])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        drop(
            tx.object_store(OUTBOX)?
                .delete(id.to_string())
                .primitive()?,
        );
        drop(
            tx.object_store(RECORDS)?
                .delete(id.to_string())
                .primitive()?,
        );
        drop(tx.object_store(REFUSED)?.put(refused).primitive()?);
        tx.commit().await?;
        Ok(())
    }

    /// The waiting mutation `mutation_id`, refused: into the refused list;
    /// the waiting ones after it take the ids from its own on, and the next
    /// new one follows them (the server applies a device's ids without gaps).
    pub async fn refuse_mutation(&self, mutation_id: u64, reason: &str) -> StoreResult<()> {
        let Some(mutation) = self
            .opened_one(MUTATIONS, JsValue::from_f64(mutation_id as f64))
            .await?
        else {
            return Ok(());
        };
        let item = document::string(&mutation, "item_id").unwrap_or_default();
        let refused = self
            .refused_entry(
                format!("mutation:{item}:{mutation_id}"),
                "mutation",
                &mutation,
                reason,
            )
            .await?;
        let tx = self
            .db
            .transaction([MUTATIONS, META, REFUSED])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let mutations = tx.object_store(MUTATIONS)?;
        // Closed lower bound (see `acknowledge_mutations` on the crate's bounds).
        let from_on = || indexed_db_futures::KeyRange::<f64>::LowerBound(mutation_id as f64, false);
        let after: Vec<JsValue> = mutations
            .get_all::<JsValue>()
            .with_query::<f64, _>(from_on())
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        mutations.delete::<f64, _>(from_on()).primitive()?.await?;
        let mut next = mutation_id;
        for m in after
            .into_iter()
            .filter(|m| document::number(m, "mutation_id") != Some(mutation_id as f64))
        {
            document::set(&m, "mutation_id", &JsValue::from_f64(next as f64))?;
            drop(mutations.put(m).primitive()?);
            next += 1;
        }
        drop(
            tx.object_store(META)?
                .put(JsValue::from_f64(next as f64))
                .with_key(NEXT_MUTATION_KEY)
                .primitive()?,
        );
        drop(tx.object_store(REFUSED)?.put(refused).primitive()?);
        tx.commit().await?;
        Ok(())
    }

    /// One value of `store`, opened; None if there is none under `key`.
    async fn opened_one(&self, store: &str, key: JsValue) -> StoreResult<Option<JsValue>> {
        let tx = self.db.transaction(store).build()?;
        let found: Option<JsValue> = tx.object_store(store)?.get(key).primitive()?.await?;
        drop(tx);
        match found {
            Some(found) => Ok(self.unseal(store, vec![found]).await?.into_iter().next()),
            None => Ok(None),
        }
    }

    /// A refused list entry, sealed: the value and the reason inside.
    async fn refused_entry(
        &self,
        key: String,
        lane: &str,
        value: &JsValue,
        reason: &str,
    ) -> StoreResult<JsValue> {
        let entry = Refused {
            key,
            lane: lane.into(),
            kind: document::string(value, "kind").unwrap_or_default(),
            patient_id: document::string(value, "patient_id")
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| StoreError::Db("patient inconnu".into()))?,
            refused_at: crate::clock::now_ms(),
            reason: reason.into(),
            value: document::raw(value)?,
        };
        let plain = document::value(&entry)?;
        self.seal(REFUSED, &[plain])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Db("non scellé".into()))
    }

    /// The refused list, oldest first.
    pub async fn refused(&self) -> StoreResult<Vec<Refused>> {
        let tx = self.db.transaction(REFUSED).build()?;
        let values: Vec<JsValue> = tx
            .object_store(REFUSED)?
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let mut list: Vec<Refused> = self
            .unseal(REFUSED, values)
            .await?
            .iter()
            .map(document::read)
            .collect::<StoreResult<_>>()?;
        list.sort_by_key(|r| r.refused_at);
        Ok(list)
    }

    /// How many entries the refused list holds (read without the key).
    pub async fn refused_count(&self) -> StoreResult<u32> {
        let tx = self.db.transaction(REFUSED).build()?;
        Ok(tx.object_store(REFUSED)?.count().primitive()?.await?)
    }

    /// Sends a refused entry again, as it was: a record back to the outbox
    /// (and the screens), a change as this device's next mutation.
    pub async fn send_again(&self, refused: &Refused) -> StoreResult<()> {
        let value = document::parse(refused.value.get())?;
        let sealed = if refused.lane == "record" {
            self.seal(RECORDS, std::slice::from_ref(&value)).await?
        } else {
            self.seal(MUTATIONS, std::slice::from_ref(&value)).await?
        };
        let envelope = sealed
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Db("non scellé".into()))?;
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, MUTATIONS, META, REFUSED])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        if refused.lane == "record" {
            let (outbox, meta) = (tx.object_store(OUTBOX)?, tx.object_store(META)?);
            let runs = meta.get(ACKNOWLEDGED_KEY).primitive()?;
            drop(tx.object_store(RECORDS)?.put(&envelope).primitive()?);
            drop(outbox.put(&envelope).primitive()?);
            // Its id may lie in a run acknowledged since it was refused.
            let acknowledged = acknowledged_of(runs.await?)?;
            end_runs_holding(
                &outbox,
                &meta,
                std::slice::from_ref(&envelope),
                acknowledged,
            )?;
        } else {
            let meta = tx.object_store(META)?;
            let next: Option<f64> = meta.get(NEXT_MUTATION_KEY).primitive()?.await?;
            let id = next.unwrap_or(1.0);
            document::set(&envelope, "mutation_id", &JsValue::from_f64(id))?;
            drop(tx.object_store(MUTATIONS)?.put(&envelope).primitive()?);
            drop(
                meta.put(JsValue::from_f64(id + 1.0))
                    .with_key(NEXT_MUTATION_KEY)
                    .primitive()?,
            );
        }
        drop(
            tx.object_store(REFUSED)?
                .delete(refused.key.clone())
                .primitive()?,
        );
        tx.commit().await?;
        Ok(())
    }

    /// Forgets a refused entry its author gave up (after the server wrote
    /// the audit row: see `api::discarded`).
    pub async fn forget_refused(&self, key: &str) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(REFUSED)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        drop(tx.object_store(REFUSED)?.delete(key).primitive()?);
        tx.commit().await?;
        Ok(())
    }
}
