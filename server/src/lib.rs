//! Parcours server: accounts, care teams, the sync lanes, the audit trail,
//! and the app's static files.

pub mod admin;
pub mod audit;
pub mod care_plan;
pub mod care_team;
pub mod clock;
pub mod db;
pub mod demo;
pub mod error;
pub mod json;
pub mod pain_assessment;
pub mod session;
pub mod sync;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use db::Database;
use error::ApiError;
use std::path::PathBuf;
use std::sync::Arc;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    /// Mark the session cookie `Secure` (set it when served over HTTPS).
    pub secure_cookies: bool,
    /// A real argon2 hash checked when a username does not exist, so a failed
    /// sign-in takes as long either way.
    pub dummy_hash: Arc<str>,
    /// Password checks at once: each takes 19 MiB and a core for ~20 ms, so a
    /// burst of sign-ins must queue rather than exhaust memory.
    pub password_checks: Arc<tokio::sync::Semaphore>,
}

/// See `AppState::password_checks`.
pub const CONCURRENT_PASSWORD_CHECKS: usize = 2;
/// Sync requests served at once. The rest wait before their body is read: a
/// push's body and a pull's page are each held in memory several times
/// (bytes, values, rows, JSON), so this bounds the server's memory whatever
/// the number of devices. On 2 cores and one SQLite writer, more would not go
/// faster.
pub const CONCURRENT_SYNC_REQUESTS: usize = 8;

impl AppState {
    pub fn new(db: Database, secure_cookies: bool) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            secure_cookies,
            dummy_hash: session::hash_password("no such account")?.into(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS)),
        })
    }
}

/// Largest request body: a full push of 500 records with long notes fits.
const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route(
            "/session",
            post(session::sign_in)
                .get(session::me)
                .delete(session::sign_out),
        )
        .route("/caseload", get(care_team::caseload))
        .route(
            "/patients/{id}/assessments",
            get(pain_assessment::list_for_patient),
        )
        .merge(
            Router::new()
                .route("/sync/push", post(sync::push))
                .route("/sync/pull", get(sync::pull))
                .route("/sync/checksum", get(sync::checksum))
                .layer(GlobalConcurrencyLimitLayer::new(CONCURRENT_SYNC_REQUESTS)),
        )
        .route("/items/{id}/history", get(care_plan::history))
        .fallback(|| async {
            ApiError::NotFound {
                field: "path".into(),
                message: "Adresse d'API inconnue.".into(),
            }
        })
        .layer(middleware::from_fn(never_cache))
}

/// The whole application: API, health check, and the built app from `dist`.
pub fn router(state: AppState, dist: Option<PathBuf>) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .nest("/api", api_router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    if let Some(dist) = dist {
        // Deep links (/patients/…) get index.html; the app's router takes over.
        let files = ServeDir::new(&dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(ServeFile::new(dist.join("index.html")));
        app = app
            .fallback_service(files)
            .layer(middleware::from_fn(cache_static));
    }
    app.layer(TraceLayer::new_for_http()).with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, ApiError> {
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
    Ok("ok")
}

/// Patient data must not linger in any HTTP cache.
async fn never_cache(req: Request<axum::body::Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Files under /pkg/ carry a content hash in their name, so they never change:
/// cache them for a year. Everything else (the page, the service worker,
/// the manifest) is revalidated every time so a new build reaches phones.
async fn cache_static(req: Request<axum::body::Body>, next: Next) -> Response {
    let immutable = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}
