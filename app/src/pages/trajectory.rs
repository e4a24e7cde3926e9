//! On the patient's page, for the team: the pain trajectory at a glance
//! (from the patient's diary, the team's assessments, the initial
//! evaluation), and the diary itself, corrections beside what they correct.

use crate::clock;
use crate::components::trajectory_chart::{Mark, TrajectoryChart};
use crate::device_store::Stored;
use crate::pages::patient::LIST_PAGE;
use crate::pages::pps::rows;
use crate::sync::{self, SyncState};
use crate::{format, Auth};
use leptos::prelude::*;
use leptos_router::components::A;
use parcours_domain::care_plan::CarePlanItem;
use parcours_domain::date::CalendarDate;
use parcours_domain::diary::DiaryEntry;
use parcours_domain::review::{Review, ReviewStatus};
use parcours_domain::trajectory::Trajectory;
use parcours_domain::PatientId;

/// What the chart marks on its time axis: review points (held, or due) and
/// the plan's actions as they start.
pub fn marks(reviews: &[Review], items: &[CarePlanItem]) -> Vec<Mark> {
    let mut marks: Vec<Mark> = reviews
        .iter()
        .filter(|r| r.status != ReviewStatus::Cancelled)
        .filter_map(|r| {
            let on = r.held_on.or(r.due_on)?;
            let kind = r
                .type_label()
                .map(|c| c.label.as_str())
                .unwrap_or("Point d'étape");
            Some(Mark {
                on,
                letter: "P",
                label: format!("{kind} ({})", r.status.label_fr().to_lowercase()),
            })
        })
        .collect();
    marks.extend(items.iter().filter_map(|i| {
        let on: CalendarDate = i.starts_on.as_deref()?.parse().ok()?;
        Some(Mark {
            on,
            letter: "A",
            label: format!("début : {}", i.title),
        })
    }));
    marks.sort_by_key(|m| m.on);
    marks
}

/// Everything the trajectory needs of one patient, from the device.
pub async fn load(
    account: parcours_domain::AccountId,
    patient: PatientId,
) -> Option<(Trajectory, Vec<Mark>, Vec<Stored<DiaryEntry>>)> {
    let store = sync::store(account).await.ok()?;
    let records = store.records(patient).await.ok()?;
    let trajectory = Trajectory::from_records(&records, clock::offset_minutes());
    let (reviews, pending) = store.items_of::<Review>(patient).await.ok()?;
    let reviews: Vec<Review> = rows(reviews, pending).into_iter().map(|r| r.item).collect();
    let (items, pending) = store.items_of::<CarePlanItem>(patient).await.ok()?;
    let items: Vec<CarePlanItem> = rows(items, pending).into_iter().map(|r| r.item).collect();
    let diary = store.records_of::<DiaryEntry>(patient).await.ok()?;
    Some((trajectory, marks(&reviews, &items), diary))
}

#[component]
pub fn TrajectorySection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let data = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move { load(me?.account_id, patient_id).await }
    });
    let diary_shown = RwSignal::new(LIST_PAGE);
    view! {
        <section aria-labelledby="trajectory">
            <h2 id="trajectory">"Trajectoire de la douleur"</h2>
            <A href=format!("/patients/{patient_id}/synthese") attr:class="button secondary">"Synthèse pour un point d'étape"</A>
            {move || match data.get() {
                None => view! { <p>"Chargement…"</p> }.into_any(),
                Some(None) => view! { <p>"Trajectoire indisponible sur cet appareil."</p> }.into_any(),
                Some(Some((trajectory, marks, diary))) => view! {
                    <TrajectoryChart trajectory=trajectory marks=marks id="team-trajectory"/>
                    <DiaryList entries=diary shown=diary_shown/>
                }.into_any(),
            }}
        </section>
    }
}

/// The patient's diary as the team reads it: newest day first; a corrected
/// entry stays, marked, next to its correction.
#[component]
fn DiaryList(
    entries: Vec<Stored<DiaryEntry>>,
    /// How many are shown: the section's, so that a sync, which draws this
    /// list again, does not fold what was unfolded.
    shown: RwSignal<usize>,
) -> impl IntoView {
    let count = entries.len();
    let corrected: std::collections::HashMap<_, _> = entries
        .iter()
        .filter_map(|s| Some((s.record.amends?, s.record.recorded_at)))
        .collect();
    let mut entries = entries;
    entries.sort_by_key(|s| std::cmp::Reverse((s.record.on, s.record.recorded_at)));
    let entries = StoredValue::new(entries);
    view! {
        <h3 id="diary-list">{format!("Journal du patient ({count})")}</h3>
        {(count == 0).then(|| view! { <p>"Le patient n'a encore rien noté dans son journal."</p> })}
        <ul class="diary" aria-labelledby="diary-list">
            {move || entries.with_value(|all| all.iter().take(shown.get()).map(|s| {
                let e = &s.record;
                let replaced = corrected.get(&e.id).copied();
                view! {
                    <li class="diary-entry" class:replaced=replaced.is_some() class:pending=s.pending>
                        <p class="when">{format!("{} · noté le {}", e.on.french(), format::date_time(e.recorded_at))}</p>
                        {e.amends.is_some().then(|| view! { <p class="badge">"Correction"</p> })}
                        {replaced.map(|at| view! { <p class="badge">{format!("Corrigée par le patient le {}", format::date_time(at))}</p> })}
                        {e.lines_fr().into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
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
