//! The one error type of the HTTP layer. Every failure a client can see
//! becomes `{"error": "...", "field": "..."}` with the right status; what the
//! client cannot act on (a database failure) goes to the log, not the body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_domain::ErrorBody;
use parcours_domain::FieldError;

pub const PATIENT_NOT_FOUND: &str = "Patient inconnu ou hors de vos équipes de soins.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or breaks a rule: 400 or 422, naming the field.
    #[error("invalid {field}: {message}")]
    Invalid {
        status: StatusCode,
        field: String,
        message: String,
    },
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    /// Signed in, but this is not theirs to do (a forged author, another device).
    #[error("forbidden {field}: {message}")]
    Forbidden { field: String, message: String },
    /// Unknown, or outside the care team: the same answer, so that the
    /// existence of a patient does not leak to someone outside their team.
    #[error("not found {field}")]
    NotFound { field: String, message: String },
    /// A patient (or something of theirs) outside the person's care teams:
    /// the same answer as `NotFound`, and the refusal is already audited.
    #[error("outside the care team {field}")]
    OutsideCareTeam { field: String, message: String },
    #[error("conflict {field}: {message}")]
    Conflict { field: String, message: String },
    /// A mutation id this device used before for another mutation (its
    /// store was wiped): 409 with the id the server expects next, so the
    /// device renumbers what it has waiting.
    #[error("mutation id taken {field}")]
    MutationIdTaken { field: String, next: u64 },
    /// A mutation id beyond the one expected next (409): this server lost
    /// mutations of the device it had applied — restored from a backup. The
    /// device gives what waits the ids from `next` on.
    #[error("mutation id ahead {field}")]
    MutationIdAhead { field: String, next: u64 },
    /// Too many requests of this kind at once (this account's syncs, or
    /// sign-ins overall): retry soon. The message says which.
    #[error("busy")]
    Busy(&'static str),
    /// Too many failed sign-ins for this name or from this address: refused
    /// for `wait_ms` more, without checking the password.
    #[error("sign-in throttled")]
    Throttled { wait_ms: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

/// Put on an error answer whose refusal has its audit row already.
#[derive(Clone, Copy)]
pub struct AlreadyAudited;

/// Put on every error answer that names a field, for the refusal's audit row.
#[derive(Clone)]
pub struct RefusedField(pub String);

impl ApiError {
    pub fn invalid(field: FieldError) -> Self {
        Self::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: field.field,
            message: field.message,
        }
    }

    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            status: StatusCode::BAD_REQUEST,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Unknown and outside the care team give this same answer (see
    /// `OutsideCareTeam`).
    pub fn patient_not_found(field: impl Into<String>) -> Self {
        Self::NotFound {
            field: field.into(),
            message: PATIENT_NOT_FOUND.into(),
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, field) = match &self {
            ApiError::Invalid {
                status,
                field,
                message,
            } => (*status, message.as_str(), Some(field.as_str())),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "Connexion requise.", None),
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "Identifiant ou mot de passe incorrect.",
                None,
            ),
            ApiError::Forbidden { field, message } => (
                StatusCode::FORBIDDEN,
                message.as_str(),
                Some(field.as_str()),
            ),
            ApiError::NotFound { field, message } => (
                StatusCode::NOT_FOUND,
                message.as_str(),
                Some(field.as_str()),
            ),
            ApiError::OutsideCareTeam { field, message } => (
                StatusCode::NOT_FOUND,
                message.as_str(),
                Some(field.as_str()),
            ),
            ApiError::Conflict { field, message } => {
                (StatusCode::CONFLICT, message.as_str(), Some(field.as_str()))
            }
            ApiError::MutationIdTaken { field, next }
            | ApiError::MutationIdAhead { field, next } => {
                let error = if matches!(self, ApiError::MutationIdTaken { .. }) {
                    format!("Numéro de mutation déjà utilisé par une autre mutation ; le suivant attendu est {next}.")
                } else {
                    format!("Mutation hors d'ordre : la suivante attendue est {next}.")
                };
                let mut response = (
                    StatusCode::CONFLICT,
                    Json(ErrorBody {
                        error,
                        field: Some(field.clone()),
                        next_mutation_id: Some(*next),
                    }),
                )
                    .into_response();
                response
                    .extensions_mut()
                    .insert(RefusedField(field.clone()));
                return response;
            }
            ApiError::Busy(message) => (StatusCode::TOO_MANY_REQUESTS, *message, None),
            ApiError::Throttled { wait_ms } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(ErrorBody {
                        error: crate::throttle::message(*wait_ms),
                        field: Some("username".into()),
                        next_mutation_id: None,
                    }),
                )
                    .into_response();
                let seconds = (*wait_ms + 999) / 1000;
                if let Ok(v) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
                return response;
            }
            ApiError::Database(e) => {
                tracing::error!(error = %e, "database error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur interne du serveur.",
                    None,
                )
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur interne du serveur.",
                    None,
                )
            }
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: message.to_string(),
                field: field.map(str::to_string),
                next_mutation_id: None,
            }),
        )
            .into_response();
        if let Some(field) = field {
            response
                .extensions_mut()
                .insert(RefusedField(field.to_string()));
        }
        if matches!(self, ApiError::OutsideCareTeam { .. }) {
            response.extensions_mut().insert(AlreadyAudited);
        }
        if matches!(self, ApiError::Busy(_)) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
