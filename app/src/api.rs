//! The server's HTTP API as the app calls it. The session cookie travels by
//! itself (same origin); this module only turns answers into typed results,
//! with the one error type of the sync client (`RemoteError`).

use gloo_net::http::{Request, Response};
use parcours_domain::merge::{Applied, Editable, HistoryEntry, MutationOf};
use parcours_domain::session::{Me, SignInRequest};
use parcours_domain::sync::client::{RawPage, RawPush, Remote, RemoteError};
use parcours_domain::sync::{
    ChecksumResponse, Cursor, PushResponse, MAX_PULL_LIMIT, PROTOCOL_VERSION,
};
use parcours_domain::{ErrorBody, Patient};
use serde::de::DeserializeOwned;

pub type ApiError = RemoteError;

async fn read<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    match res.status() {
        200..=299 => res.json::<T>().await.map_err(|e| ApiError::Refused {
            status: res.status(),
            field: None,
            message: format!("réponse illisible du serveur : {e}"),
        }),
        401 => Err(ApiError::Unauthenticated),
        // Busy (retry soon), unless the answer names a field: a sign-in
        // refused after too many failures, whose message says how long.
        429 => match res.json::<ErrorBody>().await.ok() {
            Some(body) if body.field.is_some() => Err(ApiError::refused(429, Some(body))),
            _ => Err(ApiError::Busy),
        },
        // The server draining before a restart (or another instance taking
        // over): again in a moment, as when busy.
        503 => Err(ApiError::Busy),
        // A proxy without its server: as if there were no answer.
        502 | 504 => Err(ApiError::Unreachable),
        status => Err(ApiError::refused(
            status,
            res.json::<ErrorBody>().await.ok(),
        )),
    }
}

/// An answer with nothing to read: success, or the refusal `read` makes of it.
async fn done(res: Response) -> Result<(), ApiError> {
    match res.status() {
        200..=299 => Ok(()),
        _ => read::<serde_json::Value>(res).await.map(|_| ()),
    }
}

async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    request
        .map_err(|_| ApiError::Unreachable)?
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)
}

pub async fn sign_in(request: &SignInRequest) -> Result<Me, ApiError> {
    read(send(Request::post("/api/session").json(request)).await?).await
}

/// Ends this session on the server. Already over (401) counts as done.
pub async fn sign_out() -> Result<(), ApiError> {
    let res = send(Request::delete("/api/session").build()).await?;
    match res.status() {
        200..=299 | 401 => Ok(()),
        _ => read::<serde_json::Value>(res).await.map(|_| ()),
    }
}

/// Ends every session of the account, on every device ("sign out
/// everywhere"); returns how many were ended.
pub async fn sign_out_everywhere() -> Result<u64, ApiError> {
    #[derive(serde::Deserialize)]
    struct Ended {
        ended: u64,
    }
    let ended: Ended = read(send(Request::delete("/api/sessions").build()).await?).await?;
    Ok(ended.ended)
}

/// One editable item's history, read as its kind's types.
pub type History<E> = Vec<HistoryEntry<MutationOf<E>, Applied<<E as Editable>::Field>>>;

pub async fn item_history<E: Editable>(
    item: parcours_domain::ItemId,
) -> Result<History<E>, ApiError> {
    read(send(Request::get(&format!("/api/items/{item}/history")).build()).await?).await
}

/// The wording of the licensed instruments this deployment holds, as JSON
/// text: kept as is on the device, read by the screens that fill them.
pub async fn instrument_wordings() -> Result<Box<serde_json::value::RawValue>, ApiError> {
    read(send(Request::get("/api/instruments/wordings").build()).await?).await
}

thread_local! {
    /// The last caseload the server sent and its `ETag`, for this app's
    /// lifetime (one signed-in person: sign-out reloads the page).
    static LAST_CASELOAD: std::cell::RefCell<Option<(String, Vec<Patient>)>> =
        const { std::cell::RefCell::new(None) };
}

/// The server, for the sync client.
pub struct Server;

impl Remote for Server {
    /// The body goes to the browser as bytes: as a string (what `.json`
    /// does) a push of 1 MB was decoded from UTF-8 into a JavaScript string
    /// and encoded back by `fetch` — 10–15 ms of the phone's time per push,
    /// more than reading its records from the outbox.
    async fn push(&self, request: &RawPush) -> Result<PushResponse, RemoteError> {
        let body = serde_json::to_vec(request).map_err(|e| RemoteError::Refused {
            status: 0,
            field: None,
            message: format!("envoi impossible à écrire : {e}"),
        })?;
        // Handed over as a Blob: fetch takes a Blob by reference, where a
        // byte array is copied into the request on the page's thread —
        // measured in Chromium on 1 MB: fetch() returns in 0.7 ms instead
        // of 9.4, the answer comes in 12 ms instead of 34.
        let bytes = js_sys::Array::of1(&js_sys::Uint8Array::from(&body[..]));
        let blob = web_sys::Blob::new_with_u8_array_sequence(&bytes).map_err(|e| {
            RemoteError::Refused {
                status: 0,
                field: None,
                message: format!("envoi impossible à préparer : {e:?}"),
            }
        })?;
        let request = Request::post("/api/sync/push")
            .header("Content-Type", "application/json")
            .body(blob);
        read(send(request).await?).await
    }

    /// Asked with the last answer's `ETag`: when nothing changed the server
    /// answers 304 (and writes no audit row) and the copy kept here serves.
    async fn caseload(&self) -> Result<Vec<Patient>, RemoteError> {
        let held = LAST_CASELOAD.with_borrow(|c| c.as_ref().map(|(tag, _)| tag.clone()));
        let mut request = Request::get("/api/caseload");
        if let Some(tag) = &held {
            request = request.header("If-None-Match", tag);
        }
        let res = send(request.build()).await?;
        if res.status() == 304 {
            if let Some(patients) =
                LAST_CASELOAD.with_borrow(|c| c.as_ref().map(|(_, p)| p.clone()))
            {
                return Ok(patients);
            }
        }
        let tag = res.headers().get("etag");
        let patients: Vec<Patient> = read(res).await?;
        LAST_CASELOAD.set(tag.map(|t| (t, patients.clone())));
        Ok(patients)
    }

    async fn pull(&self, cursor: Option<&Cursor>, estimate: bool) -> Result<RawPage, RemoteError> {
        let limit = MAX_PULL_LIMIT.to_string();
        let protocol = PROTOCOL_VERSION.to_string();
        let request = Request::get("/api/sync/pull")
            .query([
                ("protocol", protocol.as_str()),
                ("cursor", cursor.map(|c| c.0.as_str()).unwrap_or("")),
                ("estimate", if estimate { "true" } else { "false" }),
                // The largest page the server gives: fewer round trips and IndexedDB transactions.
                ("limit", limit.as_str()),
            ])
            .build();
        read(send(request).await?).await
    }

    async fn checksum(&self) -> Result<ChecksumResponse, RemoteError> {
        let protocol = PROTOCOL_VERSION.to_string();
        let request = Request::get("/api/sync/checksum")
            .query([("protocol", protocol.as_str())])
            .build();
        read(send(request).await?).await
    }
}

/// A patient's first sign-in, with the code their team gave them.
#[cfg(feature = "patient")]
pub async fn activate(
    request: &parcours_domain::invitation::ActivationRequest,
) -> Result<Me, ApiError> {
    read(send(Request::post("/api/invitations/activate").json(request)).await?).await
}

/// A new invitation for a patient (the code is shown once).
pub async fn invite(
    patient: parcours_domain::PatientId,
) -> Result<parcours_domain::invitation::NewInvitation, ApiError> {
    read(send(Request::post(&format!("/api/patients/{patient}/invitations")).build()).await?).await
}

pub async fn invitations(
    patient: parcours_domain::PatientId,
) -> Result<Vec<parcours_domain::invitation::InvitationSummary>, ApiError> {
    read(send(Request::get(&format!("/api/patients/{patient}/invitations")).build()).await?).await
}

pub async fn revoke_invitation(id: uuid::Uuid) -> Result<(), ApiError> {
    done(send(Request::post(&format!("/api/invitations/{id}/revoke")).build()).await?).await
}

/// The coordinators' queue, with what is late on `today` (this device's day).
pub async fn coordination_queue(
    today: parcours_domain::date::CalendarDate,
    offset_minutes: i32,
) -> Result<Vec<parcours_domain::coordination::QueueEntry>, ApiError> {
    let url = format!("/api/coordination/queue?today={today}&offset_minutes={offset_minutes}");
    read(send(Request::get(&url).build()).await?).await
}

/// What a page says when the server did not do what it asked, in French;
/// `offline` says what needs the network, for when there is none.
pub fn said(e: ApiError, offline: &str) -> String {
    match e {
        ApiError::Unreachable => offline.to_string(),
        ApiError::Refused { message, .. } => message,
        ApiError::Unauthenticated => "Session expirée : reconnectez-vous.".into(),
        ApiError::Busy => "Serveur occupé : réessayez dans un instant.".into(),
        e @ ApiError::MutationIdsTaken { .. } => e.to_string(),
    }
}

/// The audit trail's filters (support coordinators only).
pub async fn audit_subjects() -> Result<parcours_domain::audit::AuditSubjects, ApiError> {
    read(send(Request::get("/api/audit/subjects").build()).await?).await
}

/// The query of one filtered view of the audit trail, for the page and for
/// its CSV export alike.
pub fn audit_query(
    patient: Option<parcours_domain::PatientId>,
    person: Option<parcours_domain::AccountId>,
) -> String {
    let mut query = vec![];
    if let Some(p) = patient {
        query.push(format!("patient_id={p}"));
    }
    if let Some(a) = person {
        query.push(format!("account_id={a}"));
    }
    query.join("&")
}

/// One page of the audit trail, newest first, older than `before`.
pub async fn audit_page(
    filters: &str,
    before: Option<i64>,
) -> Result<parcours_domain::audit::AuditPage, ApiError> {
    let mut url = format!("/api/audit?limit=50&{filters}");
    if let Some(b) = before {
        url.push_str(&format!("&before={b}"));
    }
    read(send(Request::get(&url).build()).await?).await
}

/// Takes a request: the coordinator joins the patient's care team.
pub async fn take_request(
    id: parcours_domain::RecordId,
    on: parcours_domain::date::CalendarDate,
) -> Result<parcours_domain::coordination::CoordinationEvent, ApiError> {
    let body = serde_json::json!({ "on": on });
    read(send(Request::post(&format!("/api/coordination/requests/{id}/take")).json(&body)).await?)
        .await
}

/// Tells the server a refused record or change was given up here (its
/// audit row), before the device forgets it.
pub async fn discarded(given_up: &parcours_domain::sync::Discarded) -> Result<(), ApiError> {
    done(send(Request::post("/api/sync/discarded").json(given_up)).await?).await
}
