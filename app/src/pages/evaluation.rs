//! The initial evaluation: one long visit at the patient's home gathering
//! the programme's instruments, the body map and the history (onset,
//! treatments tried, impact, the patient's own expectations). Every tap is
//! kept on the device as a draft at once, so it can be left half-done —
//! a reload, a dead battery, no signal — and resumed. "Terminer" turns the
//! draft into records: the visit and each instrument filled in it, saved
//! together, then sent at the next sync.

use crate::clock::now_ms;
use crate::components::body_map::BodyMap;
use crate::components::header::Header;
use crate::components::instrument_form::{Answers, InstrumentForm};
use crate::components::page_heading::PageHeading;
use crate::device_store::NewRecord;
use crate::pages::require_sign_in;
use crate::sync::{self, SyncState, WORDINGS_KEY};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use parcours_domain::instrument::{Instrument, ResponseMode, Worded, Wording};
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::programme::Programme;
use parcours_domain::record::RecordBody;
use parcours_domain::visit::{InitialEvaluation, Visit, VisitKind};
use parcours_domain::{FieldError, PatientId, RecordId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct EvaluationRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for EvaluationRoute {
    fn data() -> Self {
        EvaluationRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <EvaluationPage/> }.into_any()
    }
}

/// What the nurse has entered so far, kept on the device between visits
/// of the screen. Not synced: it becomes records when finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Draft {
    started_at: i64,
    #[serde(default)]
    visit_type: Option<VisitKind>,
    #[serde(default)]
    place: String,
    #[serde(default)]
    duration_minutes: Option<u32>,
    #[serde(default)]
    answers: BTreeMap<String, Answers>,
    #[serde(default)]
    modes: BTreeMap<String, ResponseMode>,
    #[serde(default)]
    history: BTreeMap<String, String>,
    #[serde(default)]
    pain_regions: Vec<String>,
    #[serde(default)]
    saved_at: Option<i64>,
}

/// One instrument of the evaluation as the form holds it.
#[derive(Clone)]
struct Filling {
    instrument: &'static Instrument,
    /// None: its wording is not on this device (licensed, not supplied).
    worded: Option<Worded>,
    answers: RwSignal<Answers>,
    mode: RwSignal<ResponseMode>,
}

pub fn draft_key(patient: PatientId) -> String {
    format!("draft.initial_evaluation.{patient}")
}

/// The programme's instruments with their wording: shipped, or from the
/// deployment's wording the device keeps. None: unavailable here.
fn worded(
    programme: &Programme,
    wordings: &[Wording],
) -> Vec<(&'static Instrument, Option<Worded>)> {
    programme
        .initial_evaluation
        .instruments
        .iter()
        .filter_map(|id| Instrument::find(id))
        .map(|i| {
            let supplied = wordings
                .iter()
                .find(|w| w.instrument == i.id && w.language == i.language);
            (i, i.worded(supplied))
        })
        .collect()
}

#[component]
fn EvaluationPage() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let params = use_params_map();
    let patient_id =
        params.with_untracked(|p| p.get("id").and_then(|id| id.parse::<PatientId>().ok()));
    let Some(patient_id) = patient_id else {
        return view! { <Header/><main><PageHeading text="Patient introuvable"/></main> }
            .into_any();
    };
    // Read once: the form then owns the draft (a sync must not reset it).
    let loaded = LocalResource::new(move || {
        let me = auth.0.get_untracked();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            let patient = store.patient(patient_id).await.ok()??;
            // The evaluation of the programme the patient is in.
            let programme = crate::pages::programme_of(&store, patient_id).await;
            let draft: Option<Draft> = store
                .kept_text(&draft_key(patient_id))
                .await
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str(&t).ok());
            let wordings: Vec<Wording> = store
                .kept_text(WORDINGS_KEY)
                .await
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            Some((patient, programme, draft, wordings))
        }
    });
    view! {
        <Header/>
        <main>
            <nav aria-label="Fil d'Ariane"><A href=format!("/patients/{patient_id}")>"← Fiche du patient"</A></nav>
            {move || match loaded.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <PageHeading text="Patient introuvable"/><p>"Ce patient n'est pas sur cet appareil."</p> }.into_any(),
                Some(Some((patient, None, _, _))) => view! {
                    <PageHeading text="Évaluation initiale"/>
                    <p>{format!("{} n'est inclus·e dans aucun parcours sur cet appareil.", patient.display_name())}</p>
                }.into_any(),
                Some(Some((patient, Some(programme), draft, wordings))) => view! {
                    <PageHeading text="Évaluation initiale"/>
                    <p class="card-meta">{format!("{} · {}", patient.display_name(), programme.name)}</p>
                    <EvaluationForm patient_id=patient_id programme=programme draft=draft wordings=wordings/>
                }.into_any(),
            }}
        </main>
    }
    .into_any()
}

#[component]
fn EvaluationForm(
    patient_id: PatientId,
    programme: &'static Programme,
    draft: Option<Draft>,
    wordings: Vec<Wording>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let navigate = use_navigate();
    let resumed = draft.is_some();
    let draft = draft.unwrap_or_else(|| Draft {
        started_at: now_ms(),
        ..Draft::default()
    });
    let started_at = draft.started_at;
    let visit_type = RwSignal::new(draft.visit_type.unwrap_or(VisitKind::Home));
    let place = RwSignal::new(draft.place.clone());
    let duration = RwSignal::new(
        draft
            .duration_minutes
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let history: Vec<(String, String, RwSignal<String>)> = programme
        .initial_evaluation
        .history
        .iter()
        .map(|h| {
            let text = draft.history.get(&h.id).cloned().unwrap_or_default();
            (h.id.clone(), h.label.clone(), RwSignal::new(text))
        })
        .collect();
    let pain_regions = RwSignal::new(draft.pain_regions.clone());
    let instruments: Vec<Filling> = worded(programme, &wordings)
        .into_iter()
        .map(|(i, w)| {
            let answers = RwSignal::new(draft.answers.get(&i.id).cloned().unwrap_or_default());
            let mode = RwSignal::new(
                draft
                    .modes
                    .get(&i.id)
                    .copied()
                    .unwrap_or(ResponseMode::Interview),
            );
            Filling {
                instrument: i,
                worded: w,
                answers,
                mode,
            }
        })
        .collect();
    let saved_at = RwSignal::new(draft.saved_at);
    let error = RwSignal::new(None::<FieldError>);
    let finished = RwSignal::new(false);

    // The draft as it stands, from every field.
    let current = {
        let history = history.clone();
        let instruments = instruments.clone();
        move || Draft {
            started_at,
            visit_type: Some(visit_type.get()),
            place: place.get(),
            duration_minutes: duration.get().trim().parse().ok(),
            answers: instruments
                .iter()
                .map(|f| (f.instrument.id.clone(), f.answers.get()))
                .filter(|(_, a)| !a.is_empty())
                .collect(),
            modes: instruments
                .iter()
                .map(|f| (f.instrument.id.clone(), f.mode.get()))
                .collect(),
            history: history
                .iter()
                .map(|(id, _, t)| (id.clone(), t.get()))
                .filter(|(_, t)| !t.trim().is_empty())
                .collect(),
            pain_regions: pain_regions.get(),
            saved_at: None,
        }
    };
    // Every change is kept on the device at once: nothing typed is lost to
    // a reload or a closed tab. (The first run writes what was loaded.)
    Effect::new({
        let current = current.clone();
        move |_| {
            let mut draft = current();
            if finished.get_untracked() {
                return;
            }
            let Some(me) = auth.0.get_untracked() else {
                return;
            };
            let now = now_ms();
            draft.saved_at = Some(now);
            leptos::task::spawn_local(async move {
                let Ok(text) = serde_json::to_string(&draft) else {
                    return;
                };
                if let Ok(store) = sync::store(me.account_id).await {
                    if !finished.get_untracked()
                        && store
                            .keep_text(&draft_key(patient_id), Some(&text))
                            .await
                            .is_ok()
                    {
                        saved_at.set(Some(now));
                    }
                }
            });
        }
    });

    let finish = {
        let instruments = instruments.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(me) = auth.0.get_untracked() else {
                return;
            };
            let draft = current();
            let now = now_ms();
            let build = || -> Result<Vec<NewRecord>, FieldError> {
                let duration_minutes = match draft.duration_minutes {
                    Some(d) => d,
                    None if duration.get_untracked().trim().is_empty() => {
                        // Not given: the time since the evaluation began.
                        (((now - started_at) / 60_000) as u32).clamp(1, 1440)
                    }
                    None => {
                        return Err(FieldError::new(
                            "duration_minutes",
                            "Durée en minutes, de 1 à 1440.",
                        ))
                    }
                };
                let visit = Visit {
                    id: RecordId::new(),
                    patient_id,
                    author_id: me.account_id,
                    device_id: me.device_id,
                    recorded_at: now,
                    amends: None,
                    visit_type: draft.visit_type.unwrap_or(VisitKind::Home),
                    started_at,
                    duration_minutes,
                    place: draft.place.trim().to_string(),
                    with: vec![],
                    actions: vec!["Évaluation initiale".to_string()],
                    notes: String::new(),
                    evaluation: Some(InitialEvaluation {
                        programme_id: programme.id.clone(),
                        history: draft.history.clone(),
                        pain_regions: draft.pain_regions.clone(),
                    }),
                };
                visit.validate_at(now)?;
                let mut records = vec![NewRecord::of(&visit).map_err(sync::not_saved)?];
                for Filling {
                    instrument,
                    answers,
                    mode,
                    ..
                } in &instruments
                {
                    let answers = answers.get_untracked();
                    if answers.is_empty() {
                        continue;
                    }
                    let response = InstrumentResponse {
                        id: RecordId::new(),
                        patient_id,
                        author_id: me.account_id,
                        device_id: me.device_id,
                        recorded_at: now,
                        amends: None,
                        instrument_id: instrument.id.clone(),
                        instrument_version: instrument.version.clone(),
                        language: instrument.language.clone(),
                        mode: mode.get_untracked(),
                        visit_id: Some(visit.id),
                        scores: instrument.score(&answers),
                        answers,
                    };
                    response.validate_at(now).map_err(|e| {
                        FieldError::new(e.field, format!("{} : {}", instrument.name, e.message))
                    })?;
                    records.push(NewRecord::of(&response).map_err(sync::not_saved)?);
                }
                Ok(records)
            };
            let records = match build() {
                Ok(r) => r,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            error.set(None);
            finished.set(true);
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let saved = match sync::save(state, me.account_id, &records).await {
                    Ok(()) => match sync::store(me.account_id).await {
                        Ok(store) => store.keep_text(&draft_key(patient_id), None).await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                match saved {
                    Ok(()) => navigate(&format!("/patients/{patient_id}"), Default::default()),
                    Err(e) => {
                        finished.set(false);
                        error.set(Some(sync::not_saved(e)));
                    }
                }
            });
        }
    };

    view! {
        <p role="status" class="hint draft-state">
            {move || match saved_at.get() {
                Some(at) => format!("Brouillon enregistré sur cet appareil ({})", crate::format::date_time(at)),
                None if resumed => "Brouillon repris".to_string(),
                None => "Nouveau brouillon".to_string(),
            }}
        </p>
        <form on:submit=finish novalidate aria-label="Évaluation initiale">
            <fieldset class="choices">
                <legend>"Lieu"</legend>
                {VisitKind::ALL.into_iter().map(|k| view! {
                    <label class="choice">
                        <input type="radio" name="visit_type" prop:checked=move || visit_type.get() == k
                            on:change=move |_| visit_type.set(k)/>
                        {k.label_fr()}
                    </label>
                }).collect_view()}
            </fieldset>
            {instruments.into_iter().map(|Filling { instrument, worded, answers, mode }| {
                let title = worded.as_ref().map(|w| w.title.clone()).unwrap_or_else(|| instrument.name.clone());
                let progress = move || {
                    let n = answers.with(|a| a.len());
                    if n == 0 { String::new() } else { format!(" — {n} réponse(s)") }
                };
                match worded {
                    Some(worded) => view! {
                        <details class="instrument-section">
                            <summary>{title}{progress}</summary>
                            <InstrumentForm worded=worded answers=answers mode=mode/>
                        </details>
                    }.into_any(),
                    None => view! {
                        <p class="unavailable">
                            <strong>{title}</strong>
                            " — indisponible : ses libellés sont sous licence et ce déploiement ne les a pas fournis."
                        </p>
                    }.into_any(),
                }
            }).collect_view()}
            <details class="instrument-section">
                <summary>"Schéma corporel"{move || {
                    let n = pain_regions.with(Vec::len);
                    if n == 0 { String::new() } else { format!(" — {n} zone(s)") }
                }}</summary>
                <BodyMap regions=pain_regions/>
            </details>
            <details class="instrument-section" open>
                <summary>"Histoire de la douleur"</summary>
                {history.into_iter().map(|(id, label, text)| {
                    let field_id = format!("history-{id}");
                    view! {
                        <div class="field">
                            <label for=field_id.clone()>{label}</label>
                            <textarea id=field_id rows="3" prop:value=text
                                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        </div>
                    }
                }).collect_view()}
            </details>
            <div class="field">
                <label for="place">"Adresse ou lieu"</label>
                <input id="place" type="text" prop:value=place on:input=move |ev| place.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="duration">"Durée (minutes)"</label>
                <input id="duration" type="number" inputmode="numeric" min="1" max="1440"
                    placeholder="calculée si vide" prop:value=duration
                    on:input=move |ev| duration.set(event_target_value(&ev))/>
            </div>
            <p class="error" role="alert">{move || error.get().map(|e| e.message)}</p>
            <button type="submit">"Terminer l'évaluation"</button>
        </form>
    }
}
