//! The tab's hybrid logical clock: every care-plan change made here takes
//! the next timestamp; every timestamp pulled from the server moves it on,
//! so a change made here always sorts after what this device has seen.

use parcours_domain::hlc::Hlc;
use parcours_domain::DeviceId;
use std::cell::Cell;

thread_local! {
    static HLC: Cell<Option<Hlc>> = const { Cell::new(None) };
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Today on this device, as a calendar day.
pub fn today() -> parcours_domain::date::CalendarDate {
    let date = js_sys::Date::new_0();
    parcours_domain::date::CalendarDate::new(
        date.get_full_year() as i32,
        date.get_month() + 1,
        date.get_date(),
    )
    // A browser's Date always gives a real day.
    .unwrap_or_else(|| parcours_domain::date::CalendarDate::new(1970, 1, 1).expect("a real day"))
}

/// The timestamp of a change made now on this device.
pub fn next(device: DeviceId) -> Hlc {
    let hlc = HLC.get().unwrap_or(Hlc::zero(device)).tick(now_ms());
    HLC.set(Some(hlc));
    hlc
}

/// Folds in a timestamp seen from elsewhere.
pub fn observe(device: DeviceId, seen: Hlc) {
    let hlc = HLC
        .get()
        .unwrap_or(Hlc::zero(device))
        .observe(seen, now_ms());
    HLC.set(Some(hlc));
}

/// Minutes this device's time zone is ahead of UTC (60 in Paris in winter):
/// what makes a moment a day here.
pub fn offset_minutes() -> i32 {
    // JavaScript gives minutes *behind* UTC.
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}
