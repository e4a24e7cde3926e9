//! The device store: IndexedDB, the device's source of truth. The UI reads
//! from here, never from the network.
//!
//! One database per account (`parcours-<account id>`), so a second person
//! signing in on the same browser never sees the first one's patients, and
//! records waiting to be sent stay with their author.
//!
//! Rule that must stay true: inside an open transaction, await nothing but
//! IndexedDB requests, or the browser commits it behind our back.

use indexed_db_futures::database::Database;
use indexed_db_futures::error::OpenDbError;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyPath;
use parcours_domain::{AccountId, PainAssessment, Patient, PatientId};
use std::collections::HashSet;
use wasm_bindgen::JsValue;

const VERSION: u8 = 1;
const PATIENTS: &str = "patients";
const ASSESSMENTS: &str = "assessments";
const ASSESSMENTS_BY_PATIENT: &str = "by_patient";
/// Records made here and not yet acknowledged by the server.
const OUTBOX: &str = "outbox";
/// Small values that must change together with data (the pull cursor).
const META: &str = "meta";
const CURSOR_KEY: &str = "pull_cursor";

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

/// An assessment as the device shows it: the record and whether it has left.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAssessment {
    pub assessment: PainAssessment,
    /// True while the record is on this device only.
    pub pending: bool,
}

pub struct DeviceStore {
    db: Database,
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
                    let assessments = db
                        .create_object_store(ASSESSMENTS)
                        .with_key_path(KeyPath::One("id"))
                        .build()?;
                    assessments
                        .create_index(ASSESSMENTS_BY_PATIENT, KeyPath::One("patient_id"))
                        .build()?;
                    db.create_object_store(OUTBOX)
                        .with_key_path(KeyPath::One("id"))
                        .build()?;
                    db.create_object_store(META).build()?;
                }
                Ok(())
            })
            .await?;
        Ok(Self { db })
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
    /// one transaction (a patient who left the care team disappears).
    pub async fn replace_patients(&self, patients: &[Patient]) -> StoreResult<()> {
        let tx = self
            .db
            .transaction(PATIENTS)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(PATIENTS)?;
        store.clear()?.await?;
        for p in patients {
            store.put(p).serde()?.await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Saves an assessment made on this device and queues it for sending,
    /// both in one transaction: it is never shown without being queued.
    pub async fn record_assessment(&self, assessment: &PainAssessment) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([ASSESSMENTS, OUTBOX])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        tx.object_store(ASSESSMENTS)?
            .put(assessment)
            .serde()?
            .await?;
        tx.object_store(OUTBOX)?.put(assessment).serde()?.await?;
        tx.commit().await?;
        Ok(())
    }

    /// One patient's assessments, most recent first, each marked pending or not.
    pub async fn assessments_for(&self, patient: PatientId) -> StoreResult<Vec<StoredAssessment>> {
        let tx = self.db.transaction([ASSESSMENTS, OUTBOX]).build()?;
        let assessments = tx.object_store(ASSESSMENTS)?;
        let by_patient = assessments.index(ASSESSMENTS_BY_PATIENT)?;
        let records: Vec<PainAssessment> = by_patient
            .get_all()
            .with_query(patient.to_string())
            .serde()?
            .await?
            .collect::<Result<_, _>>()?;
        let pending: HashSet<String> = tx
            .object_store(OUTBOX)?
            .get_all_keys::<String>()
            .primitive()?
            .await?
            .collect::<Result<_, _>>()?;
        let mut stored: Vec<_> = records
            .into_iter()
            .map(|a| StoredAssessment {
                pending: pending.contains(&a.id.to_string()),
                assessment: a,
            })
            .collect();
        stored.sort_by_key(|s| std::cmp::Reverse(s.assessment.recorded_at));
        Ok(stored)
    }

    /// Up to `limit` records waiting to be sent, oldest first (ids are v7,
    /// so key order is creation order).
    pub async fn outbox(&self, limit: u32) -> StoreResult<Vec<PainAssessment>> {
        let tx = self.db.transaction(OUTBOX).build()?;
        let store = tx.object_store(OUTBOX)?;
        Ok(store
            .get_all()
            .with_limit(limit)
            .serde()?
            .await?
            .collect::<Result<_, _>>()?)
    }

    pub async fn outbox_len(&self) -> StoreResult<u32> {
        let tx = self.db.transaction(OUTBOX).build()?;
        let store = tx.object_store(OUTBOX)?;
        Ok(store.count().primitive()?.await?)
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
            store.delete(id.to_string()).primitive()?.await?;
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
    /// crash between the two can never skip or half-apply a page.
    pub async fn apply_pulled_page(
        &self,
        records: &[PainAssessment],
        next_cursor: &str,
    ) -> StoreResult<()> {
        let tx = self
            .db
            .transaction([ASSESSMENTS, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let assessments = tx.object_store(ASSESSMENTS)?;
        for a in records {
            assessments.put(a).serde()?.await?;
        }
        tx.object_store(META)?
            .put(JsValue::from_str(next_cursor))
            .with_key(CURSOR_KEY)
            .primitive()?
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
