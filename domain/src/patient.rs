use crate::{AccountId, PatientId, Profession};
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
    /// Who is in the patient's care team (to choose an item's owner offline).
    #[serde(default)]
    pub care_team: Vec<TeamMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub account_id: AccountId,
    pub display_name: String,
    pub profession_label: String,
    /// Absent from servers before protocol 4.
    #[serde(default)]
    pub profession: Option<Profession>,
}

impl Patient {
    /// "DUPONT Marie": family name first, in capitals, as French care records do.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name.to_uppercase(), self.given_name)
    }
}
