//! The patient's personalised care plan (PPS): its items, who owns each,
//! what waits on this device, the conflicts the owner settles, the history.
//! Every change is a mutation queued on the device; nothing here waits for
//! the network but the history.

use crate::components::problems::Problems;
use crate::format;
use crate::pages::item_history::{ItemHistory, Label};
use crate::pages::pps::{problems_of, who_decides};
use crate::pages::pps::{queue, rows, EditableSection, Row};
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::care_plan::CarePlan;
use parcours_domain::care_plan::{
    CarePlanItem, Conflict, Countersignature, FieldChange, ItemStatus,
};
use parcours_domain::coordination::{STEP_CATEGORY, STEP_LABEL};
use parcours_domain::merge::StampedValue;
use parcours_domain::objective::Objective;
use parcours_domain::patient::TeamMember;
use parcours_domain::problem::Problem;
use parcours_domain::programme::Programme;
use parcours_domain::review::Review;
use parcours_domain::{AccountId, FieldError, ItemId, PatientId};
/// A team member's name, or a neutral word for someone who left the team.
pub fn member_name(team: &[TeamMember], id: AccountId) -> String {
    team.iter()
        .find(|m| m.account_id == id)
        .map(|m| m.display_name.clone())
        .unwrap_or_else(|| "un membre de l'équipe".to_string())
}

/// A value as a person reads it.
fn describe(change: &FieldChange, team: &[TeamMember]) -> String {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "—".to_string()
        } else {
            s.to_string()
        }
    };
    match change {
        FieldChange::Title(s) | FieldChange::Frequency(s) | FieldChange::Notes(s) => or_dash(s),
        FieldChange::Owner(id) => member_name(team, *id),
        FieldChange::StartsOn(d) | FieldChange::EndsOn(d) => {
            d.as_deref().map(format::date).unwrap_or_else(|| "—".into())
        }
        FieldChange::Status(s) => s.label_fr().to_string(),
        FieldChange::Category(c) => parcours_domain::programme::Programme::all()
            .iter()
            .find_map(|p| p.plan_item_kind(c))
            .map(|k| k.label.clone())
            .unwrap_or_else(|| or_dash(c)),
        FieldChange::Funding(f) => f
            .map(|f| f.label_fr().to_string())
            .unwrap_or_else(|| "—".into()),
        FieldChange::LegalBasis(s) => or_dash(s),
        FieldChange::Countersignature(c) => c
            .as_ref()
            .map(|c| format!("{} le {}", member_name(team, c.by), c.on.french()))
            .unwrap_or_else(|| "—".into()),
    }
}

#[component]
pub fn CarePlanSection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let plan = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            let team = store.patient(patient_id).await.ok()??.care_team;
            let (states, pending) = store.items_of::<CarePlanItem>(patient_id).await.ok()?;
            Some((team, rows(states, pending)))
        }
    });
    let team = move || {
        plan.get()
            .flatten()
            .map(|(team, _)| team)
            .unwrap_or_default()
    };
    let adding = RwSignal::new(false);
    let new_item = move || {
        let me = auth
            .0
            .get_untracked()
            .map(|m| m.account_id)
            .unwrap_or_default();
        CarePlanItem::blank(ItemId::new(), patient_id, me)
    };

    view! {
        <section class="pps" aria-labelledby="care-plan">
            <h2 id="care-plan">"Plan personnalisé de soins (PPS)"</h2>
            <button type="button" class="secondary no-print" on:click=|_| { let _ = window().print(); }>"Imprimer le plan"</button>
            <EditableSection<CarePlan> patient_id=patient_id heading="Le plan"/>
            <EditableSection<Problem> patient_id=patient_id heading="Problèmes"/>
            <EditableSection<Objective> patient_id=patient_id heading="Objectifs partagés"/>
            <h3>"Actions"</h3>
            {move || plan.get().flatten().is_some_and(|(_, rows)| rows.is_empty()).then(|| view! {
                <p>"Aucune action dans le plan pour l'instant."</p>
            })}
            <ul class="plan" aria-label="Actions du plan">
                // Keyed by what a card shows: a sync that changes nothing
                // elsewhere never closes a form someone is filling in.
                <For
                    each=move || plan.get().flatten().map(|(_, rows)| rows).unwrap_or_default()
                    key=|row| (row.item.id, row.server.as_ref().map(|s| s.version), row.pending)
                    children=move |row| view! { <ItemCard row=row team=team()/> }
                />
            </ul>
            <Show when=move || adding.get() fallback=move || view! {
                <button type="button" on:click=move |_| adding.set(true)>"Ajouter une action"</button>
            }>
                <ItemForm heading="Nouvelle action du plan" submit_label="Ajouter l'action" initial=new_item()
                    team=team() base_version=0 is_new=true on_done=move || adding.set(false)/>
            </Show>
            <EditableSection<Review> patient_id=patient_id heading="Points d'étape"/>
        </section>
    }
}

#[component]
fn ItemCard(row: Row<CarePlanItem>, team: Vec<TeamMember>) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let editing = RwSignal::new(false);
    let history_open = RwSignal::new(false);
    let item = row.item.clone();
    let base_version = row.server.as_ref().map(|s| s.version).unwrap_or(0);
    let open: Vec<Conflict<CarePlanItem>> = row
        .server
        .as_ref()
        .map(|s| s.open_conflicts().cloned().collect())
        .unwrap_or_default();
    let sync_label = match (&row.server, row.pending) {
        (None, _) => "Sur l'appareil uniquement — en attente d'envoi",
        (Some(_), 0) => "Envoyée",
        (Some(_), _) => "Modifiée sur l'appareil — en attente d'envoi",
    };
    let is_owner = auth
        .0
        .get_untracked()
        .is_some_and(|me| me.account_id == item.owner_id);
    let dates = match (&item.starts_on, &item.ends_on) {
        (None, None) => None,
        (from, until) => Some(format!(
            "Du {} au {}",
            from.as_deref()
                .map(format::date)
                .unwrap_or_else(|| "—".into()),
            until
                .as_deref()
                .map(format::date)
                .unwrap_or_else(|| "—".into())
        )),
    };
    let item_id = item.id;
    let server = row.server.clone();
    let label_field: Label<CarePlanItem> = |f| f.label_fr().to_string();
    let state = expect_context::<SyncState>();
    let sign_error = RwSignal::new(None::<String>);
    let kind = Programme::any_plan_item_kind(&item.category);
    let signer = kind.and_then(|k| k.countersigned_by);
    let may_countersign = signer.is_some()
        && item.countersignature.is_none()
        && auth
            .0
            .get_untracked()
            .is_some_and(|me| me.profession.is_some() && me.profession == signer);
    let countersign_line = match (&item.countersignature, signer) {
        (Some(c), _) => Some(format!(
            "Contresigné par {} le {}",
            member_name(&team, c.by),
            c.on.french()
        )),
        (None, Some(p)) => Some(format!("En attente du contreseing ({})", p.label_fr())),
        (None, None) => None,
    }
    .map(|line| view! { <p class="countersignature">{line}</p> });
    let title = item.title.clone();
    let team_for_history = team.clone();
    let team_for_form = team.clone();
    let item_for_form = item.clone();
    view! {
        <li class="plan-item" class:pending=row.pending != 0 aria-label=title.clone()>
            <p class="item-title">{title.clone()}</p>
            {(!open.is_empty()).then(|| view! { <p class="badge" role="status">"En conflit"</p> })}
            <p>{format!("Responsable : {}", member_name(&team, item.owner_id))}</p>
            <p>{format!("Statut : {}", item.status.label_fr())}</p>
            {(!item.frequency.is_empty()).then(|| view! { <p>{format!("Fréquence : {}", item.frequency)}</p> })}
            {dates.map(|d| view! { <p>{d}</p> })}
            {(!item.notes.is_empty()).then(|| view! { <p class="note">{format!("Notes : {}", item.notes)}</p> })}
            {kind.map(|k| view! { <p>{format!("Type : {}", k.label)}</p> })}
            {item.funding.map(|f| view! { <p>{format!("Financement : {}", f.label_fr())}</p> })}
            {(!item.legal_basis.is_empty()).then(|| view! { <p>{format!("Base légale : {}", item.legal_basis)}</p> })}
            {countersign_line}
            {may_countersign.then(|| {
                let item = item.clone();
                view! {
                    <button type="button" class="no-print" on:click=move |_| {
                        let Some(me) = auth.0.get_untracked() else { return; };
                        let item = item.clone();
                        let signature = FieldChange::Countersignature(Some(Countersignature {
                            by: me.account_id,
                            on: crate::clock::today(),
                        }));
                        leptos::task::spawn_local(async move {
                            if let Err(e) = queue((auth, state), &item, base_version, vec![signature], vec![]).await {
                                sign_error.set(Some(e.message));
                            }
                        });
                    }>"Contresigner la prescription"</button>
                }
            })}
            {move || sign_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p class="sync-state">{sync_label}</p>
            {open.into_iter().map(|c| view! {
                <ConflictView conflict=c item=item.clone() base_version=base_version team=team.clone() is_owner=is_owner/>
            }).collect_view()}
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| editing.update(|e| *e = !*e)
                    aria-expanded=move || editing.get().to_string()
                    aria-label=format!("Modifier « {title} »")>"Modifier"</button>
                <button type="button" class="secondary" on:click=move |_| history_open.update(|o| *o = !*o)
                    aria-expanded=move || history_open.get().to_string()
                    aria-label=format!("Historique de « {} »", item.title)>"Historique"</button>
            </div>
            <Show when=move || editing.get()>
                <ItemForm heading="Modifier l'action" submit_label="Enregistrer les modifications" initial=item_for_form.clone()
                    team=team_for_form.clone() base_version=base_version is_new=false on_done=move || editing.set(false)/>
            </Show>
            <Show when=move || history_open.get()>
                <ItemHistory<CarePlanItem> item_id=item_id server=server.clone() team=team_for_history.clone()
                    describe=describe label=label_field list_name="Historique de l'action"/>
            </Show>
        </li>
    }
}

/// Both values of a conflicting field, who set each and when; the owner keeps
/// one in a single tap.
#[component]
fn ConflictView(
    conflict: Conflict<CarePlanItem>,
    item: CarePlanItem,
    base_version: u64,
    team: Vec<TeamMember>,
    is_owner: bool,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let error = RwSignal::new(None::<String>);
    let field = conflict.field;
    let line = |v: &StampedValue<CarePlanItem>| {
        format!(
            "« {} » — {}, {}",
            describe(&v.change, &team),
            member_name(&team, v.stamp.author_id),
            format::date_time(v.stamp.hlc.wall_ms)
        )
    };
    let who_decides = who_decides(is_owner, &member_name(&team, item.owner_id));
    let choose = move |value: FieldChange| {
        let item = item.clone();
        move |_| {
            let item = item.clone();
            let value = value.clone();
            leptos::task::spawn_local(async move {
                if let Err(e) =
                    queue((auth, state), &item, base_version, vec![value], vec![field]).await
                {
                    error.set(Some(e.message));
                }
            });
        }
    };
    let standing = describe(&conflict.standing.change, &team);
    let other = describe(&conflict.other.change, &team);
    view! {
        <div class="conflict">
            <p>{format!("Deux valeurs de « {} » saisies en même temps :", field.label_fr())}</p>
            <p>{format!("Retenu : {}", line(&conflict.standing))}</p>
            <p>{format!("Autre valeur : {}", line(&conflict.other))}</p>
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

/// Adds an item or edits one: only the fields that changed travel.
#[component]
fn ItemForm(
    heading: &'static str,
    submit_label: &'static str,
    initial: CarePlanItem,
    team: Vec<TeamMember>,
    base_version: u64,
    is_new: bool,
    on_done: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let prefix = if is_new {
        "new".to_string()
    } else {
        format!("edit-{}", initial.id)
    };
    let id = {
        let prefix = prefix.clone();
        move |name: &str| format!("{prefix}-{name}")
    };
    let title = RwSignal::new(initial.title.clone());
    let owner = RwSignal::new(initial.owner_id.to_string());
    let frequency = RwSignal::new(initial.frequency.clone());
    let starts_on = RwSignal::new(initial.starts_on.clone().unwrap_or_default());
    let ends_on = RwSignal::new(initial.ends_on.clone().unwrap_or_default());
    let status = RwSignal::new(initial.status.code().to_string());
    let notes = RwSignal::new(initial.notes.clone());
    let category = RwSignal::new(initial.category.clone());
    let legal_basis = RwSignal::new(initial.legal_basis.clone());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let initial = StoredValue::new(initial);
    let kind_of = Programme::any_plan_item_kind;

    let submit = {
        let on_done = on_done.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let date = |s: String| {
                if s.trim().is_empty() {
                    None
                } else {
                    Some(s.trim().to_string())
                }
            };
            let Ok(owner_id) = owner.get_untracked().parse::<AccountId>() else {
                errors.set(vec![FieldError::new(
                    "owner_id",
                    "Choisissez un·e responsable.",
                )]);
                return;
            };
            let status_value = ItemStatus::ALL
                .into_iter()
                .find(|s| s.code() == status.get_untracked())
                .unwrap_or(ItemStatus::Proposed);
            let wanted = vec![
                FieldChange::Title(title.get_untracked().trim().to_string()),
                FieldChange::Owner(owner_id),
                FieldChange::Frequency(frequency.get_untracked().trim().to_string()),
                FieldChange::StartsOn(date(starts_on.get_untracked())),
                FieldChange::EndsOn(date(ends_on.get_untracked())),
                FieldChange::Status(status_value),
                FieldChange::Notes(notes.get_untracked().trim().to_string()),
                FieldChange::Category(category.get_untracked()),
                // The programme says who pays for each kind of item.
                FieldChange::Funding(kind_of(&category.get_untracked()).map(|k| k.funding)),
                FieldChange::LegalBasis(legal_basis.get_untracked().trim().to_string()),
            ];
            let before = initial.get_value();
            let changes: Vec<FieldChange> = if is_new {
                wanted
            } else {
                wanted
                    .into_iter()
                    .filter(|c| *c != FieldChange::current(&before, c.field()))
                    .collect()
            };
            // Every problem at once: an empty action and an end before its
            // start are said together.
            let problems = problems_of(&before, &changes);
            if !problems.is_empty() {
                crate::components::problems::show(errors, problems);
                return;
            }
            if changes.is_empty() {
                on_done();
                return;
            }
            let on_done = on_done.clone();
            leptos::task::spawn_local(async move {
                match queue((auth, state), &before, base_version, changes, vec![]).await {
                    Ok(()) => {
                        errors.set(vec![]);
                        on_done();
                    }
                    Err(e) => errors.set(vec![e]),
                }
            });
        }
    };
    let text = move |name: &'static str,
                     label: &'static str,
                     value: RwSignal<String>,
                     kind: &'static str| {
        let input_id = format!("{prefix}-{name}");
        view! {
            <div class="field">
                <label for=input_id.clone()>{label}</label>
                <input id=input_id type=kind prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
            </div>
        }
    };
    let owner_id = id("owner");
    let status_id = id("status");
    let notes_id = id("notes");
    let category_id = id("category");
    let legal_id = id("legal-basis");
    // Each programme's kinds of action, and a coordinator's steps (in
    // whatever plan).
    let mut kinds: Vec<(String, Vec<(String, String)>)> = Programme::all()
        .iter()
        .map(|p| {
            let list = p
                .plan_item_kinds
                .iter()
                .map(|k| (k.id.clone(), k.label.clone()))
                .collect();
            (p.name.clone(), list)
        })
        .collect();
    kinds.push((
        "Coordination".into(),
        vec![(STEP_CATEGORY.into(), STEP_LABEL.into())],
    ));
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label=heading>
            <h3>{heading}</h3>
            <div class="field">
                <label for=category_id.clone()>"Type d'action"</label>
                <select id=category_id prop:value=category on:change=move |ev| category.set(event_target_value(&ev))>
                    <option value="">"Autre"</option>
                    {kinds.into_iter().map(|(group, list)| view! {
                        <optgroup label=group>
                            {list.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                        </optgroup>
                    }).collect_view()}
                </select>
                <p class="hint">{move || kind_of(&category.get()).map(|k| k.funding.label_fr()).unwrap_or("")}</p>
            </div>
            {text("title", "Action", title, "text")}
            <div class="field">
                <label for=owner_id.clone()>"Responsable"</label>
                <select id=owner_id prop:value=owner on:change=move |ev| owner.set(event_target_value(&ev))>
                    {team.into_iter().map(|m| view! {
                        <option value=m.account_id.to_string()>{format!("{} ({})", m.display_name, m.profession_label)}</option>
                    }).collect_view()}
                </select>
            </div>
            {text("frequency", "Fréquence", frequency, "text")}
            {text("starts_on", "Début", starts_on, "date")}
            {text("ends_on", "Fin", ends_on, "date")}
            <div class="field">
                <label for=status_id.clone()>"Statut"</label>
                <select id=status_id prop:value=status on:change=move |ev| status.set(event_target_value(&ev))>
                    {ItemStatus::ALL.into_iter().map(|s| view! { <option value=s.code()>{s.label_fr()}</option> }).collect_view()}
                </select>
            </div>
            <Show when=move || kind_of(&category.get()).is_some_and(|k| k.countersigned_by.is_some())>
                <div class="field">
                    <label for=legal_id.clone()>"Base légale de la prescription"</label>
                    <input id=legal_id.clone() type="text" prop:value=legal_basis on:input=move |ev| legal_basis.set(event_target_value(&ev))/>
                </div>
            </Show>
            <div class="field">
                <label for=notes_id.clone()>"Notes"</label>
                <textarea id=notes_id rows="2" prop:value=notes on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
            </div>
            <Problems errors/>
            <div class="actions">
                <button type="submit">{submit_label}</button>
                <button type="button" class="secondary" on:click=move |_| on_done()>"Annuler"</button>
            </div>
        </form>
    }
}
