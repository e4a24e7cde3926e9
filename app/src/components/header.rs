use crate::components::sync_status::SyncStatusBar;
use crate::sync::{self, SyncState};
use crate::{api, session, Auth};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The top of every signed-in page: who is signed in, sign-out, sync status.
#[component]
pub fn Header() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // Records still waiting stay in this person's device store and
            // leave at their next sign-in on this device.
            let _ = api::sign_out().await;
            session::forget();
            sync::close_store();
            auth.0.set(None);
            state.pending.set(0);
            navigate("/connexion", Default::default());
        });
    };
    view! {
        <header class="top">
            <div class="who">
                <span class="app-name">"Parcours"</span>
                <span class="name">{move || auth.0.get().map(|me| format!("{} · {}", me.display_name, me.profession.label_fr()))}</span>
            </div>
            <button type="button" class="secondary" on:click=sign_out>"Se déconnecter"</button>
        </header>
        <SyncStatusBar/>
    }
}
