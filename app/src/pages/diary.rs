//! The patient's own app: their pain diary (an entry in under a minute,
//! offline like everything else), what waits to be sent, their trajectory,
//! their plan's objectives and their next visits. Larger text and targets,
//! plain words; nothing of the professional screens.

use crate::clock::{self, now_ms};
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::components::scale::ScaleRow;
use crate::components::trajectory_chart::TrajectoryChart;
use crate::device_store::{NewRecord, Stored};
use crate::pages::require_patient;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use parcours_domain::appointment::{Appointment, AppointmentStatus};
use parcours_domain::care_plan::{CarePlanItem, ItemStatus};
use parcours_domain::date::CalendarDate;
use parcours_domain::diary::{Activity, DiaryEntry, MedicineTaken, Mood};
use parcours_domain::objective::Objective;
use parcours_domain::patient::TeamMember;
use parcours_domain::patient_share::PatientShare;
use parcours_domain::review::{Review, ReviewStatus};
use parcours_domain::sync::Record;
use parcours_domain::trajectory::Trajectory;
use parcours_domain::{AccountId, FieldError, Patient, PatientId, RecordId};
use std::collections::BTreeSet;

/// What the first screen shows: who they are (their team's names) and
/// their diary.
#[derive(Clone)]
struct OwnDiary {
    account: AccountId,
    patient: Patient,
    diary: Vec<Stored<DiaryEntry>>,
}

async fn own_diary(account: AccountId, patient: PatientId) -> Option<OwnDiary> {
    let store = sync::store(account).await.ok()?;
    let found = store.patient(patient).await.ok()?;
    Some(OwnDiary {
        account,
        // Before the first sync the device knows only who signed in.
        patient: found.unwrap_or(Patient {
            id: patient,
            family_name: String::new(),
            given_name: String::new(),
            birth_date: String::new(),
            town: String::new(),
            care_team: vec![],
        }),
        diary: store.records_of::<DiaryEntry>(patient).await.ok()?,
    })
}

/// A team member as the patient reads them: "Claire Martin (infirmière
/// ressource douleur)".
fn member(team: &[TeamMember], id: AccountId) -> String {
    team.iter()
        .find(|m| m.account_id == id)
        .map(|m| format!("{} ({})", m.display_name, m.profession_label.to_lowercase()))
        .unwrap_or_else(|| "votre équipe".into())
}

/// The patient's home, a module of its own: every start shows the lock
/// screen first (from the main module), and this loads while the PIN is
/// typed — or comes from the service worker's cache.
pub struct DiaryHomeRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for DiaryHomeRoute {
    fn data() -> Self {
        DiaryHomeRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <DiaryHome/> }.into_any()
    }
}

#[component]
pub fn DiaryHome() -> impl IntoView {
    require_patient();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let query = use_query_map();
    let just_saved = move || query.with(|q| q.get("enregistre").is_some());
    let file = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let me = me?;
            own_diary(me.account_id, me.patient_id?).await
        }
    });
    view! {
        <Header/>
        <main class="patient">
            <PageHeading text="Mon journal de douleur"/>
            {move || just_saved().then(|| view! {
                <p class="saved" role="status">"Enregistré sur votre téléphone. Il partira vers votre équipe dès qu'il y aura du réseau."</p>
            })}
            {move || match file.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <p>"Votre journal n'est pas lisible sur ce téléphone."</p> }.into_any(),
                Some(Some(file)) => home(file).into_any(),
            }}
        </main>
    }
}

fn home(file: OwnDiary) -> impl IntoView {
    let today = clock::today();
    let OwnDiary {
        account,
        patient,
        diary,
    } = file;
    let entries: Vec<DiaryEntry> = diary.iter().map(|s| s.record.clone()).collect();
    // The patient reads their diary as it stands: a corrected entry is
    // replaced by its correction (the team sees both).
    let corrected: BTreeSet<RecordId> = diary.iter().filter_map(|s| s.record.amends).collect();
    let mut current: Vec<Stored<DiaryEntry>> = diary
        .into_iter()
        .filter(|s| !corrected.contains(&s.record.id))
        .collect();
    current.sort_by_key(|s| std::cmp::Reverse((s.record.on, s.record.recorded_at)));
    let written_today = current.iter().any(|s| s.record.on == today);
    let recent: Vec<Stored<DiaryEntry>> = current.into_iter().take(14).collect();
    let (patient_id, team) = (patient.id, patient.care_team);
    view! {
        {(!written_today).then(|| view! {
            <p class="reminder" role="status">"Vous n'avez pas encore rempli votre journal aujourd'hui."</p>
        })}
        <A href="/journal/saisie" attr:class="button primary big">
            {if written_today { "Ajouter une note pour aujourd'hui" } else { "Remplir mon journal du jour" }}
        </A>

        <section aria-labelledby="my-days">
            <h2 id="my-days">"Mes derniers jours"</h2>
            {recent.is_empty().then(|| view! { <p>"Rien encore : votre premier jour commence ici."</p> })}
            <ul class="diary">
                {recent.into_iter().map(|s| {
                    let e = s.record;
                    let was_corrected = e.amends.is_some();
                    view! {
                        <li class="diary-entry" class:pending=s.pending>
                            <h3>{weekday_date(e.on)}</h3>
                            {e.lines_fr().into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
                            {was_corrected.then(|| view! { <p class="badge">"Corrigé"</p> })}
                            <p class="sync-state">{if s.pending { "En attente d'envoi à votre équipe" } else { "Envoyé à votre équipe" }}</p>
                            <A href=format!("/journal/saisie?corrige={}", e.id) attr:class="button secondary">
                                {format!("Corriger le {}", e.on.french())}
                            </A>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>

        // Below what they act on, and drawn once its own module has come:
        // nothing above moves when it does.
        {Suspend::new(async move { the_rest(account, patient_id, entries, team).await })}
    }
}

/// What the team shared with them, their trajectory, objectives, next
/// visits and plan: a module of its own, loaded after the first screen
/// shows (the first screen of a returning patient stays a small download).
#[leptos::lazy]
async fn the_rest(
    account: AccountId,
    patient: PatientId,
    diary: Vec<DiaryEntry>,
    team: Vec<TeamMember>,
) -> AnyView {
    let Ok(store) = sync::store(account).await else {
        return ().into_any();
    };
    let today = clock::today();
    let who = move |id: AccountId| member(&team, id);
    let shares: Vec<PatientShare> = store
        .records_of::<PatientShare>(patient)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.record)
        .collect();
    // Their phone holds no other record kind: the trajectory is the diary's
    // (and the decoder of every kind is not downloaded).
    let records: Vec<Record> = diary.into_iter().map(Record::DiaryEntry).collect();
    let trajectory = Trajectory::from_records(&records, clock::offset_minutes());
    let objectives: Vec<Objective> = store.items_as_sent(patient).await.unwrap_or_default();
    let mut upcoming_visits: Vec<Appointment> = store
        .items_as_sent::<Appointment>(patient)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.status == AppointmentStatus::Planned && a.on.is_some_and(|d| d >= today))
        .collect();
    upcoming_visits.sort_by_key(|a| a.on);
    let mut upcoming_reviews: Vec<Review> = store
        .items_as_sent::<Review>(patient)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.status == ReviewStatus::Planned)
        .collect();
    upcoming_reviews.sort_by_key(|r| r.due_on);
    let actions: Vec<CarePlanItem> = store
        .items_as_sent::<CarePlanItem>(patient)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|i| matches!(i.status, ItemStatus::Active | ItemStatus::Proposed))
        .collect();
    // A corrected message is read as corrected: only its latest words.
    let replaced: BTreeSet<RecordId> = shares.iter().filter_map(|s| s.amends).collect();
    let messages: Vec<PatientShare> = shares
        .into_iter()
        .filter(|s| !replaced.contains(&s.id))
        .collect();
    view! {
        <section aria-labelledby="my-messages">
            <h2 id="my-messages">"Messages de votre équipe"</h2>
            {messages.is_empty().then(|| view! { <p>"Votre équipe pourra vous écrire ici, par exemple le résultat d'un questionnaire."</p> })}
            <ul class="diary">
                {messages.into_iter().map(|m| {
                    let day = parcours_domain::trajectory::day_of(m.recorded_at, clock::offset_minutes())
                        .map(weekday_date)
                        .unwrap_or_default();
                    view! {
                        <li class="diary-entry">
                            <h3>{m.title.clone()}</h3>
                            <p class="when">{format!("{day} — {}", who(m.author_id))}</p>
                            <p class="note">{m.message.clone()}</p>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>

        <section aria-labelledby="my-trajectory">
            <h2 id="my-trajectory">"Mon évolution"</h2>
            <TrajectoryChart trajectory=trajectory simple=true id="own-trajectory"/>
        </section>

        <section aria-labelledby="my-objectives">
            <h2 id="my-objectives">"Mes objectifs"</h2>
            {objectives.is_empty().then(|| view! { <p>"Vos objectifs apparaîtront ici quand votre équipe les aura notés avec vous."</p> })}
            <ul>
                {objectives.into_iter().map(|o| view! {
                    <li>
                        <strong>{o.title.clone()}</strong>
                        {(!o.target.is_empty()).then(|| format!(" — {}", o.target))}
                        {format!(" ({})", o.status.label_fr().to_lowercase())}
                    </li>
                }).collect_view()}
            </ul>
        </section>

        <section aria-labelledby="my-visits">
            <h2 id="my-visits">"Mes prochains rendez-vous"</h2>
            {(upcoming_visits.is_empty() && upcoming_reviews.is_empty()).then(|| view! { <p>"Aucun rendez-vous prévu pour l'instant."</p> })}
            <ul>
                {upcoming_visits.into_iter().map(|a| {
                    let when = a.on.map(weekday_date).unwrap_or_default();
                    let time = if a.time.is_empty() { String::new() } else { format!(" à {}", a.time) };
                    view! { <li>{format!("{when}{time} : {} — {}", a.visit_type.label_fr().to_lowercase(), who(a.owner_id))}</li> }
                }).collect_view()}
                {upcoming_reviews.into_iter().map(|r| {
                    // In plain words (the programme's names say "IRDP"…).
                    let when = r.due_on.map(weekday_date).unwrap_or_else(|| "date à fixer".into());
                    view! { <li>{format!("{when} : point d'étape avec votre équipe — {}", who(r.owner_id))}</li> }
                }).collect_view()}
            </ul>
        </section>

        <section aria-labelledby="my-plan">
            <h2 id="my-plan">"Mon plan de soins"</h2>
            {actions.is_empty().then(|| view! { <p>"Votre plan de soins apparaîtra ici."</p> })}
            <ul>
                {actions.into_iter().map(|i| view! {
                    <li>
                        <strong>{i.title.clone()}</strong>
                        {(!i.frequency.is_empty()).then(|| format!(", {}", i.frequency))}
                        {format!(" — {}", who(i.owner_id))}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

const WEEKDAYS: [&str; 7] = [
    "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche",
];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "Mardi 24 novembre".
pub fn weekday_date(d: CalendarDate) -> String {
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let weekday = (d.days_since_epoch() + 3).rem_euclid(7) as usize;
    format!(
        "{} {} {}",
        WEEKDAYS[weekday],
        d.day(),
        MONTHS[d.month() as usize - 1]
    )
}

#[derive(Debug)]
pub struct DiaryEntryRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for DiaryEntryRoute {
    fn data() -> Self {
        DiaryEntryRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <EntryPage/> }.into_any()
    }
}

#[component]
fn EntryPage() -> impl IntoView {
    require_patient();
    let auth = expect_context::<Auth>();
    let query = use_query_map();
    // The entry corrected, when correcting, and the past entries (their
    // medicines and activities are offered again with one tap).
    let past = LocalResource::new(move || {
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            store
                .records_of::<DiaryEntry>(me.patient_id?)
                .await
                .ok()
                .map(|v| v.into_iter().map(|s| s.record).collect::<Vec<_>>())
        }
    });
    view! {
        <Header/>
        <main class="patient">
            {move || past.get().map(|past| {
                let past = past.unwrap_or_default();
                let corrects = query.with_untracked(|q| q.get("corrige"))
                    .and_then(|id| id.parse::<RecordId>().ok())
                    .and_then(|id| past.iter().find(|e| e.id == id).cloned());
                view! { <EntryForm past=past corrects=corrects/> }
            })}
        </main>
    }
}

/// A score row's value, as tapped.
type Tapped = RwSignal<Option<i64>>;

#[component]
fn EntryForm(past: Vec<DiaryEntry>, corrects: Option<DiaryEntry>) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let navigate = use_navigate();
    let base = corrects.clone();
    let tapped = |f: fn(&DiaryEntry) -> Option<u8>| -> Tapped {
        RwSignal::new(base.as_ref().and_then(f).map(i64::from))
    };
    let pain_now = tapped(|e| Some(e.pain_now));
    let pain_average = tapped(|e| Some(e.pain_average));
    let pain_worst = tapped(|e| Some(e.pain_worst));
    let sleep = tapped(|e| e.sleep);
    let mood = RwSignal::new(base.as_ref().and_then(|e| e.mood));
    let on = RwSignal::new(
        base.as_ref()
            .map(|e| e.on)
            .unwrap_or_else(clock::today)
            .to_string(),
    );
    let activities = RwSignal::new(
        base.as_ref()
            .map(|e| {
                e.activities
                    .iter()
                    .map(|a| (a.what.clone(), a.minutes.to_string()))
                    .collect::<Vec<(String, String)>>()
            })
            .unwrap_or_default(),
    );
    // Their usual medicines: every regular one they noted before, ticked
    // when correcting an entry that has it.
    let usual: Vec<String> = past
        .iter()
        .flat_map(|e| &e.medicines)
        .filter(|m| !m.as_needed)
        .map(|m| m.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let usual = RwSignal::new(usual);
    let taken = RwSignal::new(
        base.as_ref()
            .map(|e| {
                e.medicines
                    .iter()
                    .filter(|m| !m.as_needed)
                    .map(|m| m.name.clone())
                    .collect::<BTreeSet<_>>()
            })
            .unwrap_or_default(),
    );
    let as_needed = RwSignal::new(
        base.as_ref()
            .map(|e| {
                e.medicines
                    .iter()
                    .filter(|m| m.as_needed)
                    .map(|m| (m.name.clone(), m.taken_at.clone().unwrap_or_default()))
                    .collect::<Vec<(String, String)>>()
            })
            .unwrap_or_default(),
    );
    let known_activities: Vec<String> = past
        .iter()
        .flat_map(|e| &e.activities)
        .map(|a| a.what.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(6)
        .collect();
    let new_medicine = RwSignal::new(String::new());
    let text = |f: fn(&DiaryEntry) -> &String| {
        RwSignal::new(base.as_ref().map(|e| f(e).clone()).unwrap_or_default())
    };
    let better = text(|e| &e.better);
    let worse = text(|e| &e.worse);
    let note = text(|e| &e.note);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let amends = corrects.as_ref().map(|e| e.id);

    let submit =
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(me) = auth.0.get_untracked() else {
                return;
            };
            let Some(patient_id) = me.patient_id else {
                return;
            };
            // Everything to fix, at once: what is missing, then the rules.
            let mut problems = vec![];
            let score =
                |field: &str, v: Tapped, problems: &mut Vec<FieldError>| match v.get_untracked() {
                    Some(n) => n.clamp(0, 10) as u8,
                    None => {
                        problems.push(FieldError::new(field, "Touchez une note de 0 à 10."));
                        0
                    }
                };
            let now_score = score("pain_now", pain_now, &mut problems);
            let average = score("pain_average", pain_average, &mut problems);
            let worst = score("pain_worst", pain_worst, &mut problems);
            let day = match on.get_untracked().parse::<CalendarDate>() {
                Ok(d) => d,
                Err(()) => {
                    problems.push(FieldError::new("on", "Choisissez le jour."));
                    clock::today()
                }
            };
            let mut done = vec![];
            for (i, (what, minutes)) in activities.get_untracked().into_iter().enumerate() {
                if what.trim().is_empty() && minutes.trim().is_empty() {
                    continue;
                }
                let minutes = minutes.trim().parse::<u32>().unwrap_or_else(|_| {
                    problems.push(FieldError::new(
                        format!("activities[{i}].minutes"),
                        "Durée en minutes (un nombre).",
                    ));
                    1
                });
                done.push(Activity {
                    what: what.trim().to_string(),
                    minutes,
                });
            }
            let mut medicines: Vec<MedicineTaken> = taken
                .get_untracked()
                .into_iter()
                .map(|name| MedicineTaken {
                    name,
                    as_needed: false,
                    taken_at: None,
                })
                .collect();
            medicines.extend(as_needed.get_untracked().into_iter().map(|(name, time)| {
                MedicineTaken {
                    name: name.trim().to_string(),
                    as_needed: true,
                    taken_at: (!time.is_empty()).then_some(time),
                }
            }));
            let entry = DiaryEntry {
                id: RecordId::new(),
                patient_id,
                author_id: me.account_id,
                device_id: me.device_id,
                recorded_at: now_ms(),
                amends,
                on: day,
                pain_now: now_score,
                pain_average: average,
                pain_worst: worst,
                sleep: sleep.get_untracked().map(|s| s.clamp(0, 10) as u8),
                activities: done,
                medicines,
                mood: mood.get_untracked(),
                better: better.get_untracked().trim().to_string(),
                worse: worse.get_untracked().trim().to_string(),
                note: note.get_untracked().trim().to_string(),
            };
            // Cross-field rules only mean something once every score is tapped.
            let tapped_all = problems.iter().all(|p| !p.field.starts_with("pain_"));
            problems.extend(
                entry
                    .problems()
                    .into_iter()
                    .filter(|p| tapped_all || !p.field.starts_with("pain_")),
            );
            crate::components::problems::show(errors, problems.clone());
            if !problems.is_empty() {
                focus_summary();
                return;
            }
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let saved = match NewRecord::of(&entry) {
                    Ok(record) => sync::save(state, me.account_id, &[record]).await,
                    Err(e) => Err(e),
                };
                match saved {
                    Ok(()) => navigate("/journal?enregistre=1", Default::default()),
                    Err(e) => errors.set(vec![FieldError::new(
                        "device",
                        format!("Non enregistré sur le téléphone : {e}"),
                    )]),
                }
            });
        };

    let message_for = move |field: &'static str| {
        move || {
            errors
                .get()
                .into_iter()
                .filter(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
                .map(|e| view! { <p class="error">{e.message}</p> })
                .collect_view()
        }
    };
    let anchors = || {
        vec![
            "pas de douleur".to_string(),
            "la pire imaginable".to_string(),
        ]
    };
    let title = match &corrects {
        Some(e) => format!("Corriger le {}", e.on.french()),
        None => "Mon journal du jour".to_string(),
    };
    let correcting = corrects.is_some();

    view! {
        <PageHeading text=title/>
        {correcting.then(|| view! { <p class="hint">"Votre équipe verra l'entrée d'origine et votre correction."</p> })}
        <form on:submit=submit novalidate class="diary-form">
            {move || {
                let list = errors.get();
                (!list.is_empty()).then(|| view! {
                    <div class="error-summary" role="alert" tabindex="-1" id="error-summary">
                        <p>{if list.len() == 1 { "Un point à revoir :".to_string() } else { format!("{} points à revoir :", list.len()) }}</p>
                        <ul>{list.into_iter().map(|e| view! { <li>{e.message}</li> }).collect_view()}</ul>
                    </div>
                })
            }}
            <div class="field">
                <label for="on">"Jour"</label>
                <input id="on" type="date" prop:value=on disabled=correcting max=clock::today().to_string()
                    on:input=move |ev| on.set(event_target_value(&ev))/>
                {message_for("on")}
            </div>
            <ScaleRow name="pain_now".to_string() legend="Ma douleur en ce moment".to_string() min=0 max=10 value=pain_now anchors=anchors()/>
            {message_for("pain_now")}
            <ScaleRow name="pain_average".to_string() legend="Ma douleur en moyenne aujourd'hui".to_string() min=0 max=10 value=pain_average anchors=anchors()/>
            {message_for("pain_average")}
            <ScaleRow name="pain_worst".to_string() legend="Ma douleur la plus forte aujourd'hui".to_string() min=0 max=10 value=pain_worst anchors=anchors()/>
            {message_for("pain_worst")}
            <ScaleRow name="sleep".to_string() legend="Mon sommeil la nuit dernière".to_string() min=0 max=10 value=sleep
                anchors=vec!["très mauvais".to_string(), "excellent".to_string()]/>
            {message_for("sleep")}

            <fieldset class="choices">
                <legend>"Mon moral aujourd'hui"</legend>
                {Mood::ALL.into_iter().map(|m| view! {
                    <label class="choice">
                        <input type="radio" name="mood" prop:checked=move || mood.get() == Some(m)
                            on:change=move |_| mood.set(Some(m))/>
                        <span>{m.label_fr()}</span>
                    </label>
                }).collect_view()}
            </fieldset>

            <fieldset>
                <legend>"Mes activités"</legend>
                {(!known_activities.is_empty()).then(|| view! {
                    <div class="chips">
                        {known_activities.iter().cloned().map(|what| {
                            let label = format!("Ajouter : {what}");
                            view! {
                                <button type="button" class="chip" aria-label=label
                                    on:click=move |_| activities.update(|a| a.push((what.clone(), "30".into())))>
                                    {format!("+ {what}")}
                                </button>
                            }
                        }).collect_view()}
                    </div>
                })}
                {move || activities.get().into_iter().enumerate().map(|(i, (what, minutes))| view! {
                    <div class="pair">
                        <label>{format!("Activité {}", i + 1)}
                            <input prop:value=what on:input=move |ev| activities.update(|a| a[i].0 = event_target_value(&ev))/>
                        </label>
                        <label>"Minutes"
                            <input inputmode="numeric" prop:value=minutes on:input=move |ev| activities.update(|a| a[i].1 = event_target_value(&ev))/>
                        </label>
                    </div>
                }).collect_view()}
                {message_for("activities")}
                <button type="button" class="secondary" on:click=move |_| activities.update(|a| a.push((String::new(), String::new())))>
                    "Ajouter une activité"
                </button>
            </fieldset>

            <fieldset>
                <legend>"Mes médicaments"</legend>
                {move || usual.get().into_iter().map(|name| {
                    let checked = taken.with(|t| t.contains(&name));
                    let n = name.clone();
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=checked
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    taken.update(|t| { if on { t.insert(n.clone()); } else { t.remove(&n); } });
                                }/>
                            {format!("{name} — pris aujourd'hui")}
                        </label>
                    }
                }).collect_view()}
                <div class="pair">
                    <label>"Un médicament habituel"
                        <input prop:value=new_medicine on:input=move |ev| new_medicine.set(event_target_value(&ev))/>
                    </label>
                    <button type="button" class="secondary" on:click=move |_| {
                        let name = new_medicine.get_untracked().trim().to_string();
                        if !name.is_empty() {
                            usual.update(|u| if !u.contains(&name) { u.push(name.clone()) });
                            taken.update(|t| { t.insert(name); });
                            new_medicine.set(String::new());
                        }
                    }>"Ajouter"</button>
                </div>
                {move || as_needed.get().into_iter().enumerate().map(|(i, (name, time))| view! {
                    <div class="pair">
                        <label>{format!("Prise si besoin {}", i + 1)}
                            <input prop:value=name on:input=move |ev| as_needed.update(|a| a[i].0 = event_target_value(&ev))/>
                        </label>
                        <label>"Heure"
                            <input type="time" prop:value=time on:input=move |ev| as_needed.update(|a| a[i].1 = event_target_value(&ev))/>
                        </label>
                    </div>
                }).collect_view()}
                {message_for("medicines")}
                <button type="button" class="secondary" on:click=move |_| as_needed.update(|a| a.push((String::new(), String::new())))>
                    "Ajouter une prise « si besoin »"
                </button>
            </fieldset>

            <div class="field">
                <label for="better">"Ce qui m'a soulagé·e"</label>
                <textarea id="better" rows="2" prop:value=better on:input=move |ev| better.set(event_target_value(&ev))></textarea>
                {message_for("better")}
            </div>
            <div class="field">
                <label for="worse">"Ce qui a aggravé la douleur"</label>
                <textarea id="worse" rows="2" prop:value=worse on:input=move |ev| worse.set(event_target_value(&ev))></textarea>
                {message_for("worse")}
            </div>
            <div class="field">
                <label for="note">"Autre chose à dire à mon équipe"</label>
                <textarea id="note" rows="3" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                {message_for("note")}
            </div>
            {message_for("device")}
            <button type="submit" class="primary big">{if correcting { "Enregistrer la correction" } else { "Enregistrer" }}</button>
            <A href="/journal" attr:class="button secondary">"Annuler"</A>
        </form>
    }
}

/// Moves focus to the list of problems, so a screen reader reads it and a
/// sighted person sees it.
fn focus_summary() {
    leptos::task::spawn_local(async {
        // After the summary is drawn.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if let Some(el) = document().get_element_by_id("error-summary") {
            use wasm_bindgen::JsCast;
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}
