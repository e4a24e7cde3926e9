//! The sync client: sends the outbox, refreshes the caseload, pulls what the
//! care team recorded, and says honestly where things stand.
//!
//! The protocol itself is `parcours_domain::sync::client` (the same code the
//! server's simulator runs); this module runs it and keeps the screen told.
//!
//! Triggers: coming back online, the tab becoming visible, a timer, a record
//! just saved, the "Synchroniser" button, and a retry soon after the server
//! failed to answer. One sync runs at a time on the device (every tab shares
//! one lock, see `tabs`); a trigger during a sync runs one more after it.

use crate::api;
use crate::clock;
use crate::device::Device;
use crate::device_store::{DeviceStore, StoreError};
use crate::session;
use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use parcours_domain::sync::client::{self, RemoteError, SyncError};
use parcours_domain::{AccountId, FieldError};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    Idle,
    Syncing,
    /// The last attempt got no answer (offline or server down).
    Unreachable,
    /// Another device of this account was syncing: again in a moment.
    Busy,
    /// After pulling everything again, this device's copy still differs
    /// from the server's (the next sync tries again).
    Diverged,
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
    /// Entries received that this device could not read or store, set aside.
    pub set_aside: RwSignal<u32>,
    /// Records and changes of this device the server refused, waiting for
    /// their author (see `components::refused`).
    pub refused: RwSignal<u32>,
}

impl SyncState {
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(0),
            last_sync_at: RwSignal::new(None),
            status: RwSignal::new(SyncStatus::Idle),
            data_version: RwSignal::new(0),
            progress: RwSignal::new(None),
            set_aside: RwSignal::new(0),
            refused: RwSignal::new(0),
        }
    }

    /// This tab changed the device's store: its views read it again, and
    /// so do the other tabs'.
    pub fn store_changed(&self) {
        self.data_version.update(|v| *v += 1);
        crate::tabs::announce_change();
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
    /// A trigger came while a sync was running: run once more after it
    /// (a record saved after the push read the outbox, the network back
    /// while an attempt was failing) rather than wait for the next tick.
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    /// The network is up but the server did not answer: the next attempt
    /// is at this delay, doubled each time (see `retry_after_outage`).
    static OUTAGE_RETRY_MS: Cell<u32> = const { Cell::new(0) };
    static OUTAGE_RETRY_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static WORDINGS_FETCHED: Cell<bool> = const { Cell::new(false) };
}

/// Where the device keeps the licensed instruments' wording.
pub const WORDINGS_KEY: &str = "instrument_wordings";

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

/// Forgets what the server sent `account` on this device (a sign-out the
/// server knows of): the device store need not be unlocked, nothing is
/// opened. If it fails the data stays sealed, unreadable without the PIN;
/// the next sign-out or sign-in of that person tries again.
pub async fn forget_synced_of(account: AccountId) {
    if let Ok(store) = store(account).await {
        let _ = store.forget_synced().await;
    }
}

/// The session of whoever signed out offline here is over on the server
/// (the server ended it, or someone signed in: a sign-in ends it), so what
/// the server had sent that person goes — unless it is `signed_in` again.
pub async fn forget_signed_out(signed_in: Option<AccountId>) {
    if let Some(gone) = crate::session::take_resumable() {
        if Some(gone.me.account_id) != signed_in {
            forget_synced_of(gone.me.account_id).await;
            close_store();
        }
    }
}

pub fn close_store() {
    STORE.with_borrow_mut(|s| *s = None);
}

/// Takes the device key out of memory and closes the store (see `lock`).
pub fn lock_store() {
    STORE.with_borrow_mut(|s| {
        if let Some((_, store)) = s.take() {
            store.lock();
        }
    });
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
        if let Ok(aside) = store.quarantined().await {
            state.set_aside.set(aside.len() as u32);
        }
    }
    refresh_counts(state, account).await;
}

/// What waits to be sent, and what the server refused, as the device holds them.
pub async fn refresh_counts(state: SyncState, account: AccountId) {
    if let Ok(store) = store(account).await {
        if let Ok(n) = store.outbox_len().await {
            state.pending.set(n);
        }
        if let Ok(n) = store.refused_count().await {
            state.refused.set(n);
        }
    }
}

/// Another tab changed the device's store: what this one shows follows.
pub async fn changed_elsewhere(state: SyncState, account: AccountId) {
    refresh_counts(state, account).await;
    state.data_version.update(|v| *v += 1);
}

/// Runs a sync now, or right after the one running in this tab (never two
/// at once), or after the one another tab is running (they share the store).
pub async fn sync_now(state: SyncState, account: AccountId) {
    if SYNCING.replace(true) {
        AGAIN.set(true);
        return;
    }
    loop {
        AGAIN.set(false);
        // Locked (or signed out meanwhile), the device can neither read
        // its outbox nor store a page.
        if !is_open(account) {
            break;
        }
        crate::tabs::exclusively(sync_once(state, account)).await;
        if !AGAIN.take() {
            break;
        }
    }
    SYNCING.set(false);
}

/// Whether this person's store is open and unlocked in this tab (never
/// opened by asking: a store closed at sign-out stays closed).
fn is_open(account: AccountId) -> bool {
    STORE.with_borrow(|s| {
        s.as_ref()
            .is_some_and(|(a, store)| *a == account && store.is_unlocked())
    })
}

async fn sync_once(state: SyncState, account: AccountId) {
    state.status.set(SyncStatus::Syncing);
    let (wordings_kept, outcome) = match store(account).await {
        Ok(store) => {
            // Licensed wording is the professionals' (a patient is refused
            // it), fetched once per page load beside the sync rather than
            // before it: what waits starts leaving at once.
            let professional = session::current().is_some_and(|me| me.patient_id.is_none());
            let wordings = {
                let store = store.clone();
                async move { professional && fetch_wordings(&store).await }
            };
            let device = Device {
                store,
                state,
                device_id: session::device_id(),
            };
            futures_util::future::join(wordings, client::sync(&api::Server, &device)).await
        }
        Err(e) => (false, Err(SyncError::Local(e))),
    };
    state.progress.set(None);
    // The screens read the device again only if this sync changed it (or
    // may have: one that failed half way); most syncs, every 30 seconds,
    // bring nothing.
    let changed = wordings_kept || outcome.as_ref().map_or(true, |o| o.changed);
    let completed = outcome.is_ok();
    state.status.set(match outcome {
        Ok(outcome) => {
            let now = clock::now_ms();
            let _ = LocalStorage::set(last_sync_key(account), now);
            state.last_sync_at.set(Some(now));
            session::mark_server_contact();
            OUTAGE_RETRY_MS.set(0);
            if outcome.set_aside > 0 {
                state.set_aside.update(|n| *n += outcome.set_aside as u32);
            }
            if outcome.diverged {
                SyncStatus::Diverged
            } else {
                SyncStatus::Idle
            }
        }
        Err(SyncError::Remote(RemoteError::Unreachable)) => {
            retry_after_outage(state, account);
            SyncStatus::Unreachable
        }
        Err(SyncError::Remote(RemoteError::Busy)) => {
            retry_soon(state, account);
            SyncStatus::Busy
        }
        Err(SyncError::Remote(RemoteError::Unauthenticated)) => SyncStatus::SessionExpired,
        Err(SyncError::Remote(RemoteError::Refused { message, .. })) => SyncStatus::Failed(message),
        Err(SyncError::Remote(e @ RemoteError::MutationIdsTaken { .. })) => {
            SyncStatus::Failed(e.to_string())
        }
        Err(SyncError::Local(e)) => SyncStatus::Failed(e.to_string()),
    });
    refresh_counts(state, account).await;
    if changed {
        state.store_changed();
    }
    // What the server acknowledged leaves the outbox once a sync has gone
    // through (see `DeviceStore::forget_acknowledged`); after one that
    // failed, the runs wait for the next. A failure here changes nothing
    // the person sees: the runs keep what is left.
    if completed {
        if let Ok(store) = store(account).await {
            let _ = store.forget_acknowledged().await;
        }
    }
}

/// Saves records made together on this device (one transaction), counts
/// them as waiting, tells the screens and starts a sync.
pub async fn save(
    state: SyncState,
    account: AccountId,
    records: &[crate::device_store::NewRecord],
) -> Result<(), StoreError> {
    // What the benches time a save by (bench/diary.js): from here to
    // sealed and committed on the device, before the screens read it again.
    let mark = |name| {
        if let Some(performance) = window().performance() {
            let _ = performance.mark(name);
        }
    };
    mark("parcours:save");
    store(account).await?.record_all(records).await?;
    mark("parcours:saved");
    state.pending.update(|n| *n += records.len() as u32);
    state.store_changed();
    leptos::task::spawn_local(sync_now(state, account));
    Ok(())
}

/// Keeps one record on the device and sends it when the network allows:
/// what every form does on "Enregistrer". The error is the form's own, said
/// in French.
pub async fn save_record<K: parcours_domain::sync::RecordKind + serde::Serialize>(
    state: SyncState,
    account: AccountId,
    record: &K,
) -> Result<(), FieldError> {
    let record = crate::device_store::NewRecord::of(record).map_err(not_saved)?;
    save(state, account, &[record]).await.map_err(not_saved)
}

/// What a form says when the device would not keep what was written.
pub fn not_saved(e: StoreError) -> FieldError {
    FieldError::new("device", format!("Non enregistré : {e}"))
}

/// The licensed instruments' wording, once per app start when the server
/// answers (a deployment's licences change rarely; the device keeps the last
/// copy for offline use). Before the records, so a finished sync means the
/// wording is on the device too.
/// Says whether it kept them (the screens that show them read again).
async fn fetch_wordings(store: &DeviceStore) -> bool {
    if WORDINGS_FETCHED.get() {
        return false;
    }
    if let Ok(wordings) = api::instrument_wordings().await {
        if store
            .keep_text(WORDINGS_KEY, Some(wordings.get()))
            .await
            .is_ok()
        {
            WORDINGS_FETCHED.set(true);
            return true;
        }
    }
    false
}

/// No answer although the phone says it has network: the server is down or
/// restarting. Try again soon, then less and less often (2 s, 4 s, … up to
/// the regular tick), so what waits leaves moments after it answers again.
/// Offline, the `online` event is the trigger and nothing is scheduled.
fn retry_after_outage(state: SyncState, account: AccountId) {
    let online = web_sys::window().is_some_and(|w| w.navigator().on_line());
    if !online || OUTAGE_RETRY_SCHEDULED.replace(true) {
        return;
    }
    let delay = match OUTAGE_RETRY_MS.get() {
        0 => FIRST_OUTAGE_RETRY_MS,
        previous => (previous * 2).min(crate::SYNC_EVERY.as_millis() as u32),
    };
    OUTAGE_RETRY_MS.set(delay);
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(delay).await;
        OUTAGE_RETRY_SCHEDULED.set(false);
        sync_now(state, account).await;
    });
}

const FIRST_OUTAGE_RETRY_MS: u32 = 2_000;

/// The server asked this account to wait (another of its devices is
/// syncing): try again in a moment rather than at the next tick.
fn retry_soon(state: SyncState, account: AccountId) {
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(3_000).await;
        sync_now(state, account).await;
    });
}
