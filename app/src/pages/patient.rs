//! One patient: record a pain assessment (saved on the device at once) and
//! read the assessments the care team recorded.

use crate::clock::now_ms;
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::components::scale::ScaleRow;
use crate::device_store::Stored;
use crate::format;
use crate::pages::care_plan::CarePlanSection;
use crate::pages::coordination::CoordinationSection;
use crate::pages::invitation::InvitationSection;
use crate::pages::notebook::NotebookSection;
use crate::pages::pathway::PathwaySection;
use crate::pages::patient_share::PatientShareSection;
use crate::pages::require_sign_in;
use crate::pages::timeline::Timeline;
use crate::pages::trajectory::TrajectorySection;
use crate::pages::visit::VisitForm;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use parcours_domain::pain_assessment::{nrs_band_fr, parse_nrs};
use parcours_domain::{AssessmentId, AssessmentMode, FieldError, PainAssessment, PatientId};

/// The patient's page, loaded when first opened (a chunk of its own, and
/// precached by the service worker for offline use): the caseload, the
/// first screen, does not carry its code.
#[derive(Debug)]
pub struct PatientRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for PatientRoute {
    fn data() -> Self {
        PatientRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <PatientPage/> }.into_any()
    }
}

/// From a list of patients (the caseload, today), her next tap is most
/// likely a patient: once `drawn` holds and the browser is idle, the
/// patient page's module is fetched (from the service worker's cache) and
/// compiled, so the tap waits only for the patient's data. Once per list.
pub fn preload_once_drawn(drawn: impl Fn() -> bool + 'static) {
    Effect::new(move |preloaded: Option<bool>| {
        if preloaded == Some(true) || !drawn() {
            return preloaded.unwrap_or(false);
        }
        request_idle_callback(|| {
            leptos::task::spawn_local(<PatientRoute as leptos_router::LazyRoute>::preload())
        });
        true
    });
}

/// Cards shown at once in a long list; "Afficher plus" adds as many.
pub const LIST_PAGE: usize = 20;

#[component]
pub fn PatientPage() -> impl IntoView {
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
            let assessments = store.records_of::<PainAssessment>(id).await.ok()?;
            Some((patient, assessments))
        }
    });

    // What the page draws from the store, drawn again only when it changed:
    // a sync that brought nothing for this patient redrew the heading and
    // every assessment card.
    let shown = Memo::new(move |_| data.get());
    // Two years of daily scores are hundreds of cards: the latest first,
    // more on demand.
    let assessments_shown = RwSignal::new(LIST_PAGE);

    view! {
        <Header/>
        <main>
            <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
            {move || match shown.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <PageHeading text="Patient introuvable"/><p>"Ce patient n'est pas sur cet appareil."</p> }.into_any(),
                Some(Some((patient, _))) => view! {
                    <PageHeading text=patient.display_name()/>
                    <p class="card-meta">{format!("né·e le {} · {}", format::date(&patient.birth_date), patient.town)}</p>
                }.into_any(),
            }}
            // Outside the data closure: a sync that refreshes the list must
            // never wipe what the nurse is typing. Her most frequent
            // actions come first — a pain score, a visit — not below a plan
            // that grows all year.
            <Show when=move || shown.get().flatten().is_some()>
                {move || patient_id().map(|id| view! {
                    <AssessmentForm patient_id=id/>
                    <VisitForm patient_id=id/>
                    <PathwaySection patient_id=id/>
                    <NotebookSection patient_id=id/>
                    <CoordinationSection patient_id=id/>
                    <TrajectorySection patient_id=id/>
                    <CarePlanSection patient_id=id/>
                })}
            </Show>
            {move || shown.get().flatten().map(|(_, assessments)| view! { <AssessmentList assessments=assessments shown=assessments_shown/> })}
            {move || patient_id().map(|id| view! { <Timeline patient_id=id/> })}
            {move || patient_id().map(|id| view! { <InvitationSection patient_id=id/> })}
            {move || patient_id().map(|id| view! { <PatientShareSection patient_id=id/> })}
        </main>
    }
}

/// The three 0–10 scores as tapped, and the two texts as typed.
#[derive(Clone, Copy)]
struct Fields {
    pain_now: RwSignal<Option<i64>>,
    pain_average_24h: RwSignal<Option<i64>>,
    pain_worst_24h: RwSignal<Option<i64>>,
    location: RwSignal<String>,
    note: RwSignal<String>,
}

#[component]
fn AssessmentForm(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let fields = Fields {
        pain_now: RwSignal::new(None),
        pain_average_24h: RwSignal::new(None),
        pain_worst_24h: RwSignal::new(None),
        location: RwSignal::new(String::new()),
        note: RwSignal::new(String::new()),
    };
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let saved = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        // The same rules the server applies, checked before anything is
        // saved, and every one broken said at once.
        let mut problems = vec![];
        let mut score = |field: &str, tapped: Option<i64>| {
            let read = tapped
                .ok_or_else(|| FieldError::new(field, "Touchez une note de 0 à 10."))
                .and_then(|v| parse_nrs(field, &v.to_string()));
            read.map_err(|e| problems.push(e)).ok()
        };
        let scores = (
            score("pain_now", fields.pain_now.get_untracked()),
            score("pain_average_24h", fields.pain_average_24h.get_untracked()),
            score("pain_worst_24h", fields.pain_worst_24h.get_untracked()),
        );
        let assessment = PainAssessment {
            id: AssessmentId::new(),
            patient_id,
            recorded_at: now_ms(),
            author_id: me.account_id,
            device_id: me.device_id,
            mode: AssessmentMode::Interview,
            pain_now: scores.0.unwrap_or_default(),
            pain_average_24h: scores.1.unwrap_or_default(),
            pain_worst_24h: scores.2.unwrap_or_default(),
            location: fields.location.get_untracked().trim().to_string(),
            note: fields.note.get_untracked().trim().to_string(),
            amends: None,
        };
        // An untapped score reads 0 here, the scale's floor: it breaks no
        // rule of the others, and its own message ("Touchez…") stands.
        let untapped = [
            ("pain_now", scores.0),
            ("pain_average_24h", scores.1),
            ("pain_worst_24h", scores.2),
        ]
        .into_iter()
        .filter(|(_, tapped)| tapped.is_none())
        .map(|(field, _)| field)
        .collect::<Vec<_>>();
        problems.extend(
            assessment
                .problems()
                .into_iter()
                .filter(|e| !untapped.contains(&e.field.as_str())),
        );
        if !problems.is_empty() {
            crate::components::problems::show(errors, problems);
            return;
        }
        errors.set(vec![]);
        leptos::task::spawn_local(async move {
            match sync::save_record(state, me.account_id, &assessment).await {
                Ok(()) => {
                    for f in [
                        fields.pain_now,
                        fields.pain_average_24h,
                        fields.pain_worst_24h,
                    ] {
                        f.set(None);
                    }
                    fields.location.set(String::new());
                    fields.note.set(String::new());
                    saved.set(true);
                }
                Err(e) => errors.set(vec![e]),
            }
        });
    };

    let message_for = move |field: &'static str| {
        move || {
            errors
                .get()
                .into_iter()
                .find(|e| e.field == field)
                .map(|e| e.message)
        }
    };
    let score_row = move |id: &'static str, label: &'static str, value: RwSignal<Option<i64>>| {
        view! {
            <ScaleRow name=id.to_string() legend=label.to_string() min=0 max=10 value=value
                anchors=vec!["pas de douleur".to_string(), "douleur maximale imaginable".to_string()]/>
            <p class="error" role="alert">{message_for(id)}</p>
        }
    };

    view! {
        <section aria-labelledby="new-assessment">
            <h2 id="new-assessment">"Nouvelle évaluation de la douleur"</h2>
            <form on:submit=submit novalidate>
                {score_row("pain_now", "Douleur actuelle (0 à 10)", fields.pain_now)}
                {score_row("pain_average_24h", "Douleur moyenne sur 24 h (0 à 10)", fields.pain_average_24h)}
                {score_row("pain_worst_24h", "Douleur maximale sur 24 h (0 à 10)", fields.pain_worst_24h)}
                <div class="field">
                    <label for="location">"Localisation"</label>
                    <input id="location" name="location" prop:value=fields.location
                        on:input=move |ev| fields.location.set(event_target_value(&ev))/>
                    <p class="error" role="alert">{message_for("location")}</p>
                </div>
                <div class="field">
                    <label for="note">"Note"</label>
                    <textarea id="note" name="note" rows="3" prop:value=fields.note
                        on:input=move |ev| fields.note.set(event_target_value(&ev))></textarea>
                    <p class="error" role="alert">{message_for("note")}</p>
                </div>
                <p class="error" role="alert">{move || {
                    // What no field of the form shows (the device could not save).
                    let shown = ["pain_now", "pain_average_24h", "pain_worst_24h", "location", "note"];
                    errors.get().into_iter().find(|e| !shown.contains(&e.field.as_str())).map(|e| e.message)
                }}</p>
                <button type="submit">"Enregistrer l'évaluation"</button>
                {move || saved.get().then(|| view! {
                    <p class="saved" role="status">"Évaluation enregistrée sur l'appareil."</p>
                })}
            </form>
        </section>
    }
}

#[component]
fn AssessmentList(
    assessments: Vec<Stored<PainAssessment>>,
    /// How many are shown: the page's, so that a sync or a save, which
    /// draws this list again, does not fold what the nurse unfolded.
    shown: RwSignal<usize>,
) -> impl IntoView {
    let count = assessments.len();
    let assessments = StoredValue::new(assessments);
    view! {
        <section aria-labelledby="assessments">
            <h2 id="assessments">{format!("Évaluations ({count})")}</h2>
            {(count == 0).then(|| view! { <p>"Aucune évaluation pour l'instant."</p> })}
            <ul class="assessments" aria-label="Évaluations de la douleur">
                {move || assessments.with_value(|all| all.iter().take(shown.get()).cloned().map(|s| {
                    let a = s.record;
                    let sync_label = if s.pending { "Sur l'appareil uniquement — en attente d'envoi" } else { "Envoyée" };
                    view! {
                        <li class="assessment" class:pending=s.pending>
                            <p class="when">{format::date_time(a.recorded_at)}</p>
                            <p class="scores">
                                {format!("Douleur actuelle {}/10 ({}) · moyenne 24 h {}/10 · maximale 24 h {}/10",
                                    a.pain_now, nrs_band_fr(a.pain_now), a.pain_average_24h, a.pain_worst_24h)}
                            </p>
                            {(!a.location.is_empty()).then(|| view! { <p>{format!("Localisation : {}", a.location)}</p> })}
                            {(!a.note.is_empty()).then(|| view! { <p class="note">{a.note.clone()}</p> })}
                            <p class="sync-state">{sync_label}</p>
                        </li>
                    }
                }).collect_view())}
            </ul>
            {move || (shown.get() < count).then(|| view! {
                <button type="button" class="secondary" on:click=move |_| shown.update(|n| *n += LIST_PAGE)>
                    {format!("Afficher plus ({} sur {count})", shown.get())}
                </button>
            })}
        </section>
    }
}
