//! The device store: IndexedDB, the device's source of truth. The UI reads
//! from here, never from the network.
//!
//! One database per account (`parcours-<account id>`), so a second person
//! signing in on the same browser never sees the first one's patients, and
//! records waiting to be sent stay with their author.
//!
//! Rule that must stay true: inside an open transaction, await nothing but
//! IndexedDB requests, or the browser commits it behind our back.

use crate::document;
use indexed_db_futures::database::Database;
use indexed_db_futures::error::OpenDbError;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyPath;
use parcours_domain::merge::{Editable, MutationOf, StateOf};
use parcours_domain::sync::client::{Entry, Outgoing, SetAside};
use parcours_domain::sync::{Record, RecordKind, LEGACY_EDITABLE_KIND};
use parcours_domain::{AccountId, Patient, PatientId};
use serde_json::value::RawValue;
use std::collections::HashSet;
use wasm_bindgen::JsValue;

const VERSION: u8 = 5;
const PATIENTS: &str = "patients";
/// Append-lane records of every kind (`Record`, tagged by `kind`), made
/// here or received.
const RECORDS: &str = "records";
const BY_PATIENT: &str = "by_patient";
/// Records by kind (version 5): what a screen across patients reads (the
/// notebook entries addressed to me) without reading every record.
const BY_KIND: &str = "by_kind";
/// Records made here and not yet acknowledged by the server (`Record`).
const OUTBOX: &str = "outbox";
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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("base de données de l'appareil : {0}")]
    Db(String),
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
    by_patient: std::cell::RefCell<std::collections::HashMap<PatientId, std::rc::Rc<Vec<JsValue>>>>,
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
        let mut patients: Vec<Patient> =
            store.get_all().serde()?.await?.collect::<Result<_, _>>()?;
        patients
            .sort_by(|a, b| (&a.family_name, &a.given_name).cmp(&(&b.family_name, &b.given_name)));
        Ok(patients)
    }

    pub async fn patient(&self, id: PatientId) -> StoreResult<Option<Patient>> {
        let tx = self.db.transaction(PATIENTS).build()?;
        let store = tx.object_store(PATIENTS)?;
        Ok(store.get(id.to_string()).serde()?.await?)
    }

    /// The caseload as the server last gave it, replacing the previous one in
    /// one transaction. A patient who left the person's caseload disappears
    /// with everything the device received about them, unless this device
    /// made something for them that has not been sent yet: then they stay
    /// until it leaves (a patient included here offline is in no caseload yet).
    pub async fn replace_patients(&self, patients: &[Patient]) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([PATIENTS, RECORDS, ITEMS, OUTBOX, QUARANTINE])
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
        let outbox: Vec<JsValue> = tx
            .object_store(OUTBOX)?
            .get_all()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let waiting_patients: HashSet<String> = outbox
            .iter()
            .filter_map(|v| document::string(v, "patient_id"))
            .collect();
        let mut kept: Vec<Patient> = vec![];
        for id in before
            .iter()
            .filter(|p| !now.contains(*p) && waiting_patients.contains(*p))
        {
            if let Some(p) = store.get(id.clone()).serde()?.await? {
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
            for patient in &departed {
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
            let set_aside: Vec<SetAside> = quarantine
                .get_all()
                .serde()?
                .await?
                .collect::<Result<_, _>>()?;
            for q in set_aside {
                if q.patient_id.as_ref().is_some_and(|p| departed.contains(&p)) {
                    drop(quarantine.delete(q.key).primitive()?);
                }
            }
        }
        store.clear()?.await?;
        for p in patients.iter().chain(&kept) {
            drop(store.put(p).serde()?);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Saves records made on this device and queues them for sending, in
    /// one transaction: never shown without being queued, and records made
    /// together (a visit and the instruments filled in it) all or none.
    pub async fn record_all(&self, records: &[NewRecord]) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, PATIENTS])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let (stored, outbox, patients) = (
            tx.object_store(RECORDS)?,
            tx.object_store(OUTBOX)?,
            tx.object_store(PATIENTS)?,
        );
        for r in records {
            // Queued on the transaction; the commit waits for them all.
            drop(stored.put(&r.value).primitive()?);
            drop(outbox.put(&r.value).primitive()?);
            // A record that brings a patient in (an inclusion) puts them in
            // the caseload at once, offline: the server's caseload confirms it later.
            if let Some(patient) = &r.opens {
                drop(patients.put(patient).serde()?);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every record of one patient, as stored (see `by_patient`).
    async fn patient_records(&self, patient: PatientId) -> StoreResult<std::rc::Rc<Vec<JsValue>>> {
        let tx = self.db.transaction(RECORDS).build()?;
        let records = tx.object_store(RECORDS)?;
        let index = records.index(BY_PATIENT)?;
        let count: u32 = index
            .count()
            .with_query(patient.to_string())
            .primitive()?
            .await?;
        if let Some(cached) = self.by_patient.borrow().get(&patient) {
            if cached.len() == count as usize {
                return Ok(cached.clone());
            }
        }
        let values: Vec<JsValue> = index
            .get_all()
            .with_query(patient.to_string())
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let values = std::rc::Rc::new(values);
        self.by_patient.borrow_mut().insert(patient, values.clone());
        Ok(values)
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
        let tx = self.db.transaction(RECORDS).build()?;
        let values: Vec<JsValue> = tx
            .object_store(RECORDS)?
            .index(BY_KIND)?
            .get_all()
            .with_query(kind)
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        values.iter().map(document::read).collect()
    }

    /// One patient's records of kind `K`, most recent first, each marked
    /// pending or not.
    pub async fn records_of<K: RecordKind + serde::de::DeserializeOwned>(
        &self,
        patient: PatientId,
    ) -> StoreResult<Vec<Stored<K>>> {
        let values = self.patient_records(patient).await?;
        let tx = self.db.transaction(OUTBOX).build()?;
        let pending: HashSet<String> = tx
            .object_store(OUTBOX)?
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
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
    /// so key order is creation order), as stored.
    pub async fn outbox(&self, limit: u32) -> StoreResult<Vec<Box<RawValue>>> {
        let tx = self.db.transaction(OUTBOX).build()?;
        let values: Vec<JsValue> = tx
            .object_store(OUTBOX)?
            .get_all()
            .with_limit(limit)
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        values.iter().map(document::raw).collect()
    }

    /// Everything waiting to leave this device: records and mutations.
    pub async fn outbox_len(&self) -> StoreResult<u32> {
        let tx = self.db.transaction([OUTBOX, MUTATIONS]).build()?;
        let records: u32 = tx.object_store(OUTBOX)?.count().primitive()?.await?;
        let mutations: u32 = tx.object_store(MUTATIONS)?.count().primitive()?.await?;
        Ok(records + mutations)
    }

    /// The server has durably stored these records: they leave the outbox.
    pub async fn acknowledge(&self, ids: &[uuid::Uuid]) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(OUTBOX)?;
        for id in ids {
            drop(store.delete(id.to_string()).primitive()?);
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn pull_cursor(&self) -> StoreResult<Option<String>> {
        let tx = self.db.transaction(META).build()?;
        let store = tx.object_store(META)?;
        Ok(store.get(CURSOR_KEY).primitive()?.await?)
    }

    /// Writes a pulled page and the cursor after it in one transaction, so a
    /// crash between the two can never skip or half-apply a page. An entry
    /// IndexedDB cannot take (a number beyond 2^53) is set aside with the
    /// ones that could not be read, so the rest is stored and the cursor
    /// moves. Returns how many were set aside.
    pub async fn apply_pulled_page(
        &self,
        records: &[Entry<'_>],
        items: &[Entry<'_>],
        mut unreadable: Vec<SetAside>,
        next_cursor: &str,
    ) -> StoreResult<usize> {
        let tx = self
            .db
            .transaction([RECORDS, ITEMS, META, QUARANTINE])
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
        let record_store = tx.object_store(RECORDS)?;
        // Requests are queued on the transaction as they are made; awaiting
        // each would cost a trip through the event loop per record. The
        // commit below waits for all of them and fails if any failed. A
        // value that cannot become a JavaScript value fails here, before
        // its request is made.
        for e in records {
            match document::parse(e.raw).and_then(|v| Ok(record_store.put(v).primitive()?)) {
                Ok(request) => drop(request),
                Err(err) => {
                    unreadable.push(SetAside::new(e.raw, format!("non enregistrable : {err}")))
                }
            }
        }
        // Pages arrive in position order, so a later state always replaces an earlier one.
        let item_store = tx.object_store(ITEMS)?;
        for e in items {
            match document::parse(e.raw).and_then(|v| Ok(item_store.put(v).primitive()?)) {
                Ok(request) => drop(request),
                Err(err) => {
                    unreadable.push(SetAside::new(e.raw, format!("non enregistrable : {err}")))
                }
            }
        }
        for q in &unreadable {
            drop(quarantine.put(q).serde()?);
        }
        tx.object_store(META)?
            .put(JsValue::from_str(next_cursor))
            .with_key(CURSOR_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(unreadable.len())
    }

    /// Entries set aside because this device could not read or store them.
    pub async fn quarantined(&self) -> StoreResult<Vec<SetAside>> {
        let tx = self.db.transaction(QUARANTINE).build()?;
        Ok(tx
            .object_store(QUARANTINE)?
            .get_all()
            .serde()?
            .await?
            .collect::<Result<_, _>>()?)
    }

    /// (id, version) of everything received from the server, for the sync
    /// checksum: stored records (version 0) not waiting to leave, items, and
    /// the entries set aside (the server counts them too).
    pub async fn checksum_entries(&self) -> StoreResult<Vec<(uuid::Uuid, u64)>> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, ITEMS, QUARANTINE])
            .build()?;
        let waiting: HashSet<String> = tx
            .object_store(OUTBOX)?
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let mut entries: Vec<(uuid::Uuid, u64)> = tx
            .object_store(RECORDS)?
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .filter_map(|k| k.ok())
            .filter(|k| !waiting.contains(k))
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
        let set_aside: Vec<SetAside> = tx
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
        let tx = self
            .db
            .transaction([MUTATIONS, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        let next: Option<f64> = meta.get(NEXT_MUTATION_KEY).primitive()?.await?;
        mutation.mutation_id = next.unwrap_or(1.0) as u64;
        tx.object_store(MUTATIONS)?
            .put(document::tagged(E::KIND, &mutation)?)
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

    /// Up to `limit` mutations waiting, in id order, as stored.
    pub async fn mutation_outbox(&self, limit: u32) -> StoreResult<Vec<Outgoing>> {
        let tx = self.db.transaction(MUTATIONS).build()?;
        let values: Vec<JsValue> = tx
            .object_store(MUTATIONS)?
            .get_all()
            .with_limit(limit)
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        values
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
    /// (its store was wiped while its id survived). One transaction: a
    /// crash leaves the old numbers or the new, never a mix.
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
        let meta = tx.object_store(META)?;
        let current: Option<f64> = meta.get(NEXT_MUTATION_KEY).primitive()?.await?;
        if current.unwrap_or(1.0) < next as f64 {
            meta.put(JsValue::from_f64(next as f64))
                .with_key(NEXT_MUTATION_KEY)
                .primitive()?
                .await?;
        }
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
        let of_kind = |v: &&JsValue| document::string(v, "kind").as_deref() == Some(E::KIND);
        let patient = patient.to_string();
        Ok((
            states
                .iter()
                .filter(of_kind)
                .map(document::read)
                .collect::<StoreResult<_>>()?,
            pending
                .iter()
                .filter(of_kind)
                .filter(|v| document::string(v, "patient_id").as_deref() == Some(patient.as_str()))
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
        states
            .iter()
            .filter(|v| document::string(v, "kind").as_deref() == Some(E::KIND))
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
        tx.object_store(META)?
            .delete(CURSOR_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A text kept on this device under `key` (a draft, the instruments'
    /// wording): not synced, kept across reloads and offline.
    pub async fn kept_text(&self, key: &str) -> StoreResult<Option<String>> {
        let tx = self.db.transaction(META).build()?;
        Ok(tx.object_store(META)?.get(key).primitive()?.await?)
    }

    /// Keeps (or, with None, forgets) a text under `key`.
    pub async fn keep_text(&self, key: &str, text: Option<&str>) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let meta = tx.object_store(META)?;
        // The commit below waits for the request and fails if it failed.
        match text {
            Some(text) => drop(meta.put(text).with_key(key).primitive()?),
            None => drop(meta.delete(key).primitive()?),
        }
        tx.commit().await?;
        Ok(())
    }
}
