//! What every handler shares: the database, the settings the server was
//! started with, and the limits that keep one client from starving the rest.

use crate::db::Database;
use parcours_domain::AccountId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    /// Served over HTTPS: the session cookie is `Secure` with the `__Host-`
    /// prefix, and answers carry HSTS.
    pub secure_cookies: bool,
    /// Behind a reverse proxy the operator trusts: the client's address is
    /// the first of `X-Forwarded-For`, not the peer's.
    pub trust_proxy: bool,
    /// A real argon2 hash checked when a username does not exist, so a failed
    /// sign-in takes as long either way.
    pub dummy_hash: Arc<str>,
    /// Password checks at once: each takes 19 MiB and a core for ~20 ms, so a
    /// burst of sign-ins must queue rather than exhaust memory.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// Sign-in requests in flight (body read, waiting for a password check,
    /// or checking): beyond this, 429 at once, before the body is read.
    pub sign_ins: Arc<tokio::sync::Semaphore>,
    /// A request's body must arrive within this time: eight slow uploads must
    /// not hold the sync places for ever (a 4 MiB push at 1 Mbit/s takes ~35 s).
    pub body_timeout: std::time::Duration,
    /// Sync requests in flight per account (see `SYNC_REQUESTS_PER_ACCOUNT`).
    pub sync_shares: SyncShares,
    /// Wording of licensed instruments this deployment holds (`wording.rs`).
    pub wordings: Arc<Vec<parcours_domain::instrument::Wording>>,
}

/// See `AppState::body_timeout`.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// See `AppState::password_checks`.
pub const CONCURRENT_PASSWORD_CHECKS: usize = 2;
/// See `AppState::sign_ins`: a burst of 32 sign-ins waits well under a second
/// for its password checks; more at once is a flood, not a morning shift.
pub const CONCURRENT_SIGN_INS: usize = 32;
/// Sync requests served at once. The rest wait before their body is read: a
/// push's body and a pull's page are each held in memory several times
/// (bytes, values, rows, JSON), so this bounds the server's memory whatever
/// the number of devices. On 2 cores and one SQLite writer, more would not go
/// faster.
pub const CONCURRENT_SYNC_REQUESTS: usize = 8;
/// One account may hold at most this many of those places at once (a phone
/// sending a long outbox two pushes at a time, and a computer syncing
/// meanwhile); more get 429 at once, so that one account, by accident or
/// not, never holds every place.
pub const SYNC_REQUESTS_PER_ACCOUNT: usize = 3;

impl AppState {
    pub fn new(db: Database, secure_cookies: bool) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            secure_cookies,
            trust_proxy: false,
            dummy_hash: crate::session::hash_password("no such account")?.into(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS)),
            sign_ins: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_SIGN_INS)),
            sync_shares: SyncShares::default(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
            wordings: Arc::default(),
        })
    }

    pub fn trusting_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    /// Takes one of the account's sync places, or None when it has them all.
    pub fn enter_sync(&self, account: AccountId) -> Option<SyncPlace> {
        self.sync_shares.enter(account)
    }
}

/// How many sync requests each account has in flight.
#[derive(Clone, Default)]
pub struct SyncShares(Arc<Mutex<HashMap<AccountId, usize>>>);

impl SyncShares {
    pub fn enter(&self, account: AccountId) -> Option<SyncPlace> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(account).or_default();
        if *n >= SYNC_REQUESTS_PER_ACCOUNT {
            return None;
        }
        *n += 1;
        Some(SyncPlace {
            account,
            map: self.0.clone(),
        })
    }
}

/// An account's place among the sync requests in flight; freed when dropped
/// (whether the request ended, failed or its client went away).
pub struct SyncPlace {
    account: AccountId,
    map: Arc<Mutex<HashMap<AccountId, usize>>>,
}

impl Drop for SyncPlace {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_holds_at_most_its_share_of_sync_places_and_gets_them_back() {
        let shares = SyncShares::default();
        let enter = |account| shares.enter(account);
        let (claire, sophie) = (AccountId::new(), AccountId::new());
        let mut held: Vec<_> = (0..SYNC_REQUESTS_PER_ACCOUNT)
            .map(|_| enter(claire).expect("a place of her share"))
            .collect();
        assert!(enter(claire).is_none(), "one more request waits its turn");
        assert!(enter(sophie).is_some(), "another account is not affected");
        held.pop();
        held.push(enter(claire).expect("a place came back"));
        drop(held);
        assert!(
            !shares.0.lock().unwrap().contains_key(&claire),
            "nothing left behind"
        );
    }
}
