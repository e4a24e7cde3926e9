//! Sign-in and the session cookie.
//!
//! Passwords are stored as argon2id hashes. A session is a random 256-bit
//! token in an HttpOnly, SameSite=Strict cookie; the database keeps only its
//! SHA-256, bound to the account and to the device that signed in.

use crate::audit::{self, Action, AuditEvent};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::AppState;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use parcours_domain::session::{Me, SignInRequest};
use parcours_domain::{AccountId, DeviceId, Profession};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "parcours_session";
/// A session lasts 14 days from sign-in; then the person signs in again.
pub const SESSION_LIFETIME_MS: i64 = 14 * 24 * 3600 * 1000;
/// How long the device may keep showing patient data without reaching the
/// server (told to the app at sign-in; see README, "Offline").
pub const OFFLINE_GRACE_MS: i64 = 7 * 24 * 3600 * 1000;

/// Who is asking, proven by the session cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: AccountId,
    pub device_id: DeviceId,
    pub display_name: String,
    pub profession: String,
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

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(COOKIE_NAME)
            .ok_or(ApiError::Unauthenticated)?
            .value();
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT a.id, s.device_id, a.display_name, a.profession
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2
               AND a.disabled_at IS NULL",
        )
        .bind(token_hash(token))
        .bind(now_ms())
        .fetch_optional(&state.db.pool)
        .await?;
        let (account_id, device_id, display_name, profession) =
            row.ok_or(ApiError::Unauthenticated)?;
        Ok(Session {
            account_id: account_id
                .parse()
                .map_err(|_| ApiError::Internal("bad account id in database".into()))?,
            device_id: device_id
                .parse()
                .map_err(|_| ApiError::Internal("bad device id in database".into()))?,
            display_name,
            profession,
        })
    }
}

fn profession_label(code: &str) -> String {
    code.parse::<Profession>()
        .map(|p| p.label_fr().to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// Opens a session for an account on a device; returns the cookie's token
/// and when it expires. Only the token's hash is stored.
pub async fn open_session(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    device_id: DeviceId,
) -> Result<(String, i64), sqlx::Error> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let now = now_ms();
    let expires_at = now + SESSION_LIFETIME_MS;
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, device_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash(&token))
    .bind(account_id)
    .bind(device_id.to_string())
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok((token, expires_at))
}

pub async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    JsonBody(req): JsonBody<SignInRequest>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, display_name, profession, password_hash FROM accounts
         WHERE username = $1 AND disabled_at IS NULL",
    )
    .bind(req.username.trim())
    .fetch_optional(&state.db.pool)
    .await?;

    // Verify even when the account does not exist, against a fixed hash, so the
    // answer's timing does not tell which usernames exist.
    let (hash, account) = match &row {
        Some((id, name, profession, hash)) => (
            hash.clone(),
            Some((id.clone(), name.clone(), profession.clone())),
        ),
        None => (state.dummy_hash.to_string(), None),
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

    let mut conn = state.db.pool.acquire().await?;
    let Some((account_id, display_name, profession)) = account.filter(|_| ok) else {
        audit::record(
            &mut conn,
            None,
            AuditEvent::new(Action::SignInFailed).detail(req.username.trim()),
        )
        .await?;
        return Err(ApiError::BadCredentials);
    };

    let (token, expires_at) = open_session(&mut conn, &account_id, req.device_id).await?;

    let session = Session {
        account_id: account_id
            .parse()
            .map_err(|_| ApiError::Internal("bad account id".into()))?,
        device_id: req.device_id,
        display_name: display_name.clone(),
        profession: profession.clone(),
    };
    audit::record(&mut conn, Some(&session), AuditEvent::new(Action::SignIn)).await?;

    let cookie = Cookie::build((COOKIE_NAME, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .path("/")
        .max_age(cookie::time::Duration::milliseconds(SESSION_LIFETIME_MS))
        .build();
    Ok((
        jar.add(cookie),
        Json(Me {
            account_id: session.account_id,
            device_id: session.device_id,
            profession_label: profession_label(&profession),
            display_name,
            profession,
            session_expires_at: expires_at,
            offline_grace_ms: OFFLINE_GRACE_MS,
        }),
    ))
}

pub async fn me(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> ApiResult<Json<Me>> {
    let token = jar
        .get(COOKIE_NAME)
        .ok_or(ApiError::Unauthenticated)?
        .value();
    let expires_at: i64 =
        sqlx::query_scalar("SELECT expires_at FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_one(&state.db.pool)
            .await?;
    Ok(Json(Me {
        account_id: session.account_id,
        device_id: session.device_id,
        profession_label: profession_label(&session.profession),
        display_name: session.display_name,
        profession: session.profession,
        session_expires_at: expires_at,
        offline_grace_ms: OFFLINE_GRACE_MS,
    }))
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> ApiResult<CookieJar> {
    let token = jar
        .get(COOKIE_NAME)
        .ok_or(ApiError::Unauthenticated)?
        .value()
        .to_string();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2")
        .bind(now_ms())
        .bind(token_hash(&token))
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, Some(&session), AuditEvent::new(Action::SignOut)).await?;
    tx.commit().await?;
    Ok(jar.remove(Cookie::build(COOKIE_NAME).path("/")))
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
}
