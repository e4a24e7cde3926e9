//! Who is signed in on this device, kept in localStorage so the app opens
//! offline. The device may show patient data without reaching the server for
//! `offline_grace_ms` (7 days, set by the server) after its last contact; past
//! that, the person must sign in again. Records waiting to be sent are kept
//! in IndexedDB whatever happens here.

use gloo_storage::{LocalStorage, Storage};
use parcours_domain::session::Me;
use parcours_domain::DeviceId;

const DEVICE_ID_KEY: &str = "parcours.device_id";
/// The secret the server gave this browser with its device id (see
/// `SignInRequest::device_secret`).
const DEVICE_SECRET_KEY: &str = "parcours.device_secret";
/// Also read by the page's loader (public/start.js), which starts the
/// patient's build when the kept `Me` has a `patient_id`.
const ME_KEY: &str = "parcours.me";
const LAST_CONTACT_KEY: &str = "parcours.last_server_contact";
/// Set when a sign-out could not reach the server: the session cookie (which
/// the app cannot remove, it is HttpOnly) still works there until the app
/// ends it at the next contact.
const SIGN_OUT_PENDING_KEY: &str = "parcours.sign_out_pending";
/// The identifiant typed at the sign-in of the person signed in here: an
/// offline sign-back-in is recognised by it (see `resume_offline`).
const USERNAME_KEY: &str = "parcours.username";
/// Who signed out here without network, until the server hears of it.
const RESUMABLE_KEY: &str = "parcours.resumable";

use crate::clock::now_ms;

/// This browser's id, made once and kept.
pub fn device_id() -> DeviceId {
    if let Ok(id) = LocalStorage::get::<DeviceId>(DEVICE_ID_KEY) {
        return id;
    }
    let id = DeviceId(uuid::Uuid::new_v4());
    // If storage is unavailable the id lives for this page only: the server
    // still binds it to the session, so audit rows stay consistent.
    let _ = LocalStorage::set(DEVICE_ID_KEY, id);
    id
}

/// The secret that proves this browser's device id, once the server gave one.
pub fn device_secret() -> Option<String> {
    LocalStorage::get(DEVICE_SECRET_KEY).ok()
}

/// Keeps who signed in, with the identifiant they typed; and, when the
/// server has just registered this browser (or given it a new device id),
/// the id and its secret.
pub fn remember(me: &Me, username: &str) {
    let _ = LocalStorage::set(USERNAME_KEY, username.trim());
    if let Some(secret) = &me.device_secret {
        let _ = LocalStorage::set(DEVICE_ID_KEY, me.device_id);
        let _ = LocalStorage::set(DEVICE_SECRET_KEY, secret);
    }
    let kept = Me {
        device_secret: None,
        ..me.clone()
    };
    let _ = LocalStorage::set(ME_KEY, kept);
    mark_server_contact();
}

pub fn forget() {
    LocalStorage::delete(ME_KEY);
    LocalStorage::delete(LAST_CONTACT_KEY);
    LocalStorage::delete(USERNAME_KEY);
}

/// A sign-out made without network, which the server has not heard of: the
/// person's session still stands there, and what the server sent them stays
/// on the phone, sealed by their key, until it does. Until then the same
/// person may sign back in here without network (their PIN opens it all
/// again); once the server has ended the session, or someone else signs in,
/// the synced data is forgotten as at any sign-out.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Resumable {
    pub me: Me,
    pub username: String,
    /// The last contact with the server before the sign-out: the offline
    /// grace still counts from it.
    pub last_contact: i64,
}

/// Keeps the person signing out offline as resumable (call before
/// `forget`). False when that cannot be: signed in before the identifiant
/// was kept, or storage refused it — the synced data is then forgotten at
/// once, as at any sign-out.
pub fn keep_resumable() -> bool {
    let (Ok(me), Ok(username)) = (
        LocalStorage::get::<Me>(ME_KEY),
        LocalStorage::get::<String>(USERNAME_KEY),
    ) else {
        return false;
    };
    let last_contact = LocalStorage::get(LAST_CONTACT_KEY).unwrap_or(0);
    LocalStorage::set(
        RESUMABLE_KEY,
        Resumable {
            me,
            username,
            last_contact,
        },
    )
    .is_ok()
}

/// The resumable sign-out, taken out (the server has ended the session, or
/// someone signed in): its synced data is to be forgotten by the caller.
pub fn take_resumable() -> Option<Resumable> {
    let kept = LocalStorage::get(RESUMABLE_KEY).ok();
    LocalStorage::delete(RESUMABLE_KEY);
    kept
}

/// Signs `username` back in without network, if they are the person whose
/// sign-out has not reached the server and the offline grace is not over:
/// the session is restored as it was (the lock screen then asks for the
/// PIN, which is what proves who they are here; the password cannot be
/// checked offline and is asked at the next sign-in online).
pub fn resume_offline(username: &str) -> Option<Me> {
    let kept: Resumable = LocalStorage::get(RESUMABLE_KEY).ok()?;
    if !kept.username.eq_ignore_ascii_case(username.trim())
        || now_ms() - kept.last_contact > kept.me.offline_grace_ms
    {
        return None;
    }
    let _ = LocalStorage::set(ME_KEY, &kept.me);
    let _ = LocalStorage::set(USERNAME_KEY, &kept.username);
    let _ = LocalStorage::set(LAST_CONTACT_KEY, kept.last_contact);
    LocalStorage::delete(RESUMABLE_KEY);
    // The session the sign-out meant to end is the one she resumes.
    set_sign_out_pending(false);
    Some(kept.me)
}

pub fn mark_server_contact() {
    let _ = LocalStorage::set(LAST_CONTACT_KEY, now_ms());
}

/// The person signed in on this device, unless the offline grace is over.
pub fn current() -> Option<Me> {
    let me: Me = LocalStorage::get(ME_KEY).ok()?;
    let last: i64 = LocalStorage::get(LAST_CONTACT_KEY).unwrap_or(0);
    (now_ms() - last <= me.offline_grace_ms).then_some(me)
}

/// The last sign-out on this device has not reached the server yet.
pub fn sign_out_pending() -> bool {
    LocalStorage::get::<bool>(SIGN_OUT_PENDING_KEY).unwrap_or(false)
}

pub fn set_sign_out_pending(pending: bool) {
    if pending {
        let _ = LocalStorage::set(SIGN_OUT_PENDING_KEY, true);
    } else {
        LocalStorage::delete(SIGN_OUT_PENDING_KEY);
    }
}

/// Ends on the server the session of a sign-out made offline, when nobody
/// is signed in on this device (a new sign-in ends it by itself: the server
/// ends the session whose cookie comes with a sign-in). Returns true once
/// nothing is pending any more; the caller then forgets what the server had
/// sent the person who signed out (`take_resumable`).
pub async fn finish_pending_sign_out() -> bool {
    if !sign_out_pending() {
        return true;
    }
    if LocalStorage::get::<Me>(ME_KEY).is_ok() {
        // Someone signed in meanwhile: their sign-in ended the old session.
        set_sign_out_pending(false);
        return true;
    }
    match crate::api::sign_out().await {
        Ok(()) => {
            set_sign_out_pending(false);
            true
        }
        Err(_) => false,
    }
}

/// A sentence for the next sign-in page (why the person was signed out).
const NOTICE_KEY: &str = "parcours.notice";

pub fn set_notice(text: Option<&str>) {
    match text {
        Some(text) => {
            let _ = LocalStorage::set(NOTICE_KEY, text);
        }
        None => LocalStorage::delete(NOTICE_KEY),
    }
}

/// The sentence left for this sign-in page, once.
pub fn take_notice() -> Option<String> {
    let notice = LocalStorage::get(NOTICE_KEY).ok();
    LocalStorage::delete(NOTICE_KEY);
    notice
}
