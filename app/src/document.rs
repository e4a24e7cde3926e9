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
pub fn string(value: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()?
        .as_string()
}

/// A property of a stored object, as a number (`version`, `mutation_id`).
pub fn number(value: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()?
        .as_f64()
}

/// A property that is itself an object (`item`).
pub fn object(value: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .filter(|v| v.is_object())
}

pub fn set(value: &JsValue, key: &str, to: &JsValue) -> Result<(), StoreError> {
    js_sys::Reflect::set(value, &JsValue::from_str(key), to)
        .map(|_| ())
        .map_err(|e| StoreError::Db(format!("{e:?}")))
}

/// The stored object of a value (not tagged).
pub fn value<T: Serialize>(value: &T) -> Result<JsValue, StoreError> {
    parse(&serde_json::to_string(value).map_err(|e| StoreError::Db(e.to_string()))?)
}

/// A plain object of these properties.
pub fn object_of(properties: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in properties {
        // Setting an own property of a fresh object cannot fail.
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}
