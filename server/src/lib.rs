//! Parcours server: accounts, care teams, the sync lanes, the audit trail,
//! and the app's static files.

pub mod admin;
pub mod audit;
pub mod audit_chain;
pub mod audit_trail;
pub mod backup;
pub mod care_team;
pub mod clock;
pub mod coordination;
pub mod db;
pub mod demo;
pub mod error;
pub mod invitation;
pub mod items;
pub mod journal;
pub mod json;
pub mod pain_assessment;
pub mod session;
pub mod state;
pub mod sync;
pub mod throttle;
pub mod wording;

pub use state::AppState;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use error::ApiError;
use std::path::PathBuf;
use std::time::Duration;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// Largest request body: a client keeps a push's records under half of it.
const BODY_LIMIT_BYTES: usize = parcours_domain::sync::MAX_BODY_BYTES;
/// Sign-in carries a username, a password and a device id: a few hundred bytes.
const SIGN_IN_BODY_LIMIT_BYTES: usize = 4 * 1024;
/// No request is served for longer than this (the answer is 408). The body
/// has its own, shorter limit: `AppState::body_timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

pub fn api_router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/session",
            post(session::sign_in)
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    session::admission,
                ))
                .get(session::me)
                .delete(session::sign_out)
                .layer(DefaultBodyLimit::max(SIGN_IN_BODY_LIMIT_BYTES)),
        )
        .route("/sessions", delete(session::sign_out_everywhere))
        .route("/caseload", get(care_team::caseload))
        .route(
            "/patients/{id}/invitations",
            post(invitation::create).get(invitation::list),
        )
        .route("/invitations/{id}/revoke", post(invitation::revoke))
        .route(
            "/invitations/activate",
            post(invitation::activate)
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    session::admission,
                ))
                .route_layer(DefaultBodyLimit::max(SIGN_IN_BODY_LIMIT_BYTES)),
        )
        .route(
            "/patients/{id}/assessments",
            get(pain_assessment::list_for_patient),
        )
        .merge(
            Router::new()
                .route("/sync/push", post(sync::push))
                .route("/sync/pull", get(sync::pull))
                .route("/sync/checksum", get(sync::checksum))
                .layer(GlobalConcurrencyLimitLayer::new(
                    state::CONCURRENT_SYNC_REQUESTS,
                ))
                // Outside the global limit: an account over its own share is
                // turned away before it takes a shared place.
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    sync::admission,
                )),
        )
        .route("/sync/discarded", post(sync::discarded))
        .route("/items/{id}/history", get(items::history))
        .route("/coordination/queue", get(coordination::queue))
        .route("/coordination/requests/{id}/take", post(coordination::take))
        .route("/instruments/wordings", get(wording::list))
        .route("/audit", get(audit_trail::list))
        .route("/audit.csv", get(audit_trail::export))
        .route("/audit/subjects", get(audit_trail::subjects))
        .fallback(|| async {
            ApiError::NotFound {
                field: "path".into(),
                message: "Adresse d'API inconnue.".into(),
            }
        })
        .layer(middleware::from_fn(same_origin_writes))
        .layer(middleware::from_fn_with_state(state, audit::trail))
        // Patient data must not linger in any HTTP cache.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Only this server's own files run, and nothing inline: the page's loader
/// is a file (public/start.js); WebAssembly needs `wasm-unsafe-eval` to be
/// compiled, and nothing else is evaluated. No style attribute either (the
/// app sets none). Nobody frames the app (clickjacking), and no form or
/// `<base>` points elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The powerful features the app never uses, switched off for it and
/// anything it might embed.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()";

/// The whole application: API, health check, and the built app from `dist`.
/// The first segment of every address the app's router draws (app/src/lib.rs,
/// both builds): deep links to them get the page, and the app takes over.
const APP_PAGES: &[&str] = &[
    "",
    "connexion",
    "aujourdhui",
    "inclusion",
    "coordination",
    "audit",
    "reunions",
    "patients",
    "activer",
    "journal",
];

/// A deep link into the app gets its page; any other address that is no
/// file (`/wp-login.php`, a mistyped path) is a plain 404 rather than the
/// app with a 200, which told crawlers and scanners every address exists.
async fn app_page_or_not_found(index: PathBuf, request: Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let first = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    if !APP_PAGES.contains(&first) {
        return (StatusCode::NOT_FOUND, "Page introuvable.").into_response();
    }
    match tower::ServiceExt::oneshot(ServeFile::new(index), request).await {
        Ok(page) => page.into_response(),
        Err(e) => match e {},
    }
}

pub fn router(state: AppState, dist: Option<PathBuf>) -> Router {
    let secure = state.secure_cookies;
    let body_timeout = state.body_timeout;
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .nest("/api", api_router(state.clone()))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    if let Some(dist) = dist {
        // Files under /pkg/ carry a content hash in their name, so they never
        // change: cached for a year. Everything else (the page, the service
        // worker, the manifest) is revalidated every time so a new build
        // reaches phones. Deep links (/patients/…) get index.html; the app's
        // router takes over.
        let pkg = Router::new()
            .fallback_service(
                ServeDir::new(dist.join("pkg"))
                    .precompressed_br()
                    .precompressed_gzip(),
            )
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ));
        let index = dist.join("index.html");
        let files = ServeDir::new(&dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(axum::routing::any(move |request: Request| {
                app_page_or_not_found(index.clone(), request)
            }));
        app = app
            .nest("/pkg", pkg)
            .fallback_service(Router::new().fallback_service(files).layer(
                SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ),
            ));
    }
    let mut app = app
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ));
    if secure {
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    app.with_state(state)
}

/// How long a health check waits for its write: a load balancer asks often
/// and wants an answer, not a request stuck behind a lock.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// Ready means the database takes writes: a heartbeat row is written, so a
/// full disk or a database locked for longer than `HEALTH_TIMEOUT` answers
/// 503 rather than "ok".
async fn healthz(State(state): State<AppState>) -> Response {
    let write = sqlx::query("UPDATE heartbeat SET at = $1 WHERE id = 1")
        .bind(clock::now_ms())
        .execute(&state.db.pool);
    let written = match tokio::time::timeout(HEALTH_TIMEOUT, write).await {
        Ok(result) => result.map(|_| ()).map_err(|e| e.to_string()),
        Err(_) => Err(format!("no write within {HEALTH_TIMEOUT:?}")),
    };
    match written {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the database refuses writes");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "la base de données refuse les écritures",
            )
                .into_response()
        }
    }
}

/// A browser sends `Origin` (and `Sec-Fetch-Site`) with every write; one from
/// another site is refused, whatever the cookie says. Clients that send
/// neither (scripts, tools) are not browsers and carry no ambient cookie.
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes && !is_same_origin(&request) {
        return ApiError::Forbidden {
            field: "origin".into(),
            message: "Requête venue d'un autre site : refusée.".into(),
        }
        .into_response();
    }
    next.run(request).await
}

fn is_same_origin(request: &Request) -> bool {
    let headers = request.headers();
    let fetch_site = headers
        .get(HeaderName::from_static("sec-fetch-site"))
        .and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site") | Some("same-site")) {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// While the server drains before stopping (SIGTERM, see `--drain-seconds`),
/// every new request is answered 503 with `Retry-After`: a client tries
/// again in a moment, a load balancer sends it to another instance.
/// Requests already in flight are past this point and finish.
pub async fn turn_away_while_draining(
    axum::extract::State(draining): axum::extract::State<
        std::sync::Arc<std::sync::atomic::AtomicBool>,
    >,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if draining.load(std::sync::atomic::Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            axum::Json(parcours_domain::ErrorBody {
                error: "Serveur en cours de redémarrage : nouvel essai dans un instant.".into(),
                field: None,
                next_mutation_id: None,
            }),
        )
            .into_response();
    }
    next.run(request).await
}
