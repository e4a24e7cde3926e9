//! The patient's timeline: visits, assessments, filled instruments, the
//! pathway's steps, plan changes and review points, most recent first, each
//! saying whether it has left this device. Read from the device store only.

use crate::device_store::{DeviceStore, Stored};
use crate::format;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::care_plan::CarePlanItem;
use parcours_domain::date::CalendarDate;
use parcours_domain::enrollment::{Consent, Enrollment, Exit};
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::merge::{Editable, MutationOf, StateOf};
use parcours_domain::objective::Objective;
use parcours_domain::review::{Review, ReviewStatus};
use parcours_domain::visit::Visit;
use parcours_domain::{PainAssessment, PatientId};

/// One line of the timeline.
#[derive(Clone, PartialEq)]
struct Event {
    at: i64,
    /// Only a day is known (an inclusion, a review point).
    day_only: bool,
    what: String,
    detail: String,
    pending: bool,
}

fn day_ms(d: CalendarDate) -> i64 {
    d.days_since_epoch() * 86_400_000
}

fn item_events<E: Editable>(
    (states, pending): (Vec<StateOf<E>>, Vec<MutationOf<E>>),
    what: &str,
    title: impl Fn(&E) -> String,
) -> Vec<Event> {
    let mut events: Vec<Event> = states
        .iter()
        .filter_map(|s| {
            let last = s.stamps.values().map(|st| st.hlc.wall_ms).max()?;
            Some(Event {
                at: last,
                day_only: false,
                what: format!("{what} : « {} »", title(&s.item)),
                detail: format!("version {}", s.version),
                pending: false,
            })
        })
        .collect();
    events.extend(pending.iter().map(|m| Event {
        at: m.hlc.wall_ms,
        day_only: false,
        what: format!("{what} modifié sur cet appareil"),
        detail: String::new(),
        pending: true,
    }));
    events
}

async fn events(store: &DeviceStore, patient: PatientId) -> Option<Vec<Event>> {
    let mut events = vec![];
    let record = |at: i64, day_only: bool, what: String, detail: String, pending: bool| Event {
        at,
        day_only,
        what,
        detail,
        pending,
    };
    for Stored { record: v, pending } in store.records_of::<Visit>(patient).await.ok()? {
        let what = if v.evaluation.is_some() {
            format!(
                "Évaluation initiale ({})",
                v.visit_type.label_fr().to_lowercase()
            )
        } else {
            format!("Visite {}", v.visit_type.label_fr().to_lowercase())
        };
        let mut detail = vec![format!("{} min", v.duration_minutes)];
        detail.extend(v.actions.iter().cloned());
        if !v.notes.is_empty() {
            detail.push(v.notes.clone());
        }
        events.push(record(
            v.started_at,
            false,
            what,
            detail.join(" · "),
            pending,
        ));
    }
    for Stored { record: a, pending } in store.records_of::<PainAssessment>(patient).await.ok()? {
        events.push(record(
            a.recorded_at,
            false,
            "Évaluation de la douleur".into(),
            format!(
                "actuelle {}/10 · moyenne {}/10 · maximale {}/10",
                a.pain_now, a.pain_average_24h, a.pain_worst_24h
            ),
            pending,
        ));
    }
    for Stored { record: r, pending } in
        store.records_of::<InstrumentResponse>(patient).await.ok()?
    {
        let name = r
            .instrument()
            .map(|i| i.name.clone())
            .unwrap_or_else(|| r.instrument_id.clone());
        events.push(record(r.recorded_at, false, name, r.scores_fr(), pending));
    }
    for Stored { record: e, pending } in store.records_of::<Enrollment>(patient).await.ok()? {
        events.push(record(
            day_ms(e.included_on),
            true,
            "Inclusion dans le parcours".into(),
            e.reason.clone(),
            pending,
        ));
    }
    for Stored { record: c, pending } in store.records_of::<Consent>(patient).await.ok()? {
        events.push(record(
            day_ms(c.consented_on),
            true,
            "Consentement au contrat de soins".into(),
            format!(
                "version {} · jusqu'au {}",
                c.contract_version,
                c.planned_end_on.french()
            ),
            pending,
        ));
    }
    for Stored { record: x, pending } in store.records_of::<Exit>(patient).await.ok()? {
        events.push(record(
            day_ms(x.exited_on),
            true,
            "Sortie du parcours".into(),
            x.note.clone(),
            pending,
        ));
    }
    for Stored { record: x, pending } in store
        .records_of::<parcours_domain::episode::Episode>(patient)
        .await
        .ok()?
    {
        events.push(record(
            day_ms(x.on),
            true,
            x.episode_kind.label_fr().into(),
            x.note.clone(),
            pending,
        ));
    }
    let (reviews, waiting) = store.items_of::<Review>(patient).await.ok()?;
    for s in &reviews {
        let r = &s.item;
        let (day, what) = match (r.status, r.held_on, r.due_on) {
            (ReviewStatus::Done, Some(held), _) => (held, "Point d'étape réalisé"),
            (ReviewStatus::Cancelled, _, Some(due)) => (due, "Point d'étape annulé"),
            (_, _, Some(due)) => (due, "Point d'étape prévu"),
            _ => continue,
        };
        events.push(record(
            day_ms(day),
            true,
            what.into(),
            r.conclusions.clone(),
            false,
        ));
    }
    events.extend(item_events::<Review>(
        (vec![], waiting),
        "Point d'étape",
        |_| String::new(),
    ));
    events.extend(item_events(
        store.items_of::<CarePlanItem>(patient).await.ok()?,
        "Plan — action",
        |i| i.title.clone(),
    ));
    events.extend(item_events(
        store.items_of::<Objective>(patient).await.ok()?,
        "Plan — objectif",
        |o| o.title.clone(),
    ));
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    Some(events)
}

#[component]
pub fn Timeline(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            events(&store, patient_id).await
        }
    });
    let shown = RwSignal::new(crate::pages::patient::LIST_PAGE);
    // Redrawn when the events change, not at every sync.
    let data = Memo::new(move |_| data.get().flatten());
    view! {
        <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Chronologie"</h2>
            {move || data.get().map(|events| if events.is_empty() {
                view! { <p class="hint">"Rien pour l'instant."</p> }.into_any()
            } else {
                let count = events.len();
                view! {
                    <ol class="timeline" aria-label="Chronologie du patient">
                        {events.into_iter().take(shown.get()).map(|e| {
                            let when = if e.day_only {
                                CalendarDate::from_days_since_epoch(e.at.div_euclid(86_400_000))
                                    .map(|d| d.french())
                                    .unwrap_or_default()
                            } else {
                                format::date_time(e.at)
                            };
                            view! {
                                <li class:pending=e.pending>
                                    <p><span class="when">{when}</span>" — "<strong>{e.what}</strong>
                                        {e.pending.then(|| view! { <span class="pending-note">" (en attente d'envoi)"</span> })}</p>
                                    {(!e.detail.is_empty()).then(|| view! { <p class="hint">{e.detail}</p> })}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                    {(shown.get() < count).then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| shown.update(|n| *n += crate::pages::patient::LIST_PAGE)>
                            {format!("Afficher plus ({} sur {count})", shown.get())}
                        </button>
                    })}
                }.into_any()
            })}
        </section>
    }
}
