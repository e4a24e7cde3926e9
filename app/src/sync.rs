//! The sync client: sends the outbox, refreshes the caseload, pulls what the
//! care team recorded, and says honestly where things stand.
//!
//! Triggers: coming back online, the tab becoming visible, a timer, a record
//! just saved, and the "Synchroniser" button. One sync runs at a time per tab;
//! two tabs syncing at once are harmless (pushes are idempotent, pulled pages
//! are written with their cursor), only wasteful.

use crate::api::{self, ApiError};
use crate::device_store::{DeviceStore, StoreError};
use crate::session;
use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use parcours_domain::care_plan;
use parcours_domain::sync::{
    PushRequest, Record, MAX_PUSH_MUTATIONS, MAX_PUSH_RECORDS, PROTOCOL_VERSION,
};
use parcours_domain::AccountId;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    Idle,
    Syncing,
    /// The last attempt got no answer (offline or server down).
    Unreachable,
    /// The server no longer accepts the session: sign in again.
    SessionExpired,
    /// The server refused something; the records stay on the device.
    Failed(String),
}

/// What the screen shows about sync. Copy signals, so any view can hold it.
#[derive(Clone, Copy)]
pub struct SyncState {
    /// Records on this device that the server has not acknowledged.
    pub pending: RwSignal<u32>,
    /// When a sync last completed (ms since epoch).
    pub last_sync_at: RwSignal<Option<i64>>,
    pub status: RwSignal<SyncStatus>,
    /// Bumped whenever the device store changed, so views read it again.
    pub data_version: RwSignal<u64>,
    /// While a pull spans several pages: (received, expected in all).
    pub progress: RwSignal<Option<(u64, u64)>>,
}

impl SyncState {
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(0),
            last_sync_at: RwSignal::new(None),
            status: RwSignal::new(SyncStatus::Idle),
            data_version: RwSignal::new(0),
            progress: RwSignal::new(None),
        }
    }

    pub fn store_changed(&self) {
        self.data_version.update(|v| *v += 1);
    }
}

impl Default for SyncState {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    static STORE: RefCell<Option<(AccountId, Rc<DeviceStore>)>> = const { RefCell::new(None) };
    static SYNCING: Cell<bool> = const { Cell::new(false) };
}

/// The open device store of the signed-in person, opened on first use.
pub async fn store(account: AccountId) -> Result<Rc<DeviceStore>, StoreError> {
    if let Some(store) = STORE.with_borrow(|s| {
        s.as_ref()
            .filter(|(a, _)| *a == account)
            .map(|(_, s)| s.clone())
    }) {
        return Ok(store);
    }
    let store = Rc::new(DeviceStore::open(account).await?);
    STORE.with_borrow_mut(|s| *s = Some((account, store.clone())));
    Ok(store)
}

pub fn close_store() {
    STORE.with_borrow_mut(|s| *s = None);
}

fn last_sync_key(account: AccountId) -> String {
    format!("parcours.last_sync.{account}")
}

/// Loads what the screen shows about sync from the device (at start-up and
/// after sign-in), without touching the network.
pub async fn load_state(state: SyncState, account: AccountId) {
    state
        .last_sync_at
        .set(LocalStorage::get(last_sync_key(account)).ok());
    if let Ok(store) = store(account).await {
        if let Ok(n) = store.outbox_len().await {
            state.pending.set(n);
        }
    }
}

#[derive(Debug)]
enum SyncError {
    Api(ApiError),
    Store(StoreError),
}

impl From<ApiError> for SyncError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Runs one sync unless one is already running in this tab.
pub async fn sync_now(state: SyncState, account: AccountId) {
    if SYNCING.replace(true) {
        return;
    }
    state.status.set(SyncStatus::Syncing);
    let outcome = run(state, account).await;
    state.status.set(match outcome {
        Ok(()) => {
            let now = session::now_ms();
            let _ = LocalStorage::set(last_sync_key(account), now);
            state.last_sync_at.set(Some(now));
            SyncStatus::Idle
        }
        Err(SyncError::Api(ApiError::Unreachable)) => SyncStatus::Unreachable,
        Err(SyncError::Api(ApiError::Unauthenticated)) => SyncStatus::SessionExpired,
        Err(SyncError::Api(ApiError::Refused { message, .. })) => SyncStatus::Failed(message),
        Err(SyncError::Store(e)) => SyncStatus::Failed(e.to_string()),
    });
    if let Ok(store) = store(account).await {
        if let Ok(n) = store.outbox_len().await {
            state.pending.set(n);
        }
    }
    state.store_changed();
    SYNCING.set(false);
}

async fn pull_all(store: &DeviceStore, state: SyncState) -> Result<(), SyncError> {
    let mut cursor = store.pull_cursor().await?;
    let mut received = 0u64;
    let mut first = true;
    let outcome = loop {
        let page = match api::pull(cursor.as_deref(), first).await {
            Ok(page) => page,
            Err(e) => break Err(e.into()),
        };
        let records: Vec<_> = page
            .records
            .into_iter()
            .map(|r| match r {
                Record::PainAssessment(a) => a,
            })
            .collect();
        received += (records.len() + page.items.len()) as u64;
        if let Some(me) = session::current() {
            for hlc in page
                .items
                .iter()
                .flat_map(|i| i.stamps.values().map(|s| s.hlc))
            {
                crate::pages::care_plan::observe_hlc(me.device_id, hlc);
            }
        }
        if first && page.has_more {
            // A long first sync: show how far it got.
            state
                .progress
                .set(Some((received, received + page.remaining.unwrap_or(0))));
        } else if let Some((_, total)) = state.progress.get_untracked() {
            state.progress.set(Some((received, total.max(received))));
        }
        first = false;
        let written = async {
            store
                .apply_pulled_page(&records, &page.items, &page.next_cursor.0)
                .await?;
            // New mutations get ids above what the server has applied. Waiting
            // ones are NOT acknowledged from a pull: only a push answer says the
            // server checked that *these* mutations are the ones it applied (a
            // device whose store was wiped reuses ids for new changes).
            store.raise_next_mutation_id(page.last_mutation_id).await
        };
        if let Err(e) = written.await {
            break Err(e.into());
        }
        // Views re-read the store once the pull is over, not after each of
        // a long first sync's pages (the progress bar moves meanwhile).
        if state.progress.get_untracked().is_none() {
            state.store_changed();
        }
        cursor = Some(page.next_cursor.0);
        if !page.has_more {
            break Ok(());
        }
    };
    state.progress.set(None);
    state.store_changed();
    outcome
}

async fn run(state: SyncState, account: AccountId) -> Result<(), SyncError> {
    let store = store(account).await?;

    // 1. Send: the outbox leaves in batches, oldest first. A record leaves the
    // outbox only once the server has acknowledged it (stored and committed);
    // mutations once the server says it applied up to their id.
    loop {
        let records = store.outbox(MAX_PUSH_RECORDS as u32).await?;
        let mutations = store.mutation_outbox(MAX_PUSH_MUTATIONS as u32).await?;
        if records.is_empty() && mutations.is_empty() {
            break;
        }
        let first_mutation = mutations.first().map(|m| m.mutation_id);
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: records.into_iter().map(Record::PainAssessment).collect(),
            mutations,
        };
        let response = api::push(&request).await?;
        session::mark_server_contact();
        store.acknowledge(&response.acknowledged).await?;
        store
            .acknowledge_mutations(response.last_mutation_id)
            .await?;
        state.pending.set(store.outbox_len().await?);
        let mutations_moved =
            first_mutation.is_some_and(|first| response.last_mutation_id >= first);
        if response.acknowledged.is_empty() && !mutations_moved {
            break;
        }
    }

    // 2. The caseload, as the server knows it now.
    let patients = api::caseload().await?;
    store.replace_patients(&patients).await?;

    // 3. Receive: pages from the cursor, each written with its cursor.
    pull_all(&store, state).await?;

    // 4. Compare checksums; a diverged copy is pulled again from the start.
    let server = api::checksum().await?;
    let local = care_plan::checksum(store.item_versions().await?);
    if server.checksum != local.to_string() {
        store.reset_pull_cursor().await?;
        pull_all(&store, state).await?;
    }
    session::mark_server_contact();
    Ok(())
}
