//! The parts of the personalised care plan (PPS) beyond its items: the
//! plan itself (coordinator, IRDP, the patient's expectations and
//! priorities), problems, shared objectives and review points. Each is an
//! editable kind of the mutation lane, edited by several people offline.
//!
//! One set of screens serves them all: a kind says how it shows ([`Shown`]:
//! its inputs, how a value reads) and gets a list of cards, an add/edit form
//! that sends only what changed, the owner's one-tap conflict settling and
//! the history. Adding an editable kind to the plan is implementing `Shown`.

use crate::clock;
use crate::components::problems::Problems;
use crate::format;
use crate::pages::item_history::{Describe, ItemHistory, Label};
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::appointment::{
    Appointment, AppointmentChange, AppointmentField, AppointmentStatus,
};
use parcours_domain::care_plan::CarePlan;
use parcours_domain::date::CalendarDate;
use parcours_domain::merge::{with_pending, Conflict, Editable, MutationOf, StateOf};
use parcours_domain::objective::{Objective, ObjectiveChange, ObjectiveField, ObjectiveStatus};
use parcours_domain::patient::TeamMember;
use parcours_domain::problem::{
    Priority, Problem, ProblemChange, ProblemDomain, ProblemField, ProblemStatus,
};
use parcours_domain::programme::Programme;
use parcours_domain::review::{Review, ReviewChange, ReviewField, ReviewStatus};
use parcours_domain::visit::VisitKind;
use parcours_domain::{AccountId, FieldError, ItemId, PatientId};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How a field is entered.
#[derive(Clone, Copy)]
pub enum Widget {
    Text,
    LongText,
    Date,
    /// One of (code, label).
    Choice(fn() -> Vec<(String, String)>),
    /// One of a programme's own (code, label): those of the patient's
    /// programme when the section knows it (`PatientProgramme`), every
    /// programme's otherwise; a value the item already has stays offered.
    ProgrammeChoice(fn(&Programme) -> Vec<(String, String)>),
    /// A member of the care team; `optional`: "— Personne —" allowed.
    Member {
        optional: bool,
    },
    /// Several members of the care team.
    Members,
}

/// One input of a kind's form: the field, and its value as the form's text.
pub struct Input<E: Editable> {
    pub field: E::Field,
    pub label: &'static str,
    pub widget: Widget,
    /// The item's value as the form's text.
    pub read: fn(&E) -> String,
    /// The form's text as a change, or why not (in French).
    pub change: fn(&str) -> Result<E::Change, String>,
}

impl<E: Editable> Clone for Input<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E: Editable> Copy for Input<E> {}

/// How an editable kind shows on the plan's screens.
pub trait Shown: Editable<Field: Send + Sync, Change: Send + Sync> + Send + Sync + 'static {
    /// The list's accessible name ("Objectifs").
    const LIST: &'static str;
    const ADD: &'static str;
    const NEW: &'static str;
    const EDIT: &'static str;
    const NONE_YET: &'static str;
    fn title(&self) -> String;
    fn inputs() -> Vec<Input<Self>>;
    /// The id of a new one: fresh, or the patient's one for a singleton.
    fn new_id(_patient: PatientId) -> ItemId {
        ItemId::new()
    }
}

/// An enum's code as serde writes it (`partly_achieved`).
fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn from_code<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| "Choisissez une des propositions.".to_string())
}

fn choices<T: Serialize + Copy>(all: &[T], label: fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(v), label(*v).to_string()))
        .collect()
}

fn date_text(d: &Option<CalendarDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn date_of(text: &str) -> Result<Option<CalendarDate>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| "Indiquez une date (jour, mois, année).".to_string())
}

fn member_of(text: &str) -> Result<AccountId, String> {
    text.parse()
        .map_err(|_| "Choisissez un membre de l'équipe.".to_string())
}

fn optional_member_of(text: &str) -> Result<Option<AccountId>, String> {
    if text.is_empty() {
        Ok(None)
    } else {
        member_of(text).map(Some)
    }
}

fn members_of(text: &str) -> Result<Vec<AccountId>, String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(member_of)
        .collect()
}

fn ids_text(ids: &[AccountId]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A programme's review types.
fn review_types(p: &Programme) -> Vec<(String, String)> {
    p.review_types
        .iter()
        .map(|t| (t.id.clone(), t.label.clone()))
        .collect()
}

/// The programme the patient of a plan section is in (their latest
/// inclusion), once read from the device: what its forms offer.
#[derive(Clone, Copy)]
pub struct PatientProgramme(pub RwSignal<Option<&'static Programme>>);

/// Every programme's options of a kind, for reading a value whatever its
/// programme.
fn every_programme(options: fn(&Programme) -> Vec<(String, String)>) -> Vec<(String, String)> {
    Programme::all().iter().flat_map(options).collect()
}

/// What a form offers: the patient's programme's options, and the value
/// the item has if it is of another programme.
fn offered(
    options: fn(&Programme) -> Vec<(String, String)>,
    current: &str,
) -> Vec<(String, String)> {
    let mine = use_context::<PatientProgramme>().and_then(|p| p.0.get_untracked());
    let mut list = match mine {
        Some(p) => options(p),
        None => every_programme(options),
    };
    if !current.is_empty() && !list.iter().any(|(c, _)| c == current) {
        if let Some(kept) = every_programme(options)
            .into_iter()
            .find(|(c, _)| c == current)
        {
            list.insert(0, kept);
        }
    }
    list
}

impl Shown for Objective {
    const LIST: &'static str = "Objectifs";
    const ADD: &'static str = "Ajouter un objectif";
    const NEW: &'static str = "Nouvel objectif";
    const EDIT: &'static str = "Modifier l'objectif";
    const NONE_YET: &'static str = "Aucun objectif pour l'instant.";
    fn title(&self) -> String {
        self.title.clone()
    }
    fn inputs() -> Vec<Input<Self>> {
        vec![
            Input {
                field: ObjectiveField::Title,
                label: "Objectif",
                widget: Widget::Text,
                read: |o| o.title.clone(),
                change: |t| Ok(ObjectiveChange::Title(t.trim().into())),
            },
            Input {
                field: ObjectiveField::Measure,
                label: "Mesure",
                widget: Widget::Text,
                read: |o| o.measure.clone(),
                change: |t| Ok(ObjectiveChange::Measure(t.trim().into())),
            },
            Input {
                field: ObjectiveField::Target,
                label: "Cible",
                widget: Widget::Text,
                read: |o| o.target.clone(),
                change: |t| Ok(ObjectiveChange::Target(t.trim().into())),
            },
            Input {
                field: ObjectiveField::DueOn,
                label: "Échéance",
                widget: Widget::Date,
                read: |o| date_text(&o.due_on),
                change: |t| date_of(t).map(ObjectiveChange::DueOn),
            },
            Input {
                field: ObjectiveField::Owner,
                label: "Responsable",
                widget: Widget::Member { optional: false },
                read: |o| o.owner_id.to_string(),
                change: |t| member_of(t).map(ObjectiveChange::Owner),
            },
            Input {
                field: ObjectiveField::Status,
                label: "Statut",
                widget: Widget::Choice(|| {
                    choices(&ObjectiveStatus::ALL, ObjectiveStatus::label_fr)
                }),
                read: |o| code(&o.status),
                change: |t| from_code(t).map(ObjectiveChange::Status),
            },
            Input {
                field: ObjectiveField::Notes,
                label: "Notes",
                widget: Widget::LongText,
                read: |o| o.notes.clone(),
                change: |t| Ok(ObjectiveChange::Notes(t.trim().into())),
            },
        ]
    }
}

impl Shown for Problem {
    const LIST: &'static str = "Problèmes";
    const ADD: &'static str = "Ajouter un problème";
    const NEW: &'static str = "Nouveau problème";
    const EDIT: &'static str = "Modifier le problème";
    const NONE_YET: &'static str = "Aucun problème noté pour l'instant.";
    fn title(&self) -> String {
        format!("{} — {}", self.domain.label_fr(), self.description)
    }
    fn inputs() -> Vec<Input<Self>> {
        vec![
            Input {
                field: ProblemField::Domain,
                label: "Domaine",
                widget: Widget::Choice(|| choices(&ProblemDomain::ALL, ProblemDomain::label_fr)),
                read: |p| code(&p.domain),
                change: |t| from_code(t).map(ProblemChange::Domain),
            },
            Input {
                field: ProblemField::Description,
                label: "Problème",
                widget: Widget::LongText,
                read: |p| p.description.clone(),
                change: |t| Ok(ProblemChange::Description(t.trim().into())),
            },
            Input {
                field: ProblemField::Priority,
                label: "Priorité",
                widget: Widget::Choice(|| choices(&Priority::ALL, Priority::label_fr)),
                read: |p| code(&p.priority),
                change: |t| from_code(t).map(ProblemChange::Priority),
            },
            Input {
                field: ProblemField::Status,
                label: "Statut",
                widget: Widget::Choice(|| choices(&ProblemStatus::ALL, ProblemStatus::label_fr)),
                read: |p| code(&p.status),
                change: |t| from_code(t).map(ProblemChange::Status),
            },
            Input {
                field: ProblemField::Owner,
                label: "Responsable",
                widget: Widget::Member { optional: false },
                read: |p| p.owner_id.to_string(),
                change: |t| member_of(t).map(ProblemChange::Owner),
            },
        ]
    }
}

impl Shown for Review {
    const LIST: &'static str = "Points d'étape";
    const ADD: &'static str = "Ajouter un point d'étape";
    const NEW: &'static str = "Nouveau point d'étape";
    const EDIT: &'static str = "Modifier le point d'étape";
    const NONE_YET: &'static str = "Aucun point d'étape prévu pour l'instant.";
    fn title(&self) -> String {
        let kind = Programme::any_review_type(&self.review_type)
            .map(|t| t.label.clone())
            .unwrap_or_else(|| self.review_type.clone());
        match self.due_on {
            Some(d) => format!("{kind} — {}", d.french()),
            None => kind,
        }
    }
    fn inputs() -> Vec<Input<Self>> {
        vec![
            Input {
                field: ReviewField::ReviewType,
                label: "Type",
                widget: Widget::ProgrammeChoice(review_types),
                read: |r| r.review_type.clone(),
                change: |t| Ok(ReviewChange::ReviewType(t.into())),
            },
            Input {
                field: ReviewField::DueOn,
                label: "Prévu le",
                widget: Widget::Date,
                read: |r| date_text(&r.due_on),
                change: |t| date_of(t).map(ReviewChange::DueOn),
            },
            Input {
                field: ReviewField::Owner,
                label: "Responsable",
                widget: Widget::Member { optional: false },
                read: |r| r.owner_id.to_string(),
                change: |t| member_of(t).map(ReviewChange::Owner),
            },
            Input {
                field: ReviewField::Status,
                label: "Statut",
                widget: Widget::Choice(|| choices(&ReviewStatus::ALL, ReviewStatus::label_fr)),
                read: |r| code(&r.status),
                change: |t| from_code(t).map(ReviewChange::Status),
            },
            Input {
                field: ReviewField::HeldOn,
                label: "Réalisé le",
                widget: Widget::Date,
                read: |r| date_text(&r.held_on),
                change: |t| date_of(t).map(ReviewChange::HeldOn),
            },
            Input {
                field: ReviewField::Attendees,
                label: "Participants",
                widget: Widget::Members,
                read: |r| ids_text(&r.attendees),
                change: |t| members_of(t).map(ReviewChange::Attendees),
            },
            Input {
                field: ReviewField::Conclusions,
                label: "Conclusions",
                widget: Widget::LongText,
                read: |r| r.conclusions.clone(),
                change: |t| Ok(ReviewChange::Conclusions(t.trim().into())),
            },
        ]
    }
}

impl Shown for CarePlan {
    const LIST: &'static str = "Le plan";
    const ADD: &'static str = "Ouvrir le plan";
    const NEW: &'static str = "Le plan du patient";
    const EDIT: &'static str = "Modifier le plan";
    const NONE_YET: &'static str = "Le plan n'est pas encore ouvert.";
    fn title(&self) -> String {
        "Plan personnalisé de soins".to_string()
    }
    fn inputs() -> Vec<Input<Self>> {
        use parcours_domain::care_plan::{PlanChange, PlanField};
        vec![
            Input {
                field: PlanField::Owner,
                label: "Responsable du plan",
                widget: Widget::Member { optional: false },
                read: |p| p.owner_id.to_string(),
                change: |t| member_of(t).map(PlanChange::Owner),
            },
            Input {
                field: PlanField::Coordinator,
                label: "Coordinateur·rice",
                widget: Widget::Member { optional: true },
                read: |p| p.coordinator_id.map(|i| i.to_string()).unwrap_or_default(),
                change: |t| optional_member_of(t).map(PlanChange::Coordinator),
            },
            Input {
                field: PlanField::Irdp,
                label: "Infirmière ressource douleur (IRDP)",
                widget: Widget::Member { optional: true },
                read: |p| p.irdp_id.map(|i| i.to_string()).unwrap_or_default(),
                change: |t| optional_member_of(t).map(PlanChange::Irdp),
            },
            Input {
                field: PlanField::Expectations,
                label: "Attentes du patient, dans ses mots",
                widget: Widget::LongText,
                read: |p| p.expectations.clone(),
                change: |t| Ok(PlanChange::Expectations(t.trim().into())),
            },
            Input {
                field: PlanField::Priorities,
                label: "Priorités du patient",
                widget: Widget::LongText,
                read: |p| p.priorities.clone(),
                change: |t| Ok(PlanChange::Priorities(t.trim().into())),
            },
        ]
    }
    fn new_id(patient: PatientId) -> ItemId {
        CarePlan::id_for(patient)
    }
}

impl Shown for Appointment {
    const LIST: &'static str = "Rendez-vous";
    const ADD: &'static str = "Prévoir une visite";
    const NEW: &'static str = "Nouveau rendez-vous";
    const EDIT: &'static str = "Modifier le rendez-vous";
    const NONE_YET: &'static str = "Aucune visite prévue.";
    fn title(&self) -> String {
        let day = self.on.map(|d| d.french()).unwrap_or_default();
        let at = if self.time.is_empty() {
            String::new()
        } else {
            format!(" à {}", self.time)
        };
        format!("{} {day}{at}", self.visit_type.label_fr())
    }
    fn inputs() -> Vec<Input<Self>> {
        vec![
            Input {
                field: AppointmentField::On,
                label: "Jour",
                widget: Widget::Date,
                read: |a| date_text(&a.on),
                change: |t| date_of(t).map(AppointmentChange::On),
            },
            Input {
                field: AppointmentField::Time,
                label: "Heure (14:30)",
                widget: Widget::Text,
                read: |a| a.time.clone(),
                change: |t| Ok(AppointmentChange::Time(t.trim().into())),
            },
            Input {
                field: AppointmentField::VisitType,
                label: "Type de visite",
                widget: Widget::Choice(|| choices(&VisitKind::ALL, VisitKind::label_fr)),
                read: |a| code(&a.visit_type),
                change: |t| from_code(t).map(AppointmentChange::VisitType),
            },
            Input {
                field: AppointmentField::Owner,
                label: "Qui",
                widget: Widget::Member { optional: false },
                read: |a| a.owner_id.to_string(),
                change: |t| member_of(t).map(AppointmentChange::Owner),
            },
            Input {
                field: AppointmentField::Status,
                label: "Statut",
                widget: Widget::Choice(|| {
                    choices(&AppointmentStatus::ALL, AppointmentStatus::label_fr)
                }),
                read: |a| code(&a.status),
                change: |t| from_code(t).map(AppointmentChange::Status),
            },
            Input {
                field: AppointmentField::Notes,
                label: "Notes",
                widget: Widget::LongText,
                read: |a| a.notes.clone(),
                change: |t| Ok(AppointmentChange::Notes(t.trim().into())),
            },
        ]
    }
}

fn member_name(team: &[TeamMember], id: &str) -> String {
    team.iter()
        .find(|m| m.account_id.to_string() == id)
        .map(|m| m.display_name.clone())
        .unwrap_or_else(|| "un membre de l'équipe".to_string())
}

/// A field's form text as a person reads it.
fn display(widget: Widget, text: &str, team: &[TeamMember]) -> String {
    if text.is_empty() {
        return "—".to_string();
    }
    match widget {
        Widget::Text | Widget::LongText => text.to_string(),
        Widget::Date => format::date(text),
        Widget::Choice(all) => all()
            .into_iter()
            .find(|(c, _)| c == text)
            .map(|(_, l)| l)
            .unwrap_or_else(|| text.to_string()),
        Widget::ProgrammeChoice(options) => every_programme(options)
            .into_iter()
            .find(|(c, _)| c == text)
            .map(|(_, l)| l)
            .unwrap_or_else(|| text.to_string()),
        Widget::Member { .. } => member_name(team, text),
        Widget::Members => text
            .split(',')
            .map(|id| member_name(team, id))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A change as a person reads it: set on a blank item, read back.
fn describe<E: Shown>(change: &E::Change, team: &[TeamMember]) -> String {
    let field = E::field_of(change);
    let Some(input) = E::inputs().into_iter().find(|i| i.field == field) else {
        return String::new();
    };
    let mut blank = E::blank(ItemId::new(), PatientId::new(), AccountId::new());
    blank.apply(change);
    display(input.widget, &(input.read)(&blank), team)
}

fn label_of<E: Shown>(field: E::Field) -> &'static str {
    E::inputs()
        .into_iter()
        .find(|i| i.field == field)
        .map(|i| i.label)
        .unwrap_or("")
}

/// One item as this device shows it: as merged with what waits here.
#[derive(Clone, PartialEq)]
pub struct Row<E: Editable> {
    pub item: E,
    /// As the server last sent it (None: made here, not sent yet).
    pub server: Option<StateOf<E>>,
    /// Its changes waiting on this device.
    pub pending: usize,
}

pub fn rows<E: Editable>(states: Vec<StateOf<E>>, pending: Vec<MutationOf<E>>) -> Vec<Row<E>> {
    let mut ids: Vec<ItemId> = states.iter().map(|s| s.item.id()).collect();
    for m in &pending {
        if !ids.contains(&m.item_id) {
            ids.push(m.item_id);
        }
    }
    ids.into_iter()
        .filter_map(|id| {
            let server = states.iter().find(|s| s.item.id() == id).cloned();
            let mine: Vec<&MutationOf<E>> = pending.iter().filter(|m| m.item_id == id).collect();
            let item = with_pending(server.as_ref().map(|s| &s.item), &mine)?;
            Some(Row {
                item,
                server,
                pending: mine.len(),
            })
        })
        .collect()
}

/// Every rule the changes break, on their own (`Editable::check`) and
/// between the item's fields once they are made (`Editable::problems`, the
/// rule the server applies too): a form shows them all at once.
pub fn problems_of<E: Editable>(item: &E, changes: &[E::Change]) -> Vec<FieldError> {
    let mut problems: Vec<FieldError> = changes.iter().filter_map(|c| E::check(c).err()).collect();
    let kept = item.problems();
    let mut after = item.clone();
    for change in changes {
        after.apply(change);
    }
    problems.extend(after.problems().into_iter().filter(|e| !kept.contains(e)));
    problems
}

/// Queues a mutation on the device and starts a sync.
pub async fn queue<E: Editable>(
    (auth, state): (Auth, SyncState),
    item: &E,
    base_version: u64,
    changes: Vec<E::Change>,
    resolves: Vec<E::Field>,
) -> Result<(), FieldError> {
    let Some(me) = auth.0.get_untracked() else {
        return Err(FieldError::new("device", "Reconnectez-vous."));
    };
    let mutation = MutationOf::<E> {
        device_id: me.device_id,
        mutation_id: 1, // the device store gives the real one
        item_id: item.id(),
        patient_id: item.patient_id(),
        author_id: me.account_id,
        base_version,
        hlc: clock::next(me.device_id),
        changes,
        resolves,
    };
    mutation.validate()?;
    if let Some(first) = problems_of(item, &mutation.changes).into_iter().next() {
        return Err(first);
    }
    let store = sync::store(me.account_id)
        .await
        .map_err(|e| FieldError::new("device", e.to_string()))?;
    store
        .record_mutation(mutation)
        .await
        .map_err(sync::not_saved)?;
    state.pending.update(|n| *n += 1);
    state.store_changed();
    leptos::task::spawn_local(sync::sync_now(state, me.account_id));
    Ok(())
}

/// A list of one editable kind for a patient, with its add form.
#[component]
pub fn EditableSection<E: Shown>(
    patient_id: PatientId,
    heading: &'static str,
    /// Which kind (the view names it: `<EditableSection<Objective> …/>`).
    #[prop(optional)]
    _kind: std::marker::PhantomData<E>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            let team = store.patient(patient_id).await.ok()??.care_team;
            let (states, pending) = store.items_of::<E>(patient_id).await.ok()?;
            Some((team, rows(states, pending)))
        }
    });
    let team = move || data.get().flatten().map(|(t, _)| t).unwrap_or_default();
    // What the forms offer follows the patient's programme: read for the
    // kinds that offer a programme's choices only.
    let programme = RwSignal::new(None);
    provide_context(PatientProgramme(programme));
    let by_programme = E::inputs()
        .iter()
        .any(|i| matches!(i.widget, Widget::ProgrammeChoice(_)));
    if by_programme {
        leptos::task::spawn_local(async move {
            let Some(me) = auth.0.get_untracked() else {
                return;
            };
            if let Ok(store) = sync::store(me.account_id).await {
                programme.set(crate::pages::programme_of(&store, patient_id).await);
            }
        });
    }
    let adding = RwSignal::new(false);
    let (labelled_by, title_id) = (format!("{}-title", E::KIND), format!("{}-title", E::KIND));
    view! {
        <section class="pps-part" aria-labelledby=labelled_by>
            <h3 id=title_id>{heading}</h3>
            {move || data.get().flatten().is_some_and(|(_, rows)| rows.is_empty()).then(|| view! {
                <p class="hint">{E::NONE_YET}</p>
            })}
            <ul class="plan" aria-label=E::LIST>
                <For
                    each=move || data.get().flatten().map(|(_, rows)| rows).unwrap_or_default()
                    key=|row| (row.item.id(), row.server.as_ref().map(|s| s.version), row.pending)
                    children=move |row| view! { <Card<E> row=row team=team()/> }
                />
            </ul>
            <Show when=move || !(E::SINGLETON && data.get().flatten().is_some_and(|(_, r)| !r.is_empty()))>
                <Show when=move || adding.get() fallback=move || view! {
                    <button type="button" class="secondary no-print" on:click=move |_| adding.set(true)>{E::ADD}</button>
                }>
                    {move || {
                        let me = auth.0.get_untracked().map(|m| m.account_id).unwrap_or_default();
                        view! {
                            <Form<E> heading=E::NEW submit_label=E::ADD
                                initial=E::blank(E::new_id(patient_id), patient_id, me)
                                team=team() base_version=0 is_new=true on_done=move |()| adding.set(false)/>
                        }
                    }}
                </Show>
            </Show>
        </section>
    }
}

#[component]
fn Card<E: Shown>(row: Row<E>, team: Vec<TeamMember>) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let editing = RwSignal::new(false);
    let history_open = RwSignal::new(false);
    let item = row.item.clone();
    let base_version = row.server.as_ref().map(|s| s.version).unwrap_or(0);
    let open: Vec<Conflict<E>> = row
        .server
        .as_ref()
        .map(|s| s.open_conflicts().cloned().collect())
        .unwrap_or_default();
    let sync_label = match (&row.server, row.pending) {
        (None, _) => "Sur l'appareil uniquement — en attente d'envoi",
        (Some(_), 0) => "Envoyé",
        (Some(_), _) => "Modifié sur l'appareil — en attente d'envoi",
    };
    let is_owner = auth
        .0
        .get_untracked()
        .is_some_and(|me| me.account_id == item.owner_id());
    let title = item.title();
    let lines = E::inputs()
        .into_iter()
        .filter_map(|i| {
            let text = (i.read)(&item);
            (!text.is_empty()).then(|| format!("{} : {}", i.label, display(i.widget, &text, &team)))
        })
        .collect::<Vec<_>>();
    let item_id = item.id();
    let (team_form, team_history) = (team.clone(), team.clone());
    let server = row.server.clone();
    let describe_change: Describe<E> = describe::<E>;
    let label_field: Label<E> = |f| label_of::<E>(f).to_string();
    let item_form = item.clone();
    view! {
        <li class="plan-item" class:pending=row.pending != 0 aria-label=title.clone()>
            <p class="item-title">{title.clone()}</p>
            {(!open.is_empty()).then(|| view! { <p class="badge" role="status">"En conflit"</p> })}
            {lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
            <p class="sync-state">{sync_label}</p>
            {open.into_iter().map(|c| view! {
                <ConflictView<E> conflict=c item=item.clone() base_version=base_version team=team.clone() is_owner=is_owner/>
            }).collect_view()}
            <div class="actions no-print">
                <button type="button" class="secondary" on:click=move |_| editing.update(|e| *e = !*e)
                    aria-expanded=move || editing.get().to_string()
                    aria-label=format!("Modifier « {title} »")>"Modifier"</button>
                <button type="button" class="secondary" on:click=move |_| history_open.update(|o| *o = !*o)
                    aria-expanded=move || history_open.get().to_string()
                    aria-label=format!("Historique de « {} »", item.title())>"Historique"</button>
            </div>
            <Show when=move || editing.get()>
                <Form<E> heading=E::EDIT submit_label="Enregistrer les modifications" initial=item_form.clone()
                    team=team_form.clone() base_version=base_version is_new=false on_done=move |()| editing.set(false)/>
            </Show>
            <Show when=move || history_open.get()>
                <ItemHistory<E> item_id=item_id server=server.clone() team=team_history.clone()
                    describe=describe_change label=label_field list_name="Historique"/>
            </Show>
        </li>
    }
}

/// Who settles a conflict, said to each: its owner keeps one value in a tap;
/// anyone else is told whom to talk to.
pub fn who_decides(is_owner: bool, owner: &str) -> String {
    if is_owner {
        "Vous en êtes responsable : choisissez la valeur à garder.".to_string()
    } else {
        format!("{owner}, responsable, choisit la valeur à garder ; en attendant, la valeur retenue s'applique.")
    }
}

/// Both values of a conflicting field; the owner keeps one in a tap.
#[component]
fn ConflictView<E: Shown>(
    conflict: Conflict<E>,
    item: E,
    base_version: u64,
    team: Vec<TeamMember>,
    is_owner: bool,
) -> impl IntoView {
    let contexts = (expect_context::<Auth>(), expect_context::<SyncState>());
    let error = RwSignal::new(None::<String>);
    let field = conflict.field;
    let standing = describe::<E>(&conflict.standing.change, &team);
    let other = describe::<E>(&conflict.other.change, &team);
    let item_owner = item.owner_id();
    let choose = move |value: E::Change| {
        let item = item.clone();
        move |_| {
            let (item, value) = (item.clone(), value.clone());
            leptos::task::spawn_local(async move {
                if let Err(e) = queue(contexts, &item, base_version, vec![value], vec![field]).await
                {
                    error.set(Some(e.message));
                }
            });
        }
    };
    let who = |id: AccountId| member_name(&team, &id.to_string());
    let who_decides = who_decides(is_owner, &who(item_owner));
    view! {
        <div class="conflict">
            <p>{format!("Deux valeurs de « {} » saisies en même temps :", label_of::<E>(field))}</p>
            <p>{format!("Retenu : « {standing} » — {}", who(conflict.standing.stamp.author_id))}</p>
            <p>{format!("Autre valeur : « {other} » — {}", who(conflict.other.stamp.author_id))}</p>
            <p class="hint">{who_decides}</p>
            {is_owner.then(|| view! {
                <div class="actions">
                    <button type="button" on:click=choose(conflict.standing.change.clone())>{format!("Garder « {standing} »")}</button>
                    <button type="button" on:click=choose(conflict.other.change.clone())>{format!("Choisir « {other} »")}</button>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}

/// Adds one or edits one: only the fields that changed travel.
#[component]
fn Form<E: Shown>(
    heading: &'static str,
    submit_label: &'static str,
    initial: E,
    team: Vec<TeamMember>,
    base_version: u64,
    is_new: bool,
    /// When the form closes (saved or cancelled).
    #[prop(into)]
    on_done: Callback<()>,
) -> impl IntoView {
    let prefix = if is_new {
        format!("new-{}", E::KIND)
    } else {
        format!("edit-{}", initial.id())
    };
    let inputs: Vec<(Input<E>, RwSignal<String>)> = E::inputs()
        .into_iter()
        .map(|i| {
            let text = (i.read)(&initial);
            (i, RwSignal::new(text))
        })
        .collect();
    let contexts = (expect_context::<Auth>(), expect_context::<SyncState>());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let initial = StoredValue::new(initial);
    let submit = {
        let inputs = inputs.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let before = initial.get_value();
            let mut changes = vec![];
            let mut problems = vec![];
            for (input, value) in &inputs {
                match (input.change)(&value.get_untracked()) {
                    Ok(change) => {
                        if is_new || change != before.current(input.field) {
                            changes.push(change);
                        }
                    }
                    Err(why) => problems.push(FieldError::new(
                        input.label,
                        format!("{} : {why}", input.label),
                    )),
                }
            }
            problems.extend(problems_of(&before, &changes));
            if !problems.is_empty() {
                crate::components::problems::show(errors, problems);
                return;
            }
            if changes.is_empty() {
                on_done.run(());
                return;
            }
            leptos::task::spawn_local(async move {
                match queue(contexts, &before, base_version, changes, vec![]).await {
                    Ok(()) => {
                        errors.set(vec![]);
                        on_done.run(());
                    }
                    Err(e) => errors.set(vec![e]),
                }
            });
        }
    };
    let fields = inputs
        .into_iter()
        .enumerate()
        .map(|(n, (input, value))| {
            let id = format!("{prefix}-{n}");
            let label = input.label;
            let widget = match input.widget {
                Widget::Text => view! {
                    <input id=id.clone() type="text" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
                }.into_any(),
                Widget::Date => view! {
                    <input id=id.clone() type="date" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
                }.into_any(),
                Widget::LongText => view! {
                    <textarea id=id.clone() rows="3" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                }.into_any(),
                Widget::ProgrammeChoice(options) => view! {
                    <select id=id.clone() prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
                        {offered(options, &value.get_untracked()).into_iter().map(|(c, l)| view! { <option value=c>{l}</option> }).collect_view()}
                    </select>
                }.into_any(),
                Widget::Choice(all) => view! {
                    <select id=id.clone() prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
                        {all().into_iter().map(|(c, l)| view! { <option value=c>{l}</option> }).collect_view()}
                    </select>
                }.into_any(),
                Widget::Member { optional } => view! {
                    <select id=id.clone() prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
                        {optional.then(|| view! { <option value="">"— Personne —"</option> })}
                        {team.iter().map(|m| view! {
                            <option value=m.account_id.to_string()>{format!("{} ({})", m.display_name, m.profession_label)}</option>
                        }).collect_view()}
                    </select>
                }.into_any(),
                Widget::Members => view! {
                    <div id=id.clone() class="choices" role="group" aria-label=label>
                        {team.iter().map(|m| {
                            let account = m.account_id.to_string();
                            let (a1, a2) = (account.clone(), account);
                            view! {
                                <label class="choice">
                                    <input type="checkbox"
                                        prop:checked=move || value.with(|v| v.split(',').any(|x| x == a1))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            value.update(|v| {
                                                let mut ids: Vec<String> = v.split(',').filter(|x| !x.is_empty() && *x != a2).map(str::to_string).collect();
                                                if on { ids.push(a2.clone()); }
                                                *v = ids.join(",");
                                            });
                                        }/>
                                    {m.display_name.clone()}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            };
            let is_group = matches!(input.widget, Widget::Members);
            view! {
                <div class="field">
                    {if is_group {
                        view! { <p class="label">{label}</p> }.into_any()
                    } else {
                        view! { <label for=id>{label}</label> }.into_any()
                    }}
                    {widget}
                </div>
            }
        })
        .collect_view();
    view! {
        <form class="item-form no-print" on:submit=submit novalidate aria-label=heading>
            <h4>{heading}</h4>
            {fields}
            <Problems errors/>
            <div class="actions">
                <button type="submit">{submit_label}</button>
                <button type="button" class="secondary" on:click=move |_| on_done.run(())>"Annuler"</button>
            </div>
        </form>
    }
}
