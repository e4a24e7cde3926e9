//! The patient's pathway on their page: the inclusion, the initial
//! evaluation (to start, to resume, or done), and the instruments filled,
//! each with its scores and whether it has left the device.

use crate::device_store::Stored;
use crate::format;
use crate::pages::evaluation::draft_key;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::A;
use parcours_domain::enrollment::Enrollment;
use parcours_domain::instrument::Instrument;
use parcours_domain::instrument_response::InstrumentResponse;
use parcours_domain::visit::Visit;
use parcours_domain::PatientId;

#[derive(Clone)]
struct Pathway {
    enrollments: Vec<Stored<Enrollment>>,
    evaluation: Option<Stored<Visit>>,
    draft: bool,
    responses: Vec<Stored<InstrumentResponse>>,
}

fn scores_fr(response: &InstrumentResponse) -> String {
    let Some(instrument) = Instrument::find(&response.instrument_id) else {
        return String::new();
    };
    instrument
        .scores
        .iter()
        .zip(&response.scores)
        .map(|(def, s)| match s.value {
            Some(v) => format!(
                "{} {}/{}{}",
                def.label,
                v.french(),
                def.max,
                s.band
                    .as_ref()
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default()
            ),
            None => format!("{} non calculé", def.label),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[component]
pub fn PathwaySection(patient_id: PatientId) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let pathway = LocalResource::new(move || {
        state.data_version.track();
        let me = auth.0.get();
        async move {
            let store = sync::store(me?.account_id).await.ok()?;
            let visits = store.records_of::<Visit>(patient_id).await.ok()?;
            Some(Pathway {
                enrollments: store.records_of::<Enrollment>(patient_id).await.ok()?,
                evaluation: visits.into_iter().find(|v| v.record.evaluation.is_some()),
                draft: store
                    .kept_text(&draft_key(patient_id))
                    .await
                    .ok()
                    .flatten()
                    .is_some(),
                responses: store
                    .records_of::<InstrumentResponse>(patient_id)
                    .await
                    .ok()?,
            })
        }
    });
    let evaluation_href = format!("/patients/{patient_id}/evaluation");
    view! {
        <section aria-labelledby="pathway-title">
            <h2 id="pathway-title">"Parcours douleur chronique"</h2>
            {move || pathway.get().flatten().map(|p| {
                let href = evaluation_href.clone();
                let inclusion = p.enrollments.first().map(|e| view! {
                    <p>{format!("Inclus·e le {} — {}", e.record.included_on.french(), e.record.reason)}
                        {e.pending.then(|| view! { <span class="pending-note">" (en attente d'envoi)"</span> })}</p>
                });
                let evaluation = match (&p.evaluation, p.draft) {
                    (_, true) => view! {
                        <A href=href attr:class="button">"Reprendre l'évaluation initiale"</A>
                        <p class="hint">"Un brouillon est enregistré sur cet appareil."</p>
                    }.into_any(),
                    (Some(v), false) => view! {
                        <p>{format!("Évaluation initiale faite le {}", format::date_time(v.record.started_at))}
                            {v.pending.then(|| view! { <span class="pending-note">" (en attente d'envoi)"</span> })}</p>
                    }.into_any(),
                    (None, false) => view! {
                        <A href=href attr:class="button">"Commencer l'évaluation initiale"</A>
                    }.into_any(),
                };
                view! {
                    {inclusion}
                    {evaluation}
                    {(!p.responses.is_empty()).then(|| view! {
                        <h3>"Instruments remplis"</h3>
                        <ul class="assessments" aria-label="Instruments remplis">
                            {p.responses.into_iter().map(|r| {
                                let name = r.record.instrument().map(|i| i.name.clone()).unwrap_or_else(|| r.record.instrument_id.clone());
                                view! {
                                    <li class="assessment" class:pending=r.pending aria-label=name.clone()>
                                        <p class="when">{format!("{name} — {}", format::date_time(r.record.recorded_at))}</p>
                                        <p>{scores_fr(&r.record)}</p>
                                        <p class="sync-state">{if r.pending { "Sur l'appareil — en attente d'envoi" } else { "Envoyé" }}</p>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <p class="hint">"Scores : aides au dépistage, pas un diagnostic."</p>
                    })}
                }
            })}
        </section>
    }
}
