//! The audit trail as people read it: who read or wrote which patient's
//! data, when, from which device. The server writes a row for every access
//! (and refusal); the CPTS's support coordinators read them, by patient or
//! by person, and export them — which is itself written in the trail.

use crate::{AccountId, PatientId, Profession};
use serde::{Deserialize, Serialize};

/// Who reads the trail: the CPTS's support coordinators, whose job it is to
/// answer "who saw my file?" — not the carers, who are in it.
pub fn may_read_audit(profession: Profession) -> bool {
    profession == Profession::SupportCoordinator
}

/// The most rows one page of the trail holds.
pub const AUDIT_PAGE_MAX: u32 = 200;

/// One row of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Increasing: the order rows were written in.
    pub id: i64,
    /// When, ms since the Unix epoch (server clock).
    pub at: i64,
    pub account_id: Option<AccountId>,
    /// The account's name, when the row has an account.
    pub who: Option<String>,
    /// For the server's command line: the operator who ran it.
    pub operator: Option<String>,
    pub device_id: Option<String>,
    /// As the server writes it (`read_records`, `write_record`…).
    pub action: String,
    pub patient_id: Option<PatientId>,
    /// "LEFÈVRE Jeanne", when the row names a patient.
    pub patient: Option<String>,
    pub record_id: Option<String>,
    pub detail: String,
    pub client_addr: Option<String>,
}

impl AuditEntry {
    pub fn action_fr(&self) -> &'static str {
        action_fr(&self.action)
    }
}

/// What an action code means, in French.
pub fn action_fr(code: &str) -> &'static str {
    match code {
        "sign_in" => "Connexion",
        "sign_in_failed" => "Connexion refusée",
        "sign_out" => "Déconnexion",
        "read_caseload" => "Lecture de la liste de patients",
        "read_records" => "Lecture du dossier",
        "write_record" => "Écriture dans le dossier",
        "denied" => "Accès refusé (hors équipe de soins)",
        "refused" => "Demande refusée",
        "operator" => "Opération d'administration",
        "invitation" => "Invitation du patient",
        "read_audit" => "Lecture du journal d'audit",
        "discard_refused" => "Abandon d'un envoi refusé par le serveur",
        _ => "Autre",
    }
}

/// One page of the trail, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Ask with `before` = this for the next, older page; None: no more.
    pub next_before: Option<i64>,
}

/// Whom the trail can be filtered by: every person and every patient the
/// server knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSubjects {
    pub people: Vec<(AccountId, String)>,
    pub patients: Vec<(PatientId, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_support_coordinators_read_the_trail_and_every_action_has_words() {
        assert!(may_read_audit(Profession::SupportCoordinator));
        assert!(!may_read_audit(Profession::PainResourceNurse));
        assert!(!may_read_audit(Profession::GeneralPractitioner));
        for code in [
            "sign_in",
            "read_records",
            "write_record",
            "denied",
            "read_audit",
            "discard_refused",
        ] {
            assert_ne!(action_fr(code), "Autre", "{code}");
        }
    }
}
