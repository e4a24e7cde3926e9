//! Dates and times as a French reader expects them.

use wasm_bindgen::JsValue;

fn options(entries: &[(&str, &str)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in entries {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o.into()
}

/// "23/11/2026 19:42"
pub fn date_time(ms: i64) -> String {
    // One formatter for the whole app: `Date.toLocaleString` with options
    // builds a new one at each call, and a patient's page formats dozens.
    thread_local! {
        static FORMAT: js_sys::Function = js_sys::Intl::DateTimeFormat::new(
            &js_sys::Array::of1(&JsValue::from_str("fr-FR")),
            &options(&[
                ("day", "2-digit"),
                ("month", "2-digit"),
                ("year", "numeric"),
                ("hour", "2-digit"),
                ("minute", "2-digit"),
            ])
            .into(),
        )
        .format();
    }
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    FORMAT
        .with(|format| format.call1(&JsValue::NULL, &date))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// "14/03/1958" from "1958-03-14"; anything else is shown as it is.
pub fn date(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}
