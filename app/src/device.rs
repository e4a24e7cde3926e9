//! This device as the sync client sees it: the person's device store, the
//! tab's clock, and the screen's sync state, behind the client's `Local`.

use crate::device_store::{DeviceStore, StoreError};
use crate::sync::SyncState;
use leptos::prelude::*;
use parcours_domain::hlc::Hlc;
use parcours_domain::sync::client::{Local, Outgoing, Page, Progress};
use parcours_domain::sync::Cursor;
use parcours_domain::{DeviceId, Patient};
use serde_json::value::RawValue;
use std::rc::Rc;

pub struct Device {
    pub store: Rc<DeviceStore>,
    pub state: SyncState,
    pub device_id: DeviceId,
}

impl Local for Device {
    type Error = StoreError;

    async fn outbox(
        &self,
        limit: usize,
        after: Option<uuid::Uuid>,
    ) -> Result<Vec<Box<RawValue>>, StoreError> {
        self.store.outbox(limit as u32, after).await
    }

    async fn mutation_outbox(
        &self,
        limit: usize,
        after: Option<u64>,
    ) -> Result<Vec<Outgoing>, StoreError> {
        self.store.mutation_outbox(limit as u32, after).await
    }

    async fn acknowledge(&self, ids: &[uuid::Uuid]) -> Result<(), StoreError> {
        self.store.acknowledge(ids).await
    }

    async fn acknowledge_mutations(&self, last: u64) -> Result<(), StoreError> {
        self.store.acknowledge_mutations(last).await
    }

    async fn renumber_mutations(&self, from: u64, first: u64) -> Result<(), StoreError> {
        self.store.renumber_mutations(from, first).await
    }

    async fn refuse_record(&self, id: uuid::Uuid, reason: &str) -> Result<(), StoreError> {
        self.store.refuse_record(id, reason).await
    }

    async fn refuse_mutation(&self, mutation_id: u64, reason: &str) -> Result<(), StoreError> {
        self.store.refuse_mutation(mutation_id, reason).await
    }

    async fn pending(&self) -> Result<u32, StoreError> {
        self.store.outbox_len().await
    }

    async fn replace_patients(&self, patients: &[Patient]) -> Result<bool, StoreError> {
        self.store.replace_patients(patients).await
    }

    async fn pull_cursor(&self) -> Result<Option<Cursor>, StoreError> {
        Ok(self.store.pull_cursor().await?.map(Cursor))
    }

    async fn reset_pull_cursor(&self) -> Result<(), StoreError> {
        self.store.reset_pull_cursor().await
    }

    async fn store_page(&self, page: Page<'_>) -> Result<usize, StoreError> {
        self.store
            .apply_pulled_page(
                &page.records,
                &page.items,
                page.unreadable,
                &page.next_cursor.0,
                page.last,
            )
            .await
    }

    async fn raise_next_mutation_id(&self, server_last: u64) -> Result<(), StoreError> {
        self.store.raise_next_mutation_id(server_last).await
    }

    async fn checksum_entries(&self) -> Result<Vec<(uuid::Uuid, u64)>, StoreError> {
        self.store.checksum_entries().await
    }

    fn observe(&self, hlc: Hlc) {
        crate::clock::observe(self.device_id, hlc);
    }

    fn progress(&self, event: Progress) {
        match event {
            Progress::Pending(n) => self.state.pending.set(n),
            Progress::Sent(n) => self.state.pending.update(|p| *p = p.saturating_sub(n)),
            Progress::Receiving { received, expected } => {
                self.state.progress.set(Some((received, expected)))
            }
            // Views re-read the store after each page of a short pull; a
            // long first sync shows its progress bar meanwhile instead.
            Progress::PageStored => self.state.store_changed(),
        }
    }
}
