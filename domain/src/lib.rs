//! What the device and the server must agree on.
//!
//! Pure Rust, no I/O: compiled into the server and into the wasm app so that a
//! rule (a score's range, a field's name in an error, the shape of a sync
//! message) exists in exactly one place.

pub mod appointment;
pub mod audit;
pub mod body_map;
pub mod care_plan;
pub mod coordination;
pub mod date;
pub mod diary;
pub mod enrollment;
pub mod episode;
pub mod hlc;
pub mod ids;
pub mod instrument;
pub mod instrument_response;
pub mod invitation;
pub mod meeting;
pub mod merge;
pub mod notebook;
pub mod objective;
pub mod pain_assessment;
pub mod patient;
pub mod patient_share;
pub mod problem;
pub mod profession;
pub mod programme;
pub mod record;
pub mod review;
pub mod session;
pub mod sync;
pub mod trajectory;
pub mod validation;
pub mod visit;

pub use ids::{AccountId, AssessmentId, DeviceId, ItemId, PatientId, RecordId};
pub use pain_assessment::{AssessmentMode, PainAssessment, NRS_MAX};
pub use patient::Patient;
pub use profession::Profession;

/// A rule a value broke, named by the field it concerns so that a form can
/// put the message next to the right input and an API client can fix its call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's name as it appears in the JSON of the sync protocol.
    pub field: String,
    /// A sentence in French a nurse can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, located inside a list (`records[3].pain_now`).
    pub fn within(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

/// The body of every error answer of the API: a French sentence that can be
/// shown as is, and the field to fix (its path inside the request), if any.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With a 409 on `mutations[i].mutation_id` whose id the server applied
    /// to another mutation of this device: the id it expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_mutation_id: Option<u64>,
}
