//! Recording a visit in seconds: where (one tap), how long (a default), what
//! was done, notes, and the numeric pain scale tapped on its rows if it was
//! taken. The visit and the scale are saved together, offline.

use crate::clock::now_ms;
use crate::components::instrument_form::{Answers, InstrumentForm};
use crate::device_store::NewRecord;
use crate::pages::pps::EditableSection;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::appointment::Appointment;
use parcours_domain::instrument::{Instrument, ResponseMode};
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::record::RecordBody;
use parcours_domain::visit::{Visit, VisitKind};
use parcours_domain::{AccountId, FieldError, PatientId, RecordId};

/// Minutes proposed for a visit: the common home visit.
const DEFAULT_MINUTES: &str = "30";

/// "2026-11-24T14:05" in the device's time zone, for a datetime-local input.
fn local_input(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// The instant a datetime-local text names, in the device's time zone.
fn from_local_input(text: &str) -> Option<i64> {
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(text)).get_time();
    (!ms.is_nan() && !text.is_empty()).then_some(ms as i64)
}

#[component]
pub fn VisitForm(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let open = RwSignal::new(false);
    let visit_type = RwSignal::new(VisitKind::Home);
    let started = RwSignal::new(String::new());
    let minutes = RwSignal::new(DEFAULT_MINUTES.to_string());
    let place = RwSignal::new(String::new());
    let actions = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let en_answers = RwSignal::new(Answers::new());
    let en_mode = RwSignal::new(ResponseMode::Interview);
    let error = RwSignal::new(None::<FieldError>);
    let saved = RwSignal::new(false);
    let en = Instrument::find("en").and_then(|i| i.worded(None));
    let with = RwSignal::new(Vec::<AccountId>::new());
    // Who else may come along: the patient's team, but the author.
    let team = LocalResource::new(move || {
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            let patient = store.patient(patient_id).await.ok()??;
            Some(
                patient
                    .care_team
                    .into_iter()
                    .filter(|m| m.account_id != me.account_id)
                    .collect::<Vec<_>>(),
            )
        }
    });

    let start = move |_| {
        started.set(local_input(now_ms()));
        saved.set(false);
        open.set(true);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let now = now_ms();
        let build = || -> Result<Vec<NewRecord>, FieldError> {
            let visit = Visit {
                id: RecordId::new(),
                patient_id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now,
                amends: None,
                visit_type: visit_type.get_untracked(),
                started_at: from_local_input(&started.get_untracked())
                    .ok_or_else(|| FieldError::new("started_at", "Indiquez la date et l'heure."))?,
                duration_minutes: minutes.get_untracked().trim().parse().map_err(|_| {
                    FieldError::new("duration_minutes", "Durée en minutes, de 1 à 1440.")
                })?,
                place: place.get_untracked().trim().to_string(),
                with: with.get_untracked(),
                actions: actions
                    .get_untracked()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
                notes: notes.get_untracked().trim().to_string(),
                evaluation: None,
            };
            visit.validate_at(now)?;
            let mut records = vec![NewRecord::of(&visit).map_err(sync::not_saved)?];
            let answers = en_answers.get_untracked();
            if let (false, Some(instrument)) = (answers.is_empty(), Instrument::find("en")) {
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
                    mode: en_mode.get_untracked(),
                    visit_id: Some(visit.id),
                    scores: instrument.score(&answers),
                    answers,
                };
                response.validate_at(now)?;
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
        leptos::task::spawn_local(async move {
            match sync::save(state, me.account_id, &records).await {
                Ok(()) => {
                    open.set(false);
                    saved.set(true);
                    for text in [place, actions, notes] {
                        text.set(String::new());
                    }
                    minutes.set(DEFAULT_MINUTES.to_string());
                    with.set(vec![]);
                    en_answers.set(Answers::new());
                }
                Err(e) => error.set(Some(sync::not_saved(e))),
            }
        });
    };
    let message = move |field: &'static str| {
        move || error.get().filter(|e| e.field == field).map(|e| e.message)
    };

    view! {
        <section aria-labelledby="new-visit">
            <h2 id="new-visit">"Visites"</h2>
            <EditableSection<Appointment> patient_id=patient_id heading="Visites prévues"/>
            {move || saved.get().then(|| view! { <p class="saved" role="status">"Visite enregistrée sur l'appareil."</p> })}
            <Show when=move || open.get() fallback=move || view! {
                <button type="button" on:click=start>"Nouvelle visite"</button>
            }>
                <form class="item-form" on:submit=submit novalidate aria-label="Nouvelle visite">
                    <fieldset class="choices">
                        <legend>"Type de visite"</legend>
                        {VisitKind::ALL.into_iter().map(|k| view! {
                            <label class="choice">
                                <input type="radio" name="new-visit-type" prop:checked=move || visit_type.get() == k
                                    on:change=move |_| visit_type.set(k)/>
                                {k.label_fr()}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <div class="field">
                        <label for="visit-started">"Début"</label>
                        <input id="visit-started" type="datetime-local" prop:value=started
                            on:input=move |ev| started.set(event_target_value(&ev))/>
                        <p class="error" role="alert">{message("started_at")}</p>
                    </div>
                    <div class="field">
                        <label for="visit-minutes">"Durée (minutes)"</label>
                        <input id="visit-minutes" type="number" inputmode="numeric" min="1" max="1440" prop:value=minutes
                            on:input=move |ev| minutes.set(event_target_value(&ev))/>
                        <p class="error" role="alert">{message("duration_minutes")}</p>
                    </div>
                    {move || team.get().flatten().filter(|t| !t.is_empty()).map(|members| view! {
                        <fieldset class="choices">
                            <legend>"Avec"</legend>
                            {members.into_iter().map(|m| {
                                let id = m.account_id;
                                view! {
                                    <label class="choice">
                                        <input type="checkbox" prop:checked=move || with.with(|w| w.contains(&id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                with.update(|w| { w.retain(|x| *x != id); if on { w.push(id); } });
                                            }/>
                                        {m.display_name.clone()}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                    })}
                    <div class="field">
                        <label for="visit-place">"Lieu"</label>
                        <input id="visit-place" type="text" prop:value=place on:input=move |ev| place.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="visit-actions">"Fait pendant la visite (une action par ligne)"</label>
                        <textarea id="visit-actions" rows="2" prop:value=actions on:input=move |ev| actions.set(event_target_value(&ev))></textarea>
                    </div>
                    <div class="field">
                        <label for="visit-notes">"Notes de visite"</label>
                        <textarea id="visit-notes" rows="3" prop:value=notes on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                    </div>
                    {en.clone().map(|worded| view! {
                        <details class="instrument-section">
                            <summary>"Échelle numérique (EN) pendant la visite"</summary>
                            <InstrumentForm worded=worded answers=en_answers mode=en_mode/>
                        </details>
                    })}
                    <p class="error" role="alert">{move || error.get()
                        .filter(|e| e.field != "started_at" && e.field != "duration_minutes").map(|e| e.message)}</p>
                    <div class="actions">
                        <button type="submit">"Enregistrer la visite"</button>
                        <button type="button" class="secondary" on:click=move |_| open.set(false)>"Annuler"</button>
                    </div>
                </form>
            </Show>
        </section>
    }
}
