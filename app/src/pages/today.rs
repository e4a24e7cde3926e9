//! "Aujourd'hui", the nurse's home: the review points due across her
//! patients, overdue first, and the visits of the day, each one tap from the
//! patient's page. Read from the device only, so it opens offline at once.

use crate::clock::today;
use crate::components::header::Header;
use crate::components::page_heading::PageHeading;
use crate::device_store::DeviceStore;
use crate::format;
use crate::pages::pps::{rows, Row};
use crate::pages::require_sign_in;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use parcours_domain::appointment::{Appointment, AppointmentStatus};
use parcours_domain::date::CalendarDate;
use parcours_domain::review::{Review, ReviewStatus};
use parcours_domain::visit::Visit;
use parcours_domain::{AccountId, Patient};

#[derive(Debug)]
pub struct TodayRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for TodayRoute {
    fn data() -> Self {
        TodayRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Today/> }.into_any()
    }
}

#[derive(Clone, PartialEq)]
struct Due {
    patient: Patient,
    title: String,
    due_on: CalendarDate,
}

#[derive(Clone, PartialEq)]
struct DoneVisit {
    patient: Patient,
    started_at: i64,
    what: String,
    pending: bool,
}

#[derive(Clone, PartialEq)]
struct Planned {
    patient: Patient,
    time: String,
    what: String,
    pending: bool,
}

#[derive(Clone, PartialEq, Default)]
struct Day {
    /// Notebook entries addressed to me that I have not read.
    unread: Vec<(Patient, parcours_domain::notebook::NotebookEntry)>,
    overdue: Vec<Due>,
    due_today: Vec<Due>,
    planned: Vec<Planned>,
    visits: Vec<DoneVisit>,
}

async fn day(store: &DeviceStore, me: AccountId, on: CalendarDate) -> Option<Day> {
    let mut day = Day {
        unread: crate::pages::notebook::unread_everywhere(store, me).await?,
        ..Day::default()
    };
    let midnight = on.days_since_epoch() * 86_400_000;
    for patient in store.patients().await.ok()? {
        let (states, pending) = store.items_of::<Review>(patient.id).await.ok()?;
        for Row { item: review, .. } in rows(states, pending) {
            let (ReviewStatus::Planned, Some(due_on)) = (review.status, review.due_on) else {
                continue;
            };
            let title = parcours_domain::programme::Programme::any_review_type(&review.review_type)
                .map(|t| t.label.clone())
                .unwrap_or(review.review_type.clone());
            let due = Due {
                patient: patient.clone(),
                title,
                due_on,
            };
            if due_on < on {
                day.overdue.push(due);
            } else if due_on == on {
                day.due_today.push(due);
            }
        }
        let (states, pending) = store.items_of::<Appointment>(patient.id).await.ok()?;
        for Row {
            item: a,
            pending: waiting,
            ..
        } in rows(states, pending)
        {
            if a.owner_id == me && a.on == Some(on) && a.status == AppointmentStatus::Planned {
                day.planned.push(Planned {
                    patient: patient.clone(),
                    time: a.time.clone(),
                    what: a.visit_type.label_fr().to_string(),
                    pending: waiting > 0,
                });
            }
        }
        for v in store.records_of::<Visit>(patient.id).await.ok()? {
            let visit = &v.record;
            if visit.author_id == me
                && (midnight..midnight + 86_400_000).contains(&visit.started_at)
            {
                day.visits.push(DoneVisit {
                    patient: patient.clone(),
                    started_at: visit.started_at,
                    what: visit.visit_type.label_fr().to_string(),
                    pending: v.pending,
                });
            }
        }
    }
    day.overdue.sort_by_key(|d| d.due_on);
    day.visits.sort_by_key(|v| v.started_at);
    // Those with a time first, in time order; then those for the day only.
    day.planned
        .sort_by_key(|p| (p.time.is_empty(), p.time.clone()));
    Some(day)
}

#[component]
fn DueList(label: &'static str, due: Vec<Due>, overdue: bool) -> impl IntoView {
    view! {
        <ul class="cards" aria-label=label>
            {due.into_iter().map(|d| view! {
                <li>
                    <A href=format!("/patients/{}", d.patient.id) attr:class="card">
                        <span class="card-title">{d.patient.display_name()}</span>
                        <span class="card-meta" class:late=overdue>
                            {if overdue { format!("{} — prévu le {}, en retard", d.title, d.due_on.french()) }
                             else { d.title.clone() }}
                        </span>
                    </A>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn Today() -> impl IntoView {
    require_sign_in();
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let on = today();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let me = me?;
            let store = sync::store(me.account_id).await.ok()?;
            day(&store, me.account_id, on).await
        }
    });
    crate::pages::patient::preload_once_drawn(move || data.get().flatten().is_some());
    // Drawn again only when the day changed: each sync (every 30 s, each
    // save) read it again and redrew every card under the nurse's finger.
    let shown = Memo::new(move |_| data.get().flatten());
    view! {
        <Header/>
        <main>
            <nav aria-label="Fil d'Ariane"><A href="/">"← Mes patients"</A></nav>
            <PageHeading text=format!("Aujourd'hui, {}", on.french())/>
            {move || match shown.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(d) => {
                    let nothing_due = d.overdue.is_empty() && d.due_today.is_empty();
                    view! {
                        {(!d.unread.is_empty()).then(|| view! {
                            <h2>{format!("Cahier de liaison : {} message(s) pour vous", d.unread.len())}</h2>
                            <ul class="cards" aria-label="Messages non lus du cahier de liaison">
                                {d.unread.clone().into_iter().map(|(patient, e)| view! {
                                    <li>
                                        <A href=format!("/patients/{}", patient.id) attr:class="card">
                                            <span class="card-title">{patient.display_name()}</span>
                                            <span class="card-meta">{format!("{} — {} : {}",
                                                format::date_time(e.recorded_at),
                                                crate::pages::notebook::name_in(&patient.care_team, e.author_id),
                                                crate::pages::notebook::gist(&e))}</span>
                                        </A>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                        <h2>"Points d'étape"</h2>
                        {nothing_due.then(|| view! { <p class="hint">"Aucun point d'étape dû."</p> })}
                        {(!d.overdue.is_empty()).then(|| view! {
                            <h3 class="late">{format!("En retard ({})", d.overdue.len())}</h3>
                            <DueList label="Points d'étape en retard" due=d.overdue.clone() overdue=true/>
                        })}
                        {(!d.due_today.is_empty()).then(|| view! {
                            <h3>"Aujourd'hui"</h3>
                            <DueList label="Points d'étape du jour" due=d.due_today.clone() overdue=false/>
                        })}
                        <h2>"Mes visites du jour"</h2>
                        {(d.visits.is_empty() && d.planned.is_empty()).then(|| view! { <p class="hint">"Aucune visite prévue ni faite aujourd'hui."</p> })}
                        <ul class="cards" aria-label="Mes visites prévues">
                            {d.planned.into_iter().map(|p| view! {
                                <li>
                                    <A href=format!("/patients/{}", p.patient.id) attr:class="card">
                                        <span class="card-title">{p.patient.display_name()}</span>
                                        <span class="card-meta">{format!("{}{} — prévue{}",
                                            if p.time.is_empty() { String::new() } else { format!("{} — ", p.time) },
                                            p.what, if p.pending { " — en attente d'envoi" } else { "" })}</span>
                                    </A>
                                </li>
                            }).collect_view()}
                        </ul>
                        <ul class="cards" aria-label="Mes visites faites">
                            {d.visits.into_iter().map(|v| view! {
                                <li>
                                    <A href=format!("/patients/{}", v.patient.id) attr:class="card">
                                        <span class="card-title">{v.patient.display_name()}</span>
                                        <span class="card-meta">{format!("{} — {}{}", format::date_time(v.started_at), v.what,
                                            if v.pending { " — en attente d'envoi" } else { "" })}</span>
                                    </A>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </main>
    }
}
