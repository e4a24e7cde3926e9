//! How a patient gets their own account: a member of their care team makes
//! an invitation (a one-time code, also given as a link and a QR code),
//! valid 7 days, revocable, single use; on their own phone the patient opens
//! it and chooses their identifier and password. No account without an
//! invitation, no shared account.

use crate::{DeviceId, FieldError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long an invitation can be used.
pub const INVITATION_VALID_MS: i64 = 7 * 24 * 3600 * 1000;
/// The code's letters: no 0/O, 1/I/L, so it can be read aloud and typed
/// from paper without doubt.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// 12 letters of 31: about 59 bits, for a code that lives 7 days and whose
/// every try costs a password hash.
pub const CODE_LENGTH: usize = 12;
/// The app's page that opens an invitation; the code follows `#`, so it is
/// never sent to the server in a request line or a referrer.
pub const ACTIVATION_PATH: &str = "/activer";

/// The shortest password, for patients as for professionals.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// A code as typed or scanned, in its one canonical form (capitals, no
/// separators), or None if it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// `ABCD-EFGH-JKMN`, as shown and printed.
pub fn display_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The rules of a password anyone chooses.
pub fn check_password(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            field,
            format!("Au moins {PASSWORD_MIN_CHARS} caractères."),
        ));
    }
    if n > crate::session::PASSWORD_MAX_CHARS {
        return Err(FieldError::new(field, "Mot de passe trop long."));
    }
    Ok(())
}

/// The rules of an identifier anyone chooses.
pub fn check_username(field: &str, username: &str) -> Result<(), FieldError> {
    let u = username.trim();
    if u.chars().count() < 3 {
        return Err(FieldError::new(field, "Au moins 3 caractères."));
    }
    if u.chars().count() > crate::session::USERNAME_MAX_CHARS
        || u.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(FieldError::new(
            field,
            "Un identifiant sans espace, de 64 caractères au plus.",
        ));
    }
    Ok(())
}

/// `POST /api/patients/{id}/invitations` answers with the code, shown once:
/// the server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvitation {
    pub id: Uuid,
    pub code: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Live,
    Used,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Live => "en attente",
            Self::Used => "utilisée",
            Self::Revoked => "annulée",
            Self::Expired => "expirée",
        }
    }
}

/// `GET /api/patients/{id}/invitations`: what the team sees of each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationSummary {
    pub id: Uuid,
    pub created_at: i64,
    pub created_by: String,
    pub expires_at: i64,
    pub status: InvitationStatus,
    /// When it was used, revoked (or expired).
    #[serde(default)]
    pub ended_at: Option<i64>,
}

/// `POST /api/invitations/activate`: the patient's first sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivationRequest {
    pub code: String,
    pub username: String,
    pub password: String,
    pub device_id: DeviceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_secret: Option<String>,
}

impl ActivationRequest {
    /// Every rule the request breaks, each with its field.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if normalize_code(&self.code).is_none() {
            problems.push(FieldError::new(
                "code",
                format!("Un code de {CODE_LENGTH} caractères, comme ABCD-EFGH-JKMN."),
            ));
        }
        problems.extend(check_username("username", &self.username).err());
        problems.extend(check_password("password", &self.password).err());
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(
            normalize_code("abcd-efgh-jkmn").as_deref(),
            Some("ABCDEFGHJKMN")
        );
        assert_eq!(
            normalize_code(" ABCD EFGH JKMN ").as_deref(),
            Some("ABCDEFGHJKMN")
        );
        // Letters that are never in a code, and wrong lengths.
        assert_eq!(normalize_code("ABCD-EFGH-JKM0"), None);
        assert_eq!(normalize_code("ABCD-EFGH-JKMI"), None);
        assert_eq!(normalize_code("ABCD-EFGH"), None);
        assert_eq!(normalize_code("ABCD-EFGH-JKMN-P"), None);
        assert_eq!(display_code("ABCDEFGHJKMN"), "ABCD-EFGH-JKMN");
    }

    #[test]
    fn every_problem_of_an_activation_at_once() {
        let r = ActivationRequest {
            code: "nope".into(),
            username: "j d".into(),
            password: "court".into(),
            device_id: DeviceId::new(),
            device_secret: None,
        };
        let fields: Vec<String> = r.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["code", "username", "password"]);
        let r = ActivationRequest {
            code: "ABCD-EFGH-JKMN".into(),
            username: "jeanne.lefevre".into(),
            password: "dix caractères".into(),
            ..r
        };
        assert!(r.problems().is_empty());
    }
}
