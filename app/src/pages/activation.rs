//! "Activer mon compte": a patient opens the invitation their team gave
//! them (link, QR code or typed code), chooses an identifier and a password,
//! and is in their own diary. Needs the network once, like any first
//! sign-in.

use crate::api::{self, ApiError};
use crate::components::page_heading::PageHeading;
use crate::{session, Auth, SignOutPending};
use leptos::prelude::*;
use parcours_domain::invitation::{display_code, normalize_code, ActivationRequest};
use parcours_domain::FieldError;

#[derive(Debug)]
pub struct ActivationRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for ActivationRoute {
    fn data() -> Self {
        ActivationRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Activation/> }.into_any()
    }
}

/// The code in the link (`/activer#ABCDEFGHJKMN`): after `#`, so it never
/// reaches a server log.
fn code_from_link() -> String {
    let hash = window().location().hash().unwrap_or_default();
    normalize_code(hash.trim_start_matches('#'))
        .map(|c| display_code(&c))
        .unwrap_or_default()
}

#[component]
fn Activation() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let sign_out_pending = expect_context::<SignOutPending>();
    let code = RwSignal::new(code_from_link());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = ActivationRequest {
            code: code.get_untracked(),
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            device_id: session::device_id(),
            device_secret: session::device_secret(),
        };
        // Every problem at once, with the same rules as the server.
        let mut problems = request.problems();
        if confirmation.get_untracked() != request.password {
            problems.push(FieldError::new(
                "confirmation",
                "Les deux mots de passe ne sont pas identiques.",
            ));
        }
        crate::components::problems::show(errors, problems.clone());
        if !problems.is_empty() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::activate(&request).await {
                Ok(me) => {
                    session::set_sign_out_pending(false);
                    sign_out_pending.0.set(false);
                    crate::sync::forget_signed_out(Some(me.account_id)).await;
                    session::remember(&me, &request.username);
                    // The lock screen takes over: the PIN is chosen, then the diary opens.
                    auth.0.set(Some(me));
                }
                Err(e) => {
                    let (field, message) = match e {
                        ApiError::Unreachable => (
                            "form".to_string(),
                            "Pas de réseau : l'activation demande une connexion, une seule fois."
                                .to_string(),
                        ),
                        ApiError::Busy => (
                            "form".to_string(),
                            "Serveur occupé : réessayez dans un instant.".to_string(),
                        ),
                        ApiError::Unauthenticated => {
                            ("form".to_string(), "Activation refusée.".to_string())
                        }
                        ApiError::Refused { field, message, .. } => {
                            (field.unwrap_or_else(|| "form".into()), message)
                        }
                        e @ ApiError::MutationIdsTaken { .. } => {
                            ("form".to_string(), e.to_string())
                        }
                    };
                    errors.set(vec![FieldError::new(field, message)]);
                }
            }
            busy.set(false);
        });
    };

    let message_for = move |field: &'static str| {
        move || {
            errors
                .get()
                .into_iter()
                .find(|e| e.field == field)
                .map(|e| view! { <p class="error" role="alert" id=format!("{field}-error")>{e.message}</p> })
        }
    };

    view! {
        <main class="sign-in patient">
            <PageHeading text="Activer mon compte"/>
            <p class="tagline">"Pour tenir votre journal de douleur sur votre téléphone, même sans réseau."</p>
            <form on:submit=submit novalidate>
                <label for="code">"Code d'invitation"</label>
                <input id="code" name="code" autocomplete="one-time-code" autocapitalize="characters"
                    placeholder="ABCD-EFGH-JKMN"
                    prop:value=code on:input=move |ev| code.set(event_target_value(&ev))/>
                {message_for("code")}
                <label for="username">"Identifiant choisi"</label>
                <input id="username" name="username" autocomplete="username" autocapitalize="none"
                    aria-describedby="username-hint"
                    prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                <p class="hint" id="username-hint">"Sans espace, par exemple prenom.nom. Vous le taperez pour vous reconnecter."</p>
                {message_for("username")}
                <label for="password">"Mot de passe choisi"</label>
                <input id="password" name="password" type="password" autocomplete="new-password"
                    aria-describedby="password-hint"
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <p class="hint" id="password-hint">"Au moins 10 caractères : une phrase facile à retenir convient."</p>
                {message_for("password")}
                <label for="confirmation">"Mot de passe, une seconde fois"</label>
                <input id="confirmation" name="confirmation" type="password" autocomplete="new-password"
                    prop:value=confirmation on:input=move |ev| confirmation.set(event_target_value(&ev))/>
                {message_for("confirmation")}
                {message_for("form")}
                <button type="submit" disabled=busy>"Activer et ouvrir mon journal"</button>
            </form>
        </main>
    }
}
