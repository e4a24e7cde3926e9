//! What the team chose to share with the patient: a message in plain words
//! written for them, about a questionnaire's result or a visit, or on its
//! own. The patient reads it in their own app; what it is about (the raw
//! answers, the visit's notes) stays the team's.
//!
//! Sharing is a choice made by a professional, one message at a time: a
//! record the patient reads is never the team's own working record, so
//! nothing of the team's reaches the patient by accident, and what the
//! patient was told is kept (a correction amends it, the team sees both).

use crate::instrument_response::InstrumentResponse;
use crate::record::{record_body, Reference};
use crate::validation::check_text;
use crate::{AccountId, DeviceId, FieldError, PatientId, RecordId};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX_CHARS: usize = 120;
pub const MESSAGE_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientShare {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    /// The questionnaire or the visit it is about, if any: the team sees
    /// what was shared of it; the patient only this message.
    #[serde(default)]
    pub about: Option<RecordId>,
    pub title: String,
    pub message: String,
}

impl PatientShare {
    /// Every problem at once, for a form to show them all.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if self.title.trim().is_empty() {
            problems.push(FieldError::new("title", "Donnez un titre au partage."));
        }
        if let Err(e) = check_text("title", &self.title, TITLE_MAX_CHARS) {
            problems.push(e);
        }
        if self.message.trim().is_empty() {
            problems.push(FieldError::new(
                "message",
                "Écrivez ce que le patient lira, avec des mots simples.",
            ));
        }
        if let Err(e) = check_text("message", &self.message, MESSAGE_MAX_CHARS) {
            problems.push(e);
        }
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn references(&self) -> Vec<Reference> {
        self.about
            .map(|id| Reference::to("about", id.0, &["instrument_response", "visit"]))
            .into_iter()
            .collect()
    }
}

record_body!(
    PatientShare,
    refers_to => PatientShare::references,
    shown_to_patient => |_: &PatientShare| true,
);

/// A first draft of what to tell the patient about a questionnaire: its
/// name and each score with its band, which the professional rewrites in
/// their own words before sharing.
pub fn draft_for(response: &InstrumentResponse) -> (String, String) {
    let name = response
        .instrument()
        .map(|i| i.name.clone())
        .unwrap_or_else(|| response.instrument_id.clone());
    (
        format!("Votre questionnaire {name}"),
        format!("Résultat : {}.", response.scores_fr()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordBody;

    const NOW: i64 = 1_795_168_800_000;

    fn share() -> PatientShare {
        PatientShare {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            about: None,
            title: "Après la visite du 20 novembre".into(),
            message: "Continuez la marche 20 minutes chaque jour.".into(),
        }
    }

    #[test]
    fn a_share_is_read_by_the_patient_and_written_by_the_team() {
        let s = share();
        assert_eq!(s.validate_at(NOW), Ok(()));
        assert!(s.shown_to_patient());
        assert!(!s.written_by_patient());
        assert!(s.refers_to().is_empty());
        let about = PatientShare {
            about: Some(RecordId::new()),
            ..share()
        };
        assert_eq!(
            about.refers_to()[0].kinds,
            &["instrument_response", "visit"]
        );
    }

    #[test]
    fn every_problem_at_once() {
        let s = PatientShare {
            title: " ".into(),
            message: "\u{7}".repeat(MESSAGE_MAX_CHARS + 1),
            ..share()
        };
        let fields: Vec<String> = s.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "message"]);
        assert_eq!(s.validate_at(NOW).unwrap_err().field, "title");
        let empty = PatientShare {
            message: String::new(),
            ..share()
        };
        assert_eq!(empty.validate_at(NOW).unwrap_err().field, "message");
    }
}
