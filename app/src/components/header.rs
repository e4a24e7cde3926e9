use crate::api;
use crate::components::sync_status::SyncStatusBar;
use crate::lock::Unlocked;
use crate::sync::{self, SyncState};
use crate::{session, Auth, SignOutPending};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// What the person must know before signing out, when there is anything.
#[derive(Clone, PartialEq)]
struct SignOutWarning {
    pending: u32,
    offline: bool,
}

impl SignOutWarning {
    fn sentences(&self) -> Vec<String> {
        let mut lines = vec![];
        if self.pending > 0 {
            lines.push(format!(
                "{} enregistrement(s) en attente d'envoi : ils restent sur ce téléphone et partiront à votre prochaine connexion sur ce téléphone. Ne réinitialisez pas le téléphone d'ici là.",
                self.pending
            ));
        }
        if self.offline {
            lines.push(
                "Pas de réseau : votre session sera fermée sur le serveur dès que ce téléphone en aura. D'ici là, vous pourrez vous reconnecter ici sans réseau, avec votre identifiant et le code de ce téléphone ; ensuite, il faudra du réseau."
                    .to_string(),
            );
        }
        lines.push(
            "Pour reprendre plus tard sur ce téléphone, verrouillez-le plutôt : tout reste ici, protégé par votre code, et s'ouvre sans réseau."
                .to_string(),
        );
        lines
    }
}

/// Forgets who is signed in on this device, and what the server sent them:
/// what waits to be sent stays in the person's device store, sealed, and
/// leaves at their next sign-in here (after their PIN). The key leaves memory.
///
/// `server_ended`: whether the server has ended the session. When it could
/// not be told (no network), what it sent stays sealed until it is, so the
/// same person can sign back in here offline (`session::resume_offline`).
pub async fn forget_here(auth: Auth, state: SyncState, unlocked: Unlocked, server_ended: bool) {
    if server_ended || !session::keep_resumable() {
        if let Some(me) = auth.0.get_untracked() {
            sync::forget_synced_of(me.account_id).await;
        }
    }
    session::forget();
    unlocked.0.set(false);
    sync::lock_store();
    auth.0.set(None);
    state.pending.set(0);
}

/// The top of every signed-in page: who is signed in, sign-out, sync status.
#[component]
pub fn Header() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let state = expect_context::<SyncState>();
    let sign_out_pending = expect_context::<SignOutPending>();
    let unlocked = expect_context::<Unlocked>();
    let navigate = use_navigate();
    let warning = RwSignal::new(None::<SignOutWarning>);
    let busy = RwSignal::new(false);

    let finish = move || {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // The server must end the session: the cookie is HttpOnly, the
            // app cannot remove it. Without network, it is ended at the
            // next contact (see `session::finish_pending_sign_out`).
            let ended = api::sign_out().await.is_ok();
            session::set_sign_out_pending(!ended);
            sign_out_pending.0.set(!ended);
            warning.set(None);
            busy.set(false);
            forget_here(auth, state, unlocked, ended).await;
            navigate("/connexion", Default::default());
        });
    };
    let finish_now = finish.clone();
    let sign_out = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let finish = finish.clone();
        leptos::task::spawn_local(async move {
            // Send what waits first, when there is network.
            if let Some(me) = auth.0.get_untracked() {
                if window().navigator().on_line() {
                    sync::sync_now(state, me.account_id).await;
                }
            }
            let check = SignOutWarning {
                pending: state.pending.get_untracked(),
                offline: !window().navigator().on_line()
                    || state.status.get_untracked() == sync::SyncStatus::Unreachable,
            };
            if check.pending == 0 && !check.offline {
                finish();
            } else {
                busy.set(false);
                warning.set(Some(check));
            }
        });
    };
    view! {
        <header class="top">
            // The app's name is in the page's title; this band says who is
            // signed in, whole (the profession was cut at "Infirm…").
            <div class="who">
                <span class="name">{move || auth.0.get().map(|me| me.display_name)}</span>
                <span class="role">{move || auth.0.get().map(|me| me.role_fr())}</span>
            </div>
            <button type="button" class="secondary" on:click=sign_out disabled=move || busy.get()>"Se déconnecter"</button>
        </header>
        {move || warning.get().map(|w| {
            let finish = finish_now.clone();
            view! {
                <section class="dialog" role="alertdialog" aria-labelledby="sign-out-title" aria-describedby="sign-out-text">
                    <h2 id="sign-out-title">"Se déconnecter ?"</h2>
                    <div id="sign-out-text">
                        {w.sentences().into_iter().map(|s| view! { <p>{s}</p> }).collect_view()}
                    </div>
                    // Signing out forgets what the server sent (another
                    // person may use the phone next) once the server knows
                    // of it. The lock keeps everything, sealed, and opens
                    // with the PIN offline — what a nurse between two
                    // visits wants.
                    <div class="actions">
                        <button type="button" on:click=move |_| { warning.set(None); crate::lock::lock(unlocked) }>"Verrouiller"</button>
                        <button type="button" class="secondary" on:click=move |_| { busy.set(true); finish() }>"Se déconnecter quand même"</button>
                        <button type="button" class="secondary" on:click=move |_| warning.set(None)>"Rester connecté·e"</button>
                    </div>
                </section>
            }
        })}
        <SyncStatusBar/>
    }
}
