//! The app lock: the device key is in memory only while the app is
//! unlocked. It locks after five minutes without a touch or a key, and as
//! soon as it goes to the background (another app, the screen off); a
//! reload starts locked. Locked, nothing is read or synced: what waits to
//! be sent leaves after the next unlock.

use crate::clock::now_ms;
use leptos::prelude::*;
use std::cell::Cell;
use std::time::Duration;

/// Inactivity before the app locks.
pub const LOCK_AFTER_MS: i64 = 5 * 60 * 1000;
/// Wrong PINs in a row after which the device key is forgotten (and with it
/// everything the device holds for that person, sent or not).
pub const MAX_PIN_FAILURES: u32 = 5;

/// Whether the device key is in memory.
#[derive(Clone, Copy)]
pub struct Unlocked(pub RwSignal<bool>);

thread_local! {
    static LAST_ACTIVITY: Cell<i64> = const { Cell::new(0) };
}

fn touched() {
    LAST_ACTIVITY.set(now_ms());
}

/// Locks now: the key leaves memory with the open store (and every value
/// it had opened); the screens holding patient data are unmounted.
pub fn lock(unlocked: Unlocked) {
    crate::sync::lock_store();
    unlocked.0.set(false);
}

/// Starts the watch: activity postpones the lock, the background and
/// inactivity bring it.
pub fn watch(unlocked: Unlocked) {
    touched();
    let _ = window_event_listener(leptos::ev::pointerdown, |_| touched());
    let _ = window_event_listener(leptos::ev::keydown, |_| touched());
    let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Hidden
            && unlocked.0.get_untracked()
        {
            lock(unlocked);
        }
    });
    let _ = set_interval_with_handle(
        move || {
            if unlocked.0.get_untracked() && now_ms() - LAST_ACTIVITY.get() >= LOCK_AFTER_MS {
                lock(unlocked);
            }
        },
        Duration::from_secs(10),
    );
}

/// Unlocked: activity counts from now.
pub fn opened(unlocked: Unlocked) {
    // What the benches time the screens from (bench/offline-reload.js):
    // the key is out of the PIN.
    if let Some(performance) = window().performance() {
        let _ = performance.mark("parcours:unlocked");
    }
    touched();
    unlocked.0.set(true);
}

/// A PIN's form: exactly six digits.
pub fn is_six_digits(pin: &str) -> bool {
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A PIN a person may choose: six digits, not all the same, not a run
/// (123456, 987654). The error is said in French.
pub fn pin_problem(pin: &str) -> Option<&'static str> {
    if !is_six_digits(pin) {
        return Some("Le code doit faire exactement 6 chiffres.");
    }
    let digits: Vec<u32> = pin.chars().filter_map(|c| c.to_digit(10)).collect();
    let steps: Vec<i64> = digits
        .windows(2)
        .map(|w| w[1] as i64 - w[0] as i64)
        .collect();
    if steps.iter().all(|s| *s == 0) {
        return Some("Un code de six chiffres identiques se devine trop facilement.");
    }
    if steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1) {
        return Some("Une suite de chiffres se devine trop facilement.");
    }
    None
}
