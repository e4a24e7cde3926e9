//! The liaison notebook on the patient's page: write an entry (offline as
//! everything), addressed to named members of the team or to all; read the
//! entries, newest first, with who read those addressed to them; mark as
//! read what was addressed to me. Also what the today screen and the
//! caseload count: the entries addressed to me that I have not read.

use crate::clock::now_ms;
use crate::components::problems::Problems;
use crate::device_store::{DeviceStore, NewRecord, Stored};
use crate::pages::patient::LIST_PAGE;
use crate::sync::{self, SyncState};
use crate::{format, Auth};
use leptos::prelude::*;
use parcours_domain::notebook::{
    unread_for, Decision, MedicationReview, NoteKind, NotebookEntry, NotebookRead,
    RecommendationAnswer,
};
use parcours_domain::patient::TeamMember;
use parcours_domain::{AccountId, FieldError, Patient, PatientId, Profession, RecordId};
use std::collections::BTreeSet;

/// One patient's notebook on this device.
#[derive(Clone)]
pub struct Notebook {
    pub entries: Vec<Stored<NotebookEntry>>,
    pub reads: Vec<Stored<NotebookRead>>,
}

impl Notebook {
    pub async fn load(store: &DeviceStore, patient: PatientId) -> Option<Self> {
        Some(Notebook {
            entries: store.records_of::<NotebookEntry>(patient).await.ok()?,
            reads: store.records_of::<NotebookRead>(patient).await.ok()?,
        })
    }

    /// The entries addressed to `me` I have not read, newest first.
    pub fn unread(&self, me: AccountId) -> Vec<NotebookEntry> {
        let entries: Vec<NotebookEntry> = self.entries.iter().map(|s| s.record.clone()).collect();
        let reads: Vec<NotebookRead> = self.reads.iter().map(|s| s.record.clone()).collect();
        unread_for(me, &entries, &reads)
            .into_iter()
            .cloned()
            .collect()
    }
}

/// "Claire Martin" for an account of the team, else "un membre de l'équipe".
pub fn name_in(team: &[TeamMember], who: AccountId) -> String {
    team.iter()
        .find(|m| m.account_id == who)
        .map(|m| m.display_name.clone())
        .unwrap_or_else(|| "un membre de l'équipe".into())
}

/// Everything unread for me across my caseload, with its patient.
pub async fn unread_everywhere(
    store: &DeviceStore,
    me: AccountId,
) -> Option<Vec<(Patient, NotebookEntry)>> {
    let entries: Vec<NotebookEntry> = store.read_all_of_kind("notebook_entry").await.ok()?;
    let reads: Vec<NotebookRead> = store.read_all_of_kind("notebook_read").await.ok()?;
    let patients = store.patients().await.ok()?;
    let mut all = vec![];
    for e in unread_for(me, &entries, &reads) {
        if let Some(patient) = patients.iter().find(|p| p.id == e.patient_id) {
            all.push((patient.clone(), e.clone()));
        }
    }
    all.sort_by_key(|(_, e)| std::cmp::Reverse(e.recorded_at));
    Some(all)
}

/// The first words of an entry, for a list.
pub fn gist(e: &NotebookEntry) -> String {
    let text = if e.text.is_empty() {
        e.note_kind.label_fr().to_string()
    } else {
        e.text.clone()
    };
    let mut short: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        short.push('…');
    }
    short
}

#[component]
pub fn NotebookSection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            let patient = store.patient(patient_id).await.ok()??;
            let notebook = Notebook::load(&store, patient_id).await?;
            let programme = crate::pages::programme_of(&store, patient_id).await;
            Some((patient, notebook, programme))
        }
    });
    // The form is drawn again only when the team changes, not at every
    // sync or save: what is being typed (and "saved") is never wiped.
    let team = Memo::new(move |_| {
        data.get()
            .flatten()
            .map(|(patient, _, _)| patient.care_team)
    });
    let programme = Memo::new(move |_| data.get().flatten().and_then(|(_, _, p)| p));
    // An answer, a correction or the GP's answers to a medication review:
    // drawn outside the list, which a sync redraws.
    let target = RwSignal::new(None::<Target>);
    let shown = RwSignal::new(LIST_PAGE);
    view! {
        <section aria-labelledby="notebook">
            <h2 id="notebook">"Cahier de liaison"</h2>
            {move || team.get().map(|team| view! {
                <NotebookForm patient_id=patient_id team=team programme=programme.get()/>
            })}
            {move || target.get().map(|t| view! {
                <TargetForm target=t team=team.get_untracked().unwrap_or_default() close=target/>
            })}
            {move || match data.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <p>"Cahier indisponible sur cet appareil."</p> }.into_any(),
                Some(Some((patient, notebook, _))) => view! {
                    <NotebookList patient_id=patient_id team=patient.care_team notebook=notebook target=target shown=shown/>
                }.into_any(),
            }}
        </section>
    }
    .into_any()
}

#[component]
fn NotebookForm(
    patient_id: PatientId,
    team: Vec<TeamMember>,
    /// The patient's programme: what it restricts, and to whom.
    programme: Option<&'static parcours_domain::programme::Programme>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let me = auth.0.get_untracked();
    let my_id = me.as_ref().map(|m| m.account_id);
    let note_kind = RwSignal::new(NoteKind::Observation);
    let text = RwSignal::new(String::new());
    let to = RwSignal::new(BTreeSet::<AccountId>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let saved = RwSignal::new(false);
    // The medication review is the pharmacist's to write.
    let pharmacist = me.as_ref().and_then(|m| m.profession) == Some(Profession::Pharmacist);
    // A kind the patient's programme restricts is offered to its readers only.
    let my_profession = me.as_ref().and_then(|m| m.profession);
    let may_write = move |k: NoteKind| {
        programme
            .and_then(|p| p.note_readers(k.code()))
            .is_none_or(|readers| my_profession.is_some_and(|m| readers.contains(&m)))
    };
    let kinds: Vec<NoteKind> = NoteKind::ALL
        .into_iter()
        .filter(|k| pharmacist || *k != NoteKind::MedicationReview)
        .filter(|k| may_write(*k))
        .collect();
    let medications = RwSignal::new(String::new());
    let findings = RwSignal::new(String::new());
    let recommendations = RwSignal::new(String::new());
    let lines = |s: String| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    let others: Vec<TeamMember> = team
        .into_iter()
        .filter(|m| Some(m.account_id) != my_id)
        .collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let restricted = programme
            .and_then(|p| p.note_readers(note_kind.get_untracked().code()))
            .is_some();
        let entry = NotebookEntry {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends: None,
            note_kind: note_kind.get_untracked(),
            text: text.get_untracked().trim().to_string(),
            addressed_to: to.get_untracked().into_iter().collect(),
            reply_to: None,
            medication_review: (note_kind.get_untracked() == NoteKind::MedicationReview).then(
                || MedicationReview {
                    medications: lines(medications.get_untracked()),
                    findings: findings.get_untracked().trim().to_string(),
                    recommendations: lines(recommendations.get_untracked()),
                },
            ),
            answers: vec![],
            // A restricted kind is written in the patient's programme.
            programme_id: programme.filter(|_| restricted).map(|p| p.id.clone()),
        };
        let problems = entry.problems();
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match sync::save_record(state, me.account_id, &entry).await {
                Ok(()) => {
                    for s in [text, medications, findings, recommendations] {
                        s.set(String::new());
                    }
                    to.set(BTreeSet::new());
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
                .filter(|e| e.field == field)
                .map(|e| view! { <p class="error" role="alert">{e.message}</p> })
                .collect_view()
        }
    };
    view! {
        <form on:submit=submit novalidate aria-label="Nouvelle entrée du cahier de liaison" class="item-form">
            <fieldset class="choices">
                <legend>"Type d'entrée"</legend>
                {kinds.into_iter().map(|k| view! {
                    <label class="choice">
                        <input type="radio" name="note_kind" prop:checked=move || note_kind.get() == k
                            on:change=move |_| note_kind.set(k)/>
                        <span>{k.label_fr()}</span>
                    </label>
                }).collect_view()}
            </fieldset>
            {move || (note_kind.get() == NoteKind::MedicationReview).then(|| view! {
                <div class="field">
                    <label for="review-medications">"Médicaments (un par ligne : nom, dose, rythme)"</label>
                    <textarea id="review-medications" rows="5" prop:value=medications
                        on:input=move |ev| medications.set(event_target_value(&ev))></textarea>
                    {message_for("medication_review.medications")}
                </div>
                <div class="field">
                    <label for="review-findings">"Constats"</label>
                    <textarea id="review-findings" rows="3" prop:value=findings
                        on:input=move |ev| findings.set(event_target_value(&ev))></textarea>
                </div>
                <div class="field">
                    <label for="review-recommendations">"Recommandations au médecin (une par ligne)"</label>
                    <textarea id="review-recommendations" rows="4" prop:value=recommendations
                        on:input=move |ev| recommendations.set(event_target_value(&ev))></textarea>
                    {message_for("medication_review.recommendations")}
                </div>
            })}
            {message_for("medication_review")}
            <div class="field">
                <label for="notebook-text">"Message"</label>
                <textarea id="notebook-text" rows="3" prop:value=text
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                {message_for("text")}
            </div>
            {(!others.is_empty()).then(|| view! {
                <fieldset>
                    <legend>"Adressé à (sinon : à toute l'équipe)"</legend>
                    {others.into_iter().map(|m| {
                        let id = m.account_id;
                        view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=move || to.with(|t| t.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        to.update(|t| { if on { t.insert(id); } else { t.remove(&id); } });
                                    }/>
                                {format!("{} ({})", m.display_name, m.profession_label)}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            })}
            {message_for("addressed_to")}
            {message_for("device")}
            <button type="submit">"Écrire dans le cahier"</button>
            {move || saved.get().then(|| view! {
                <p class="saved" role="status">"Entrée enregistrée sur l'appareil."</p>
            })}
        </form>
    }
}

#[component]
fn NotebookList(
    patient_id: PatientId,
    team: Vec<TeamMember>,
    notebook: Notebook,
    target: RwSignal<Option<Target>>,
    /// How many entries are shown: the section's, so that a sync, which
    /// draws this list again, does not fold what was unfolded.
    shown: RwSignal<usize>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let me = auth.0.get_untracked().map(|m| m.account_id);
    let unread: BTreeSet<RecordId> = me
        .map(|me| notebook.unread(me).into_iter().map(|e| e.id).collect())
        .unwrap_or_default();
    let corrected: BTreeSet<RecordId> = notebook
        .entries
        .iter()
        .filter_map(|s| s.record.amends)
        .collect();
    let count = notebook.entries.len();
    let mut entries = notebook.entries.clone();
    entries.sort_by_key(|s| std::cmp::Reverse(s.record.recorded_at));
    let reads = notebook.reads.clone();
    let mark_read = move |entry: RecordId| {
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let receipt = NotebookRead {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends: None,
            entry_id: entry,
        };
        leptos::task::spawn_local(async move {
            if let Ok(record) = NewRecord::of(&receipt) {
                let _ = sync::save(state, me.account_id, &[record]).await;
            }
        });
    };
    // What each entry says in brief, for the answers that name it.
    let gists: std::collections::HashMap<RecordId, (AccountId, String)> = entries
        .iter()
        .map(|s| (s.record.id, (s.record.author_id, gist(&s.record))))
        .collect();
    // The GP's answer to each recommendation, shown under it: the latest
    // answer wins (a later one changes his mind, the earlier stays in the
    // thread below).
    let mut answered: std::collections::HashMap<(RecordId, u32), (i64, String)> =
        std::collections::HashMap::new();
    for s in &entries {
        let (Some(review), e) = (s.record.reply_to, &s.record) else {
            continue;
        };
        for a in &e.answers {
            let said = format!(
                "{} par {}{}",
                a.decision.label_fr(),
                name_in(&team, e.author_id),
                if a.reason.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", a.reason)
                }
            );
            let slot = answered
                .entry((review, a.recommendation))
                .or_insert((i64::MIN, String::new()));
            if e.recorded_at >= slot.0 {
                *slot = (e.recorded_at, said);
            }
        }
    }
    let entries = StoredValue::new(entries);
    let unread_count = unread.len();
    view! {
        {(unread_count > 0).then(|| view! {
            <p class="reminder" role="status">{format!("{unread_count} message(s) pour vous non lu(s)")}</p>
        })}
        {(count == 0).then(|| view! { <p>"Le cahier est vide."</p> })}
        <ul class="diary" aria-label="Entrées du cahier de liaison">
            {move || entries.with_value(|all| all.iter().take(shown.get()).map(|s| {
                let e = s.record.clone();
                let id = e.id;
                let is_unread = unread.contains(&id);
                let readers: Vec<String> = reads
                    .iter()
                    .filter(|r| r.record.entry_id == id)
                    .map(|r| format!("{} le {}", name_in(&team, r.record.author_id), format::date_time(r.record.recorded_at)))
                    .collect();
                let to: Vec<String> = e.addressed_to.iter().map(|a| name_in(&team, *a)).collect();
                view! {
                    <li class="diary-entry" class:pending=s.pending class:replaced=corrected.contains(&id)
                        aria-label=format!("{} de {}", e.note_kind.label_fr(), name_in(&team, e.author_id))>
                        <p class="when">{format!("{} · {} · {}", format::date_time(e.recorded_at), name_in(&team, e.author_id), e.note_kind.label_fr())}</p>
                        {e.amends.is_some().then(|| view! { <p class="badge">"Correction"</p> })}
                        {corrected.contains(&id).then(|| view! { <p class="badge">"Corrigée"</p> })}
                        {is_unread.then(|| view! { <p class="badge unread">"Non lu"</p> })}
                        <p>{if to.is_empty() { "Pour : toute l'équipe".to_string() } else { format!("Pour : {}", to.join(", ")) }}</p>
                        {e.reply_to.and_then(|r| gists.get(&r)).map(|(who, said)| view! {
                            <p class="hint">{format!("En réponse à {} : « {said} »", name_in(&team, *who))}</p>
                        })}
                        {(!e.text.is_empty()).then(|| view! { <p class="note">{e.text.clone()}</p> })}
                        {e.medication_review.as_ref().map(|r| view! {
                            <p>{format!("Médicaments : {}", r.medications.join(" ; "))}</p>
                            {(!r.findings.is_empty()).then(|| view! { <p>{format!("Constats : {}", r.findings)}</p> })}
                            <ol aria-label="Recommandations">{r.recommendations.iter().enumerate().map(|(i, t)| {
                                let answer = answered.get(&(id, i as u32 + 1)).map(|(_, said)| said.clone());
                                view! {
                                    <li>{t.clone()}
                                        <br/><span class="sync-state">{answer.unwrap_or_else(|| "Sans réponse du médecin".to_string())}</span>
                                    </li>
                                }
                            }).collect_view()}</ol>
                        })}
                        {e.answers.iter().map(|a| view! {
                            <p>{format!("Recommandation {} : {}{}", a.recommendation, a.decision.label_fr(),
                                if a.reason.is_empty() { String::new() } else { format!(" — {}", a.reason) })}</p>
                        }).collect_view()}
                        {(!readers.is_empty()).then(|| view! { <p class="sync-state">{format!("Lu par {}", readers.join(", "))}</p> })}
                        {s.pending.then(|| view! { <p class="sync-state">"Sur l'appareil uniquement — en attente d'envoi"</p> })}
                        <div class="actions">
                            {is_unread.then(|| view! {
                                <button type="button" class="secondary" on:click=move |_| mark_read(id)>"Marquer comme lu"</button>
                            })}
                            {
                                let e = e.clone();
                                let answerable = e.medication_review.is_some() && Some(e.author_id) != me && auth.0.get_untracked().is_some_and(|m| m.profession == Some(Profession::GeneralPractitioner));
                                let mine = Some(e.author_id) == me && !corrected.contains(&id);
                                let (reply, correct, answer) = (e.clone(), e.clone(), e);
                                view! {
                                    <button type="button" class="secondary" on:click=move |_| target.set(Some(Target { entry: reply.clone(), mode: Mode::Reply }))>"Répondre"</button>
                                    {mine.then(|| view! {
                                        <button type="button" class="secondary" on:click=move |_| target.set(Some(Target { entry: correct.clone(), mode: Mode::Correct }))>"Corriger"</button>
                                    })}
                                    {answerable.then(|| view! {
                                        <button type="button" class="secondary" on:click=move |_| target.set(Some(Target { entry: answer.clone(), mode: Mode::Answer }))>"Répondre aux recommandations"</button>
                                    })}
                                }
                            }
                        </div>
                    </li>
                }
            }).collect_view())}
        </ul>
        {move || (shown.get() < count).then(|| view! {
            <button type="button" class="secondary" on:click=move |_| shown.update(|n| *n += LIST_PAGE)>
                {format!("Afficher plus ({} sur {count})", shown.get())}
            </button>
        })}
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Reply,
    Correct,
    Answer,
}

/// The entry an answer, a correction or the GP's answers are about.
#[derive(Clone, PartialEq)]
pub struct Target {
    entry: NotebookEntry,
    mode: Mode,
}

#[component]
fn TargetForm(
    target: Target,
    team: Vec<TeamMember>,
    close: RwSignal<Option<Target>>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let Target { entry, mode } = target;
    let text = RwSignal::new(if mode == Mode::Correct {
        entry.text.clone()
    } else {
        String::new()
    });
    let recommendations: Vec<String> = entry
        .medication_review
        .as_ref()
        .map(|r| r.recommendations.clone())
        .unwrap_or_default();
    let decisions: Vec<(RwSignal<Option<Decision>>, RwSignal<String>)> = recommendations
        .iter()
        .map(|_| (RwSignal::new(None), RwSignal::new(String::new())))
        .collect();
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let author = name_in(&team, entry.author_id);
    let title = match mode {
        Mode::Reply => format!("Répondre à {author}"),
        Mode::Correct => "Corriger mon entrée".to_string(),
        Mode::Answer => format!("Répondre aux recommandations de {author}"),
    };
    let area = NodeRef::<leptos::html::Textarea>::new();
    // Where the person's eyes and screen reader go next.
    Effect::new(move |_| {
        if let Some(el) = area.get() {
            let _ = el.focus();
        }
    });
    let decisions_for_submit = decisions.clone();
    let entry_for_submit = entry.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let original = &entry_for_submit;
        let mut problems = vec![];
        let answers: Vec<RecommendationAnswer> = if mode == Mode::Answer {
            decisions_for_submit
                .iter()
                .enumerate()
                .filter_map(|(i, (decision, reason))| match decision.get_untracked() {
                    Some(decision) => Some(RecommendationAnswer {
                        recommendation: i as u32 + 1,
                        decision,
                        reason: reason.get_untracked().trim().to_string(),
                    }),
                    None => {
                        problems.push(FieldError::new(
                            format!("answers[{i}].decision"),
                            format!("Recommandation {} : choisissez une réponse.", i + 1),
                        ));
                        None
                    }
                })
                .collect()
        } else {
            vec![]
        };
        let new = match mode {
            Mode::Correct => NotebookEntry {
                id: RecordId::new(),
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends: Some(original.id),
                text: text.get_untracked().trim().to_string(),
                ..original.clone()
            },
            Mode::Reply | Mode::Answer => NotebookEntry {
                id: RecordId::new(),
                patient_id: original.patient_id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends: None,
                // An answer to a restricted note is restricted alike.
                note_kind: if original.programme_id.is_some() {
                    original.note_kind
                } else {
                    NoteKind::Information
                },
                text: text.get_untracked().trim().to_string(),
                addressed_to: vec![original.author_id],
                reply_to: Some(original.id),
                medication_review: None,
                answers,
                programme_id: original.programme_id.clone(),
            },
        };
        problems.extend(new.problems());
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match sync::save_record(state, me.account_id, &new).await {
                Ok(()) => close.set(None),
                Err(e) => errors.set(vec![e]),
            }
        });
    };
    let label = title.clone();
    view! {
        <form on:submit=submit novalidate aria-label=label class="item-form">
            <h3>{title}</h3>
            <p class="hint">{format!("« {} »", gist(&entry))}</p>
            {(mode == Mode::Answer).then(|| recommendations.iter().zip(decisions.clone()).enumerate().map(|(i, (text, (decision, reason)))| view! {
                <fieldset class="choices">
                    <legend>{format!("Recommandation {} : {text}", i + 1)}</legend>
                    {Decision::ALL.into_iter().map(|d| view! {
                        <label class="choice">
                            <input type="radio" name=format!("decision-{i}") prop:checked=move || decision.get() == Some(d)
                                on:change=move |_| decision.set(Some(d))/>
                            <span>{d.label_fr()}</span>
                        </label>
                    }).collect_view()}
                    <label class="field">{format!("Raison (recommandation {})", i + 1)}
                        <input prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                    </label>
                </fieldset>
            }).collect_view())}
            <div class="field">
                <label for="target-text">{if mode == Mode::Answer { "Commentaire (facultatif)" } else { "Message" }}</label>
                <textarea id="target-text" rows="3" node_ref=area prop:value=text
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </div>
            <Problems errors/>
            <div class="actions">
                <button type="submit">"Enregistrer"</button>
                <button type="button" class="secondary" on:click=move |_| close.set(None)>"Annuler"</button>
            </div>
        </form>
    }
}
