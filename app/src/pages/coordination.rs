//! Coordination support (appui à la coordination): on the patient's page,
//! any professional of the team asks for support (offline, like every
//! record) and sees where the request stands; the coordinator who took it
//! assesses the needs, follows up and closes — the steps themselves are
//! care-plan items of type "Appui à la coordination", in the plan below.
//! The coordinators' queue (`/coordination`) lists every request of the
//! CPTS: it is read from the server, so it needs the network, and so does
//! taking a request (it makes the coordinator a member of the care team).

use crate::api::{self, ApiError};
use crate::clock::{self, now_ms, today};
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::components::problems::Problems;
use crate::device_store::Stored;
use crate::format;
use crate::pages::notebook::name_in;
use crate::pages::require_sign_in;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use parcours_domain::coordination::{
    is_coordinator, CoordinationEvent, CoordinationRequest, CoordinationStep, Need, NeedDomain,
    NeedsAssessment, Outcome, Progress, QueueEntry, Status, Urgency, STEP_LABEL,
};
use parcours_domain::date::CalendarDate;
use parcours_domain::patient::TeamMember;
use parcours_domain::{FieldError, PatientId, RecordId};

#[derive(Debug)]
pub struct CoordinationQueueRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for CoordinationQueueRoute {
    fn data() -> Self {
        CoordinationQueueRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Queue/> }.into_any()
    }
}

fn refusal(e: ApiError) -> String {
    api::said(
        e,
        "Pas de réseau : la file des demandes se lit sur le serveur. Réessayez avec du réseau.",
    )
}

fn domains_line(domains: &[NeedDomain]) -> Option<String> {
    (!domains.is_empty()).then(|| {
        let labels: Vec<&str> = domains.iter().map(|d| d.label_fr()).collect();
        format!("Domaines : {}", labels.join(", "))
    })
}

#[component]
fn Queue() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let navigate = use_navigate();
    let reload = RwSignal::new(0u32);
    let queue = LocalResource::new(move || {
        reload.track();
        async move { api::coordination_queue(today(), clock::offset_minutes()).await }
    });
    let message = RwSignal::new(None::<String>);
    let take = move |entry: QueueEntry| {
        let navigate = navigate.clone();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::take_request(entry.request.id, today()).await {
                Ok(_) => {
                    // Her device pulls the patient's file before she opens it.
                    sync::sync_now(state, me.account_id).await;
                    navigate(
                        &format!("/patients/{}", entry.request.patient_id),
                        Default::default(),
                    );
                }
                Err(e) => {
                    message.set(Some(refusal(e)));
                    reload.update(|n| *n += 1);
                }
            }
        });
    };
    view! {
        <Header/>
        <main>
            <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
            <PageHeading text="Demandes d'appui à la coordination"/>
            <p class="hint">"La file se lit sur le serveur : il faut du réseau pour la consulter et pour prendre une demande en charge. Le reste (évaluation, suivi, étapes) se fait hors ligne."</p>
            {move || auth.0.get().and_then(|m| m.profession).filter(|p| !is_coordinator(*p)).map(|_| view! {
                <p class="notice">"Cette file est celle des coordinateurs de la CPTS."</p>
            })}
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button type="button" class="secondary" on:click=move |_| reload.update(|n| *n += 1)>"Actualiser"</button>
            {move || match queue.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{refusal(e)}</p> }.into_any(),
                Some(Ok(entries)) => {
                    let take = take.clone();
                    [Status::New, Status::Assessment, Status::FollowUp, Status::Closed].into_iter().map(|status| {
                        let of_status: Vec<QueueEntry> = entries.iter().filter(|e| e.progress.status == status).cloned().collect();
                        let heading = format!("{} ({})", status_heading(status), of_status.len());
                        let label = heading.clone();
                        let take = take.clone();
                        view! {
                            <section aria-label=label>
                                <h2>{heading}</h2>
                                <ul class="diary">
                                    {of_status.into_iter().map(|e| {
                                        let take = take.clone();
                                        let for_take = e.clone();
                                        let r = &e.request;
                                        view! {
                                            <li class="diary-entry" aria-label=format!("Demande pour {}", e.patient_name)>
                                                <h3>{format!("{} — {}", e.patient_name, e.patient_town)}</h3>
                                                <p class="when">{format!("{} · demandée par {}", format::date_time(r.recorded_at), e.asked_by)}</p>
                                                <p><strong>{r.urgency.label_fr()}</strong>{(!r.urgent_details.is_empty()).then(|| format!(" : {}", r.urgent_details))}</p>
                                                <p class="note">{r.reasons.clone()}</p>
                                                {domains_line(&r.domains).map(|l| view! { <p>{l}</p> })}
                                                {e.progress.overdue.then(|| view! { <p class="badge unread">"En retard"</p> })}
                                                {e.taken_by_name.clone().map(|n| view! { <p>{format!("Prise en charge par {n}")}</p> })}
                                                {e.progress.next_check_in.map(|d| view! { <p>{format!("Prochain point le {}", d.french())}</p> })}
                                                {if e.in_my_team {
                                                    view! { <A href=format!("/patients/{}", r.patient_id) attr:class="button secondary">"Ouvrir le dossier"</A> }.into_any()
                                                } else if e.progress.status == Status::New {
                                                    view! { <button type="button" on:click=move |_| take(for_take.clone())>"Prendre en charge"</button> }.into_any()
                                                } else {
                                                    ().into_any()
                                                }}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </section>
                        }
                    }).collect_view().into_any()
                }
            }}
        </main>
    }
}

fn status_heading(status: Status) -> &'static str {
    match status {
        Status::New => "Nouvelles",
        Status::Assessment => "En évaluation",
        Status::FollowUp => "En suivi",
        Status::Closed => "Clôturées",
    }
}

#[derive(Clone)]
struct File {
    requests: Vec<Stored<CoordinationRequest>>,
    events: Vec<Stored<CoordinationEvent>>,
    assessments: Vec<Stored<NeedsAssessment>>,
    team: Vec<TeamMember>,
}

/// What a coordinator is about to write on a request, or to correct (a
/// correction is a new record that amends the first, never an overwrite).
#[derive(Clone, PartialEq)]
enum Writing {
    Request,
    Assessment(RecordId),
    CheckIn(RecordId),
    Closure(RecordId),
    CorrectAssessment(NeedsAssessment),
    CorrectFollowUp(CoordinationEvent),
}

#[component]
pub fn CoordinationSection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            Some(File {
                requests: store.records_of(patient_id).await.ok()?,
                events: store.records_of(patient_id).await.ok()?,
                assessments: store.records_of(patient_id).await.ok()?,
                team: store.patient(patient_id).await.ok()??.care_team,
            })
        }
    });
    let writing = RwSignal::new(None::<Writing>);
    let coordinator = move || {
        auth.0
            .get()
            .and_then(|m| m.profession)
            .is_some_and(is_coordinator)
    };
    view! {
        <section aria-labelledby="coordination-title">
            <h2 id="coordination-title">"Appui à la coordination"</h2>
            {move || data.get().flatten().map(|file| view! { <Requests file writing coordinator=coordinator()/> })}
            {move || match writing.get() {
                None => view! {
                    <button type="button" class="secondary" on:click=move |_| writing.set(Some(Writing::Request))>
                        "Demander un appui à la coordination"
                    </button>
                }.into_any(),
                Some(Writing::Request) => view! { <RequestForm patient_id writing/> }.into_any(),
                Some(Writing::Assessment(request)) => view! { <AssessmentForm patient_id request writing/> }.into_any(),
                Some(Writing::CorrectAssessment(a)) => {
                    view! { <AssessmentForm patient_id request=a.request_id writing correcting=a/> }.into_any()
                }
                Some(w @ (Writing::CheckIn(request) | Writing::Closure(request))) => {
                    view! { <FollowUpForm patient_id request closing=matches!(w, Writing::Closure(_)) writing/> }.into_any()
                }
                Some(Writing::CorrectFollowUp(e)) => view! {
                    <FollowUpForm patient_id request=e.request_id closing=matches!(e.step, CoordinationStep::Closed { .. }) writing correcting=e/>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Requests(file: File, writing: RwSignal<Option<Writing>>, coordinator: bool) -> impl IntoView {
    let me = expect_context::<Auth>()
        .0
        .get_untracked()
        .map(|m| m.account_id);
    let events: Vec<CoordinationEvent> = file.events.iter().map(|s| s.record.clone()).collect();
    let assessments: Vec<NeedsAssessment> =
        file.assessments.iter().map(|s| s.record.clone()).collect();
    // A corrected record is shown as its correction.
    let replaced: Vec<RecordId> = events
        .iter()
        .filter_map(|e| e.amends)
        .chain(assessments.iter().filter_map(|a| a.amends))
        .collect();
    let team = file.team;
    file.requests
        .into_iter()
        .map(|s| {
            let r = s.record;
            let progress = Progress::of(&r, &events, &assessments, today(), clock::offset_minutes());
            let mine = coordinator && progress.taken_by == me && progress.status != Status::Closed;
            let id = r.id;
            let assessed: Vec<NeedsAssessment> = assessments
                .iter()
                .filter(|a| a.request_id == id && !replaced.contains(&a.id))
                .cloned()
                .collect();
            let mut followed: Vec<CoordinationEvent> = events
                .iter()
                .filter(|e| e.request_id == id && !replaced.contains(&e.id))
                .cloned()
                .collect();
            followed.sort_by_key(|e| (e.on, e.recorded_at));
            view! {
                <article class="diary-entry" class:pending=s.pending aria-label=format!("Demande d'appui de {}", name_in(&team, r.author_id))>
                    <p class="when">{format!("{} · demandée par {}", format::date_time(r.recorded_at), name_in(&team, r.author_id))}</p>
                    <p><strong>{format!("{} — {}", progress.status.label_fr(), r.urgency.label_fr())}</strong></p>
                    {progress.overdue.then(|| view! { <p class="badge unread">"En retard"</p> })}
                    <p class="note">{r.reasons.clone()}</p>
                    {(!r.urgent_details.is_empty()).then(|| view! { <p>{format!("Ne peut pas attendre : {}", r.urgent_details)}</p> })}
                    {domains_line(&r.domains).map(|l| view! { <p>{l}</p> })}
                    {s.pending.then(|| view! { <p class="sync-state">"Sur l'appareil uniquement — en attente d'envoi"</p> })}
                    {assessed.into_iter().map(|a| view! {
                        <div class="assessment">
                            <h3>{format!("Évaluation des besoins — {}", name_in(&team, a.author_id))}</h3>
                            {a.amends.is_some().then(|| view! { <p class="badge">{format!("Corrigée le {}", format::date_time(a.recorded_at))}</p> })}
                            <p>{format!("Patient contacté : {} · médecin traitant contacté : {}",
                                if a.patient_contacted { "oui" } else { "non" }, if a.gp_contacted { "oui" } else { "non" })}</p>
                            <ul>
                                {a.needs.iter().filter(|n| !n.needed.is_empty() || !n.existing.is_empty()).map(|n| view! {
                                    <li>{format!("{} — existant : {} ; besoin : {}", n.domain.label_fr(),
                                        if n.existing.is_empty() { "—" } else { &n.existing },
                                        if n.needed.is_empty() { "—" } else { &n.needed })}</li>
                                }).collect_view()}
                            </ul>
                            {(!a.summary.is_empty()).then(|| view! { <p class="note">{a.summary.clone()}</p> })}
                            {(Some(a.author_id) == me).then(|| {
                                let a = a.clone();
                                view! {
                                    <button type="button" class="secondary" on:click=move |_| writing.set(Some(Writing::CorrectAssessment(a.clone())))>
                                        "Corriger l'évaluation"
                                    </button>
                                }
                            })}
                        </div>
                    }).collect_view()}
                    <ul>
                        {followed.into_iter().map(|e| {
                            let what = match &e.step {
                                CoordinationStep::Taken => format!("Prise en charge par {}", name_in(&team, e.author_id)),
                                CoordinationStep::CheckIn { next_on } => format!("Point de suivi : {}{}", e.note,
                                    next_on.map(|d| format!(" (prochain le {})", d.french())).unwrap_or_default()),
                                CoordinationStep::Closed { outcome } => format!("Clôture : {}{}", outcome.label_fr(),
                                    if e.note.is_empty() { String::new() } else { format!(" — {}", e.note) }),
                            };
                            // Taking a request is the server's to record: it is not corrected.
                            let correctable = Some(e.author_id) == me && e.step != CoordinationStep::Taken;
                            let corrected = e.amends.is_some();
                            let label = format!("{} · {what}", e.on.french());
                            let aria = format!("Corriger : {label}");
                            view! {
                                <li>{label}
                                    {corrected.then_some(" (corrigé)")}
                                    {correctable.then(|| view! {
                                        <button type="button" class="secondary" aria-label=aria
                                            on:click=move |_| writing.set(Some(Writing::CorrectFollowUp(e.clone())))>"Corriger"</button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {mine.then(|| view! {
                        <p class="hint">{format!("Les étapes se notent dans le plan de soins, type « {STEP_LABEL} », avec leur responsable et leur échéance.")}</p>
                        <div class="actions">
                            <button type="button" class="secondary" on:click=move |_| writing.set(Some(Writing::Assessment(id)))>"Évaluer les besoins"</button>
                            <button type="button" class="secondary" on:click=move |_| writing.set(Some(Writing::CheckIn(id)))>"Noter un point de suivi"</button>
                            <button type="button" class="secondary" on:click=move |_| writing.set(Some(Writing::Closure(id)))>"Clôturer"</button>
                        </div>
                    })}
                </article>
            }
        })
        .collect_view()
}

/// Saves a record on the device (it leaves with the next sync), then
/// closes the form.
fn save<K: parcours_domain::sync::RecordKind + serde::Serialize + 'static>(
    record: K,
    errors: RwSignal<Vec<FieldError>>,
    writing: RwSignal<Option<Writing>>,
) {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let Some(me) = auth.0.get_untracked() else {
        return;
    };
    leptos::task::spawn_local(async move {
        match sync::save_record(state, me.account_id, &record).await {
            Ok(()) => writing.set(None),
            Err(e) => errors.set(vec![e]),
        }
    });
}

#[component]
fn RequestForm(patient_id: PatientId, writing: RwSignal<Option<Writing>>) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let reasons = RwSignal::new(String::new());
    let urgency = RwSignal::new(Urgency::Routine);
    let details = RwSignal::new(String::new());
    let domains = RwSignal::new(Vec::<NeedDomain>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let request = CoordinationRequest {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends: None,
            reasons: reasons.get_untracked().trim().to_string(),
            urgency: urgency.get_untracked(),
            urgent_details: details.get_untracked().trim().to_string(),
            domains: domains.get_untracked(),
        };
        let problems = request.problems();
        crate::components::problems::show(errors, problems.clone());
        if problems.is_empty() {
            save(request, errors, writing);
        }
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label="Demande d'appui à la coordination">
            <h3>"Demande d'appui à la coordination"</h3>
            <div class="field">
                <label for="coordination-reasons">"Pourquoi la situation est complexe"</label>
                <textarea id="coordination-reasons" rows="3" prop:value=reasons on:input=move |ev| reasons.set(event_target_value(&ev))></textarea>
            </div>
            <fieldset class="choices">
                <legend>"Urgence"</legend>
                {Urgency::ALL.into_iter().map(|u| view! {
                    <label class="choice">
                        <input type="radio" name="urgency" prop:checked=move || urgency.get() == u on:change=move |_| urgency.set(u)/>
                        <span>{u.label_fr()}</span>
                    </label>
                }).collect_view()}
            </fieldset>
            <Show when=move || urgency.get() != Urgency::Routine>
                <div class="field">
                    <label for="coordination-urgent">"Ce qui ne peut pas attendre"</label>
                    <textarea id="coordination-urgent" rows="2" prop:value=details on:input=move |ev| details.set(event_target_value(&ev))></textarea>
                </div>
            </Show>
            <fieldset class="choices">
                <legend>"Domaines en difficulté (facultatif)"</legend>
                {NeedDomain::ALL.into_iter().map(|d| view! {
                    <label class="choice">
                        <input type="checkbox" prop:checked=move || domains.get().contains(&d)
                            on:change=move |_| domains.update(|all| if all.contains(&d) { all.retain(|x| *x != d) } else { all.push(d) })/>
                        <span>{d.label_fr()}</span>
                    </label>
                }).collect_view()}
            </fieldset>
            <Problems errors/>
            <div class="actions">
                <button type="submit">"Envoyer la demande"</button>
                <button type="button" class="secondary" on:click=move |_| writing.set(None)>"Annuler"</button>
            </div>
        </form>
    }
}

#[component]
fn AssessmentForm(
    patient_id: PatientId,
    request: RecordId,
    writing: RwSignal<Option<Writing>>,
    /// The assessment this one corrects: its answers are the start.
    #[prop(optional)]
    correcting: Option<NeedsAssessment>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let amends = correcting.as_ref().map(|a| a.id);
    let was = correcting.as_ref();
    let patient_contacted = RwSignal::new(was.is_some_and(|a| a.patient_contacted));
    let gp_contacted = RwSignal::new(was.is_some_and(|a| a.gp_contacted));
    let fields: Vec<(NeedDomain, RwSignal<String>, RwSignal<String>)> = NeedDomain::ALL
        .into_iter()
        .map(|d| {
            let need = was.and_then(|a| a.needs.iter().find(|n| n.domain == d));
            (
                d,
                RwSignal::new(need.map(|n| n.existing.clone()).unwrap_or_default()),
                RwSignal::new(need.map(|n| n.needed.clone()).unwrap_or_default()),
            )
        })
        .collect();
    let summary = RwSignal::new(was.map(|a| a.summary.clone()).unwrap_or_default());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let for_submit = fields.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let assessment = NeedsAssessment {
            id: RecordId::new(),
            patient_id,
            author_id: me.account_id,
            device_id: me.device_id,
            recorded_at: now_ms(),
            amends,
            request_id: request,
            patient_contacted: patient_contacted.get_untracked(),
            gp_contacted: gp_contacted.get_untracked(),
            needs: for_submit
                .iter()
                .map(|(domain, existing, needed)| Need {
                    domain: *domain,
                    existing: existing.get_untracked().trim().to_string(),
                    needed: needed.get_untracked().trim().to_string(),
                })
                .filter(|n| !n.existing.is_empty() || !n.needed.is_empty())
                .collect(),
            summary: summary.get_untracked().trim().to_string(),
        };
        let problems = assessment.problems();
        crate::components::problems::show(errors, problems.clone());
        if problems.is_empty() {
            save(assessment, errors, writing);
        }
    };
    let heading = if amends.is_some() {
        "Corriger l'évaluation des besoins"
    } else {
        "Évaluation des besoins"
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label=heading>
            <h3>{heading}</h3>
            <label class="choice"><input type="checkbox" prop:checked=patient_contacted on:change=move |_| patient_contacted.update(|v| *v = !*v)/><span>"Patient contacté"</span></label>
            <label class="choice"><input type="checkbox" prop:checked=gp_contacted on:change=move |_| gp_contacted.update(|v| *v = !*v)/><span>"Médecin traitant contacté"</span></label>
            {fields.into_iter().map(|(domain, existing, needed)| {
                let key = format!("{domain:?}").to_lowercase();
                view! {
                    <fieldset class="need">
                        <legend>{domain.label_fr()}</legend>
                        <div class="field">
                            <label for=format!("existing-{key}")>{format!("Existant — {}", domain.label_fr())}</label>
                            <textarea id=format!("existing-{key}") rows="1" prop:value=existing on:input=move |ev| existing.set(event_target_value(&ev))></textarea>
                        </div>
                        <div class="field">
                            <label for=format!("needed-{key}")>{format!("Besoin — {}", domain.label_fr())}</label>
                            <textarea id=format!("needed-{key}") rows="1" prop:value=needed on:input=move |ev| needed.set(event_target_value(&ev))></textarea>
                        </div>
                    </fieldset>
                }
            }).collect_view()}
            <div class="field">
                <label for="assessment-summary">"Synthèse"</label>
                <textarea id="assessment-summary" rows="2" prop:value=summary on:input=move |ev| summary.set(event_target_value(&ev))></textarea>
            </div>
            <Problems errors/>
            <div class="actions">
                <button type="submit">"Enregistrer l'évaluation"</button>
                <button type="button" class="secondary" on:click=move |_| writing.set(None)>"Annuler"</button>
            </div>
        </form>
    }
}

#[component]
fn FollowUpForm(
    patient_id: PatientId,
    request: RecordId,
    closing: bool,
    writing: RwSignal<Option<Writing>>,
    /// The check-in or closure this one corrects: its answers are the start.
    #[prop(optional)]
    correcting: Option<CoordinationEvent>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let amends = correcting.as_ref().map(|e| e.id);
    let on = RwSignal::new(correcting.as_ref().map_or(today(), |e| e.on).to_string());
    let next_on = RwSignal::new(match correcting.as_ref().map(|e| &e.step) {
        Some(CoordinationStep::CheckIn { next_on: Some(d) }) => d.to_string(),
        _ => String::new(),
    });
    let outcome = RwSignal::new(match correcting.as_ref().map(|e| &e.step) {
        Some(CoordinationStep::Closed { outcome }) => Some(*outcome),
        _ => None,
    });
    let note = RwSignal::new(correcting.map(|e| e.note).unwrap_or_default());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = auth.0.get_untracked() else {
            return;
        };
        let mut problems = vec![];
        let on_day: Option<CalendarDate> = on.get_untracked().parse().ok();
        if on_day.is_none() {
            problems.push(FieldError::new("on", "Date invalide."));
        }
        let next = next_on.get_untracked();
        let next_day: Option<CalendarDate> = next.parse().ok();
        if !next.is_empty() && next_day.is_none() {
            problems.push(FieldError::new(
                "next_on",
                "Date du prochain point invalide.",
            ));
        }
        let step = if closing {
            match outcome.get_untracked() {
                Some(outcome) => Some(CoordinationStep::Closed { outcome }),
                None => {
                    problems.push(FieldError::new(
                        "outcome",
                        "Choisissez comment se termine l'appui.",
                    ));
                    None
                }
            }
        } else {
            Some(CoordinationStep::CheckIn { next_on: next_day })
        };
        if let (Some(on_day), Some(step)) = (on_day, step) {
            let event = CoordinationEvent {
                id: RecordId::new(),
                patient_id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends,
                request_id: request,
                on: on_day,
                step,
                note: note.get_untracked().trim().to_string(),
            };
            problems.extend(event.problems());
            crate::components::problems::show(errors, problems.clone());
            if problems.is_empty() {
                save(event, errors, writing);
            }
        } else {
            crate::components::problems::show(errors, problems);
        }
    };
    let heading = match (closing, amends.is_some()) {
        (true, false) => "Clôture de l'appui",
        (false, false) => "Point de suivi",
        (true, true) => "Corriger la clôture",
        (false, true) => "Corriger le point de suivi",
    };
    view! {
        <form class="item-form" on:submit=submit novalidate aria-label=heading>
            <h3>{heading}</h3>
            <div class="field">
                <label for="follow-up-on">"Le"</label>
                <input id="follow-up-on" type="date" prop:value=on on:input=move |ev| on.set(event_target_value(&ev))/>
            </div>
            {(!closing).then(|| view! {
                <div class="field">
                    <label for="follow-up-next">"Prochain point le"</label>
                    <input id="follow-up-next" type="date" prop:value=next_on on:input=move |ev| next_on.set(event_target_value(&ev))/>
                </div>
            })}
            {closing.then(|| view! {
                <fieldset class="choices">
                    <legend>"Issue"</legend>
                    {Outcome::ALL.into_iter().map(|o| view! {
                        <label class="choice">
                            <input type="radio" name="outcome" prop:checked=move || outcome.get() == Some(o) on:change=move |_| outcome.set(Some(o))/>
                            <span>{o.label_fr()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
            })}
            <div class="field">
                <label for="follow-up-note">"Ce qui a été fait ou dit"</label>
                <textarea id="follow-up-note" rows="2" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            </div>
            <Problems errors/>
            <div class="actions">
                <button type="submit">"Enregistrer"</button>
                <button type="button" class="secondary" on:click=move |_| writing.set(None)>"Annuler"</button>
            </div>
        </form>
    }
}
