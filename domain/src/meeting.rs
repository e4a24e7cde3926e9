//! Synthesis meetings (réunions de synthèse, de concertation — seed 004),
//! for any programme: a date, the attendees, an agenda of patients. Each
//! patient on the agenda has a report sheet: every attendee prepares their
//! view beforehand (offline, at their own pace), the sheet is finalised in
//! the meeting — the situation since the last one, the decision taken
//! together and the patient's own position (shared decision), the next
//! steps with their owners, which become care-plan items — and the whole
//! care team reads it.
//!
//! Records are per patient, so each sheet travels with its patient's file
//! to that patient's care team and to no one else: the meeting is what the
//! sheets sharing one `meeting_id` have in common.

use crate::date::CalendarDate;
use crate::record::{record_body, Reference};
use crate::validation::check_text;
use crate::{AccountId, DeviceId, FieldError, ItemId, PatientId, RecordId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const TITLE_MAX_CHARS: usize = 200;
pub const TEXT_MAX_CHARS: usize = 8000;
pub const MAX_ATTENDEES: usize = 30;
pub const MAX_STEPS: usize = 20;

/// One patient on a meeting's agenda, with the meeting's date and
/// attendees (the same on every sheet of the meeting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingSheet {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub meeting_id: Uuid,
    pub title: String,
    pub held_on: CalendarDate,
    /// The programme it is held for, if one.
    #[serde(default)]
    pub programme_id: Option<String>,
    /// Who attends: members of the patient's care team.
    pub attendees: Vec<AccountId>,
}

impl MeetingSheet {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if self.title.trim().is_empty() {
            problems.push(FieldError::new("title", "Donnez un titre à la réunion."));
        }
        problems.extend(check_text("title", &self.title, TITLE_MAX_CHARS).err());
        if self.attendees.is_empty() || self.attendees.len() > MAX_ATTENDEES {
            problems.push(FieldError::new(
                "attendees",
                format!("De 1 à {MAX_ATTENDEES} participants."),
            ));
        }
        for (i, a) in self.attendees.iter().enumerate() {
            if self.attendees[..i].contains(a) {
                problems.push(FieldError::new(
                    format!("attendees[{i}]"),
                    "Participant en double.",
                ));
            }
        }
        if let Some(p) = &self.programme_id {
            if crate::programme::Programme::find(p).is_none() {
                problems.push(FieldError::new("programme_id", "Parcours inconnu."));
            }
        }
        if self.held_on.year() < 2020 {
            problems.push(FieldError::new(
                "held_on",
                "Date antérieure à 2020 : invalide.",
            ));
        }
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    fn attendees_named(&self) -> Vec<(String, AccountId)> {
        self.attendees
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("attendees[{i}]"), *a))
            .collect()
    }
}

record_body!(MeetingSheet, members_named => MeetingSheet::attendees_named);

/// An attendee's part of a sheet, prepared before the meeting: their view
/// of the situation since the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingContribution {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub sheet_id: RecordId,
    pub view: String,
}

impl MeetingContribution {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if self.view.trim().is_empty() {
            problems.push(FieldError::new(
                "view",
                "Notez votre point de vue sur la situation.",
            ));
        }
        problems.extend(check_text("view", &self.view, TEXT_MAX_CHARS).err());
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    fn references(&self) -> Vec<Reference> {
        vec![sheet_reference(self.sheet_id)]
    }
}

record_body!(MeetingContribution, refers_to => MeetingContribution::references);

/// A next step decided together: a care-plan item made with the report
/// (same `item_id`), owned by a member of the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingStep {
    pub item_id: ItemId,
    pub title: String,
    pub owner_id: AccountId,
    #[serde(default)]
    pub due_on: Option<CalendarDate>,
}

/// The sheet finalised in the meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingReport {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub sheet_id: RecordId,
    /// The situation since the last meeting.
    #[serde(default)]
    pub situation: String,
    /// The decision taken together.
    pub decision: String,
    /// The patient's own position on it (shared decision).
    pub patient_position: String,
    #[serde(default)]
    pub steps: Vec<MeetingStep>,
}

impl MeetingReport {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if self.decision.trim().is_empty() {
            problems.push(FieldError::new(
                "decision",
                "Notez la décision prise ensemble.",
            ));
        }
        if self.patient_position.trim().is_empty() {
            problems.push(FieldError::new(
                "patient_position",
                "Notez la position du patient (décision partagée).",
            ));
        }
        for (field, text) in [
            ("situation", &self.situation),
            ("decision", &self.decision),
            ("patient_position", &self.patient_position),
        ] {
            problems.extend(check_text(field, text, TEXT_MAX_CHARS).err());
        }
        if self.steps.len() > MAX_STEPS {
            problems.push(FieldError::new(
                "steps",
                format!("Au plus {MAX_STEPS} étapes."),
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.title.trim().is_empty() {
                problems.push(FieldError::new(
                    format!("steps[{i}].title"),
                    format!("Étape {} : dites ce qui est à faire.", i + 1),
                ));
            }
            problems
                .extend(check_text(&format!("steps[{i}].title"), &s.title, TITLE_MAX_CHARS).err());
            if self.steps[..i].iter().any(|t| t.item_id == s.item_id) {
                problems.push(FieldError::new(
                    format!("steps[{i}].item_id"),
                    "Étape en double.",
                ));
            }
        }
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    fn references(&self) -> Vec<Reference> {
        vec![sheet_reference(self.sheet_id)]
    }

    fn owners_named(&self) -> Vec<(String, AccountId)> {
        self.steps
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("steps[{i}].owner_id"), s.owner_id))
            .collect()
    }
}

record_body!(
    MeetingReport,
    refers_to => MeetingReport::references,
    members_named => MeetingReport::owners_named,
);

/// The sheet a view or a report is written on: by one of its attendees.
fn sheet_reference(id: RecordId) -> Reference {
    Reference::to("sheet_id", id.0, &["meeting_sheet"]).written_by_one_of(
        "attendees",
        "Seuls les participants de la réunion écrivent sur sa fiche.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordBody;

    const NOW: i64 = 1_795_168_800_000;

    fn sheet() -> MeetingSheet {
        MeetingSheet {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            meeting_id: Uuid::now_v7(),
            title: "Réunion de synthèse de la microstructure".into(),
            held_on: "2026-12-10".parse().unwrap(),
            programme_id: Some("chronic_pain".into()),
            attendees: vec![AccountId::new(), AccountId::new()],
        }
    }

    fn report(sheet: &MeetingSheet) -> MeetingReport {
        MeetingReport {
            id: RecordId::new(),
            patient_id: sheet.patient_id,
            author_id: sheet.author_id,
            device_id: sheet.device_id,
            recorded_at: NOW,
            amends: None,
            sheet_id: sheet.id,
            situation: "Stable depuis un mois.".into(),
            decision: "Poursuivre le traitement de substitution, réduire lentement.".into(),
            patient_position: "D'accord, souhaite un rendez-vous mensuel.".into(),
            steps: vec![MeetingStep {
                item_id: ItemId::new(),
                title: "Entretien mensuel".into(),
                owner_id: sheet.attendees[0],
                due_on: None,
            }],
        }
    }

    #[test]
    fn a_sheet_names_its_attendees_for_the_team_check() {
        let s = sheet();
        assert_eq!(s.validate_at(NOW), Ok(()));
        assert_eq!(
            s.members_named()[1],
            ("attendees[1]".to_string(), s.attendees[1])
        );
        let bad = MeetingSheet {
            title: String::new(),
            attendees: vec![s.attendees[0], s.attendees[0]],
            programme_id: Some("inconnu".into()),
            ..sheet()
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "attendees[1]", "programme_id"]);
    }

    #[test]
    fn a_report_says_the_decision_and_the_patient_s_position_and_its_steps_have_owners() {
        let s = sheet();
        let r = report(&s);
        assert_eq!(r.validate_at(NOW), Ok(()));
        assert_eq!(r.refers_to()[0].kinds, &["meeting_sheet"]);
        assert_eq!(r.members_named()[0].1, s.attendees[0]);
        let mut bad = report(&s);
        bad.patient_position = " ".into();
        bad.steps.push(MeetingStep {
            title: String::new(),
            ..bad.steps[0].clone()
        });
        let fields: Vec<String> = bad.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["patient_position", "steps[1].title", "steps[1].item_id"]
        );
        let c = MeetingContribution {
            id: RecordId::new(),
            patient_id: s.patient_id,
            author_id: s.attendees[1],
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            sheet_id: s.id,
            view: String::new(),
        };
        assert_eq!(c.validate_at(NOW).unwrap_err().field, "view");
    }
}
