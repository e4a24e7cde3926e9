//! Parcours on the phone: a Leptos app (client-side rendered) over the
//! device store, with the sync client beside it.
//!
//! Two builds of it: the professionals' app, and (feature `patient`) the
//! patient's own, which compiles only their screens and so leaves unused
//! part of the device store and of the API client (dead code is still
//! checked in the professionals' build, which uses all of it).

#![cfg_attr(feature = "patient", allow(dead_code))]

mod api;
mod clock;
mod components;
mod device;
mod device_key;
mod device_store;
mod document;
mod format;
mod lock;
mod pages;
mod persistence;
mod session;
mod sync;
mod tabs;

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
pub(crate) const SYNC_EVERY: Duration = Duration::from_secs(30);

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
    // Every start is locked: the device key is in no storage a reload keeps.
    let unlocked = lock::Unlocked(RwSignal::new(false));
    provide_context(auth);
    provide_context(sync_state);
    provide_context(sign_out_pending);
    provide_context(unlocked);
    let finish_sign_out = move || {
        leptos::task::spawn_local(async move {
            let done = session::finish_pending_sign_out().await;
            sign_out_pending.0.set(!done);
            if done {
                sync::forget_signed_out(None).await;
            }
        })
    };

    // Start-up: the lock screen first when someone is signed in; the sync
    // starts once unlocked (pages::lock).
    if auth.0.get_untracked().is_none() {
        finish_sign_out();
    }
    let trigger = move || match auth.0.get_untracked() {
        // Locked, `sync_now` does nothing: nothing can be read or stored.
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
    lock::watch(unlocked);
    // Another tab wrote or synced: read the device again.
    tabs::listen(move || {
        if let Some(me) = auth.0.get_untracked() {
            if unlocked.0.get_untracked() {
                leptos::task::spawn_local(sync::changed_elsewhere(sync_state, me.account_id));
            }
        }
    });

    // The screens are mounted only while unlocked (or nobody is signed in):
    // locking unmounts them, and with them every value they had read.
    let locked = Memo::new(move |_| auth.0.with(Option::is_some) && !unlocked.0.get());
    move || {
        if locked.get() {
            view! { <pages::lock::LockScreen/> }.into_any()
        } else {
            routes().into_any()
        }
    }
}

/// The professionals' screens: the caseload first, every other page a
/// module of its own loaded when first opened.
#[cfg(not(feature = "patient"))]
fn routes() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| view! { <main><p>"Page introuvable."</p></main> }>
                <Route path=path!("/connexion") view=pages::sign_in::SignIn/>
                <Route path=path!("/") view={Lazy::<pages::caseload::CaseloadRoute>::new()}/>
                <Route path=path!("/aujourdhui") view={Lazy::<pages::today::TodayRoute>::new()}/>
                <Route path=path!("/inclusion") view={Lazy::<pages::inclusion::InclusionRoute>::new()}/>
                <Route path=path!("/coordination") view={Lazy::<pages::coordination::CoordinationQueueRoute>::new()}/>
                <Route path=path!("/audit") view={Lazy::<pages::audit::AuditRoute>::new()}/>
                <Route path=path!("/reunions") view={Lazy::<pages::meeting::MeetingsRoute>::new()}/>
                <Route path=path!("/reunions/:id") view={Lazy::<pages::meeting::MeetingRoute>::new()}/>
                <Route path=path!("/patients/:id/evaluation") view={Lazy::<pages::evaluation::EvaluationRoute>::new()}/>
                <Route path=path!("/patients/:id/synthese") view={Lazy::<pages::review_summary::ReviewSummaryRoute>::new()}/>
                <Route path=path!("/patients/:id") view={Lazy::<pages::patient::PatientRoute>::new()}/>
            </Routes>
        </Router>
    }
}

/// Loads the module of the page `routes` shows at `path` (the same paths).
#[cfg(not(feature = "patient"))]
pub(crate) async fn preload_route_at(path: String) {
    use leptos_router::LazyRoute;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => pages::caseload::CaseloadRoute::preload().await,
        ["aujourdhui"] => pages::today::TodayRoute::preload().await,
        ["inclusion"] => pages::inclusion::InclusionRoute::preload().await,
        ["coordination"] => pages::coordination::CoordinationQueueRoute::preload().await,
        ["audit"] => pages::audit::AuditRoute::preload().await,
        ["reunions"] => pages::meeting::MeetingsRoute::preload().await,
        ["reunions", _] => pages::meeting::MeetingRoute::preload().await,
        ["patients", _, "evaluation"] => pages::evaluation::EvaluationRoute::preload().await,
        ["patients", _, "synthese"] => pages::review_summary::ReviewSummaryRoute::preload().await,
        ["patients", _] => pages::patient::PatientRoute::preload().await,
        _ => {}
    }
}

/// Loads the module of the page `routes` shows at `path` (the same paths;
/// any other leads to the diary).
#[cfg(feature = "patient")]
pub(crate) async fn preload_route_at(path: String) {
    use leptos_router::LazyRoute;
    match path.trim_end_matches('/') {
        "/activer" => pages::activation::ActivationRoute::preload().await,
        "/journal/saisie" => pages::diary::DiaryEntryRoute::preload().await,
        _ => pages::diary::DiaryHomeRoute::preload().await,
    }
}

/// The patient's own app, a build of its own (cargo feature `patient`):
/// their phone never downloads the professionals' screens. The page's
/// loader (public/start.js) picks it for a signed-in patient and for the
/// patient's addresses.
#[cfg(feature = "patient")]
fn routes() -> impl IntoView {
    view! {
        <Router>
            // Any other address (a professional's page, a stale link) leads
            // a patient back to their diary: their whole app.
            <Routes fallback=pages::ToPatientHome>
                <Route path=path!("/connexion") view=pages::sign_in::SignIn/>
                <Route path=path!("/") view=pages::ToPatientHome/>
                <Route path=path!("/activer") view={Lazy::<pages::activation::ActivationRoute>::new()}/>
                <Route path=path!("/journal") view={Lazy::<pages::diary::DiaryHomeRoute>::new()}/>
                <Route path=path!("/journal/saisie") view={Lazy::<pages::diary::DiaryEntryRoute>::new()}/>
            </Routes>
        </Router>
    }
}
