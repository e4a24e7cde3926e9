//! Records and item states as the device store keeps them: plain JavaScript
//! objects made from their JSON, tagged by `kind`. The store and the sync
//! client move them without knowing their kind; a screen that shows a kind
//! reads it with that kind's type, so only that screen carries its code.

use crate::device_store::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use wasm_bindgen::JsValue;

/// The stored object of a JSON text (from the server or the outbox).
pub fn parse(raw: &str) -> Result<JsValue, StoreError> {
    js_sys::JSON::parse(raw).map_err(|e| StoreError::Db(format!("JSON illisible : {e:?}")))
}

/// The JSON text of a stored object.
pub fn text(value: &JsValue) -> Result<String, StoreError> {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .map_err(|e| StoreError::Db(format!("objet illisible : {e:?}")))
}

pub fn raw(value: &JsValue) -> Result<Box<RawValue>, StoreError> {
    RawValue::from_string(text(value)?).map_err(|e| StoreError::Db(e.to_string()))
}

/// A value of a kind, tagged with it, as the store keeps it.
pub fn tagged<T: Serialize>(kind: &str, value: &T) -> Result<JsValue, StoreError> {
    let object = self::value(value)?;
    set(&object, "kind", &JsValue::from_str(kind))?;
    Ok(object)
}

/// Reads a stored object as a kind's type.
pub fn read<T: DeserializeOwned>(value: &JsValue) -> Result<T, StoreError> {
    serde_json::from_str(&text(value)?).map_err(|e| StoreError::Db(e.to_string()))
}

/// A property of a stored object, as text (`kind`, `patient_id`).
pub fn string(value: &JsValue, key: &'static str) -> Option<String> {
    get(value, key)?.as_string()
}

/// A property of a stored object, as a number (`version`, `mutation_id`).
pub fn number(value: &JsValue, key: &'static str) -> Option<f64> {
    get(value, key)?.as_f64()
}

/// A property that is itself an object (`item`).
pub fn object(value: &JsValue, key: &'static str) -> Option<JsValue> {
    get(value, key).filter(|v| v.is_object())
}

pub fn set(value: &JsValue, key: &'static str, to: &JsValue) -> Result<(), StoreError> {
    with_name(key, |name| js_sys::Reflect::set(value, name, to))
        .map(|_| ())
        .map_err(|e| StoreError::Db(format!("{e:?}")))
}

/// A property of a stored object.
pub fn get(value: &JsValue, key: &'static str) -> Option<JsValue> {
    with_name(key, |name| js_sys::Reflect::get(value, name)).ok()
}

thread_local! {
    /// Property names made once as the browser's strings. Made for each
    /// read, a name is copied out of the module's memory (and decoded) every
    /// time: a push reads five properties of each of 4,000 values, and
    /// making their names was ~280 ms of the page's thread in a
    /// 100,000-record push (profiled; what `Reflect.get` costs beyond that
    /// is the browser's structured clone of the values, paid at the first
    /// read of a request's result).
    /// (A list: the app reads a few dozen names.)
    static NAMES: std::cell::RefCell<Vec<(&'static str, JsValue)>> = Default::default();
}

/// `f` with the browser's string for `key`.
pub fn with_name<R>(key: &'static str, f: impl FnOnce(&JsValue) -> R) -> R {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        let at = match names.iter().position(|(name, _)| *name == key) {
            Some(at) => at,
            None => {
                names.push((key, JsValue::from_str(key)));
                names.len() - 1
            }
        };
        f(&names[at].1)
    })
}

/// The stored object of a value (not tagged).
pub fn value<T: Serialize>(value: &T) -> Result<JsValue, StoreError> {
    parse(&serde_json::to_string(value).map_err(|e| StoreError::Db(e.to_string()))?)
}

/// A plain object of these properties.
pub fn object_of(properties: &[(&'static str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in properties {
        // Setting an own property of a fresh object cannot fail.
        let _ = with_name(key, |name| js_sys::Reflect::set(&object, name, value));
    }
    object.into()
}
