use crate::PatientId;
use serde::{Deserialize, Serialize};

/// A patient as a member of the care team sees them in the caseload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub id: PatientId,
    pub family_name: String,
    pub given_name: String,
    /// ISO 8601 date (`1958-03-14`), as written on the identity document.
    pub birth_date: String,
    /// Town of residence, to plan home visits.
    pub town: String,
}

impl Patient {
    /// "DUPONT Marie": family name first, in capitals, as French care records do.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name.to_uppercase(), self.given_name)
    }
}
