//! The one-screen summary a nurse and a GP read at a review point: change
//! since baseline, how many days the diary was kept, the objectives and
//! their status, the instruments filled again since baseline with their
//! change. Printable.

use crate::clock;
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::components::trajectory_chart::number;
use crate::format;
use crate::pages::pps::rows;
use crate::pages::require_sign_in;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use parcours_domain::instrument::Instrument;
use parcours_domain::objective::Objective;
use parcours_domain::trajectory::{repeated_instruments, ScoreChange, Trajectory};
use parcours_domain::{Patient, PatientId};

#[derive(Debug)]
pub struct ReviewSummaryRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for ReviewSummaryRoute {
    fn data() -> Self {
        ReviewSummaryRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <ReviewSummary/> }.into_any()
    }
}

#[derive(Clone)]
struct Summary {
    patient: Patient,
    trajectory: Trajectory,
    objectives: Vec<Objective>,
    instruments: Vec<ScoreChange>,
}

/// The diary's last four weeks: what "kept" means at a review point.
const RECENT_DAYS: i64 = 28;

#[component]
fn ReviewSummary() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let params = use_params_map();
    let patient_id =
        move || params.with(|p| p.get("id").and_then(|id| id.parse::<PatientId>().ok()));
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        let id = patient_id();
        async move {
            let (me, id) = (me?, id?);
            let store = sync::store(me.account_id).await.ok()?;
            let patient = store.patient(id).await.ok()??;
            let records = store.records(id).await.ok()?;
            let (o, op) = store.items_of::<Objective>(id).await.ok()?;
            Some(Summary {
                patient,
                trajectory: Trajectory::from_records(&records, clock::offset_minutes()),
                objectives: rows(o, op).into_iter().map(|r| r.item).collect(),
                instruments: repeated_instruments(&records),
            })
        }
    });
    view! {
        <Header/>
        <main class="review-summary">
            {move || patient_id().map(|id| view! {
                <nav aria-label="Fil d'Ariane" class="no-print"><A href=format!("/patients/{id}")>"← Dossier du patient"</A></nav>
            })}
            {move || match data.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <PageHeading text="Patient introuvable"/><p>"Ce patient n'est pas sur cet appareil."</p> }.into_any(),
                Some(Some(s)) => summary(s).into_any(),
            }}
        </main>
    }
}

fn summary(s: Summary) -> impl IntoView {
    let today = clock::today();
    let change = s.trajectory.change();
    let since = today.add_days(-(RECENT_DAYS - 1)).unwrap_or(today);
    let recent = s.trajectory.days_with_entries(since, today);
    let total = s.trajectory.days.len();
    let baseline = s.trajectory.baseline;
    view! {
        <PageHeading text=format!("Synthèse — {}", s.patient.display_name())/>
        <p class="card-meta">{format!("Au {}", today.french())}</p>
        <button type="button" class="secondary no-print" on:click=|_| { let _ = window().print(); }>"Imprimer"</button>

        <section aria-labelledby="since-baseline">
            <h2 id="since-baseline">"Douleur depuis le départ"</h2>
            {match change {
                Some(c) => view! {
                    <p class="summary">{c.summary_fr()}</p>
                    <p>{format!("Départ : {}/10 le {} ; aujourd'hui : {}/10 (au {}).",
                        number(c.baseline.point.value), c.baseline.point.on.french(),
                        number(c.current.value), c.current.on.french())}</p>
                }.into_any(),
                None => view! {
                    <p>{match baseline {
                        Some(b) => format!("Départ : {}/10 le {} ; pas encore de valeur plus récente.", number(b.point.value), b.point.on.french()),
                        None => "Pas encore de valeur de départ (ni évaluation initiale, ni évaluation, ni semaine de journal).".to_string(),
                    }}</p>
                }.into_any(),
            }}
        </section>

        <section aria-labelledby="diary-kept">
            <h2 id="diary-kept">"Journal du patient"</h2>
            <p>{format!("{recent} jour(s) rempli(s) sur les {RECENT_DAYS} derniers jours ; {total} jour(s) en tout.")}</p>
        </section>

        <section aria-labelledby="objectives-status">
            <h2 id="objectives-status">"Objectifs"</h2>
            {s.objectives.is_empty().then(|| view! { <p>"Aucun objectif noté."</p> })}
            <ul>
                {s.objectives.into_iter().map(|o| view! {
                    <li>
                        <strong>{o.title.clone()}</strong>
                        {(!o.target.is_empty()).then(|| format!(" (cible : {})", o.target))}
                        {format!(" — {}", o.status.label_fr())}
                    </li>
                }).collect_view()}
            </ul>
        </section>

        <section aria-labelledby="instruments-again">
            <h2 id="instruments-again">"Questionnaires refaits depuis le départ"</h2>
            {s.instruments.is_empty().then(|| view! { <p>"Aucun questionnaire rempli deux fois."</p> })}
            <ul>
                {s.instruments.into_iter().map(|c| {
                    let instrument = Instrument::find(&c.instrument_id);
                    let name = instrument.map(|i| i.name.clone()).unwrap_or_else(|| c.instrument_id.clone());
                    let label = instrument
                        .and_then(|i| i.scores.iter().find(|d| d.id == c.score_id))
                        .map(|d| d.label.clone())
                        .unwrap_or_else(|| c.score_id.clone());
                    let delta = c.delta();
                    let sign = if delta < 0 { "\u{2212}" } else if delta > 0 { "+" } else { "" };
                    view! {
                        <li>{format!("{name}, {label} : {} ({}) → {} ({}), {sign}{}",
                            c.first.1.french(), format::date_time(c.first.0),
                            c.last.1.french(), format::date_time(c.last.0),
                            parcours_domain::instrument::Hundredths(delta.abs()).french())}</li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
