//! The server's HTTP API as the app calls it. The session cookie travels by
//! itself (same origin); this module only turns answers into typed results.

use gloo_net::http::{Request, Response};
use parcours_domain::session::{Me, SignInRequest};
use parcours_domain::sync::{ChecksumResponse, PullResponse, PushRequest, PushResponse};
use parcours_domain::Patient;
use serde::de::DeserializeOwned;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// No answer at all: offline, server stopped, or the request timed out.
    #[error("serveur injoignable")]
    Unreachable,
    /// The session is over (expired or signed out elsewhere).
    #[error("session expirée")]
    Unauthenticated,
    /// The server refused the request and said why.
    #[error("{message}")]
    Refused {
        status: u16,
        field: Option<String>,
        message: String,
    },
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    field: Option<String>,
}

async fn read<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    match res.status() {
        200..=299 => res.json::<T>().await.map_err(|e| ApiError::Refused {
            status: res.status(),
            field: None,
            message: format!("réponse illisible du serveur : {e}"),
        }),
        401 => Err(ApiError::Unauthenticated),
        status => {
            let body = res.json::<ErrorBody>().await.ok();
            Err(ApiError::Refused {
                status,
                field: body.as_ref().and_then(|b| b.field.clone()),
                message: body
                    .map(|b| b.error)
                    .unwrap_or_else(|| format!("erreur {status}")),
            })
        }
    }
}

fn unreachable(_: gloo_net::Error) -> ApiError {
    ApiError::Unreachable
}

pub async fn sign_in(request: &SignInRequest) -> Result<Me, ApiError> {
    let res = Request::post("/api/session")
        .json(request)
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    read(res).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    let res = Request::delete("/api/session")
        .send()
        .await
        .map_err(unreachable)?;
    match res.status() {
        200..=299 | 401 => Ok(()),
        _ => read::<serde_json::Value>(res).await.map(|_| ()),
    }
}

pub async fn caseload() -> Result<Vec<Patient>, ApiError> {
    read(
        Request::get("/api/caseload")
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await
}

pub async fn push(request: &PushRequest) -> Result<PushResponse, ApiError> {
    let res = Request::post("/api/sync/push")
        .json(request)
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    read(res).await
}

/// One page from `cursor`; `estimate` asks how many wait after it.
pub async fn pull(cursor: Option<&str>, estimate: bool) -> Result<PullResponse, ApiError> {
    let res = Request::get("/api/sync/pull")
        .query([
            ("cursor", cursor.unwrap_or("")),
            ("estimate", if estimate { "true" } else { "false" }),
            // The largest page the server gives: fewer round trips and IndexedDB transactions.
            ("limit", "1000"),
        ])
        .send()
        .await
        .map_err(unreachable)?;
    read(res).await
}

pub async fn checksum() -> Result<ChecksumResponse, ApiError> {
    read(
        Request::get("/api/sync/checksum")
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await
}

/// One version of a care-plan item (the server's history entry).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryEntry {
    pub version: u64,
    pub author_name: String,
    pub applied_at: i64,
    pub mutation: parcours_domain::care_plan::Mutation,
    pub outcome: parcours_domain::care_plan::Applied,
}

pub async fn item_history(item: parcours_domain::ItemId) -> Result<Vec<HistoryEntry>, ApiError> {
    read(
        Request::get(&format!("/api/items/{item}/history"))
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await
}
