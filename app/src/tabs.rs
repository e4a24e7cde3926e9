//! Several tabs of the app on one phone (or one desktop): they share the
//! device's IndexedDB, so they must never sync at the same time — two
//! pushes of one outbox would race — and what one writes must show in the
//! others. Web Locks give the first (one lock for every tab of this browser
//! profile); a BroadcastChannel the second.

use js_sys::{Function, Promise, Reflect};
use std::cell::RefCell;
use std::future::Future;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const SYNC_LOCK: &str = "parcours-sync";
const CHANNEL: &str = "parcours-changes";

/// Runs `work` holding the sync lock shared by every tab: after the sync
/// another tab is running, if one is (its push may have read the outbox
/// before this tab's latest record was written, so waiting for it is not
/// enough). Where the browser has no Web Locks, runs it at once.
pub async fn exclusively(work: impl Future<Output = ()>) {
    let locks = web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| Reflect::get(&n, &JsValue::from_str("locks")).ok())
        .filter(|l| !l.is_undefined() && !l.is_null());
    let Some(locks) = locks else {
        work.await;
        return;
    };
    // The lock is held while the promise the callback returns is pending:
    // that promise's `resolve` comes back here, and is called once `work`
    // is done.
    let acquired = Promise::new(&mut |resolve_acquired: Function, _| {
        let fallback = resolve_acquired.clone();
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            Promise::new(&mut |release: Function, _| {
                let _ = resolve_acquired.call1(&JsValue::NULL, &release);
            })
        });
        let request = Reflect::get(&locks, &"request".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let called = request.map(|request| request.call2(&locks, &SYNC_LOCK.into(), &callback));
        if !matches!(called, Some(Ok(_))) {
            // Not callable after all: as if there were no Web Locks.
            let _ = fallback.call1(&JsValue::NULL, &JsValue::TRUE);
        }
    });
    let got = JsFuture::from(acquired).await.unwrap_or(JsValue::TRUE);
    work.await;
    if let Some(release) = got.dyn_ref::<Function>() {
        let _ = release.call0(&JsValue::NULL);
    }
}

thread_local! {
    static CHANNEL_OPEN: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
}

/// Tells the other tabs that the device's store changed.
pub fn announce_change() {
    CHANNEL_OPEN.with_borrow(|c| {
        if let Some(c) = c {
            let _ = c.post_message(&JsValue::from_str("changed"));
        }
    });
}

/// Calls `on_change` whenever another tab changed the device's store.
pub fn listen(on_change: impl Fn() + 'static) {
    let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) else {
        return;
    };
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| on_change());
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // Lives as long as the page.
    handler.forget();
    CHANNEL_OPEN.set(Some(channel));
}
