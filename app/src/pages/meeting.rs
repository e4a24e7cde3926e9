//! Synthesis meetings: "Réunions de synthèse" lists the meetings this
//! device knows and prepares a new one (a date, the attendees, the patients
//! on the agenda); a meeting's page has each patient's sheet — every
//! attendee's view, written beforehand, offline — and is finalised there:
//! the situation, the decision taken together, the patient's position and
//! the next steps, which become items of the patient's plan. It prints.

use crate::clock::{now_ms, today};
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::components::problems::Problems;
use crate::device_store::{DeviceStore, NewRecord};
use crate::format;
use crate::pages::notebook::name_in;
use crate::pages::pps::queue;
use crate::pages::require_sign_in;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use parcours_domain::care_plan::{CarePlanItem, FieldChange, ItemStatus};
use parcours_domain::date::CalendarDate;
use parcours_domain::meeting::{MeetingContribution, MeetingReport, MeetingSheet, MeetingStep};
use parcours_domain::patient::TeamMember;
use parcours_domain::{AccountId, FieldError, ItemId, Patient, PatientId, RecordId};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug)]
pub struct MeetingsRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for MeetingsRoute {
    fn data() -> Self {
        MeetingsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Meetings/> }.into_any()
    }
}

#[derive(Debug)]
pub struct MeetingRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for MeetingRoute {
    fn data() -> Self {
        MeetingRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Meeting/> }.into_any()
    }
}

/// The meetings on this device: their sheets grouped by meeting, soonest
/// first.
async fn meetings(store: &DeviceStore) -> Option<Vec<Vec<MeetingSheet>>> {
    let sheets: Vec<MeetingSheet> = store.read_all_of_kind("meeting_sheet").await.ok()?;
    let mut by_meeting: BTreeMap<Uuid, Vec<MeetingSheet>> = BTreeMap::new();
    for s in sheets {
        by_meeting.entry(s.meeting_id).or_default().push(s);
    }
    let mut all: Vec<Vec<MeetingSheet>> = by_meeting.into_values().collect();
    all.sort_by_key(|m| m[0].held_on);
    Some(all)
}

#[component]
fn Meetings() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            Some((meetings(&store).await?, store.patients().await.ok()?))
        }
    });
    let patients = Memo::new(move |_| data.get().flatten().map(|d| d.1).unwrap_or_default());
    let preparing = RwSignal::new(false);
    view! {
        <Header/>
        <main>
            <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
            <PageHeading text="Réunions de synthèse"/>
            <Show when=move || preparing.get() fallback=move || view! {
                <button type="button" on:click=move |_| preparing.set(true)>"Préparer une réunion"</button>
            }>
                <NewMeeting patients preparing/>
            </Show>
            {move || data.get().flatten().map(|(all, patients)| {
                if all.is_empty() {
                    return view! { <p>"Aucune réunion sur cet appareil."</p> }.into_any();
                }
                view! {
                    <ul class="diary" aria-label="Réunions">
                        {all.into_iter().map(|sheets| {
                            let first = &sheets[0];
                            let names: Vec<String> = sheets.iter()
                                .filter_map(|s| patients.iter().find(|p| p.id == s.patient_id).map(Patient::display_name))
                                .collect();
                            view! {
                                <li class="diary-entry">
                                    <A href=format!("/reunions/{}", first.meeting_id)>{format!("{} — {}", first.held_on.french(), first.title)}</A>
                                    <p>{format!("Patients : {}", names.join(", "))}</p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </main>
    }
}

#[component]
fn NewMeeting(patients: Memo<Vec<Patient>>, preparing: RwSignal<bool>) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let navigate = use_navigate();
    let title = RwSignal::new(String::new());
    let held_on = RwSignal::new(today().to_string());
    let agenda = RwSignal::new(Vec::<PatientId>::new());
    let attendees = RwSignal::new(Vec::<AccountId>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    // Who can attend: the members of the teams of the patients chosen.
    let people = Memo::new(move |_| {
        let chosen = agenda.get();
        let mut all: Vec<TeamMember> = vec![];
        for p in patients.get().iter().filter(|p| chosen.contains(&p.id)) {
            for m in &p.care_team {
                if !all.iter().any(|a| a.account_id == m.account_id) {
                    all.push(m.clone());
                }
            }
        }
        all
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let mut problems = vec![];
        let chosen = agenda.get_untracked();
        if chosen.is_empty() {
            problems.push(FieldError::new("agenda", "Choisissez au moins un patient."));
        }
        let held: Option<CalendarDate> = held_on.get_untracked().parse().ok();
        if held.is_none() {
            problems.push(FieldError::new("held_on", "Date invalide."));
        }
        let meeting_id = Uuid::now_v7();
        let all_patients = patients.get_untracked();
        let mut sheets = vec![];
        for patient in all_patients.iter().filter(|p| chosen.contains(&p.id)) {
            // Each sheet travels to its patient's team: an attendee must be in it.
            for a in attendees.get_untracked() {
                if !patient.care_team.iter().any(|m| m.account_id == a) {
                    problems.push(FieldError::new(
                        "attendees",
                        format!(
                            "{} n'est pas dans l'équipe de soins de {}.",
                            name_in(&people.get_untracked(), a),
                            patient.display_name()
                        ),
                    ));
                }
            }
            let sheet = MeetingSheet {
                id: RecordId::new(),
                patient_id: patient.id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends: None,
                meeting_id,
                title: title.get_untracked().trim().to_string(),
                held_on: held.unwrap_or_else(today),
                programme_id: None,
                attendees: attendees.get_untracked(),
            };
            if sheets.is_empty() {
                problems.extend(sheet.problems());
            }
            sheets.push(sheet);
        }
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let records: Result<Vec<NewRecord>, _> = sheets.iter().map(NewRecord::of).collect();
            let saved = match records {
                Ok(r) => sync::save(state, me.account_id, &r).await,
                Err(e) => Err(e),
            };
            match saved {
                Ok(()) => {
                    preparing.set(false);
                    navigate(&format!("/reunions/{meeting_id}"), Default::default());
                }
                Err(e) => errors.set(vec![sync::not_saved(e)]),
            }
        });
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label="Nouvelle réunion de synthèse">
            <h2>"Nouvelle réunion de synthèse"</h2>
            <div class="field">
                <label for="meeting-title">"Titre"</label>
                <input id="meeting-title" type="text" prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="meeting-on">"Date"</label>
                <input id="meeting-on" type="date" prop:value=held_on on:input=move |ev| held_on.set(event_target_value(&ev))/>
            </div>
            <fieldset class="choices">
                <legend>"Patients à l'ordre du jour"</legend>
                {move || patients.get().into_iter().map(|p| {
                    let id = p.id;
                    view! {
                        <label class="choice">
                            <input type="checkbox" prop:checked=move || agenda.get().contains(&id)
                                on:change=move |_| agenda.update(|a| if a.contains(&id) { a.retain(|x| *x != id) } else { a.push(id) })/>
                            <span>{p.display_name()}</span>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset class="choices">
                <legend>"Participants"</legend>
                {move || people.get().into_iter().map(|m| {
                    let id = m.account_id;
                    view! {
                        <label class="choice">
                            <input type="checkbox" prop:checked=move || attendees.get().contains(&id)
                                on:change=move |_| attendees.update(|a| if a.contains(&id) { a.retain(|x| *x != id) } else { a.push(id) })/>
                            <span>{format!("{} ({})", m.display_name, m.profession_label)}</span>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <Problems errors/>
            <div class="actions">
                <button type="submit">"Créer la réunion"</button>
                <button type="button" class="secondary" on:click=move |_| preparing.set(false)>"Annuler"</button>
            </div>
        </form>
    }
}

/// What is being written on one sheet, kept by the meeting's page so a
/// sync that redraws the sheets never wipes it (reference-counted signals:
/// they outlive the redrawn views that use them).
#[derive(Clone)]
struct Draft {
    view: ArcRwSignal<String>,
    situation: ArcRwSignal<String>,
    decision: ArcRwSignal<String>,
    position: ArcRwSignal<String>,
    steps: ArcRwSignal<Vec<StepFields>>,
}

impl Draft {
    fn new() -> Self {
        Draft {
            view: ArcRwSignal::new(String::new()),
            situation: ArcRwSignal::new(String::new()),
            decision: ArcRwSignal::new(String::new()),
            position: ArcRwSignal::new(String::new()),
            steps: ArcRwSignal::new(vec![]),
        }
    }
}

/// One patient's sheet with what was written on it.
#[derive(Clone, PartialEq)]
struct Sheet {
    sheet: MeetingSheet,
    patient: Patient,
    views: Vec<MeetingContribution>,
    report: Option<MeetingReport>,
}

#[component]
fn Meeting() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let params = use_params_map();
    let meeting_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok()));
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        let id = meeting_id();
        async move {
            let (me, id) = (me?, id?);
            let store = sync::store(me.account_id).await.ok()?;
            let sheets: Vec<MeetingSheet> = meetings(&store)
                .await?
                .into_iter()
                .find(|m| m[0].meeting_id == id)?;
            let mut out = vec![];
            for sheet in sheets {
                let patient = store.patient(sheet.patient_id).await.ok()??;
                let views: Vec<MeetingContribution> = store
                    .records_of::<MeetingContribution>(sheet.patient_id)
                    .await
                    .ok()?
                    .into_iter()
                    .map(|s| s.record)
                    .filter(|c| c.sheet_id == sheet.id)
                    .collect();
                // The sheet's report as last corrected (a correction amends).
                let reports: Vec<MeetingReport> = store
                    .records_of::<MeetingReport>(sheet.patient_id)
                    .await
                    .ok()?
                    .into_iter()
                    .map(|s| s.record)
                    .filter(|r| r.sheet_id == sheet.id)
                    .collect();
                let report = reports
                    .iter()
                    .filter(|r| !reports.iter().any(|c| c.amends == Some(r.id)))
                    .max_by_key(|r| r.recorded_at)
                    .cloned();
                out.push(Sheet {
                    sheet,
                    patient,
                    views,
                    report,
                });
            }
            Some(out)
        }
    });
    // The sheets as last read, redrawn only when they differ: a sync that
    // brought nothing for this meeting must not replace the form being
    // typed in (its field would lose the focus, and a keystroke with it).
    let data = Memo::new(move |previous: Option<&Option<Option<Vec<Sheet>>>>| {
        data.get().or_else(|| previous.cloned().flatten())
    });
    // Which sheet's forms are open and what they hold, by sheet id:
    // outside the redrawn list.
    let finalising = RwSignal::new(None::<RecordId>);
    let drafts = StoredValue::new(BTreeMap::<RecordId, Draft>::new());
    let draft = move |sheet: RecordId| {
        drafts
            .try_update_value(|all| all.entry(sheet).or_insert_with(Draft::new).clone())
            .unwrap_or_else(Draft::new)
    };
    let print = move |_| {
        let _ = window().print();
    };
    view! {
        <Header/>
        <main class="meeting">
            <nav aria-label="Fil d'Ariane"><A href="/reunions">"← Réunions de synthèse"</A></nav>
            {move || match data.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <PageHeading text="Réunion introuvable sur cet appareil"/> }.into_any(),
                Some(Some(sheets)) => {
                    let first = sheets[0].sheet.clone();
                    let everyone: Vec<TeamMember> = sheets.iter().flat_map(|s| s.patient.care_team.clone()).collect();
                    let names: Vec<String> = first.attendees.iter().map(|a| name_in(&everyone, *a)).collect();
                    view! {
                        <PageHeading text=first.title.clone()/>
                        <p>{format!("Le {} · participants : {}", first.held_on.french(), names.join(", "))}</p>
                        <button type="button" class="secondary no-print" on:click=print>"Imprimer"</button>
                        {sheets.into_iter().map(|s| {
                            let draft = draft(s.sheet.id);
                            view! { <SheetView s finalising draft/> }
                        }).collect_view()}
                    }.into_any()
                }
            }}
        </main>
    }
}

#[component]
fn SheetView(s: Sheet, finalising: RwSignal<Option<RecordId>>, draft: Draft) -> impl IntoView {
    let me = expect_context::<Auth>()
        .0
        .get_untracked()
        .map(|m| m.account_id);
    let team = s.patient.care_team.clone();
    let attending = me.is_some_and(|m| s.sheet.attendees.contains(&m));
    let sheet_id = s.sheet.id;
    let patient_id = s.patient.id;
    let heading = s.patient.display_name();
    let wrote = me.is_some_and(|m| s.views.iter().any(|v| v.author_id == m));
    let team_for_form = team.clone();
    view! {
        <section class="sheet" aria-label=format!("Fiche de {heading}")>
            <h2>{heading.clone()}</h2>
            <h3>"Points de vue"</h3>
            {s.views.is_empty().then(|| view! { <p>"Aucun point de vue préparé."</p> })}
            <ul>
                {s.views.iter().map(|v| view! {
                    <li>{format!("{} : {}", name_in(&team, v.author_id), v.view)}</li>
                }).collect_view()}
            </ul>
            {match s.report.clone() {
                Some(r) => view! {
                    <h3>"Compte rendu"</h3>
                    {r.amends.is_some().then(|| view! { <p class="badge">"Corrigé"</p> })}
                    {(!r.situation.is_empty()).then(|| view! { <p>{format!("Situation : {}", r.situation)}</p> })}
                    <p>{format!("Décision : {}", r.decision)}</p>
                    <p>{format!("Position du patient : {}", r.patient_position)}</p>
                    <ul aria-label=format!("Étapes pour {heading}")>
                        {r.steps.iter().map(|st| view! {
                            <li>{format!("{} — {}{}", st.title, name_in(&team, st.owner_id),
                                st.due_on.map(|d| format!(", avant le {}", d.french())).unwrap_or_default())}</li>
                        }).collect_view()}
                    </ul>
                    <p class="when">{format!("{} le {} par {}", if r.amends.is_some() { "Corrigé" } else { "Finalisé" },
                        format::date_time(r.recorded_at), name_in(&team, r.author_id))}</p>
                    {attending.then(|| {
                        let (r, draft, team) = (r.clone(), draft.clone(), team_for_form.clone());
                        let start = {
                            let (r, draft) = (r.clone(), draft.clone());
                            move |_| {
                                draft.situation.set(r.situation.clone());
                                draft.decision.set(r.decision.clone());
                                draft.position.set(r.patient_position.clone());
                                draft.steps.set(vec![]);
                                finalising.set(Some(sheet_id));
                            }
                        };
                        view! {
                            <Show when=move || finalising.get() == Some(sheet_id) fallback=move || {
                                let start = start.clone();
                                view! { <button type="button" class="secondary no-print" on:click=start>"Corriger le compte rendu"</button> }
                            }>
                                <ReportForm patient_id sheet_id team=team.clone() finalising draft=draft.clone() correcting=r.clone()/>
                            </Show>
                        }
                    })}
                }.into_any(),
                // Only the meeting's attendees write on its sheets.
                None => attending.then(|| view! {
                    {(!wrote).then(|| view! { <ViewForm patient_id sheet_id heading=heading.clone() text=draft.view.clone()/> })}
                    <Show when=move || finalising.get() == Some(sheet_id) fallback=move || view! {
                        <button type="button" class="secondary no-print" on:click=move |_| finalising.set(Some(sheet_id))>"Finaliser la fiche"</button>
                    }>
                        <ReportForm patient_id sheet_id team=team_for_form.clone() finalising draft=draft.clone()/>
                    </Show>
                }).into_any(),
            }}
        </section>
    }
}

#[component]
fn ViewForm(
    patient_id: PatientId,
    sheet_id: RecordId,
    heading: String,
    text: ArcRwSignal<String>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let (read, shown, typed) = (text.clone(), text.clone(), text);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let part = MeetingContribution {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends: None,
            sheet_id,
            view: read.get_untracked().trim().to_string(),
        };
        let problems = part.problems();
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Err(e) = sync::save_record(state, me.account_id, &part).await {
                errors.set(vec![e]);
            }
        });
    };
    let label = format!("Mon point de vue — {heading}");
    let id = format!("view-{sheet_id}");
    view! {
        <form class="item-form no-print" on:submit=submit novalidate aria-label=format!("Ma préparation — {heading}")>
            <div class="field">
                <label for=id.clone()>{label}</label>
                <textarea id=id rows="3" prop:value=move || shown.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))></textarea>
            </div>
            {move || errors.get().into_iter().next().map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
            <button type="submit">"Enregistrer mon point de vue"</button>
        </form>
    }
}

/// One step being written: what, who, by when.
#[derive(Clone)]
struct StepFields {
    title: ArcRwSignal<String>,
    owner: ArcRwSignal<String>,
    due_on: ArcRwSignal<String>,
}

/// A text area bound to a draft's text.
fn area(id: String, label: &'static str, value: ArcRwSignal<String>) -> impl IntoView {
    let shown = value.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea id=id rows="2" prop:value=move || shown.get()
                on:input=move |ev| value.set(event_target_value(&ev))></textarea>
        </div>
    }
}

/// An input bound to a draft's text.
fn input(
    id: String,
    label: String,
    kind: &'static str,
    value: ArcRwSignal<String>,
) -> impl IntoView {
    let shown = value.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type=kind prop:value=move || shown.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}

#[component]
fn ReportForm(
    patient_id: PatientId,
    sheet_id: RecordId,
    team: Vec<TeamMember>,
    finalising: RwSignal<Option<RecordId>>,
    draft: Draft,
    /// The report this one corrects: its steps stay (they are plan items,
    /// changed in the plan); new ones may be added.
    #[prop(optional)]
    correcting: Option<MeetingReport>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let amends = correcting.as_ref().map(|r| r.id);
    let kept: Vec<MeetingStep> = correcting.map(|r| r.steps).unwrap_or_default();
    let kept_for_submit = kept.clone();
    let first_owner = team
        .first()
        .map(|m| m.account_id.to_string())
        .unwrap_or_default();
    let steps = draft.steps.clone();
    let add_step = move |_| {
        steps.update(|s| {
            s.push(StepFields {
                title: ArcRwSignal::new(String::new()),
                owner: ArcRwSignal::new(first_owner.clone()),
                due_on: ArcRwSignal::new(String::new()),
            })
        })
    };
    let for_submit = draft.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let draft = for_submit.clone();
        let mut problems = vec![];
        let mut made = vec![];
        let before = kept_for_submit.len();
        for (i, f) in draft.steps.get_untracked().iter().enumerate() {
            let owner = f.owner.get_untracked().parse::<AccountId>();
            let due = f.due_on.get_untracked();
            let due_on = due.parse::<CalendarDate>().ok();
            let (field, n) = (before + i, before + i + 1);
            if owner.is_err() {
                problems.push(FieldError::new(
                    format!("steps[{field}].owner_id"),
                    format!("Étape {n} : choisissez un·e responsable."),
                ));
            }
            if !due.is_empty() && due_on.is_none() {
                problems.push(FieldError::new(
                    format!("steps[{field}].due_on"),
                    format!("Étape {n} : date invalide."),
                ));
            }
            made.push(MeetingStep {
                item_id: ItemId::new(),
                title: f.title.get_untracked().trim().to_string(),
                owner_id: owner.unwrap_or(me.account_id),
                due_on,
            });
        }
        let report = MeetingReport {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends,
            sheet_id,
            situation: draft.situation.get_untracked().trim().to_string(),
            decision: draft.decision.get_untracked().trim().to_string(),
            patient_position: draft.position.get_untracked().trim().to_string(),
            steps: kept_for_submit.iter().cloned().chain(made).collect(),
        };
        problems.extend(report.problems());
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        let new_steps = draft.steps.clone();
        leptos::task::spawn_local(async move {
            // The new steps first, as the plan's items: a report never names
            // an item the device does not have.
            for step in &report.steps[before..] {
                let item = CarePlanItem::blank(step.item_id, patient_id, step.owner_id);
                let changes = vec![
                    FieldChange::Title(step.title.clone()),
                    FieldChange::Owner(step.owner_id),
                    FieldChange::Status(ItemStatus::Proposed),
                    FieldChange::EndsOn(step.due_on.map(|d| d.to_string())),
                ];
                if let Err(e) = queue((auth, state), &item, 0, changes, vec![]).await {
                    errors.set(vec![e]);
                    return;
                }
            }
            match sync::save_record(state, me.account_id, &report).await {
                Ok(()) => {
                    new_steps.set(vec![]);
                    finalising.set(None);
                }
                Err(e) => errors.set(vec![e]),
            }
        });
    };
    let steps = draft.steps.clone();
    let (label, submit_label) = if amends.is_some() {
        ("Corriger le compte rendu", "Enregistrer la correction")
    } else {
        ("Finaliser la fiche", "Finaliser")
    };
    let first_new = kept.len();
    view! {
        <form class="item-form no-print" on:submit=submit novalidate aria-label=label>
            {area(format!("situation-{sheet_id}"), "Situation depuis la dernière réunion", draft.situation.clone())}
            {area(format!("decision-{sheet_id}"), "Décision prise ensemble", draft.decision.clone())}
            {area(format!("position-{sheet_id}"), "Position du patient", draft.position.clone())}
            <h3>"Prochaines étapes"</h3>
            {(!kept.is_empty()).then(|| view! {
                <p class="hint">"Déjà décidées (elles se modifient dans le plan de soins) :"</p>
                <ul>{kept.iter().map(|st| view! { <li>{st.title.clone()}</li> }).collect_view()}</ul>
            })}
            {move || steps.get().into_iter().enumerate().map(|(i, f)| {
                let n = first_new + i + 1;
                let team = team.clone();
                let (owner_shown, owner_set) = (f.owner.clone(), f.owner.clone());
                view! {
                    <fieldset class="step">
                        <legend>{format!("Étape {n}")}</legend>
                        {input(format!("step-title-{sheet_id}-{n}"), format!("Étape {n} : quoi"), "text", f.title.clone())}
                        <div class="field">
                            <label for=format!("step-owner-{sheet_id}-{n}")>{format!("Étape {n} : responsable")}</label>
                            <select id=format!("step-owner-{sheet_id}-{n}") prop:value=move || owner_shown.get()
                                on:change=move |ev| owner_set.set(event_target_value(&ev))>
                                {team.into_iter().map(|m| view! {
                                    <option value=m.account_id.to_string()>{format!("{} ({})", m.display_name, m.profession_label)}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        {input(format!("step-due-{sheet_id}-{n}"), format!("Étape {n} : avant le"), "date", f.due_on.clone())}
                    </fieldset>
                }
            }).collect_view()}
            <button type="button" class="secondary" on:click=add_step>"Ajouter une étape"</button>
            <Problems errors/>
            <div class="actions">
                <button type="submit">{submit_label}</button>
                <button type="button" class="secondary" on:click=move |_| finalising.set(None)>"Annuler"</button>
            </div>
        </form>
    }
}
