//! The patient's pathway on their page: the inclusion, the initial
//! evaluation (to start, to resume, or done), and the instruments filled,
//! each with its scores and whether it has left the device.

use crate::clock::{now_ms, today};
use crate::components::instrument_form::InstrumentForm;
use crate::device_store::Stored;
use crate::format;
use crate::pages::evaluation::draft_key;
use crate::sync::{self, SyncState, WORDINGS_KEY};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use parcours_domain::date::CalendarDate;
use parcours_domain::enrollment::{Consent, Enrollment, Exit};
use parcours_domain::episode::{Episode, EpisodeKind};
use parcours_domain::instrument::Wording;
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::programme::Programme;
use parcours_domain::record::RecordBody;
use parcours_domain::visit::Visit;
use parcours_domain::PatientId;
use parcours_domain::{FieldError, RecordId};

#[derive(Clone, PartialEq)]
struct Pathway {
    enrollments: Vec<Stored<Enrollment>>,
    consents: Vec<Stored<Consent>>,
    exits: Vec<Stored<Exit>>,
    evaluation: Option<Stored<Visit>>,
    draft: bool,
    responses: Vec<Stored<InstrumentResponse>>,
    /// Relapses, breaks in follow-up, resumptions: events, not exits.
    episodes: Vec<Stored<Episode>>,
    /// Who last saw the patient (their latest visit), and when.
    last_seen: Option<(String, i64)>,
    /// The licensed instruments' wording this device keeps.
    wordings: Vec<Wording>,
}

#[component]
pub fn PathwaySection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let pathway = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            let visits = store.records_of::<Visit>(patient_id).await.ok()?;
            let team = store
                .patient(patient_id)
                .await
                .ok()
                .flatten()
                .map(|p| p.care_team)
                .unwrap_or_default();
            let last_seen = visits.iter().max_by_key(|v| v.record.started_at).map(|v| {
                (
                    crate::pages::notebook::name_in(&team, v.record.author_id),
                    v.record.started_at,
                )
            });
            Some(Pathway {
                episodes: store.records_of::<Episode>(patient_id).await.ok()?,
                last_seen,
                enrollments: store.records_of::<Enrollment>(patient_id).await.ok()?,
                consents: store.records_of::<Consent>(patient_id).await.ok()?,
                exits: store.records_of::<Exit>(patient_id).await.ok()?,
                evaluation: visits.into_iter().find(|v| v.record.evaluation.is_some()),
                draft: store
                    .kept_text(&draft_key(patient_id))
                    .await
                    .ok()
                    .flatten()
                    .is_some(),
                wordings: store
                    .kept_text(WORDINGS_KEY)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
                responses: store
                    .records_of::<InstrumentResponse>(patient_id)
                    .await
                    .ok()?,
            })
        }
    });
    let evaluation_href = format!("/patients/{patient_id}/evaluation");
    // Which response is being corrected: outside the list, so a sync that
    // redraws it leaves the form open.
    let correcting = RwSignal::new(None::<RecordId>);
    let exiting = RwSignal::new(false);
    let episode_open = RwSignal::new(false);
    // Redrawn only when what it shows changed, not at every sync: a form
    // being filled in below is not rebuilt under the person's fingers.
    let pathway = Memo::new(move |_| pathway.get().flatten());
    view! {
        <section aria-labelledby="pathway-title">
            <h2 id="pathway-title">"Parcours douleur chronique"</h2>
            {move || pathway.get().map(|p| {
                let href = evaluation_href.clone();
                let wordings = p.wordings.clone();
                let enrollment = p.enrollments.first().cloned();
                let inclusion = enrollment.clone().map(|e| {
                    let consent = p.consents.iter().find(|c| c.record.enrollment_id == e.record.id).cloned();
                    let exit = p.exits.iter().find(|x| x.record.enrollment_id == e.record.id).cloned();
                    view! {
                        <p>{format!("Inclus·e le {} — {}", e.record.included_on.french(), e.record.reason)}
                            {pending_note(e.pending)}</p>
                        {match consent {
                            Some(c) => view! {
                                <p>{format!("Consentement recueilli le {} (contrat version {}) — parcours du {} au {}",
                                    c.record.consented_on.french(), c.record.contract_version,
                                    c.record.starts_on.french(), c.record.planned_end_on.french())}
                                    {pending_note(c.pending)}</p>
                            }.into_any(),
                            None if exit.is_none() => view! { <ConsentForm enrollment=e.record.clone()/> }.into_any(),
                            None => ().into_any(),
                        }}
                        {match exit {
                            Some(x) => {
                                let reason = Programme::find(&x.record.programme_id)
                                    .and_then(|p| p.exit_reason(&x.record.reason))
                                    .map(|r| r.label.clone())
                                    .unwrap_or_else(|| x.record.reason.clone());
                                view! {
                                    <p class="notice" role="note">{format!("Sorti·e du parcours le {} : {reason}", x.record.exited_on.french())}
                                        {pending_note(x.pending)}</p>
                                }.into_any()
                            }
                            None => view! {
                                <EpisodeForm enrollment=e.record.clone() open=episode_open/>
                                <ExitForm enrollment=e.record.clone() open=exiting/>
                            }.into_any(),
                        }}
                    }
                });
                let consented = enrollment.as_ref().is_none_or(|e| p.consents.iter().any(|c| c.record.enrollment_id == e.record.id));
                let evaluation = match (&p.evaluation, p.draft) {
                    (None, false) if !consented => view! {
                        <p class="hint">"Le parcours commence avec le consentement du patient : l'évaluation initiale suit."</p>
                    }.into_any(),
                    (_, true) => view! {
                        <A href=href attr:class="button">"Reprendre l'évaluation initiale"</A>
                        <p class="hint">"Un brouillon est enregistré sur cet appareil."</p>
                    }.into_any(),
                    (Some(v), false) => view! {
                        <p>{format!("Évaluation initiale faite le {}", format::date_time(v.record.started_at))}
                            {v.pending.then(|| view! { <span class="pending-note">" (en attente d'envoi)"</span> })}</p>
                    }.into_any(),
                    (None, false) => view! {
                        <A href=href attr:class="button">"Commencer l'évaluation initiale"</A>
                    }.into_any(),
                };
                // Never included, or out of the pathway: included (again) under the same record.
                let may_include = auth.0.get_untracked().is_some_and(|me| {
                    me.profession.is_some_and(Programme::any_includes)
                });
                let out = enrollment.as_ref().is_none_or(|e| p.exits.iter().any(|x| x.record.enrollment_id == e.record.id));
                let include_again = (may_include && out).then(|| view! {
                    <A href=format!("/inclusion?patient={patient_id}") attr:class="button secondary-link">"Inclure dans le parcours"</A>
                });
                // Oldest first: the story of the pathway.
                let mut episodes = p.episodes.clone();
                episodes.sort_by_key(|s| s.record.on);
                view! {
                    {p.last_seen.clone().map(|(who, at)| view! {
                        <p class="card-meta">{format!("Dernière visite : {who}, le {}", format::date_time(at))}</p>
                    })}
                    {inclusion}
                    {(!episodes.is_empty()).then(|| view! {
                        <ul class="timeline" aria-label="Épisodes du parcours">
                            {episodes.into_iter().map(|s| view! {
                                <li class:pending=s.pending>
                                    <p><strong>{format!("{} le {}", s.record.episode_kind.label_fr(), s.record.on.french())}</strong>
                                        {pending_note(s.pending)}</p>
                                    {(!s.record.note.is_empty()).then(|| view! { <p>{s.record.note.clone()}</p> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    })}
                    {include_again}
                    {evaluation}
                    {(!p.responses.is_empty()).then(|| view! {
                        <h3>"Instruments remplis"</h3>
                        <ul class="assessments" aria-label="Instruments remplis">
                            {p.responses.iter().map(|r| {
                                let record = r.record.clone();
                                let name = record.instrument().map(|i| i.name.clone()).unwrap_or_else(|| record.instrument_id.clone());
                                // A correction is a new response naming the one it corrects: both stay.
                                let corrected_by = p.responses.iter().find(|c| c.record.amends == Some(record.id)).map(|c| c.record.recorded_at);
                                let corrects = record.amends.and_then(|id| p.responses.iter().find(|o| o.record.id == id)).map(|o| o.record.recorded_at);
                                let id = record.id;
                                let label = format!("Corriger « {name} »");
                                let (original, wordings) = (record.clone(), wordings.clone());
                                view! {
                                    <li class="assessment" class:pending=r.pending class:amended=corrected_by.is_some() aria-label=name.clone()>
                                        <p class="when">{format!("{name} — {}", format::date_time(record.recorded_at))}</p>
                                        <p>{record.scores_fr()}</p>
                                        {corrected_by.map(|at| view! { <p class="state">{format!("Corrigé le {} : voir la correction", format::date_time(at))}</p> })}
                                        {corrects.map(|at| view! { <p>{format!("Correction de la saisie du {}", format::date_time(at))}</p> })}
                                        <p class="sync-state">{if r.pending { "Sur l'appareil — en attente d'envoi" } else { "Envoyé" }}</p>
                                        {(corrected_by.is_none()).then(move || view! {
                                            <Show when=move || correcting.get() == Some(id) fallback=move || view! {
                                                <button type="button" class="secondary no-print" aria-label=label.clone()
                                                    on:click=move |_| correcting.set(Some(id))>"Corriger"</button>
                                            }>
                                                <Correction original=original.clone() wordings=wordings.clone() on_done=move |()| correcting.set(None)/>
                                            </Show>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <p class="hint">"Scores : aides au dépistage, pas un diagnostic."</p>
                    })}
                }
            })}
        </section>
    }
}

fn pending_note(pending: bool) -> Option<impl IntoView> {
    pending.then(|| view! { <span class="pending-note">" (en attente d'envoi)"</span> })
}

/// Saves one record made here and tells the screen; the form shows why not.
fn save<K: parcours_domain::sync::RecordKind + serde::Serialize + 'static>(
    (auth, state): (Auth, SyncState),
    record: K,
    error: RwSignal<Option<FieldError>>,
    done: impl FnOnce() + 'static,
) {
    let Some(me) = auth.0.get_untracked() else {
        return;
    };
    if let Err(e) = record.validate_at(now_ms()) {
        error.set(Some(e));
        return;
    }
    error.set(None);
    leptos::task::spawn_local(async move {
        match sync::save_record(state, me.account_id, &record).await {
            Ok(()) => done(),
            Err(e) => error.set(Some(e)),
        }
    });
}

fn day(field: &str, value: &str) -> Result<CalendarDate, FieldError> {
    value
        .parse()
        .map_err(|_| FieldError::new(field, "Indiquez une date (jour, mois, année)."))
}

/// The care contract accepted: the pathway starts with it.
#[component]
fn ConsentForm(enrollment: Enrollment) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let contexts = (auth, expect_context::<SyncState>());
    let Some(programme) = Programme::find(&enrollment.programme_id) else {
        return ().into_any();
    };
    let start = today();
    let consented_on = RwSignal::new(start.to_string());
    let starts_on = RwSignal::new(start.to_string());
    let default_months = (programme.duration_months.min + programme.duration_months.max) / 2;
    let planned_end_on = RwSignal::new(
        start
            .add_months(default_months)
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let build = || -> Result<Consent, FieldError> {
            Ok(Consent {
                id: RecordId::new(),
                patient_id: enrollment.patient_id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends: None,
                enrollment_id: enrollment.id,
                programme_id: programme.id.clone(),
                contract_version: programme.consent.version.clone(),
                consented_on: day("consented_on", &consented_on.get_untracked())?,
                collected_by: me.account_id,
                starts_on: day("starts_on", &starts_on.get_untracked())?,
                planned_end_on: day("planned_end_on", &planned_end_on.get_untracked())?,
            })
        };
        match build() {
            Ok(consent) => save(contexts, consent, error, || {}),
            Err(e) => error.set(Some(e)),
        }
    };
    let date = move |id: &'static str, label: String, value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="date" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || if error.get().is_some_and(|e| e.field == id) { "true" } else { "false" }/>
            </div>
        }
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label="Consentement">
            <h3>"Consentement au contrat de soins"</h3>
            <details>
                <summary>{format!("{} (version {})", programme.consent.title, programme.consent.version)}</summary>
                <p class="contract">{programme.consent.text.clone()}</p>
            </details>
            {date("consented_on", "Date du consentement".into(), consented_on)}
            {date("starts_on", "Début du parcours".into(), starts_on)}
            {date("planned_end_on", format!("Fin prévue ({} à {} mois)",
                programme.duration_months.min, programme.duration_months.max), planned_end_on)}
            <p class="error" role="alert">{move || error.get().map(|e| e.message)}</p>
            <button type="submit">"Enregistrer le consentement"</button>
        </form>
    }
    .into_any()
}

/// The end of the pathway, with its reason: the history stays.
/// A relapse, a break in follow-up, a resumption: noted, and the pathway
/// goes on (continuity across relapses, not an exit).
#[component]
fn EpisodeForm(
    enrollment: Enrollment,
    /// Held by the section, so a redraw leaves the form open.
    open: RwSignal<bool>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let contexts = (auth, expect_context::<SyncState>());
    let kind = RwSignal::new(EpisodeKind::Relapse);
    let on = RwSignal::new(today().to_string());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let built = day("on", &on.get_untracked()).map(|on| Episode {
            id: RecordId::new(),
            patient_id: enrollment.patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends: None,
            enrollment_id: enrollment.id,
            episode_kind: kind.get_untracked(),
            on,
            note: note.get_untracked().trim().to_string(),
        });
        match built {
            Ok(episode) => save(contexts, episode, error, move || {
                note.set(String::new());
                open.set(false);
            }),
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button type="button" class="secondary" on:click=move |_| open.set(true)>"Rechute ou rupture du suivi"</button>
        }>
            <form class="item-form" on:submit=submit novalidate aria-label="Épisode du parcours">
                <h3>"Épisode du parcours"</h3>
                <fieldset class="choices">
                    <legend>"Quoi"</legend>
                    {EpisodeKind::ALL.into_iter().map(|k| view! {
                        <label class="choice">
                            <input type="radio" name="episode_kind" prop:checked=move || kind.get() == k
                                on:change=move |_| kind.set(k)/>
                            <span>{k.label_fr()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <div class="field">
                    <label for="episode-on">"Depuis le"</label>
                    <input id="episode-on" type="date" prop:value=on on:input=move |ev| on.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="episode-note">"Note"</label>
                    <textarea id="episode-note" rows="2" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </div>
                <p class="hint">"Le parcours continue : ce n'est pas une sortie."</p>
                <p class="error" role="alert">{move || error.get().map(|e| e.message)}</p>
                <div class="actions">
                    <button type="submit">"Enregistrer l'épisode"</button>
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Annuler"</button>
                </div>
            </form>
        </Show>
    }
}

#[component]
fn ExitForm(
    enrollment: Enrollment,
    /// Held by the section, so a redraw leaves the form open.
    open: RwSignal<bool>,
) -> impl IntoView {
    let Some(programme) = Programme::find(&enrollment.programme_id) else {
        return ().into_any();
    };
    let auth = expect_context::<Auth>();
    let contexts = (auth, expect_context::<SyncState>());
    let reason = RwSignal::new(String::new());
    let exited_on = RwSignal::new(today().to_string());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let build = || -> Result<Exit, FieldError> {
            Ok(Exit {
                id: RecordId::new(),
                patient_id: enrollment.patient_id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends: None,
                enrollment_id: enrollment.id,
                programme_id: programme.id.clone(),
                exited_on: day("exited_on", &exited_on.get_untracked())?,
                reason: reason.get_untracked(),
                note: note.get_untracked().trim().to_string(),
            })
        };
        match build() {
            Ok(exit) => save(contexts, exit, error, move || open.set(false)),
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button type="button" class="secondary" on:click=move |_| open.set(true)>"Sortie du parcours"</button>
        }>
            <form class="item-form" on:submit=submit novalidate aria-label="Sortie du parcours">
                <h3>"Sortie du parcours"</h3>
                <div class="field">
                    <label for="exit-reason">"Motif"</label>
                    <select id="exit-reason" on:change=move |ev| reason.set(event_target_value(&ev))>
                        <option value="">"— Choisir —"</option>
                        {programme.exit_reasons.iter().map(|r| view! {
                            <option value=r.id.clone()>{r.label.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="exited_on">"Date de sortie"</label>
                    <input id="exited_on" type="date" prop:value=exited_on on:input=move |ev| exited_on.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="exit-note">"Note"</label>
                    <textarea id="exit-note" rows="2" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </div>
                <p class="hint">"Rien n'est effacé : le dossier et son historique restent consultables."</p>
                <p class="error" role="alert">{move || error.get().map(|e| e.message)}</p>
                <div class="actions">
                    <button type="submit">"Enregistrer la sortie"</button>
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Annuler"</button>
                </div>
            </form>
        </Show>
    }
    .into_any()
}

/// A filled instrument corrected: the same form with its answers, saved as
/// a new response that amends it (never an overwrite).
#[component]
fn Correction(
    original: InstrumentResponse,
    wordings: Vec<Wording>,
    #[prop(into)] on_done: Callback<()>,
) -> impl IntoView {
    let contexts = (expect_context::<Auth>(), expect_context::<SyncState>());
    let Some(instrument) = original.instrument() else {
        return ().into_any();
    };
    let supplied = wordings
        .iter()
        .find(|w| w.instrument == instrument.id && w.language == instrument.language);
    let Some(worded) = instrument.worded(supplied) else {
        return view! { <p class="hint">"Libellés indisponibles sur cet appareil : correction impossible ici."</p> }.into_any();
    };
    let answers = RwSignal::new(original.answers.clone());
    let mode = RwSignal::new(original.mode);
    let error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (auth, state) = contexts;
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let answers = answers.get_untracked();
        let correction = InstrumentResponse {
            id: RecordId::new(),
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends: Some(original.id),
            mode: mode.get_untracked(),
            scores: instrument.score(&answers),
            answers,
            ..original.clone()
        };
        if let Err(e) = correction.validate_at(now_ms()) {
            error.set(Some(e));
            return;
        }
        leptos::task::spawn_local(async move {
            match sync::save_record(state, me.account_id, &correction).await {
                Ok(()) => on_done.run(()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label="Correction">
            <p class="hint">"La saisie d'origine reste visible : la correction s'ajoute."</p>
            <InstrumentForm worded=worded answers=answers mode=mode/>
            <p class="error" role="alert">{move || error.get().map(|e| e.message)}</p>
            <div class="actions">
                <button type="submit">"Enregistrer la correction"</button>
                <button type="button" class="secondary" on:click=move |_| on_done.run(())>"Annuler"</button>
            </div>
        </form>
    }
    .into_any()
}
