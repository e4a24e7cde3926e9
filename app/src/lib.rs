//! Parcours on the phone: a Leptos app (client-side rendered) over the
//! device store, with the sync client beside it.

mod api;
mod clock;
mod components;
mod device;
mod device_store;
mod document;
mod format;
mod pages;
mod persistence;
mod session;
mod sync;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use leptos_router::Lazy;
use parcours_domain::session::Me;
use std::time::Duration;
use sync::SyncState;
use wasm_bindgen::prelude::wasm_bindgen;

/// Who is signed in; `None` shows the sign-in page.
#[derive(Clone, Copy)]
pub struct Auth(pub RwSignal<Option<Me>>);

/// A sign-out made offline that the server has not confirmed yet.
#[derive(Clone, Copy)]
pub struct SignOutPending(pub RwSignal<bool>);

/// How often the app syncs by itself while open.
const SYNC_EVERY: Duration = Duration::from_secs(30);

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let auth = Auth(RwSignal::new(session::current()));
    let sync_state = SyncState::new();
    let sign_out_pending = SignOutPending(RwSignal::new(session::sign_out_pending()));
    provide_context(auth);
    provide_context(sync_state);
    provide_context(sign_out_pending);
    let finish_sign_out = move || {
        leptos::task::spawn_local(async move {
            let done = session::finish_pending_sign_out().await;
            sign_out_pending.0.set(!done);
        })
    };

    // Start-up: show what the device holds at once, then sync in the background.
    match auth.0.get_untracked() {
        Some(me) => leptos::task::spawn_local(async move {
            sync::load_state(sync_state, me.account_id).await;
            sync::sync_now(sync_state, me.account_id).await;
        }),
        None => finish_sign_out(),
    }
    let trigger = move || match auth.0.get_untracked() {
        Some(me) => leptos::task::spawn_local(sync::sync_now(sync_state, me.account_id)),
        // Nobody signed in: a sign-out made offline may still have to reach the server.
        None => finish_sign_out(),
    };
    let _ = window_event_listener(leptos::ev::online, move |_| trigger());
    let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Visible {
            trigger();
        }
    });
    let _ = set_interval_with_handle(trigger, SYNC_EVERY);

    view! {
        <Router>
            <Routes fallback=|| view! { <main><p>"Page introuvable."</p></main> }>
                <Route path=path!("/connexion") view=pages::sign_in::SignIn/>
                <Route path=path!("/") view=pages::caseload::Caseload/>
                <Route path=path!("/aujourdhui") view={Lazy::<pages::today::TodayRoute>::new()}/>
                <Route path=path!("/inclusion") view={Lazy::<pages::inclusion::InclusionRoute>::new()}/>
                <Route path=path!("/patients/:id/evaluation") view={Lazy::<pages::evaluation::EvaluationRoute>::new()}/>
                <Route path=path!("/patients/:id/synthese") view={Lazy::<pages::review_summary::ReviewSummaryRoute>::new()}/>
                <Route path=path!("/activer") view={Lazy::<pages::activation::ActivationRoute>::new()}/>
                <Route path=path!("/journal") view={Lazy::<pages::diary::DiaryHomeRoute>::new()}/>
                <Route path=path!("/journal/saisie") view={Lazy::<pages::diary::DiaryEntryRoute>::new()}/>
                <Route path=path!("/patients/:id") view={Lazy::<pages::patient::PatientRoute>::new()}/>
            </Routes>
        </Router>
    }
}
