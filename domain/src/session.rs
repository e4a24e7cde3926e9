//! Signing in: what the app sends and what it keeps about who is signed in.

use crate::{AccountId, DeviceId, PatientId, Profession};
use serde::{Deserialize, Serialize};

/// The longest username that can exist; longer ones are refused before any
/// database lookup (and never written to the audit).
pub const USERNAME_MAX_CHARS: usize = 64;
/// The longest password checked (argon2 would take any length; nobody types more).
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// `POST /api/session`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// This browser's device id (made here the first time, or given by the
    /// server); bound to the session so every audit row says which device acted.
    pub device_id: DeviceId,
    /// The secret the server gave this browser with its device id: without
    /// it, a claim to an id the server knows gets a new id instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_secret: Option<String>,
}

/// Who is signed in, as the server confirmed it. The app keeps it so that it
/// can open offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub account_id: AccountId,
    pub device_id: DeviceId,
    pub display_name: String,
    /// What they are, for a professional; on screen as `label_fr()`.
    /// None for a patient.
    pub profession: Option<Profession>,
    /// For a patient's own account: the one patient it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<PatientId>,
    /// When the server will stop accepting this session (ms since epoch).
    pub session_expires_at: i64,
    /// How long the device may go on showing patient data without reaching
    /// the server, in milliseconds.
    pub offline_grace_ms: i64,
    /// Set when the server has just registered `device_id` for this browser
    /// (or given it a new one): the browser keeps both and sends the secret
    /// at every sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_secret: Option<String>,
}

impl Me {
    /// "Infirmière ressource douleur", or "Patient·e" for a patient.
    pub fn role_fr(&self) -> &'static str {
        match self.profession {
            Some(p) => p.label_fr(),
            None => "Patient·e",
        }
    }
}
