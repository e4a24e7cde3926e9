//! "Déconnecter tous mes appareils": for a phone lost or a computer left
//! signed in, every session of the account ends on the server at once.

use crate::api::{self, ApiError};
use crate::components::header::forget_here;
use crate::sync::SyncState;
use crate::Auth;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn SignOutEverywhere() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let unlocked = expect_context::<crate::lock::Unlocked>();
    let navigate = use_navigate();
    let asking = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let confirm = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::sign_out_everywhere().await {
                Ok(_) => {
                    asking.set(false);
                    forget_here(auth, state, unlocked, true).await;
                    navigate("/connexion", Default::default());
                }
                Err(ApiError::Unreachable) => error.set(Some(
                    "Pas de réseau : il en faut pour fermer les sessions des autres appareils."
                        .into(),
                )),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Appareil perdu ?"</h2>
            <button type="button" class="secondary" on:click=move |_| { error.set(None); asking.set(true) }>
                "Déconnecter tous mes appareils"
            </button>
            {move || asking.get().then(|| view! {
                <div class="dialog" role="alertdialog" aria-labelledby="everywhere-title" aria-describedby="everywhere-text">
                    <h3 id="everywhere-title">"Déconnecter tous vos appareils ?"</h3>
                    <p id="everywhere-text">
                        "Vos sessions sur tous vos appareils, celui-ci compris, seront fermées. Ce qui attend d'être envoyé sur un autre appareil y reste et partira à votre prochaine connexion sur cet appareil-là."
                    </p>
                    {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                    <div class="actions">
                        <button type="button" on:click=confirm.clone()>"Tout déconnecter"</button>
                        <button type="button" class="secondary" on:click=move |_| asking.set(false)>"Annuler"</button>
                    </div>
                </div>
            })}
        </section>
    }
}
