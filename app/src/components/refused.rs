//! The refused list: what the server refused for what it is (a message to
//! someone no longer in the team, a change it does not accept), kept on the
//! device with the server's reason until its author sends it again or gives
//! it up. Giving up is written in the audit trail first: it needs the network.

use crate::api;
use crate::device_store::Refused;
use crate::format;
use crate::sync::{self, SyncState};
use crate::Auth;
use leptos::prelude::*;
use parcours_domain::sync::{kind_fr, Discarded};

#[component]
pub fn RefusedList() -> impl IntoView {
    let state = expect_context::<SyncState>();
    let auth = expect_context::<Auth>();
    let open = RwSignal::new(false);
    let list = RwSignal::new(Vec::<(Refused, String)>::new());
    let error = RwSignal::new(None::<String>);
    let account = move || auth.0.get_untracked().map(|me| me.account_id);

    // Read when opened, and again whenever the device's store changes.
    Effect::new(move |_| {
        state.data_version.track();
        if !open.get() {
            return;
        }
        let Some(account) = account() else { return };
        leptos::task::spawn_local(async move {
            let Ok(store) = sync::store(account).await else {
                return;
            };
            let mut shown = vec![];
            for r in store.refused().await.unwrap_or_default() {
                let patient = match store.patient(r.patient_id).await {
                    Ok(Some(p)) => format!("{} {}", p.family_name.to_uppercase(), p.given_name),
                    _ => "Patient".to_string(),
                };
                shown.push((r, patient));
            }
            list.set(shown);
        });
    });

    let send_again = move |refused: Refused| {
        let Some(account) = account() else { return };
        leptos::task::spawn_local(async move {
            match sync::store(account).await {
                Ok(store) => match store.send_again(&refused).await {
                    Ok(()) => {
                        sync::refresh_counts(state, account).await;
                        state.store_changed();
                        sync::sync_now(state, account).await;
                    }
                    Err(e) => error.set(Some(e.to_string())),
                },
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let give_up = move |refused: Refused| {
        let Some(account) = account() else { return };
        leptos::task::spawn_local(async move {
            let given_up = Discarded {
                patient_id: refused.patient_id,
                kind: refused.kind.clone(),
                id: id_of(&refused),
                reason: refused.reason.clone(),
            };
            // The audit row first: the device forgets only once it is written.
            if let Err(e) = api::discarded(&given_up).await {
                error.set(Some(api::said(
                    e,
                    "Pas de réseau : abandonner un envoi est inscrit au journal d'audit, il faut du réseau.",
                )));
                return;
            }
            if let Ok(store) = sync::store(account).await {
                if let Err(e) = store.forget_refused(&refused.key).await {
                    error.set(Some(e.to_string()));
                    return;
                }
            }
            sync::refresh_counts(state, account).await;
            state.store_changed();
        });
    };

    view! {
        {move || (state.refused.get() > 0).then(|| view! {
            <div class="refused">
                <p class="state">{format!("{} envoi(s) refusé(s) par le serveur : à renvoyer ou à abandonner.", state.refused.get())}</p>
                <button type="button" class="secondary" aria-expanded=move || open.get().to_string()
                    aria-controls="refused-list" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Masquer les envois refusés" } else { "Voir les envois refusés" }}
                </button>
            </div>
        })}
        {move || (open.get() && state.refused.get() > 0).then(|| view! {
            <section id="refused-list" class="refused-list" aria-labelledby="refused-title">
                <h2 id="refused-title">"Envois refusés par le serveur"</h2>
                {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                <ul aria-labelledby="refused-title">
                    {move || list.get().into_iter().map(|(r, patient)| {
                        let (again, gone) = (r.clone(), r.clone());
                        let title = format!("{} — {patient}", kind_fr(&r.kind));
                        let label = title.clone();
                        view! {
                            <li aria-label=label>
                                <p><strong>{title}</strong></p>
                                <p class="card-meta">{format!("Refusé le {}", format::date_time(r.refused_at))}</p>
                                <p>{format!("Motif : {}", r.reason)}</p>
                                <div class="actions">
                                    <button type="button" on:click=move |_| send_again(again.clone())>"Renvoyer"</button>
                                    <button type="button" class="secondary" on:click=move |_| give_up(gone.clone())>"Abandonner"</button>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
}

/// The id the audit row names: the record's, or the edited item's.
fn id_of(refused: &Refused) -> uuid::Uuid {
    #[derive(serde::Deserialize)]
    struct Ids {
        id: Option<uuid::Uuid>,
        item_id: Option<uuid::Uuid>,
    }
    serde_json::from_str::<Ids>(refused.value.get())
        .ok()
        .and_then(|ids| ids.id.or(ids.item_id))
        .unwrap_or_default()
}
