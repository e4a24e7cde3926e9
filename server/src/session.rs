//! Sign-in, the session cookie, and sign-out (here or everywhere).
//!
//! Passwords are stored as argon2id hashes. A session is a random 256-bit
//! token in an HttpOnly, SameSite=Strict cookie (`Secure` and `__Host-` when
//! served over HTTPS); the database keeps only its SHA-256, bound to the
//! account and to the device that signed in. A session ends at sign-out, at
//! the next sign-in of the same device, after `SESSION_IDLE_MS` without use,
//! or `SESSION_LIFETIME_MS` after sign-in, whichever comes first.

use crate::audit::{self, Action, Actor, AuditEvent, ClientAddr, SessionSlot};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::state::AppState;
use crate::throttle;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use parcours_domain::session::{Me, SignInRequest, PASSWORD_MAX_CHARS, USERNAME_MAX_CHARS};
use parcours_domain::{AccountId, DeviceId, PatientId, Profession};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The cookie over plain HTTP (development on localhost).
pub const COOKIE_NAME: &str = "parcours_session";
/// The cookie over HTTPS: the `__Host-` prefix makes the browser refuse it
/// unless it is Secure, host-only and for path `/`.
pub const SECURE_COOKIE_NAME: &str = "__Host-parcours_session";
/// A session lasts at most 14 days from sign-in.
pub const SESSION_LIFETIME_MS: i64 = 14 * 24 * 3600 * 1000;
/// …and ends after 12 hours without any request (OWASP ASVS 3.3.2, level 2).
/// A phone that syncs keeps it alive; one left in a drawer does not.
pub const SESSION_IDLE_MS: i64 = 12 * 3600 * 1000;
/// `last_seen_at` is written at most this often, not at every request.
const LAST_SEEN_RESOLUTION_MS: i64 = 60 * 1000;
/// How long the device may keep showing patient data without reaching the
/// server (told to the app at sign-in; see README, "Offline").
pub const OFFLINE_GRACE_MS: i64 = 7 * 24 * 3600 * 1000;

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// What an account is: a professional, who sees the patients whose care
/// team they are in, or a patient, who sees what their team shares with
/// them of their own file (see `care_team::Access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Professional(Profession),
    Patient(PatientId),
}

impl Role {
    /// From an account row: `patient_id` set makes it a patient's.
    fn of(profession: &str, patient_id: Option<&str>) -> ApiResult<Self> {
        match patient_id {
            Some(p) => Ok(Role::Patient(parse_id("patient id", p)?)),
            None => Ok(Role::Professional(parse_profession(profession)?)),
        }
    }
}

/// Who is asking, proven by the session cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: AccountId,
    pub device_id: DeviceId,
    pub display_name: String,
    pub role: Role,
    /// Where the request came from (see `audit::trail`).
    pub client_addr: Option<String>,
    token_hash: String,
    expires_at: i64,
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub(crate) fn token_hash(token: &str) -> String {
    sha256_base64(token.as_bytes())
}

/// SHA-256, in URL-safe base64 without padding.
pub(crate) fn sha256_base64(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

fn parse_profession(code: &str) -> ApiResult<Profession> {
    code.parse()
        .map_err(|e: String| ApiError::Internal(format!("accounts.profession: {e}")))
}

fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> ApiResult<T> {
    s.parse()
        .map_err(|_| ApiError::Internal(format!("unreadable {what} in the database")))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already checked by a middleware of this request (sync admission).
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(session.clone());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(cookie_name(state.secure_cookies))
            .ok_or(ApiError::Unauthenticated)?
            .value();
        let hash = token_hash(token);
        let now = now_ms();
        #[allow(clippy::type_complexity)]
        let row: Option<(String, String, String, String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT a.id, s.device_id, a.display_name, a.profession, a.patient_id, s.expires_at,
                    s.last_seen_at
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2
               AND s.last_seen_at > $3 AND a.disabled_at IS NULL",
        )
        .bind(&hash)
        .bind(now)
        .bind(now - SESSION_IDLE_MS)
        .fetch_optional(&state.db.pool)
        .await?;
        let (account_id, device_id, display_name, profession, patient_id, expires_at, last_seen_at) =
            row.ok_or(ApiError::Unauthenticated)?;
        if now - last_seen_at > LAST_SEEN_RESOLUTION_MS {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&state.db.pool)
                .await?;
        }
        let session = Session {
            account_id: parse_id("account id", &account_id)?,
            device_id: parse_id("device id", &device_id)?,
            display_name,
            role: Role::of(&profession, patient_id.as_deref())?,
            client_addr: parts
                .extensions
                .get::<ClientAddr>()
                .and_then(|a| a.0.clone()),
            token_hash: hash,
            expires_at,
        };
        if let Some(slot) = parts.extensions.get::<SessionSlot>() {
            let _ = slot.0.set(session.clone());
        }
        Ok(session)
    }
}

impl Session {
    /// The professional's profession; a patient's account is refused (403)
    /// on what only professionals do.
    pub fn professional(&self) -> ApiResult<Profession> {
        match self.role {
            Role::Professional(p) => Ok(p),
            Role::Patient(_) => Err(ApiError::Forbidden {
                field: "role".into(),
                message: "Réservé aux professionnels de l'équipe de soins.".into(),
            }),
        }
    }

    /// The patient this account is, for a patient's own account.
    pub fn patient(&self) -> Option<PatientId> {
        match self.role {
            Role::Patient(p) => Some(p),
            Role::Professional(_) => None,
        }
    }

    fn me(&self) -> Me {
        Me {
            account_id: self.account_id,
            device_id: self.device_id,
            display_name: self.display_name.clone(),
            profession: match self.role {
                Role::Professional(p) => Some(p),
                Role::Patient(_) => None,
            },
            patient_id: match self.role {
                Role::Patient(p) => Some(p),
                Role::Professional(_) => None,
            },
            session_expires_at: self.expires_at,
            offline_grace_ms: OFFLINE_GRACE_MS,
            device_secret: None,
        }
    }
}

fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The device this sign-in speaks for. An id the server has never seen is
/// registered with a new secret (returned once); a known id needs its
/// secret, else — someone else's id, or a browser that lost its secret —
/// the sign-in gets a new id and secret. `stored` is the claimed id's secret
/// hash, read before the transaction (on SQLite a transaction must write
/// first, or it cannot take the write lock later).
async fn bind_device(
    tx: &mut sqlx::AnyConnection,
    claimed: DeviceId,
    stored: Option<String>,
    secret: Option<&str>,
) -> Result<(DeviceId, Option<String>), sqlx::Error> {
    let proven = |hash: &str| secret.is_some_and(|s| token_hash(s) == hash);
    let mut id = match stored {
        Some(hash) if proven(&hash) => return Ok((claimed, None)),
        Some(_) => DeviceId::new(),
        None => claimed,
    };
    let secret = new_secret();
    loop {
        // Two first sign-ins racing with one new id: the second gets its own.
        let registered: Option<String> = sqlx::query_scalar(
            "INSERT INTO devices (id, secret_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING RETURNING id",
        )
        .bind(id.to_string())
        .bind(token_hash(&secret))
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        if registered.is_some() {
            return Ok((id, Some(secret)));
        }
        id = DeviceId::new();
    }
}

pub(crate) async fn device_secret_hash(
    pool: &sqlx::AnyPool,
    device: DeviceId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT secret_hash FROM devices WHERE id = $1")
        .bind(device.to_string())
        .fetch_optional(pool)
        .await
}

/// Opens a session for an account on a device; returns the cookie's token
/// and when it expires. Only the token's hash is stored.
pub async fn open_session(
    conn: &mut sqlx::AnyConnection,
    account_id: AccountId,
    device_id: DeviceId,
) -> Result<(String, i64), sqlx::Error> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let now = now_ms();
    let expires_at = now + SESSION_LIFETIME_MS;
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, device_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(token_hash(&token))
    .bind(account_id.to_string())
    .bind(device_id.to_string())
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok((token, expires_at))
}

/// Ends every live session of an account (on every device, or on one);
/// returns how many were live. (Expired ones are dead already.)
pub async fn end_sessions(
    conn: &mut sqlx::AnyConnection,
    account_id: AccountId,
    device_id: Option<DeviceId>,
) -> Result<u64, sqlx::Error> {
    let now = now_ms();
    let done = match device_id {
        Some(device) => {
            sqlx::query(
                "UPDATE sessions SET ended_at = $1
                 WHERE account_id = $2 AND device_id = $3 AND ended_at IS NULL
                   AND expires_at > $1 AND last_seen_at > $4",
            )
            .bind(now)
            .bind(account_id.to_string())
            .bind(device.to_string())
            .bind(now - SESSION_IDLE_MS)
            .execute(conn)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE sessions SET ended_at = $1 WHERE account_id = $2 AND ended_at IS NULL
                   AND expires_at > $1 AND last_seen_at > $3",
            )
            .bind(now)
            .bind(account_id.to_string())
            .bind(now - SESSION_IDLE_MS)
            .execute(conn)
            .await?
        }
    };
    Ok(done.rows_affected())
}

/// Middleware of `POST /api/session`: a place among the sign-ins in flight,
/// or 429 at once — before the body is read or a password check is queued.
pub async fn admission(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Ok(_place) = state.sign_ins.clone().try_acquire_owned() else {
        return ApiError::Busy("Trop de connexions en cours : réessayez dans un instant.")
            .into_response();
    };
    next.run(request).await
}

/// A username that cannot exist, whatever the database holds.
fn impossible_username(username: &str) -> bool {
    username.is_empty()
        || username.chars().count() > USERNAME_MAX_CHARS
        || username.chars().any(char::is_control)
}

pub async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    client: axum::Extension<ClientAddr>,
    JsonBody(req): JsonBody<SignInRequest>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    let actor = Actor::anonymous(client.0 .0.clone());
    let username = req.username.trim();
    // Too many failures for this name or from this address: refused before
    // the password is even checked — the same answer whether the account
    // exists or not.
    let keys = throttle::Keys::new(username, client.0 .0.as_deref());
    {
        let mut conn = state.db.pool.acquire().await?;
        let now = now_ms();
        if let Some(until) = throttle::blocked_until(&mut conn, &keys, now).await? {
            let event = AuditEvent::new(Action::SignInFailed)
                .detail("trop d'essais : refusée sans vérification");
            audit::record(&mut conn, &actor, event).await?;
            return Err(ApiError::Throttled {
                wait_ms: until - now,
            });
        }
    }
    if impossible_username(username) || req.password.chars().count() > PASSWORD_MAX_CHARS {
        let mut conn = state.db.pool.acquire().await?;
        let event = AuditEvent::new(Action::SignInFailed)
            .detail("identifiant ou mot de passe hors limites");
        audit::record(&mut conn, &actor, event).await?;
        throttle::failed(&mut conn, &keys, now_ms()).await?;
        return Err(ApiError::BadCredentials);
    }
    let row: Option<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, display_name, profession, patient_id, password_hash FROM accounts
         WHERE username = $1 AND disabled_at IS NULL",
    )
    .bind(username)
    .fetch_optional(&state.db.pool)
    .await?;

    // Verify even when the account does not exist, against a fixed hash, so the
    // answer's timing does not tell which usernames exist.
    let hash = match &row {
        Some((_, _, _, _, hash)) => hash.clone(),
        None => state.dummy_hash.to_string(),
    };
    let password = req.password;
    let _permit = state
        .password_checks
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;

    let stored_device = device_secret_hash(&state.db.pool, req.device_id).await?;
    let mut tx = state.db.pool.begin().await?;
    let Some((account_id, display_name, profession, patient_id, _)) = row.clone().filter(|_| ok)
    else {
        // The account when it exists; never what was typed (a password typed
        // in the wrong field would end up in the audit).
        let failed = match &row {
            Some((id, ..)) => Actor {
                account_id: Some(parse_id("account id", id)?),
                ..actor
            },
            None => actor,
        };
        let detail = if row.is_some() {
            "mot de passe incorrect".to_string()
        } else {
            format!(
                "identifiant inconnu ({} caractères)",
                username.chars().count()
            )
        };
        audit::record(
            &mut tx,
            &failed,
            AuditEvent::new(Action::SignInFailed).detail(detail),
        )
        .await?;
        throttle::failed(&mut tx, &keys, now_ms()).await?;
        tx.commit().await?;
        return Err(ApiError::BadCredentials);
    };
    throttle::succeeded(&mut tx, &keys).await?;
    let signed_in = SignedIn {
        account_id: parse_id("account id", &account_id)?,
        display_name,
        role: Role::of(&profession, patient_id.as_deref())?,
    };
    let device = DeviceClaim {
        id: req.device_id,
        stored_secret_hash: stored_device,
        secret: req.device_secret,
    };
    start_session(&state, tx, jar, client.0 .0.clone(), signed_in, device, "").await
}

/// An account whose credentials were just proven.
pub(crate) struct SignedIn {
    pub account_id: AccountId,
    pub display_name: String,
    pub role: Role,
}

/// The device a sign-in claims to be (see `bind_device`).
pub(crate) struct DeviceClaim {
    pub id: DeviceId,
    /// The claimed id's secret hash, read before the transaction.
    pub stored_secret_hash: Option<String>,
    pub secret: Option<String>,
}

/// Opens the session of a proven account on its device, in the caller's
/// transaction (committed here, with the sign-in's audit row), and sets the
/// cookie. Shared by sign-in and a patient's activation.
pub(crate) async fn start_session(
    state: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    jar: CookieJar,
    client_addr: Option<String>,
    account: SignedIn,
    device: DeviceClaim,
    detail: &str,
) -> ApiResult<(CookieJar, Json<Me>)> {
    let account_id = account.account_id;
    let (device_id, device_secret) = bind_device(
        &mut tx,
        device.id,
        device.stored_secret_hash,
        device.secret.as_deref(),
    )
    .await?;

    // One session per device and account: signing in again ends the previous
    // one, and so does the session whose cookie came with this request
    // (someone else's, on a shared phone).
    end_sessions(&mut tx, account_id, Some(device_id)).await?;
    let name = cookie_name(state.secure_cookies);
    if let Some(previous) = jar.get(name) {
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
            .bind(now_ms())
            .bind(token_hash(previous.value()))
            .execute(&mut *tx)
            .await?;
    }
    let (token, expires_at) = open_session(&mut tx, account_id, device_id).await?;
    let session = Session {
        account_id,
        device_id,
        display_name: account.display_name,
        role: account.role,
        client_addr,
        token_hash: token_hash(&token),
        expires_at,
    };
    let device_detail = if device_id != device.id {
        "appareil revendiqué sans sa clé : nouvel identifiant donné"
    } else if device_secret.is_some() {
        "nouvel appareil"
    } else {
        ""
    };
    let detail = [detail, device_detail]
        .into_iter()
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" ; ");
    audit::record(
        &mut tx,
        &(&session).into(),
        AuditEvent::new(Action::SignIn).detail(detail),
    )
    .await?;
    tx.commit().await?;

    let cookie = Cookie::build((name, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .path("/")
        .max_age(cookie::time::Duration::milliseconds(SESSION_LIFETIME_MS))
        .build();
    Ok((
        jar.add(cookie),
        Json(Me {
            device_secret,
            ..session.me()
        }),
    ))
}

pub async fn me(session: Session) -> ApiResult<Json<Me>> {
    Ok(Json(session.me()))
}

fn removal(state: &AppState) -> Cookie<'static> {
    Cookie::build(cookie_name(state.secure_cookies))
        .path("/")
        .secure(state.secure_cookies)
        .build()
}

/// `DELETE /api/session`: ends this session.
pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> ApiResult<CookieJar> {
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2")
        .bind(now_ms())
        .bind(&session.token_hash)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &(&session).into(),
        AuditEvent::new(Action::SignOut),
    )
    .await?;
    tx.commit().await?;
    Ok(jar.remove(removal(&state)))
}

#[derive(Serialize)]
pub struct SignedOut {
    /// How many sessions were ended, this one included.
    pub ended: u64,
}

/// `DELETE /api/sessions`: ends every session of the account, on every device
/// (a lost phone, a shared computer left signed in).
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> ApiResult<(CookieJar, Json<SignedOut>)> {
    let mut tx = state.db.pool.begin().await?;
    let ended = end_sessions(&mut tx, session.account_id, None).await?;
    audit::record(
        &mut tx,
        &(&session).into(),
        AuditEvent::new(Action::SignOut).detail(format!("partout ({ended} sessions)")),
    )
    .await?;
    tx.commit().await?;
    Ok((jar.remove(removal(&state)), Json(SignedOut { ended })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hors", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn usernames_that_cannot_exist_are_recognised_without_the_database() {
        assert!(!impossible_username("dr.durand"));
        assert!(impossible_username(""));
        assert!(impossible_username(&"a".repeat(USERNAME_MAX_CHARS + 1)));
        assert!(impossible_username("cla\u{0}ire"));
    }
}
