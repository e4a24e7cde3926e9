//! "Inclure un patient": a GP (or a pain resource nurse on behalf of a named
//! GP) brings a patient into a programme, offline if need be. The
//! programme's rules are shown item by item as the form fills; an ineligible
//! patient is not included and the screen says why. Saved on the device as
//! an inclusion record that brings the patient in at the next sync.

use crate::clock::{now_ms, today};
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::device_store::NewRecord;
use crate::pages::require_sign_in;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use parcours_domain::date::CalendarDate;
use parcours_domain::enrollment::{Enrollment, Identity, Ins, InsStatus, Sex, TeamMember};
use parcours_domain::patient::TeamMember as PatientTeamMember;
use parcours_domain::programme::{CriterionKind, Eligibility, Programme};
use parcours_domain::record::RecordBody;
use parcours_domain::{AccountId, FieldError, Patient, PatientId, Profession, RecordId};
use std::collections::BTreeMap;

/// Loaded when first opened: the caseload does not carry this screen's code.
#[derive(Debug)]
pub struct InclusionRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for InclusionRoute {
    fn data() -> Self {
        InclusionRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Inclusion/> }.into_any()
    }
}

/// The programmes this person may include in (in their own name or on a
/// GP's behalf), and the one chosen by `?parcours=` (else the first).
#[component]
fn Inclusion() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let query = use_query_map();
    let mine = move || -> Vec<&'static Programme> {
        let profession = auth.0.get().and_then(|m| m.profession);
        Programme::all()
            .iter()
            .filter(|p| {
                profession
                    .and_then(|pr| p.includes_in_own_name(pr))
                    .is_some()
            })
            .collect()
    };
    move || {
        let choices = mine();
        let wanted = query.with(|q| q.get("parcours"));
        let chosen = wanted
            .and_then(|w| choices.iter().find(|p| p.id == w).copied())
            .or_else(|| choices.first().copied());
        match chosen {
            Some(programme) => view! { <InclusionForm programme choices/> }.into_any(),
            None => view! {
                <Header/>
                <main>
                    <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
                    <PageHeading text="Inclure un patient"/>
                    <p class="error" role="alert">"Votre profession n'inclut de patient dans aucun parcours."</p>
                </main>
            }
            .into_any(),
        }
    }
}

/// Links to the other programmes, keeping the patient being included.
fn programme_choice(chosen: &'static Programme, choices: &[&'static Programme]) -> impl IntoView {
    let patient = use_query_map().with_untracked(|q| q.get("patient"));
    (choices.len() > 1).then(|| {
        let links = choices
            .iter()
            .map(|&p| {
                let href = match &patient {
                    Some(id) => format!("/inclusion?parcours={}&patient={id}", p.id),
                    None => format!("/inclusion?parcours={}", p.id),
                };
                let current = (p.id == chosen.id).then_some("page");
                let name = p.name.clone();
                view! { <A href=href attr:class="button secondary" attr:aria-current=current>{name}</A> }
            })
            .collect_view();
        view! { <nav aria-label="Parcours" class="actions">{links}</nav> }
    })
}

#[component]
fn InclusionForm(programme: &'static Programme, choices: Vec<&'static Programme>) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let navigate = use_navigate();
    let me = auth.0.get_untracked();
    let own_name = me
        .as_ref()
        .and_then(|m| programme.includes_in_own_name(m.profession?));

    let family_name = RwSignal::new(String::new());
    let given_name = RwSignal::new(String::new());
    let birth_date = RwSignal::new(String::new());
    let sex = RwSignal::new(None::<Sex>);
    let phone = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let town = RwSignal::new(String::new());
    let ins_number = RwSignal::new(String::new());
    let ins_status = RwSignal::new(None::<InsStatus>);
    let reason = RwSignal::new(String::new());
    let included_on = RwSignal::new(today().to_string());
    let referring_gp = RwSignal::new(String::new());
    let answers = RwSignal::new(BTreeMap::<String, bool>::new());
    let error = RwSignal::new(None::<FieldError>);
    let refused = RwSignal::new(Vec::<String>::new());

    // A patient already known (in another programme before, or never
    // included): included again under the same record, identity prefilled.
    let known_id = use_query_map()
        .with_untracked(|q| q.get("patient").and_then(|id| id.parse::<PatientId>().ok()));
    let known_patient = RwSignal::new(None::<Patient>);
    if let Some(id) = known_id {
        leptos::task::spawn_local(async move {
            let Some(me) = auth.0.get_untracked() else {
                return;
            };
            let Ok(store) = sync::store(me.account_id).await else {
                return;
            };
            if let Ok(Some(p)) = store.patient(id).await {
                family_name.set(p.family_name.clone());
                given_name.set(p.given_name.clone());
                birth_date.set(p.birth_date.clone());
                town.set(p.town.clone());
                known_patient.set(Some(p));
            }
        });
    }

    // The colleagues this person works with (from their patients' teams):
    // the GPs a nurse may include for, and who may join the new team.
    let colleagues = LocalResource::new(move || {
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            let mut colleagues: Vec<(String, AccountId, Profession)> = store
                .patients()
                .await
                .ok()?
                .into_iter()
                .flat_map(|p| p.care_team)
                .filter(|m| m.account_id != me.account_id)
                .filter_map(|m| Some((m.display_name, m.account_id, m.profession?)))
                .collect();
            colleagues.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            colleagues.dedup_by_key(|c| c.1);
            Some(colleagues)
        }
    });
    let gps = move || {
        colleagues
            .get()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, _, p)| *p == Profession::GeneralPractitioner)
            .map(|(name, id, _)| (id, name))
            .collect::<Vec<_>>()
    };
    let team = RwSignal::new(BTreeMap::<AccountId, Profession>::new());

    // The rules, item by item, as the form fills.
    let eligibility = move || -> Option<Eligibility> {
        let birth: CalendarDate = birth_date.get().parse().ok()?;
        let on: CalendarDate = included_on.get().parse().ok()?;
        Some(programme.eligibility(birth, on, &answers.get()))
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let build = || -> Result<Enrollment, FieldError> {
            let day = |field: &str, value: String| {
                value
                    .parse::<CalendarDate>()
                    .map_err(|_| FieldError::new(field, "Indiquez une date (jour, mois, année)."))
            };
            let referring_gp_id = if own_name == Some(true) {
                me.account_id
            } else {
                referring_gp.get_untracked().parse().map_err(|_| {
                    FieldError::new("referring_gp_id", "Choisissez le médecin traitant.")
                })?
            };
            let enrollment = Enrollment {
                id: RecordId::new(),
                patient_id: known_patient
                    .get_untracked()
                    .map(|p| p.id)
                    .unwrap_or_default(),
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends: None,
                programme_id: programme.id.clone(),
                programme_version: programme.version,
                included_on: day("included_on", included_on.get_untracked())?,
                referring_gp_id,
                reason: reason.get_untracked().trim().to_string(),
                identity: Identity {
                    family_name: family_name.get_untracked().trim().to_string(),
                    given_name: given_name.get_untracked().trim().to_string(),
                    birth_date: day("identity.birth_date", birth_date.get_untracked())?,
                    sex: sex
                        .get_untracked()
                        .ok_or_else(|| FieldError::new("identity.sex", "Indiquez le sexe."))?,
                    phone: phone.get_untracked().trim().to_string(),
                    address: address.get_untracked().trim().to_string(),
                    town: town.get_untracked().trim().to_string(),
                    ins: match (
                        ins_status.get_untracked(),
                        ins_number.get_untracked().trim(),
                    ) {
                        (None, "") => None,
                        (None, _) => {
                            return Err(FieldError::new(
                                "identity.ins.status",
                                "Indiquez le statut de l'identité (INS).",
                            ))
                        }
                        (Some(status), number) => Some(Ins {
                            number: number.replace(' ', ""),
                            status,
                        }),
                    },
                },
                eligibility: answers.get_untracked(),
                care_team: {
                    let from = day("included_on", included_on.get_untracked())?;
                    team.get_untracked()
                        .into_iter()
                        .filter(|(id, _)| *id != referring_gp_id)
                        .map(|(account_id, role)| TeamMember {
                            account_id,
                            role,
                            from,
                        })
                        .collect()
                },
            };
            enrollment.validate_at(now_ms())?;
            Ok(enrollment)
        };
        refused.set(vec![]);
        let enrollment = match build() {
            Ok(e) => e,
            Err(e) => {
                // Not eligible: every reason, in French, not just the first.
                if let Some(e) = eligibility().filter(|e| !e.eligible()) {
                    refused.set(e.refusals().into_iter().map(str::to_string).collect());
                }
                error.set(Some(e));
                return;
            }
        };
        error.set(None);
        // The new patient's team, named, on this device at once: the plan's
        // owners can be chosen offline, before the server's caseload says it.
        let known = colleagues.get_untracked().flatten().unwrap_or_default();
        let member =
            |account_id: AccountId, profession: Profession, name: String| PatientTeamMember {
                account_id,
                display_name: name,
                profession_label: profession.label_fr().to_string(),
                profession: Some(profession),
            };
        let team: Vec<PatientTeamMember> = enrollment
            .opens()
            .map(|o| o.team)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|id| {
                if id == me.account_id {
                    return Some(member(id, me.profession?, me.display_name.clone()));
                }
                known
                    .iter()
                    .find(|(_, a, _)| *a == id)
                    .map(|(name, a, p)| member(*a, *p, name.clone()))
            })
            .collect();
        let record = NewRecord::of(&enrollment).map(|r| {
            // Already known: the device keeps the patient as it has them.
            if let Some(p) = known_patient.get_untracked() {
                return r.opening(p);
            }
            let mut patient = enrollment.opens().map(|o| o.patient);
            if let Some(p) = patient.as_mut() {
                p.care_team = team;
            }
            match patient {
                Some(p) => r.opening(p),
                None => r,
            }
        });
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let stored = match record {
                Ok(record) => sync::save(state, me.account_id, &[record]).await,
                Err(e) => Err(e),
            };
            match stored {
                Ok(()) => navigate(
                    &format!("/patients/{}", enrollment.patient_id),
                    Default::default(),
                ),
                Err(e) => error.set(Some(FieldError::new(
                    "device",
                    format!("Non enregistré : {e}"),
                ))),
            }
        });
    };

    let message_for = move |field: &'static str| {
        move || error.get().filter(|e| e.field == field).map(|e| e.message)
    };
    let text = move |id: &'static str,
                     field: &'static str,
                     label: &'static str,
                     value: RwSignal<String>,
                     kind: &'static str,
                     autocomplete: &'static str| {
        let described = format!("{id}-error");
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type=kind autocomplete=autocomplete
                    aria-invalid=move || if message_for(field)().is_some() { "true" } else { "false" }
                    aria-describedby=described.clone()
                    prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
                <p id=described class="error" role="alert">{message_for(field)}</p>
            </div>
        }
    };

    let criteria = programme.criteria.clone();
    view! {
        <Header/>
        <main>
            <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
            <PageHeading text="Inclure un patient"/>
            {programme_choice(programme, &choices)}
            <p class="hint">{programme.name.clone()}</p>
            {(own_name.is_none()).then(|| view! {
                <p class="error" role="alert">"Seul le médecin traitant, ou l'IRDP en son nom, inclut un patient dans ce parcours."</p>
            })}
            <form on:submit=submit novalidate aria-label="Inclusion">
                <fieldset>
                    <legend>"Identité"</legend>
                    {text("family_name", "identity.family_name", "Nom de naissance", family_name, "text", "family-name")}
                    {text("given_name", "identity.given_name", "Prénom", given_name, "text", "given-name")}
                    {text("birth_date", "identity.birth_date", "Date de naissance", birth_date, "date", "bday")}
                    <fieldset class="choices">
                        <legend>"Sexe"</legend>
                        {Sex::ALL.into_iter().map(|s| view! {
                            <label class="choice">
                                <input type="radio" name="sex" prop:checked=move || sex.get() == Some(s)
                                    on:change=move |_| sex.set(Some(s))/>
                                {s.label_fr()}
                            </label>
                        }).collect_view()}
                        <p class="error" role="alert">{message_for("identity.sex")}</p>
                    </fieldset>
                    {text("phone", "identity.phone", "Téléphone", phone, "tel", "tel")}
                    {text("address", "identity.address", "Adresse", address, "text", "street-address")}
                    {text("town", "identity.town", "Commune", town, "text", "address-level2")}
                    {text("ins_number", "identity.ins.number", "Matricule INS (NIR, 15 chiffres)", ins_number, "text", "off")}
                    <fieldset class="choices">
                        <legend>"Statut de l'identité (INS)"</legend>
                        {InsStatus::ALL.into_iter().map(|st| view! {
                            <label class="choice">
                                <input type="radio" name="ins_status" prop:checked=move || ins_status.get() == Some(st)
                                    on:change=move |_| ins_status.set(Some(st))/>
                                {st.label_fr()}
                            </label>
                        }).collect_view()}
                        <p class="error" role="alert">{message_for("identity.ins.status")}</p>
                    </fieldset>
                </fieldset>
                <fieldset>
                    <legend>"Critères du parcours"</legend>
                    {criteria.into_iter().map(|c| {
                        let id = c.id.clone();
                        let (yes_id, no_id) = (id.clone(), id.clone());
                        let answered = move |value: bool| {
                            let id = id.clone();
                            move || answers.with(|a| a.get(&id) == Some(&value))
                        };
                        let hint = match c.kind {
                            CriterionKind::Inclusion => "Critère d'inclusion",
                            CriterionKind::Exclusion => "Critère d'exclusion",
                        };
                        view! {
                            <fieldset class="choices criterion">
                                <legend>{c.label.clone()}<span class="hint">{format!(" — {hint}")}</span></legend>
                                <label class="choice">
                                    <input type="radio" name=c.id.clone() prop:checked=answered(true)
                                        on:change=move |_| answers.update(|a| { a.insert(yes_id.clone(), true); })/>
                                    "Oui"
                                </label>
                                <label class="choice">
                                    <input type="radio" name=c.id.clone() prop:checked=answered(false)
                                        on:change=move |_| answers.update(|a| { a.insert(no_id.clone(), false); })/>
                                    "Non"
                                </label>
                            </fieldset>
                        }
                    }).collect_view()}
                </fieldset>
                <section aria-label="Éligibilité" class="eligibility">
                    {move || match eligibility() {
                        None => view! { <p class="hint">"L'éligibilité s'affiche avec la date de naissance."</p> }.into_any(),
                        Some(e) => {
                            let verdict = format!("{} ans le jour de l'inclusion — {}", e.age_years,
                                if e.eligible() { "éligible" } else { "non éligible" });
                            view! {
                            <ul aria-label="Règles du parcours">
                                {e.checks.into_iter().map(|c| view! {
                                    <li class:ok=c.passed class:ko=!c.passed>
                                        {if c.passed { "✓ " } else { "✗ " }}{c.label.clone()}
                                    </li>
                                }).collect_view()}
                            </ul>
                            <p role="status">{verdict}</p>
                        }.into_any()},
                    }}
                </section>
                {(own_name == Some(false)).then(|| view! {
                    <div class="field">
                        <label for="referring_gp">"Médecin traitant (vous incluez en son nom)"</label>
                        <select id="referring_gp" on:change=move |ev| referring_gp.set(event_target_value(&ev))>
                            <option value="">"— Choisir —"</option>
                            {move || gps().into_iter().map(|(id, name)| view! {
                                <option value=id.to_string()>{name}</option>
                            }).collect_view()}
                        </select>
                        <p class="error" role="alert">{message_for("referring_gp_id")}</p>
                    </div>
                })}
                <fieldset class:hidden=move || known_patient.get().is_some()>
                    <legend>"Équipe de soins"</legend>
                    <p class="hint">"Vous et le médecin traitant en faites partie ; ajoutez les professionnels qui suivront le patient."</p>
                    {move || colleagues.get().flatten().unwrap_or_default().into_iter().map(|(name, id, profession)| view! {
                        <label class="choice">
                            <input type="checkbox" prop:checked=move || team.with(|t| t.contains_key(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    team.update(|t| { if on { t.insert(id, profession); } else { t.remove(&id); } });
                                }/>
                            {format!("{name} ({})", profession.label_fr())}
                        </label>
                    }).collect_view()}
                </fieldset>
                {text("included_on", "included_on", "Date d'inclusion", included_on, "date", "off")}
                <div class="field">
                    <label for="reason">"Motif d'inclusion"</label>
                    <textarea id="reason" rows="3" prop:value=reason
                        aria-invalid=move || if message_for("reason")().is_some() { "true" } else { "false" }
                        on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    <p class="error" role="alert">{message_for("reason")}</p>
                </div>
                {move || (!refused.get().is_empty()).then(|| view! {
                    <div class="refusal" role="alert">
                        <p>"Patient non inclus :"</p>
                        <ul>{refused.get().into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                    </div>
                })}
                {move || error.get().filter(|e| e.field.starts_with("eligibility") || e.field == "device" || e.field == "programme_version")
                    .map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                <button type="submit" disabled=own_name.is_none()>"Inclure le patient"</button>
            </form>
        </main>
    }
    .into_any()
}
