use crate::api::{self, ApiError};
use crate::{session, sync, Auth, SignOutPending};
use leptos::prelude::*;
use parcours_domain::session::SignInRequest;

#[component]
pub fn SignIn() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let sign_out_pending = expect_context::<SignOutPending>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let notice = session::take_notice();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if username.get_untracked().trim().is_empty() || password.get_untracked().is_empty() {
            error.set(Some(
                "Indiquez votre identifiant et votre mot de passe.".into(),
            ));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let request = SignInRequest {
                username: username.get_untracked(),
                password: password.get_untracked(),
                device_id: session::device_id(),
                device_secret: session::device_secret(),
            };
            match api::sign_in(&request).await {
                Ok(me) => {
                    // This sign-in ended, on the server, the session of any
                    // earlier sign-out made offline on this device; what it
                    // had sent that person goes now, unless it is her again.
                    session::set_sign_out_pending(false);
                    sign_out_pending.0.set(false);
                    sync::forget_signed_out(Some(me.account_id)).await;
                    session::remember(&me, &request.username);
                    if (me.patient_id.is_some()) != super::PATIENT_APP {
                        // The other build is theirs: it asks for the PIN.
                        let _ = window().location().assign(super::home_of(&me));
                        return;
                    }
                    // The lock screen takes over (this page is unmounted):
                    // the PIN is chosen or typed, then home opens.
                    auth.0.set(Some(me));
                    return;
                }
                Err(ApiError::Unreachable) => {
                    // She signed out here without network and comes back
                    // before it returns: her PIN opens what the phone kept.
                    if let Some(me) = session::resume_offline(&request.username) {
                        sign_out_pending.0.set(false);
                        if (me.patient_id.is_some()) != super::PATIENT_APP {
                            let _ = window().location().assign(super::home_of(&me));
                            return;
                        }
                        auth.0.set(Some(me));
                        return;
                    }
                    error.set(Some(
                        "Serveur injoignable : se connecter sur ce téléphone demande du réseau."
                            .into(),
                    ))
                }
                Err(ApiError::Unauthenticated) => {
                    error.set(Some("Identifiant ou mot de passe incorrect.".into()))
                }
                Err(ApiError::Busy) => {
                    error.set(Some("Serveur occupé : réessayez dans un instant.".into()))
                }
                Err(ApiError::Refused { message, .. }) => error.set(Some(message)),
                Err(e @ ApiError::MutationIdsTaken { .. }) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    crate::components::page_heading::page_title("Connexion");
    view! {
        <main class="sign-in">
            <h1>"Parcours"</h1>
            <p class="tagline">"Coordination des parcours de soins de la CPTS"</p>
            {move || sign_out_pending.0.get().then(|| view! {
                <p class="notice" role="status">
                    "Déconnexion faite sur ce téléphone ; elle sera confirmée au serveur dès que le réseau revient."
                </p>
            })}
            {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <form on:submit=submit novalidate>
                <label for="username">"Identifiant"</label>
                <input id="username" name="username" autocomplete="username" autocapitalize="none"
                    prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                <label for="password">"Mot de passe"</label>
                <input id="password" name="password" type="password" autocomplete="current-password"
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                <button type="submit" disabled=busy>"Se connecter"</button>
            </form>
            <p class="hint">"Vous êtes patient·e et votre équipe vous a donné un code ? "
                <a href="/activer" rel="external">"Activer mon compte"</a></p>
        </main>
    }
}
