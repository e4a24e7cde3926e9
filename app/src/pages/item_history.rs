//! An item's history, as the card of any editable kind shows it: every
//! version from the server, in words; without network, what the device knows
//! of who last changed each field.

use crate::api;
use crate::format;
use crate::pages::care_plan::member_name;
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::merge::{Editable, StateOf};
use parcours_domain::patient::TeamMember;
use parcours_domain::ItemId;

/// How a card says one change and names one field, for its kind.
pub type Describe<E> = fn(&<E as Editable>::Change, &[TeamMember]) -> String;
pub type Label<E> = fn(<E as Editable>::Field) -> String;

/// The history list, loaded when the card opens it (the card's button says
/// `aria-expanded` and closes it).
#[component]
pub fn ItemHistory<E: Editable + Send + Sync + 'static>(
    item_id: ItemId,
    /// As the server last sent it: what is shown without network.
    server: Option<StateOf<E>>,
    team: Vec<TeamMember>,
    describe: Describe<E>,
    label: Label<E>,
    list_name: &'static str,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let this_device = auth.0.get_untracked().map(|me| me.device_id);
    let history = LocalResource::new(move || api::item_history::<E>(item_id));
    // The device holds, for each field, who last changed it and when: said
    // as it is when there is no network; the full list waits for it.
    let known: Vec<String> = server
        .map(|s| {
            let blank = E::blank(item_id, s.item.patient_id(), s.item.owner_id());
            let mut stamps: Vec<_> = s
                .stamps
                .iter()
                .filter(|(f, st)| st.version > 1 || blank.current(**f) != s.item.current(**f))
                .collect();
            stamps.sort_by_key(|(_, st)| std::cmp::Reverse(st.version));
            stamps
                .into_iter()
                .map(|(f, st)| {
                    format!(
                        "{} : {} — {}, {}",
                        label(*f),
                        describe(&s.item.current(*f), &team),
                        member_name(&team, st.author_id),
                        format::date_time(st.hlc.wall_ms),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    move || {
        let team = team.clone();
        let known = known.clone();
        history.get().map(move |answer| match answer {
            Ok(entries) => view! {
                <ol class="history" aria-label=list_name>
                    {entries.into_iter().map(|e| {
                        // A creation stamps every field; those left blank
                        // are not news.
                        let blank = E::blank(item_id, e.mutation.patient_id, e.author_id);
                        let changes = e.mutation.changes.iter()
                            .filter(|c| e.version > 1 || blank.current(E::field_of(c)) != **c)
                            .map(|c| format!("{} : {}", label(E::field_of(c)), describe(c, &team)))
                            .collect::<Vec<_>>().join(" · ");
                        let conflicted = (!e.outcome.conflicted.is_empty()).then(|| format!(
                            "en conflit : {}",
                            e.outcome.conflicted.iter().map(|f| label(*f)).collect::<Vec<_>>().join(", ")
                        ));
                        let settled = (!e.mutation.resolves.is_empty()).then_some("conflit réglé");
                        let from_here = if Some(e.device_id) == this_device { ", depuis ce téléphone" } else { "" };
                        view! {
                            <li>
                                <p>{format!("Version {} — {} — {}{from_here}", e.version, format::date_time(e.applied_at), e.author_name)}</p>
                                {(!changes.is_empty()).then(|| view! { <p>{changes}</p> })}
                                {conflicted.map(|c| view! { <p class="state">{c}</p> })}
                                {settled.map(|s| view! { <p>{s}</p> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any(),
            Err(api::ApiError::Unreachable) => {
                view! {
                    <div class="history">
                        <p role="status">"Hors ligne : l'historique complet s'affichera avec le réseau."</p>
                        {(!known.is_empty()).then(|| view! {
                            <p>"Dernière modification de chaque champ, connue de cet appareil :"</p>
                            <ul aria-label=list_name>{known.into_iter().map(|k| view! { <li>{k}</li> }).collect_view()}</ul>
                        })}
                    </div>
                }.into_any()
            }
            Err(other) => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
        })
        .unwrap_or_else(|| view! { <p role="status">"Chargement de l'historique…"</p> }.into_any())
    }
}
