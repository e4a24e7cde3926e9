//! "Inviter le patient": on an included patient's page, a team member makes
//! a one-time code for the patient's own phone — shown large, as a link and
//! as a QR code drawn here — and sees (and can cancel) the invitations made.
//! It needs the network: the code exists only once the server has it.

use crate::api::{self, ApiError};
use crate::format;
use leptos::prelude::*;
use parcours_domain::invitation::{
    display_code, InvitationStatus, InvitationSummary, NewInvitation, ACTIVATION_PATH,
};
use parcours_domain::PatientId;
use qrcodegen::{QrCode, QrCodeEcc};

/// The link the patient opens: the code after `#`, so it never reaches a
/// server log or a referrer.
fn link(code: &str) -> String {
    let origin = window().location().origin().unwrap_or_default();
    format!("{origin}{ACTIVATION_PATH}#{code}")
}

/// A QR code as one SVG path (one square per dark module), with its quiet
/// zone; described for screen readers by the link printed beside it.
#[component]
fn QrImage(text: String) -> impl IntoView {
    let Ok(qr) = QrCode::encode_text(&text, QrCodeEcc::Medium) else {
        return view! { <p>"QR code indisponible : utilisez le lien ou le code."</p> }.into_any();
    };
    let size = qr.size();
    let quiet = 4;
    let mut d = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                d.push_str(&format!("M{} {}h1v1h-1z", x + quiet, y + quiet));
            }
        }
    }
    let full = size + 2 * quiet;
    view! {
        <svg class="qr" viewBox=format!("0 0 {full} {full}") role="img" aria-label="QR code du lien d'activation"
            shape-rendering="crispEdges">
            <rect width=full height=full fill="#fff"/>
            <path d=d fill="#000"/>
        </svg>
    }
    .into_any()
}

fn refusal(e: ApiError) -> String {
    api::said(
        e,
        "Pas de réseau : une invitation se crée en ligne (le code doit exister sur le serveur).",
    )
}

#[component]
pub fn InvitationSection(patient_id: PatientId) -> impl IntoView {
    let created = RwSignal::new(None::<NewInvitation>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let refresh = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        refresh.track();
        async move { api::invitations(patient_id).await }
    });
    let create = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::invite(patient_id).await {
                Ok(invitation) => {
                    created.set(Some(invitation));
                    refresh.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(refusal(e))),
            }
            busy.set(false);
        });
    };
    let revoke = move |id: uuid::Uuid| {
        leptos::task::spawn_local(async move {
            match api::revoke_invitation(id).await {
                Ok(()) => {
                    if created.get_untracked().is_some_and(|c| c.id == id) {
                        created.set(None);
                    }
                    refresh.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(refusal(e))),
            }
        });
    };
    view! {
        <section aria-labelledby="invitation">
            <h2 id="invitation">"Journal du patient sur son téléphone"</h2>
            <p class="hint">"Le patient tient son journal de douleur sur son propre téléphone. Donnez-lui un code à usage unique, valable 7 jours."</p>
            <button type="button" on:click=create disabled=busy>"Inviter le patient"</button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || created.get().map(|c| {
                let url = link(&c.code);
                view! {
                    <div class="invitation" role="status">
                        <p>"Code à donner au patient :"</p>
                        <p class="code" aria-label="Code d'invitation">{display_code(&c.code)}</p>
                        <p>{format!("Valable jusqu'au {}. Il ne sera plus affiché ensuite.", format::date_time(c.expires_at))}</p>
                        <p>"Ou le lien : " <a href=url.clone()>{url.clone()}</a></p>
                        <QrImage text=url/>
                    </div>
                }
            })}
            {move || match list.get() {
                Some(Ok(items)) if !items.is_empty() => view! {
                    <h3>"Invitations"</h3>
                    <ul class="invitations">
                        {items.into_iter().map(|i| invitation_row(i, revoke)).collect_view()}
                    </ul>
                }.into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

fn invitation_row(
    i: InvitationSummary,
    revoke: impl Fn(uuid::Uuid) + Copy + 'static,
) -> impl IntoView {
    let id = i.id;
    let when = match (i.status, i.ended_at) {
        (InvitationStatus::Live, _) => {
            format!("valable jusqu'au {}", format::date_time(i.expires_at))
        }
        (_, Some(at)) => format!("le {}", format::date_time(at)),
        _ => String::new(),
    };
    view! {
        <li>
            {format!("Créée le {} par {} — {} {}", format::date_time(i.created_at), i.created_by, i.status.label_fr(), when)}
            {(i.status == InvitationStatus::Live).then(|| view! {
                <button type="button" class="secondary" on:click=move |_| revoke(id)>"Annuler cette invitation"</button>
            })}
        </li>
    }
}
