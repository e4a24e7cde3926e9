//! A JSON body extractor whose errors name the field that broke, so a client
//! learns `records[0].pain_now` rather than "invalid body".

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        if !is_json {
            return Err(ApiError::Invalid {
                status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                field: "content-type".into(),
                message: "Le corps doit être du JSON (Content-Type: application/json).".into(),
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            let message = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                "Corps de requête trop volumineux : envoyez moins d'enregistrements à la fois."
            } else {
                "Corps de requête incomplet ou trop lent à arriver."
            };
            ApiError::Invalid {
                status,
                field: "body".into(),
                message: message.into(),
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." || path == "?" {
                    "body".to_string()
                } else {
                    path
                };
                ApiError::bad_request(field, format!("JSON invalide : {}", e.inner()))
            })
    }
}

/// `application/json`, with parameters (`; charset=utf-8`) or not, in any
/// case; not `application/jsonfoo`.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_json_itself_is_json() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            assert!(super::is_json_media_type(ok), "{ok}");
        }
        for bad in [
            "application/jsonfoo",
            "text/plain",
            "application/json-patch+json",
            "",
        ] {
            assert!(!super::is_json_media_type(bad), "{bad}");
        }
    }
}
