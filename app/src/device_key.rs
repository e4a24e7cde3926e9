//! The device key: what keeps a person's health data unreadable on a lost
//! or shared phone.
//!
//! Every health value the device store keeps is sealed with AES-GCM (256
//! bits, a fresh 96-bit IV per value) under one key per person and device,
//! made by the browser's WebCrypto and never extractable: no script, not
//! even this app's, can read its bytes. To outlive a reload it is kept
//! *wrapped* (AES-GCM again) by a key derived from the person's PIN with
//! PBKDF2-SHA-256, 600,000 iterations (OWASP's figure for that hash), a
//! random 16-byte salt; the PIN is never stored and never sent. A wrong PIN
//! fails the wrapping's authentication: that is how it is recognised.
//!
//! What this protects: someone holding the phone, or a copy of the
//! browser's files, reads no health data without the PIN. What it cannot:
//! a 6-digit PIN is 10^6 guesses, which a copy of the files allows offline
//! at PBKDF2's cost (hours on one GPU, not years) — the limit of five wrong
//! PINs holds only in the app. The server keeps everything that was sent
//! anyway; the device's copy is the one that travels.

use js_sys::{Array, Object, Promise, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// PBKDF2 iterations for a new PIN. Kept with each wrapped key, so a later
/// change applies to PINs chosen after it.
const PBKDF2_ITERATIONS: u32 = 600_000;
const IV_BYTES: u32 = 12;
const SALT_BYTES: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("code incorrect")]
    WrongPin,
    /// The browser has no WebCrypto (an insecure page, a very old browser).
    #[error("chiffrement indisponible dans ce navigateur")]
    Unavailable,
    #[error("chiffrement : {0}")]
    Crypto(String),
}

impl From<JsValue> for KeyError {
    fn from(e: JsValue) -> Self {
        Self::Crypto(
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| format!("{e:?}")),
        )
    }
}

/// The device key as kept on the device: wrapped by the PIN's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrappedKey {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub iv: Vec<u8>,
    pub wrapped: Vec<u8>,
}

/// The unwrapped device key, in memory while the app is unlocked.
pub struct DeviceKey(CryptoKey);

/// A PIN's key, derived while the person is still on the lock screen: the
/// derivation (the PIN's whole work factor, ~85 ms on this machine and more
/// on a phone) starts as soon as six digits are typed, and "Déverrouiller"
/// has only the unwrapping left (~1 ms). Deriving says nothing of whether
/// the PIN is right — only the unwrapping does, on the tap, where wrong PINs
/// are counted — and the key it makes opens nothing but the wrapped key.
#[derive(Clone)]
pub struct PinKey {
    pin: String,
    salt: Vec<u8>,
    iterations: u32,
    /// The browser's derivation, once asked (a moment after: the PIN's
    /// bytes are imported first).
    derivation: std::rc::Rc<std::cell::RefCell<Option<Promise>>>,
}

impl PinKey {
    /// Starts deriving the key of `pin` for `kept`, now.
    pub fn derive(pin: &str, kept: &WrappedKey) -> Self {
        let derivation: std::rc::Rc<std::cell::RefCell<Option<Promise>>> = std::rc::Rc::default();
        let (typed, salt, iterations) = (pin.to_string(), kept.salt.clone(), kept.iterations);
        let asked = std::rc::Rc::clone(&derivation);
        wasm_bindgen_futures::spawn_local(async move {
            // A failure here is met again, and said, when the tap derives.
            if let Ok(promise) =
                pin_key_derivation(&typed, &Uint8Array::from(&salt[..]), iterations).await
            {
                *asked.borrow_mut() = Some(promise);
            }
        });
        Self {
            pin: pin.to_string(),
            salt: kept.salt.clone(),
            iterations: kept.iterations,
            derivation,
        }
    }

    /// Derived from this PIN for this wrapped key (another tab may have
    /// chosen a new PIN since).
    fn is_for(&self, pin: &str, kept: &WrappedKey) -> bool {
        self.pin == pin && self.salt == kept.salt && self.iterations == kept.iterations
    }
}

fn subtle() -> Result<SubtleCrypto, KeyError> {
    let crypto = web_sys::window()
        .ok_or(KeyError::Unavailable)?
        .crypto()
        .map_err(|_| KeyError::Unavailable)?;
    Ok(crypto.subtle())
}

fn random_bytes(n: u32) -> Result<Uint8Array, KeyError> {
    let crypto = web_sys::window()
        .ok_or(KeyError::Unavailable)?
        .crypto()
        .map_err(|_| KeyError::Unavailable)?;
    let bytes = Uint8Array::new_with_length(n);
    crypto.get_random_values_with_js_u8_array(&bytes)?;
    Ok(bytes)
}

fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

fn aes_gcm(iv: &Uint8Array, additional: Option<&[u8]>) -> Object {
    let params = web_sys::AesGcmParams::new("AES-GCM", iv);
    if let Some(data) = additional {
        params.set_additional_data_u8_array(&Uint8Array::from(data));
    }
    params.into()
}

async fn resolve<T: JsCast>(promise: Promise) -> Result<T, KeyError> {
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// The key that wraps the device key, derived from the PIN.
async fn pin_key(pin: &str, salt: &Uint8Array, iterations: u32) -> Result<CryptoKey, KeyError> {
    resolve(pin_key_derivation(pin, salt, iterations).await?).await
}

/// The browser's derivation of that key, under way: WebCrypto works on it
/// from the moment it is asked, whoever awaits it and whenever.
async fn pin_key_derivation(
    pin: &str,
    salt: &Uint8Array,
    iterations: u32,
) -> Result<Promise, KeyError> {
    let subtle = subtle()?;
    let material: CryptoKey = resolve(subtle.import_key_with_str(
        "raw",
        &Uint8Array::from(pin.as_bytes()).into(),
        "PBKDF2",
        false,
        &usages(&["deriveKey"]),
    )?)
    .await?;
    let params = web_sys::Pbkdf2Params::new_with_str("PBKDF2", "SHA-256", iterations, salt);
    let derived = web_sys::AesKeyGenParams::new("AES-GCM", 256);
    Ok(subtle.derive_key_with_object_and_object(
        &params,
        &material,
        &derived,
        false,
        &usages(&["wrapKey", "unwrapKey"]),
    )?)
}

fn device_key_algorithm() -> Object {
    web_sys::AesKeyGenParams::new("AES-GCM", 256).into()
}

impl DeviceKey {
    /// A new device key, and its wrapped form under `pin`.
    pub async fn create(pin: &str) -> Result<(Self, WrappedKey), KeyError> {
        let subtle = subtle()?;
        // Extractable only long enough to be wrapped: the key kept in
        // memory is the unwrapped one, which is not.
        let fresh: CryptoKey = resolve(subtle.generate_key_with_object(
            &device_key_algorithm(),
            true,
            &usages(&["encrypt", "decrypt"]),
        )?)
        .await?;
        let salt = random_bytes(SALT_BYTES)?;
        let iv = random_bytes(IV_BYTES)?;
        let wrapping = pin_key(pin, &salt, PBKDF2_ITERATIONS).await?;
        let wrapped: js_sys::ArrayBuffer =
            resolve(subtle.wrap_key_with_object("raw", &fresh, &wrapping, &aes_gcm(&iv, None))?)
                .await?;
        let kept = WrappedKey {
            salt: salt.to_vec(),
            iterations: PBKDF2_ITERATIONS,
            iv: iv.to_vec(),
            wrapped: Uint8Array::new(&wrapped).to_vec(),
        };
        // Unwrapped at once with the same PIN key: deriving it again would
        // cost the PIN's whole work factor a second time (~130 ms on a
        // phone), for the same key.
        let key = Self::unwrap_with(&wrapping, &kept).await?;
        Ok((key, kept))
    }

    /// The device key, if `pin` is the one it was wrapped with; with the
    /// PIN's key derived ahead when there is one for this PIN and key.
    pub async fn unwrap(
        pin: &str,
        kept: &WrappedKey,
        ahead: Option<PinKey>,
    ) -> Result<Self, KeyError> {
        let under_way = ahead
            .filter(|a| a.is_for(pin, kept))
            .and_then(|a| a.derivation.borrow().clone());
        let wrapping = match under_way {
            Some(derivation) => resolve(derivation).await?,
            // Not asked yet (tapped within a millisecond), or no longer
            // for this PIN: derived now.
            None => pin_key(pin, &Uint8Array::from(&kept.salt[..]), kept.iterations).await?,
        };
        Self::unwrap_with(&wrapping, kept).await
    }

    /// The device key, unwrapped by the key derived from a PIN.
    async fn unwrap_with(wrapping: &CryptoKey, kept: &WrappedKey) -> Result<Self, KeyError> {
        let subtle = subtle()?;
        let promise = subtle.unwrap_key_with_js_u8_array_and_object_and_object(
            "raw",
            &Uint8Array::from(&kept.wrapped[..]),
            wrapping,
            &aes_gcm(&Uint8Array::from(&kept.iv[..]), None),
            &device_key_algorithm(),
            false,
            &usages(&["encrypt", "decrypt"]),
        )?;
        match JsFuture::from(promise).await {
            Ok(key) => Ok(Self(key.unchecked_into())),
            // An authentication failure of the wrapping: another PIN.
            Err(e)
                if e.dyn_ref::<web_sys::DomException>()
                    .map(|d| d.name())
                    .as_deref()
                    == Some("OperationError") =>
            {
                Err(KeyError::WrongPin)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Seals each text, bound to its label (the value's key in its store,
    /// so a sealed value moved under another key no longer opens). All at
    /// once: the browser works on them together.
    pub async fn seal_all(&self, texts: &[(&str, &str)]) -> Result<Vec<JsValue>, KeyError> {
        let subtle = subtle()?;
        let ivs = texts
            .iter()
            .map(|_| random_bytes(IV_BYTES))
            .collect::<Result<Vec<_>, _>>()?;
        let promises = Array::new();
        for ((label, text), iv) in texts.iter().zip(&ivs) {
            let promise = subtle.encrypt_with_object_and_u8_array(
                &aes_gcm(iv, Some(label.as_bytes())),
                &self.0,
                text.as_bytes(),
            )?;
            promises.push(&promise);
        }
        let sealed: Array = resolve(Promise::all(&promises)).await?;
        Ok(sealed
            .iter()
            .zip(ivs)
            .map(|(data, iv)| crate::document::object_of(&[("iv", iv.into()), ("data", data)]))
            .collect())
    }

    /// The texts of sealed values, each with the label it was sealed with.
    pub async fn open_all(&self, sealed: &[(String, JsValue)]) -> Result<Vec<String>, KeyError> {
        let subtle = subtle()?;
        let promises = Array::new();
        // Made once for thousands of values (a push reads 4,000): one
        // algorithm object serves every call, which reads it (and copies
        // its buffers) when made.
        let params = web_sys::AesGcmParams::new("AES-GCM", &Uint8Array::new_with_length(0));
        for (label, value) in sealed {
            let iv: Uint8Array = crate::document::get(value, "iv")
                .unwrap_or_default()
                .dyn_into()?;
            let data: Object = crate::document::get(value, "data")
                .unwrap_or_default()
                .dyn_into()?;
            params.set_iv_u8_array(&iv);
            params.set_additional_data_u8_array(&Uint8Array::from(label.as_bytes()));
            let promise = subtle.decrypt_with_object_and_buffer_source(&params, &self.0, &data)?;
            promises.push(&promise);
        }
        let opened: Array = resolve(Promise::all(&promises)).await?;
        opened
            .iter()
            .map(|buffer| {
                String::from_utf8(Uint8Array::new(&buffer).to_vec())
                    .map_err(|e| KeyError::Crypto(e.to_string()))
            })
            .collect()
    }
}
