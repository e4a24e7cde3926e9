//! The honest line about sync: how many records wait on this device, when
//! the last sync succeeded, and what went wrong if something did.

use crate::components::refused::RefusedList;
use crate::format;
use crate::sync::{self, SyncState, SyncStatus};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn SyncStatusBar() -> impl IntoView {
    let state = expect_context::<SyncState>();
    let auth = expect_context::<Auth>();
    let pending = move || format!("{} en attente", state.pending.get());
    let last = move || match state.last_sync_at.get() {
        Some(ms) => format!("Dernière synchronisation : {}", format::date_time(ms)),
        None => "Jamais synchronisé".to_string(),
    };
    let status = move || {
        match state.status.get() {
        SyncStatus::Idle => None,
        SyncStatus::Syncing => Some("Synchronisation…".to_string()),
        SyncStatus::Unreachable if !window().navigator().on_line() => {
            Some("Hors ligne : les enregistrements restent sur l'appareil.".to_string())
        }
        SyncStatus::Unreachable => Some(
            "Serveur injoignable : les enregistrements restent sur l'appareil.".to_string(),
        ),
        SyncStatus::Busy => Some("Serveur occupé : nouvel essai dans un instant.".to_string()),
        SyncStatus::Diverged => Some(
            "La copie de l'appareil diffère encore du serveur : nouvel essai à la prochaine synchronisation."
                .to_string(),
        ),
        SyncStatus::SessionExpired => {
            Some("Session expirée : reconnectez-vous pour envoyer.".to_string())
        }
        SyncStatus::Failed(message) => Some(format!("Échec de la synchronisation : {message}")),
    }
    };
    let sync_now = move |_| {
        if let Some(me) = auth.0.get_untracked() {
            leptos::task::spawn_local(sync::sync_now(state, me.account_id));
        }
    };
    // Two lines that are always there, each cut to its width: what waits
    // and what is happening, then the last sync. A sync starting or ending
    // changes words, never the height — nothing on the page moves under a
    // finger (it moved ~21 px at every sync). The rare lines below (a first
    // sync's progress, entries set aside, a session to renew) are states to
    // act on, not the rhythm of every sync.
    view! {
        <section class="sync" aria-label="Synchronisation">
            <div role="status" aria-live="polite" class="sync-text">
                <p class="line">
                    <span class="pending" class:has-pending=move || state.pending.get() != 0>{pending}</span>
                    <span class="state">{status}</span>
                </p>
                <p class="line last">{last}</p>
                {move || (state.set_aside.get() > 0).then(|| view! {
                    <p class="state">{format!(
                        "{} élément(s) reçu(s) illisible(s) sur cet appareil, mis de côté : la synchronisation continue.",
                        state.set_aside.get()
                    )}</p>
                })}
                {move || state.progress.get().map(|(done, total)| view! {
                    <label class="progress">
                        {format!("Réception des données : {done} sur {total}")}
                        <progress max=total.to_string() value=done.to_string()></progress>
                    </label>
                })}
                {move || (state.status.get() == SyncStatus::SessionExpired).then(|| view! {
                    <A href="/connexion">"Se reconnecter"</A>
                })}
            </div>
            <button type="button" on:click=sync_now disabled=move || state.status.get() == SyncStatus::Syncing>
                "Synchroniser"
            </button>
        </section>
        <RefusedList/>
    }
}
