//! Sign-in throttling: failures are counted per account name (whether or not
//! such an account exists, so the answer tells nothing) and per address; past
//! a few, sign-in for that name or from that address is refused without even
//! checking the password, for a delay that doubles at each further failure.
//! A success clears its name's count; an address's count only fades with
//! time (one valid account must not reset a spraying address).

use sqlx::AnyConnection;

/// Failures are forgotten after this long without one.
const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failures allowed per account name before any wait: a person mistyping.
const FREE_PER_ACCOUNT: i64 = 5;
/// Per address: higher, as a practice's staff share one.
const FREE_PER_ADDRESS: i64 = 30;
/// The first wait, doubled at each further failure, up to `MAX_WAIT_MS`.
const FIRST_WAIT_MS: i64 = 30 * 1000;
const MAX_WAIT_MS: i64 = 15 * 60 * 1000;

/// What a sign-in is counted under.
pub struct Keys {
    account: String,
    address: Option<String>,
}

impl Keys {
    /// The name is kept hashed: what was typed may be anything (a password
    /// typed in the wrong field), and is never stored.
    pub fn new(username: &str, address: Option<&str>) -> Self {
        let name = crate::session::token_hash(&username.trim().to_lowercase());
        Keys {
            account: format!("account:{name}"),
            address: address.map(|a| format!("address:{a}")),
        }
    }

    fn all(&self) -> impl Iterator<Item = (&str, i64)> {
        std::iter::once((self.account.as_str(), FREE_PER_ACCOUNT))
            .chain(self.address.as_deref().map(|a| (a, FREE_PER_ADDRESS)))
    }
}

/// Until when sign-in is refused for these keys, if it is now.
pub async fn blocked_until(
    conn: &mut AnyConnection,
    keys: &Keys,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let mut until = None;
    for (key, _) in keys.all() {
        let blocked: Option<i64> =
            sqlx::query_scalar("SELECT blocked_until FROM sign_in_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(b) = blocked.filter(|b| *b > now_ms) {
            until = until.max(Some(b));
        }
    }
    Ok(until)
}

/// Counts a failure under each key; past the free ones, sets the wait.
pub async fn failed(conn: &mut AnyConnection, keys: &Keys, now_ms: i64) -> Result<(), sqlx::Error> {
    for (key, free) in keys.all() {
        let before: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, last_failed_at FROM sign_in_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
        let failures = match before {
            Some((n, last)) if now_ms - last < WINDOW_MS => n + 1,
            _ => 1,
        };
        let blocked_until = match wait_ms(failures, free) {
            0 => 0,
            wait => now_ms + wait,
        };
        sqlx::query(
            "INSERT INTO sign_in_failures (key, failures, last_failed_at, blocked_until)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
                 last_failed_at = excluded.last_failed_at, blocked_until = excluded.blocked_until",
        )
        .bind(key)
        .bind(failures)
        .bind(now_ms)
        .bind(blocked_until)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A success clears the account name's count (not the address's).
pub async fn succeeded(conn: &mut AnyConnection, keys: &Keys) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
        .bind(&keys.account)
        .execute(conn)
        .await?;
    Ok(())
}

/// The wait after the `failures`-th failure in a row, when `free` pass.
fn wait_ms(failures: i64, free: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(20);
    FIRST_WAIT_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_WAIT_MS)
}

/// The French sentence for a wait, rounded up to the minute.
pub fn message(wait_ms: i64) -> String {
    let minutes = (wait_ms + 59_999) / 60_000;
    if minutes <= 1 {
        "Trop d'essais de connexion : réessayez dans une minute.".into()
    } else {
        format!("Trop d'essais de connexion : réessayez dans {minutes} minutes.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_starts_past_the_free_failures_and_doubles_up_to_a_cap() {
        assert_eq!(wait_ms(4, 5), 0);
        assert_eq!(wait_ms(5, 5), 30_000);
        assert_eq!(wait_ms(6, 5), 60_000);
        assert_eq!(wait_ms(7, 5), 120_000);
        assert_eq!(wait_ms(50, 5), MAX_WAIT_MS);
        assert_eq!(wait_ms(i64::MAX, 5), MAX_WAIT_MS);
    }

    #[test]
    fn the_message_says_minutes() {
        assert_eq!(
            message(30_000),
            "Trop d'essais de connexion : réessayez dans une minute."
        );
        assert_eq!(
            message(120_001),
            "Trop d'essais de connexion : réessayez dans 3 minutes."
        );
    }
}
