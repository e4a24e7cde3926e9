//! The lock screen: choosing this phone's PIN at the first sign-in here,
//! and typing it to unlock (see `crate::lock` and `crate::device_key`).
//! Works offline: nothing here needs the server.

use crate::device_key::{DeviceKey, KeyError, PinKey, WrappedKey};
use crate::device_store::StoreError;
use crate::lock::{self, Unlocked, MAX_PIN_FAILURES};
use crate::sync::{self, SyncState};
use crate::{session, Auth};
use leptos::prelude::*;
use parcours_domain::session::Me;

#[derive(Clone, PartialEq)]
enum Step {
    Reading,
    /// No key on this phone for this person yet.
    Choose,
    /// A key is kept: type the PIN. Wrong PINs so far, records waiting.
    Enter {
        failures: u32,
        pending: u32,
    },
    /// Asked to forget the key (a forgotten PIN): what will be lost.
    ConfirmForget {
        pending: u32,
    },
}

fn said(e: StoreError) -> String {
    format!("Impossible d'ouvrir les données de ce téléphone : {e}")
}

fn waiting_sentence(pending: u32) -> String {
    match pending {
        0 => "Tout a été envoyé au serveur : vous retrouverez vos données en vous reconnectant."
            .into(),
        1 => "1 enregistrement pas encore envoyé au serveur sera perdu.".into(),
        n => format!("{n} enregistrements pas encore envoyés au serveur seront perdus."),
    }
}

/// After the unlock: the sign-in and activation pages lead home, the
/// screens come back, the device's state is read and a sync starts.
fn after_unlock(me: Me, unlocked: Unlocked, state: SyncState) {
    let path = window().location().pathname().unwrap_or_default();
    if path == "/connexion" || path == "/activer" {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(super::home_of(&me)),
            );
        }
    }
    lock::opened(unlocked);
    leptos::task::spawn_local(async move {
        sync::load_state(state, me.account_id).await;
        // Ask the browser to keep this device's data (Chrome decides
        // without a prompt; the answer shows under the caseload).
        crate::persistence::ask_persistence().await;
        sync::sync_now(state, me.account_id).await;
    });
}

/// Forgets the key and everything of this person on this phone, then signs
/// them out: the next sign-in pulls everything again from the server.
async fn forget_everything(account: parcours_domain::AccountId) {
    if let Ok(store) = sync::store(account).await {
        let _ = store.delete();
    }
    sync::close_store();
    let ended = crate::api::sign_out().await.is_ok();
    session::set_sign_out_pending(!ended);
    session::set_notice(Some(
        "Les données de ce téléphone ont été effacées. Connectez-vous pour retrouver ce qui est sur le serveur, puis choisissez un nouveau code.",
    ));
    session::forget();
    // A new page: nothing of this one's state survives, and its sign-in
    // page is the one that shows the notice.
    let _ = window().location().assign("/connexion");
}

#[component]
pub fn LockScreen() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let unlocked = expect_context::<Unlocked>();
    let state = expect_context::<SyncState>();
    let step = RwSignal::new(Step::Reading);
    let pin = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // The wrapped key as read when the screen opened, and the key of the
    // PIN as typed so far, derived ahead (see `PinKey`).
    let kept_key = StoredValue::new(None::<WrappedKey>);
    let ahead = StoredValue::new_local(None::<PinKey>);
    let Some(me) = auth.0.get_untracked() else {
        return ().into_any();
    };
    let account = me.account_id;

    leptos::task::spawn_local(async move {
        let read = async {
            let store = sync::store(account).await?;
            let kept = store.wrapped_key().await?;
            kept_key.set_value(kept.clone());
            Ok::<_, StoreError>(match kept {
                None => Step::Choose,
                // What would be lost with the key: what waits to be sent,
                // and what the server refused and waits for its author.
                Some(_) => Step::Enter {
                    failures: store.pin_failures().await?,
                    pending: store.outbox_len().await? + store.refused_count().await?,
                },
            })
        };
        match read.await {
            Ok(s) => step.set(s),
            Err(e) => error.set(Some(said(e))),
        }
        // Once the PIN's field is drawn, while it is typed: the module of
        // the page that opens after it is fetched (from the service
        // worker's cache) and compiled, so the key out of the PIN, that
        // page waits only for its data. Not before: the lock screen first.
        request_idle_callback(|| {
            if let Ok(path) = window().location().pathname() {
                leptos::task::spawn_local(crate::preload_route_at(path));
            }
        });
    });

    let me_choose = me.clone();
    let choose = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let chosen = pin.get_untracked();
        if let Some(problem) = lock::pin_problem(&chosen) {
            error.set(Some(problem.into()));
            return;
        }
        if confirmation.get_untracked() != chosen {
            error.set(Some("Les deux codes ne sont pas identiques.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        let me = me_choose.clone();
        leptos::task::spawn_local(async move {
            let made = async {
                let (key, wrapped) = DeviceKey::create(&chosen).await?;
                let store = sync::store(account).await?;
                store.unlock(key, Some(&wrapped)).await?;
                Ok::<_, StoreError>(())
            };
            match made.await {
                Ok(()) => after_unlock(me, unlocked, state),
                Err(e) => {
                    error.set(Some(said(e)));
                    busy.set(false);
                }
            }
        });
    };

    let me_enter = me.clone();
    let enter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let typed = pin.get_untracked();
        // Used once: a wrong PIN empties the field.
        let derived = ahead.get_value();
        ahead.set_value(None);
        busy.set(true);
        error.set(None);
        let me = me_enter.clone();
        leptos::task::spawn_local(async move {
            let attempt = async {
                let store = sync::store(account).await?;
                let Some(kept) = store.wrapped_key().await? else {
                    return Ok(None);
                };
                match DeviceKey::unwrap(&typed, &kept, derived).await {
                    Ok(key) => {
                        store.unlock(key, None).await?;
                        Ok(Some(0))
                    }
                    Err(KeyError::WrongPin) => Ok(Some(store.count_pin_failure().await?)),
                    Err(e) => Err(StoreError::from(e)),
                }
            };
            match attempt.await {
                Ok(Some(0)) => after_unlock(me, unlocked, state),
                Ok(Some(failures)) if failures >= MAX_PIN_FAILURES => {
                    forget_everything(account).await;
                }
                Ok(Some(failures)) => {
                    pin.set(String::new());
                    if let Step::Enter { pending, .. } = step.get_untracked() {
                        step.set(Step::Enter { failures, pending });
                    }
                    busy.set(false);
                }
                // The key went away meanwhile (another tab forgot it).
                Ok(None) => {
                    step.set(Step::Choose);
                    busy.set(false);
                }
                Err(e) => {
                    error.set(Some(said(e)));
                    busy.set(false);
                }
            }
        });
    };

    let name = format!("{} · {}", me.display_name, me.role_fr());
    crate::components::page_heading::page_title("Code de l'appareil");
    view! {
        <main class="sign-in lock">
            <h1>"Parcours"</h1>
            <p class="tagline">{name}</p>
            {move || match step.get() {
                Step::Reading => view! { <p role="status">"Ouverture…"</p> }.into_any(),
                Step::Choose => view! {
                    <h2>"Choisissez le code de ce téléphone"</h2>
                    <p class="hint">"Il protège les données des patients sur ce téléphone et le déverrouille, même sans réseau. Il reste sur ce téléphone : le serveur ne le connaît pas."</p>
                    <form on:submit=choose.clone() novalidate>
                        <label for="new-pin">"Nouveau code (6 chiffres)"</label>
                        <input id="new-pin" type="password" inputmode="numeric" autocomplete="new-password" maxlength="6"
                            prop:value=pin on:input=move |ev| pin.set(event_target_value(&ev))/>
                        <label for="pin-again">"Confirmez le code"</label>
                        <input id="pin-again" type="password" inputmode="numeric" autocomplete="new-password" maxlength="6"
                            prop:value=confirmation on:input=move |ev| confirmation.set(event_target_value(&ev))/>
                        {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                        <button type="submit" disabled=busy>"Enregistrer le code"</button>
                    </form>
                }.into_any(),
                Step::Enter { failures, pending } => {
                    let left = MAX_PIN_FAILURES.saturating_sub(failures);
                    view! {
                        <h2>"Application verrouillée"</h2>
                        <form on:submit=enter.clone() novalidate>
                            <label for="pin">"Code de ce téléphone"</label>
                            <input id="pin" type="password" inputmode="numeric" autocomplete="off" maxlength="6"
                                prop:value=pin on:input=move |ev| {
                                    let typed = event_target_value(&ev);
                                    let whole = lock::is_six_digits(&typed).then(|| kept_key.get_value()).flatten();
                                    ahead.set_value(whole.map(|kept| PinKey::derive(&typed, &kept)));
                                    pin.set(typed);
                                }/>
                            {(failures > 0).then(|| view! {
                                <div role="alert" class="error">
                                    <p>{format!("Code incorrect. {}", if left == 1 { "Dernier essai.".to_string() } else { format!("Encore {left} essais.") })}</p>
                                    {(left == 1).then(|| view! {
                                        <p>{format!("Au prochain code faux, les données de ce téléphone seront effacées. {}", waiting_sentence(pending))}</p>
                                    })}
                                </div>
                            })}
                            {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                            <button type="submit" disabled=busy>"Déverrouiller"</button>
                        </form>
                        <button type="button" class="secondary"
                            on:click=move |_| step.set(Step::ConfirmForget { pending })>"Code oublié ?"</button>
                    }.into_any()
                }
                Step::ConfirmForget { pending } => view! {
                    <section class="dialog" role="alertdialog" aria-labelledby="forget-title" aria-describedby="forget-text">
                        <h2 id="forget-title">"Effacer les données de ce téléphone ?"</h2>
                        <div id="forget-text">
                            <p>"Sans le code, les données de ce téléphone ne peuvent plus être lues."</p>
                            <p>{waiting_sentence(pending)}</p>
                        </div>
                        <div class="actions">
                            <button type="button" disabled=busy on:click=move |_| {
                                busy.set(true);
                                leptos::task::spawn_local(forget_everything(account));
                            }>"Effacer et me reconnecter"</button>
                            <button type="button" class="secondary" on:click=move |_| {
                                leptos::task::spawn_local(async move {
                                    let failures = match sync::store(account).await {
                                        Ok(store) => store.pin_failures().await.unwrap_or(0),
                                        Err(_) => 0,
                                    };
                                    step.set(Step::Enter { failures, pending });
                                });
                            }>"Retour"</button>
                        </div>
                    </section>
                }.into_any(),
            }}
        </main>
    }
    .into_any()
}
