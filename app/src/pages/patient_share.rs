//! "Partagé avec le patient": on the patient's page, a professional writes
//! what the patient will read in their own app — a questionnaire's result
//! or what was decided at a visit, in plain words — and sees what the team
//! shared before, by whom and when. Saved on the device first, like every
//! record; the raw answers and the team's notes are never part of it.

use crate::clock::now_ms;
use crate::components::problems::Problems;
use crate::device_store::Stored;
use crate::format;
use crate::pages::notebook::name_in;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::patient::TeamMember;
use parcours_domain::patient_share::{draft_for, PatientShare};
use parcours_domain::visit::Visit;
use parcours_domain::{FieldError, PatientId, RecordId};
use std::collections::BTreeSet;

/// What a share can be about: a questionnaire or a visit of this patient.
#[derive(Clone, PartialEq)]
struct Subject {
    id: RecordId,
    label: String,
    /// The first draft offered when it is chosen.
    draft: (String, String),
}

#[derive(Clone)]
struct Shares {
    shares: Vec<Stored<PatientShare>>,
    subjects: Vec<Subject>,
    team: Vec<TeamMember>,
}

fn subjects(
    responses: Vec<Stored<InstrumentResponse>>,
    visits: Vec<Stored<Visit>>,
) -> Vec<Subject> {
    let mut all: Vec<(i64, Subject)> = vec![];
    for r in responses.into_iter().map(|s| s.record) {
        let name = r
            .instrument()
            .map(|i| i.name.clone())
            .unwrap_or_else(|| r.instrument_id.clone());
        let draft = draft_for(&r);
        all.push((
            r.recorded_at,
            Subject {
                id: r.id,
                label: format!("{name} du {}", format::date_time(r.recorded_at)),
                draft,
            },
        ));
    }
    for v in visits.into_iter().map(|s| s.record) {
        let when = format::date_time(v.started_at);
        all.push((
            v.started_at,
            Subject {
                id: v.id,
                label: format!(
                    "Visite {} du {when}",
                    v.visit_type.label_fr().to_lowercase()
                ),
                draft: (
                    format!(
                        "Après notre rendez-vous du {}",
                        when.split(' ').next().unwrap_or(&when)
                    ),
                    String::new(),
                ),
            },
        ));
    }
    all.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    all.into_iter().map(|(_, s)| s).collect()
}

#[component]
pub fn PatientShareSection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            Some(Shares {
                shares: store.records_of::<PatientShare>(patient_id).await.ok()?,
                subjects: subjects(
                    store
                        .records_of::<InstrumentResponse>(patient_id)
                        .await
                        .ok()?,
                    store.records_of::<Visit>(patient_id).await.ok()?,
                ),
                team: store.patient(patient_id).await.ok()??.care_team,
            })
        }
    });
    let subjects = Memo::new(move |_| data.get().flatten().map(|d| d.subjects).unwrap_or_default());
    // The share being corrected, if any; the form lives outside the list so
    // a sync that redraws the list never wipes what is being typed.
    let correcting = RwSignal::new(None::<PatientShare>);
    let open = RwSignal::new(false);
    view! {
        <section aria-labelledby="shares-title">
            <h2 id="shares-title">"Partagé avec le patient"</h2>
            <p class="hint">"Le patient lit ces messages dans son application. Les réponses détaillées et les notes de l'équipe ne lui sont pas transmises."</p>
            <Show when=move || open.get() fallback=move || view! {
                <button type="button" class="secondary" on:click=move |_| { correcting.set(None); open.set(true) }>
                    "Partager avec le patient"
                </button>
            }>
                {move || view! { <ShareForm patient_id subjects correcting=correcting.get() open/> }}
            </Show>
            {move || data.get().flatten().map(|d| view! { <ShareList data=d correcting open/> })}
        </section>
    }
}

#[component]
fn ShareForm(
    patient_id: PatientId,
    subjects: Memo<Vec<Subject>>,
    correcting: Option<PatientShare>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let about = RwSignal::new(
        correcting
            .as_ref()
            .and_then(|c| c.about)
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    let title = RwSignal::new(
        correcting
            .as_ref()
            .map(|c| c.title.clone())
            .unwrap_or_default(),
    );
    let message = RwSignal::new(
        correcting
            .as_ref()
            .map(|c| c.message.clone())
            .unwrap_or_default(),
    );
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let amends = correcting.as_ref().map(|c| c.id);
    // Choosing what it is about offers a first draft, unless the person
    // already wrote something of their own.
    let choose = move |value: String| {
        let offered = subjects.with_untracked(|all| {
            all.iter()
                .find(|s| s.id.to_string() == value)
                .map(|s| s.draft.clone())
        });
        about.set(value);
        if let Some((t, m)) = offered {
            let untouched = |text: &str| {
                text.is_empty()
                    || subjects.with_untracked(|all| {
                        all.iter().any(|s| s.draft.0 == text || s.draft.1 == text)
                    })
            };
            if untouched(&title.get_untracked()) {
                title.set(t);
            }
            if untouched(&message.get_untracked()) {
                message.set(m);
            }
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let share = PatientShare {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends,
            about: about.get_untracked().parse().ok(),
            title: title.get_untracked().trim().to_string(),
            message: message.get_untracked().trim().to_string(),
        };
        let problems = share.problems();
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match sync::save_record(state, me.account_id, &share).await {
                Ok(()) => open.set(false),
                Err(e) => errors.set(vec![e]),
            }
        });
    };
    let heading = if amends.is_some() {
        "Corriger le partage"
    } else {
        "Partager avec le patient"
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label=heading>
            <h3>{heading}</h3>
            <div class="field">
                <label for="share-about">"À propos de"</label>
                <select id="share-about" prop:value=about on:change=move |ev| choose(event_target_value(&ev))>
                    <option value="">"Un message, sans questionnaire ni visite"</option>
                    {move || subjects.get().into_iter().map(|s| view! {
                        <option value=s.id.to_string() selected=about.get_untracked() == s.id.to_string()>{s.label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="share-title">"Titre"</label>
                <input id="share-title" type="text" prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="share-message">"Message pour le patient"</label>
                <textarea id="share-message" rows="4" prop:value=message
                    on:input=move |ev| message.set(event_target_value(&ev))></textarea>
                <p class="hint">"Avec des mots simples : c'est exactement ce qu'il lira."</p>
            </div>
            <Problems errors/>
            <div class="actions">
                <button type="submit">"Partager"</button>
                <button type="button" class="secondary" on:click=move |_| open.set(false)>"Annuler"</button>
            </div>
        </form>
    }
}

#[component]
fn ShareList(
    data: Shares,
    correcting: RwSignal<Option<PatientShare>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let me = expect_context::<Auth>()
        .0
        .get_untracked()
        .map(|m| m.account_id);
    let Shares {
        shares,
        subjects,
        team,
    } = data;
    if shares.is_empty() {
        return view! { <p>"Rien n'a encore été partagé avec le patient."</p> }.into_any();
    }
    let corrected: BTreeSet<RecordId> = shares.iter().filter_map(|s| s.record.amends).collect();
    view! {
        <ul class="diary">
            {shares.into_iter().map(|s| {
                let share = s.record;
                let replaced = corrected.contains(&share.id);
                let about = share.about.map(|a| subjects.iter().find(|s| s.id == a).map(|s| s.label.clone())
                    .unwrap_or_else(|| "un enregistrement de l'équipe".into()));
                let mine = Some(share.author_id) == me && !replaced;
                let to_correct = share.clone();
                view! {
                    <li class="diary-entry" class:pending=s.pending class:replaced=replaced
                        aria-label=format!("Partage : {}", share.title)>
                        <h3>{share.title.clone()}</h3>
                        <p class="when">{format!("{} · {}", format::date_time(share.recorded_at), name_in(&team, share.author_id))}</p>
                        {share.amends.is_some().then(|| view! { <p class="badge">"Correction"</p> })}
                        {replaced.then(|| view! { <p class="badge">"Corrigé"</p> })}
                        {about.map(|a| view! { <p class="hint">{format!("À propos de : {a}")}</p> })}
                        <p class="note">{share.message.clone()}</p>
                        <p class="sync-state">{if s.pending { "Sur l'appareil uniquement — en attente d'envoi" } else { "Envoyé : visible dans l'application du patient" }}</p>
                        {mine.then(|| view! {
                            <button type="button" class="secondary" on:click=move |_| {
                                correcting.set(Some(to_correct.clone()));
                                open.set(true);
                            }>"Corriger ce partage"</button>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
