//! The audit trail, for the CPTS's support coordinators: who read or wrote
//! which patient's file, when, from which device — filtered by patient or by
//! person, exported as CSV. Read from the server (it needs the network), and
//! every reading is itself written in the trail.

use crate::api::{self, ApiError};
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::format;
use crate::pages::require_sign_in;
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use parcours_domain::audit::{may_read_audit, AuditEntry};
use parcours_domain::{AccountId, PatientId};

#[derive(Debug)]
pub struct AuditRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for AuditRoute {
    fn data() -> Self {
        AuditRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Audit/> }.into_any()
    }
}

fn refusal(e: ApiError) -> String {
    api::said(
        e,
        "Pas de réseau : le journal d'audit se lit sur le serveur. Réessayez avec du réseau.",
    )
}

#[component]
fn Audit() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let patient = RwSignal::new(None::<PatientId>);
    let person = RwSignal::new(None::<AccountId>);
    let subjects = LocalResource::new(api::audit_subjects);
    // The rows shown, pages appended as they are asked for.
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next_before = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let filters = move || api::audit_query(patient.get(), person.get());
    let load = move |before: Option<i64>| {
        let query = api::audit_query(patient.get_untracked(), person.get_untracked());
        if before.is_none() {
            // Other filters: the rows of the ones before go at once, not
            // when the answer comes (they would read as filtered meanwhile).
            entries.set(vec![]);
            next_before.set(None);
        }
        loading.set(true);
        leptos::task::spawn_local(async move {
            let answer = api::audit_page(&query, before).await;
            // Filters changed again while this was asked: its answer is
            // not what the screen now says it shows.
            if query != api::audit_query(patient.get_untracked(), person.get_untracked()) {
                return;
            }
            match answer {
                Ok(page) => {
                    error.set(None);
                    if before.is_none() {
                        entries.set(page.entries);
                    } else {
                        entries.update(|all| all.extend(page.entries));
                    }
                    next_before.set(page.next_before);
                }
                Err(e) => error.set(Some(refusal(e))),
            }
            loading.set(false);
        });
    };
    // The first page, and again whenever a filter changes.
    Effect::new(move |_| {
        let _ = (patient.get(), person.get());
        load(None);
    });
    view! {
        <Header/>
        <main class="audit">
            <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
            <PageHeading text="Journal d'audit"/>
            {move || auth.0.get().and_then(|m| m.profession).filter(|p| !may_read_audit(*p)).map(|_| view! {
                <p class="notice">"Le journal d'audit est réservé aux coordinateurs d'appui de la CPTS."</p>
            })}
            <p class="hint">"Qui a lu ou écrit quel dossier, quand, depuis quel appareil. Se lit sur le serveur (réseau nécessaire) ; chaque consultation y est elle-même inscrite."</p>
            {move || subjects.get().and_then(|s| s.ok()).map(|s| view! {
                <div class="field">
                    <label for="audit-patient">"Patient"</label>
                    <select id="audit-patient" on:change=move |ev| patient.set(event_target_value(&ev).parse().ok())>
                        <option value="">"Tous les patients"</option>
                        {s.patients.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-person">"Personne"</label>
                    <select id="audit-person" on:change=move |ev| person.set(event_target_value(&ev).parse().ok())>
                        <option value="">"Tout le monde"</option>
                        {s.people.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </div>
            })}
            <a class="button secondary" href=move || format!("/api/audit.csv?{}", filters()) download="journal-audit-parcours.csv">
                "Exporter en CSV"
            </a>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <ol class="diary" aria-label="Lignes du journal d'audit" aria-busy=move || loading.get().to_string()>
                {move || entries.get().into_iter().map(|e| {
                    let who = e.who.clone().or_else(|| e.operator.as_ref().map(|o| format!("opérateur {o}"))).unwrap_or_else(|| "anonyme".into());
                    view! {
                        <li class="diary-entry" aria-label=format!("{} — {}", e.action_fr(), who)>
                            <p class="when">{format!("{} · {}", format::date_time(e.at), who)}</p>
                            <p><strong>{e.action_fr()}</strong>{e.patient.clone().map(|p| format!(" — {p}"))}</p>
                            {(!e.detail.is_empty()).then(|| view! { <p>{e.detail.clone()}</p> })}
                            <p class="sync-state">{format!("Appareil {} · adresse {}",
                                e.device_id.clone().unwrap_or_else(|| "—".into()),
                                e.client_addr.clone().unwrap_or_else(|| "—".into()))}</p>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || (entries.with(|e| e.is_empty()) && !loading.get() && error.get().is_none()).then(|| view! {
                <p>"Aucune ligne pour ces filtres."</p>
            })}
            {move || next_before.get().map(|before| view! {
                <button type="button" class="secondary" disabled=loading on:click=move |_| load(Some(before))>"Lignes plus anciennes"</button>
            })}
        </main>
    }
}
