use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::components::sessions::SignOutEverywhere;
use crate::format;
use crate::pages::patient::preload_once_drawn;
use crate::pages::require_sign_in;
use crate::persistence;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use parcours_domain::{Patient, PatientId};

/// The caseload, a module of its own: every start shows the lock screen
/// first (from the main module), and this loads while the PIN is typed —
/// or comes from the service worker's cache.
pub struct CaseloadRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for CaseloadRoute {
    fn data() -> Self {
        CaseloadRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Caseload/> }.into_any()
    }
}

/// What the caseload shows, apart from the cards themselves.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Loading,
    Empty,
    List,
}

/// `fresh` in the order of `on_screen` for those already there (each with
/// its fresh data), then the others in their own order.
fn keep_places(on_screen: &[Patient], fresh: Vec<Patient>) -> Vec<Patient> {
    let place: std::collections::HashMap<PatientId, usize> = on_screen
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id, i))
        .collect();
    let (mut kept, arrived): (Vec<Patient>, Vec<Patient>) =
        fresh.into_iter().partition(|p| place.contains_key(&p.id));
    kept.sort_by_key(|p| place.get(&p.id).copied());
    kept.extend(arrived);
    kept
}

/// "Mes patients": the patients whose care team the person is in, from the device.
#[component]
pub fn Caseload() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let patients = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            store.patients().await.ok()
        }
    });
    // A card never moves under a finger: patients already on screen keep
    // their places when a sync brings others (a new inclusion, the rest of
    // the caseload at a sign-in), which come after them; the next visit to
    // the page shows them all in order again.
    let list = Memo::new(move |before: Option<&Option<Vec<Patient>>>| {
        let fresh = patients.get().flatten()?;
        Some(match before.and_then(Option::as_deref) {
            Some(on_screen) if !on_screen.is_empty() => keep_places(on_screen, fresh),
            _ => fresh,
        })
    });
    let shown = Memo::new(move |_| match list.get() {
        None => Shown::Loading,
        Some(l) if l.is_empty() => Shown::Empty,
        Some(_) => Shown::List,
    });
    preload_once_drawn(move || shown.get() == Shown::List);
    // Read after the list, so the list never waits for it: the notebook
    // entries addressed to me I have not read, by patient.
    let unread = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            use parcours_domain::notebook::{unread_count, Addressed, Receipt};
            // Two reads by kind, whatever the size of the caseload.
            let entries: Vec<Addressed> = store.read_all_of_kind("notebook_entry").await.ok()?;
            let reads: Vec<Receipt> = store.read_all_of_kind("notebook_read").await.ok()?;
            let mut by_patient: std::collections::HashMap<_, Vec<Addressed>> = Default::default();
            for e in entries {
                by_patient.entry(e.patient_id).or_default().push(e);
            }
            Some(
                by_patient
                    .into_iter()
                    .map(|(p, entries)| (p, unread_count(me.account_id, &entries, &reads)))
                    .collect::<std::collections::HashMap<_, _>>(),
            )
        }
    });
    view! {
        <Header/>
        <main>
            <PageHeading text="Mes patients"/>
            <A href="/aujourdhui" attr:class="button">"Aujourd'hui"</A>
            <A href="/reunions" attr:class="button">"Réunions de synthèse"</A>
            {move || auth.0.get().and_then(|me| me.profession).filter(|p| parcours_domain::coordination::is_coordinator(*p)).map(|_| view! {
                <A href="/coordination" attr:class="button">"Demandes d'appui à la coordination"</A>
            })}
            {move || auth.0.get().and_then(|me| me.profession).filter(|p| parcours_domain::audit::may_read_audit(*p)).map(|_| view! {
                <A href="/audit" attr:class="button">"Journal d'audit"</A>
            })}
            {move || {
                let may_include = auth.0.get().and_then(|me| me.profession)
                    .is_some_and(parcours_domain::programme::Programme::any_includes);
                may_include.then(|| view! {
                    <A href="/inclusion" attr:class="button">"Inclure un patient"</A>
                })
            }}
            // Drawn again only when the list itself changed (a sync that
            // brought nothing for it redrew every card under the nurse's
            // finger), and card by card: a patient arriving adds a card,
            // the others stay as they are.
            {move || match shown.get() {
                Shown::Loading => view! { <p>"Chargement…"</p> }.into_any(),
                Shown::Empty => view! {
                    <p>"Aucun patient sur cet appareil pour l'instant. Ils apparaîtront après la prochaine synchronisation."</p>
                }.into_any(),
                Shown::List => view! {
                    <ul class="cards" aria-label="Patients">
                        <For each=move || list.get().unwrap_or_default() key=|p| (p.id, p.display_name(), p.birth_date.clone(), p.town.clone()) children=move |p| {
                            let href = format!("/patients/{}", p.id);
                            let id = p.id;
                            let unread_here = move || unread.get().flatten().and_then(|m| m.get(&id).copied()).unwrap_or(0);
                            view! {
                                <li>
                                    <A href=href attr:class="card">
                                        <span class="card-title">{p.display_name()}</span>
                                        <span class="card-meta">{format!("né·e le {} · {}", format::date(&p.birth_date), p.town)}</span>
                                        {move || (unread_here() > 0).then(|| view! {
                                            <span class="badge unread">{format!("{} message(s) non lu(s)", unread_here())}</span>
                                        })}
                                    </A>
                                </li>
                            }
                        }/>
                    </ul>
                }.into_any(),
            }}
            <StorageInfo/>
            <SignOutEverywhere/>
        </main>
    }
}

/// How much this device keeps, and whether the browser promised to keep it.
#[component]
fn StorageInfo() -> impl IntoView {
    let state = expect_context::<SyncState>();
    let info = LocalResource::new(move || {
        state.data_version.track();
        async move {
            (
                persistence::usage().await,
                persistence::is_persistent().await,
            )
        }
    });
    view! {
        <p class="storage">
            {move || info.get().and_then(|(usage, persistent)| {
                let (used, quota) = usage?;
                Some(format!(
                    "Stockage sur cet appareil : {} utilisés sur {} — {}",
                    persistence::human_size(used),
                    persistence::human_size(quota),
                    if persistent { "conservé durablement" } else { "peut être effacé par le navigateur si l'espace manque" }
                ))
            })}
        </p>
    }
}
