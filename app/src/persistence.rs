//! The browser's storage for this site: ask that it be kept (not evicted
//! under pressure), and say how much it uses. The server stays the backup: a
//! wiped device recovers by pulling again, except what had not been sent.

use wasm_bindgen_futures::JsFuture;

fn manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

/// Asks for persistent storage; true when the browser grants it.
pub async fn ask_persistence() -> bool {
    let Some(promise) = manager().and_then(|m| m.persist().ok()) else {
        return false;
    };
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Whether storage is already persistent.
pub async fn is_persistent() -> bool {
    let Some(promise) = manager().and_then(|m| m.persisted().ok()) else {
        return false;
    };
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// (bytes used, bytes allowed), as the browser estimates them.
pub async fn usage() -> Option<(f64, f64)> {
    use wasm_bindgen::JsCast;
    // A WebIDL dictionary is a plain object, not an instance: no
    // `instanceof` check can succeed, hence the unchecked cast.
    let estimate: web_sys::StorageEstimate = JsFuture::from(manager()?.estimate().ok()?)
        .await
        .ok()?
        .unchecked_into();
    Some((estimate.get_usage()?, estimate.get_quota()?))
}

/// "2,4 Mo" — sizes as a French reader expects them.
pub fn human_size(bytes: f64) -> String {
    let (value, unit) = if bytes >= 1e9 {
        (bytes / 1e9, "Go")
    } else if bytes >= 1e6 {
        (bytes / 1e6, "Mo")
    } else {
        (bytes / 1e3, "ko")
    };
    format!("{value:.1} {unit}").replace('.', ",")
}
