//! The liaison notebook (cahier de liaison): the paper notebook left at the
//! patient's home, kept by every member of the care team — dated entries,
//! each of a kind, optionally addressed to named members, written offline at
//! the bedside and read by the next professional who comes. Append-only: a
//! correction is a new entry that amends; an answer names the entry it
//! answers (a thread). Who has read an entry addressed to them is a record
//! too (`NotebookRead`), so read receipts travel like everything else.
//!
//! The pharmacist's medication review is a notebook entry of its own kind:
//! the medication list, the findings, numbered recommendations to the GP;
//! the GP answers each in a reply (accepted, refused with a reason, to
//! discuss).

use crate::record::{check_profession, record_body, Directory, Reference};
use crate::validation::check_text;
use crate::{AccountId, DeviceId, FieldError, PatientId, Profession, RecordId};
use serde::{Deserialize, Serialize};

pub const TEXT_MAX_CHARS: usize = 8000;
pub const MAX_ADDRESSEES: usize = 20;
pub const MAX_MEDICATIONS: usize = 60;
pub const MEDICATION_MAX_CHARS: usize = 200;
pub const MAX_RECOMMENDATIONS: usize = 30;
pub const RECOMMENDATION_MAX_CHARS: usize = 1000;

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Observation,
    TreatmentChange,
    Fall,
    Hospitalisation,
    /// A request to a colleague.
    Request,
    Information,
    /// The pharmacist's medication review (bilan de médication).
    MedicationReview,
    /// The psychologist's note: a programme may restrict who reads it.
    Psychological,
}

impl NoteKind {
    pub const ALL: [NoteKind; 8] = [
        Self::Observation,
        Self::TreatmentChange,
        Self::Fall,
        Self::Hospitalisation,
        Self::Request,
        Self::Information,
        Self::MedicationReview,
        Self::Psychological,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Observation => "Observation",
            Self::TreatmentChange => "Changement de traitement",
            Self::Fall => "Chute",
            Self::Hospitalisation => "Hospitalisation",
            Self::Request => "Demande à un collègue",
            Self::Information => "Information",
            Self::MedicationReview => "Bilan de médication",
            Self::Psychological => "Note psychologique",
        }
    }

    /// As written in the JSON and in a programme's `restricted_notes`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Observation => "observation",
            Self::TreatmentChange => "treatment_change",
            Self::Fall => "fall",
            Self::Hospitalisation => "hospitalisation",
            Self::Request => "request",
            Self::Information => "information",
            Self::MedicationReview => "medication_review",
            Self::Psychological => "psychological",
        }
    }
}

/// The medication review's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicationReview {
    /// One medicine per line, as taken (name, dose, rhythm).
    pub medications: Vec<String>,
    #[serde(default)]
    pub findings: String,
    /// Numbered from 1 in answers.
    pub recommendations: Vec<String>,
}

/// The GP's answer to one recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    Refused,
    ToDiscuss,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Self::Accepted, Self::Refused, Self::ToDiscuss];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Accepted => "Acceptée",
            Self::Refused => "Refusée",
            Self::ToDiscuss => "À discuter",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationAnswer {
    /// 1 for the review's first recommendation.
    pub recommendation: u32,
    pub decision: Decision,
    /// Why, for a refusal (required then).
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotebookEntry {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    /// Not `kind`: that name is the record's own tag.
    pub note_kind: NoteKind,
    #[serde(default)]
    pub text: String,
    /// Members of the care team it is addressed to (none: to everyone).
    #[serde(default)]
    pub addressed_to: Vec<AccountId>,
    /// The entry this one answers.
    #[serde(default)]
    pub reply_to: Option<RecordId>,
    #[serde(default)]
    pub medication_review: Option<MedicationReview>,
    /// Answers to a medication review's recommendations (in a reply to it).
    #[serde(default)]
    pub answers: Vec<RecommendationAnswer>,
    /// The programme the note is written in, when that programme restricts
    /// its kind to some roles (see `readers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme_id: Option<String>,
}

impl NotebookEntry {
    /// Every rule broken, each with its field (a form shows them all).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        let mut push = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                problems.push(e);
            }
        };
        push(check_text("text", &self.text, TEXT_MAX_CHARS));
        let is_review = self.note_kind == NoteKind::MedicationReview;
        if self.text.trim().is_empty() && self.answers.is_empty() && !is_review {
            push(Err(FieldError::new("text", "Écrivez le message.")));
        }
        if self.addressed_to.len() > MAX_ADDRESSEES {
            push(Err(FieldError::new(
                "addressed_to",
                format!("Au plus {MAX_ADDRESSEES} destinataires."),
            )));
        }
        for (i, a) in self.addressed_to.iter().enumerate() {
            if self.addressed_to[..i].contains(a) {
                push(Err(FieldError::new(
                    format!("addressed_to[{i}]"),
                    "Destinataire en double.",
                )));
            }
        }
        if self.note_kind == NoteKind::Request && self.addressed_to.is_empty() {
            push(Err(FieldError::new(
                "addressed_to",
                "Une demande s'adresse à au moins un collègue.",
            )));
        }
        match (&self.medication_review, is_review) {
            (None, true) => push(Err(FieldError::new(
                "medication_review",
                "Un bilan de médication donne la liste des médicaments et des recommandations.",
            ))),
            (Some(_), false) => push(Err(FieldError::new(
                "medication_review",
                "Seul un bilan de médication en contient un.",
            ))),
            (Some(r), true) => {
                if r.medications.is_empty() || r.medications.len() > MAX_MEDICATIONS {
                    push(Err(FieldError::new(
                        "medication_review.medications",
                        format!("De 1 à {MAX_MEDICATIONS} médicaments."),
                    )));
                }
                for (i, m) in r.medications.iter().enumerate() {
                    let field = format!("medication_review.medications[{i}]");
                    if m.trim().is_empty() {
                        push(Err(FieldError::new(field.clone(), "Ligne vide.")));
                    }
                    push(check_text(&field, m, MEDICATION_MAX_CHARS));
                }
                push(check_text(
                    "medication_review.findings",
                    &r.findings,
                    TEXT_MAX_CHARS,
                ));
                if r.recommendations.is_empty() || r.recommendations.len() > MAX_RECOMMENDATIONS {
                    push(Err(FieldError::new(
                        "medication_review.recommendations",
                        format!("De 1 à {MAX_RECOMMENDATIONS} recommandations."),
                    )));
                }
                for (i, t) in r.recommendations.iter().enumerate() {
                    let field = format!("medication_review.recommendations[{i}]");
                    if t.trim().is_empty() {
                        push(Err(FieldError::new(field.clone(), "Recommandation vide.")));
                    }
                    push(check_text(&field, t, RECOMMENDATION_MAX_CHARS));
                }
            }
            (None, false) => {}
        }
        match self
            .programme_id
            .as_deref()
            .map(crate::programme::Programme::find)
        {
            Some(None) => push(Err(FieldError::new("programme_id", "Parcours inconnu."))),
            // A kind a programme restricts is written in that programme, so
            // the server knows who may read it.
            None if restricted_anywhere(self.note_kind) => push(Err(FieldError::new(
                "programme_id",
                "Une note de ce type appartient à un parcours : indiquez lequel.",
            ))),
            _ => {}
        }
        if !self.answers.is_empty() && self.reply_to.is_none() {
            push(Err(FieldError::new(
                "answers",
                "Des réponses répondent à un bilan : indiquez lequel.",
            )));
        }
        for (i, a) in self.answers.iter().enumerate() {
            if a.recommendation == 0
                || self.answers[..i]
                    .iter()
                    .any(|b| b.recommendation == a.recommendation)
            {
                push(Err(FieldError::new(
                    format!("answers[{i}].recommendation"),
                    "Numéro de recommandation invalide ou en double.",
                )));
            }
            if a.decision == Decision::Refused && a.reason.trim().is_empty() {
                push(Err(FieldError::new(
                    format!("answers[{i}].reason"),
                    "Un refus donne sa raison.",
                )));
            }
            push(check_text(
                &format!("answers[{i}].reason"),
                &a.reason,
                RECOMMENDATION_MAX_CHARS,
            ));
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
        self.reply_to
            .map(|id| Reference::to("reply_to", id.0, &["notebook_entry"]))
            .into_iter()
            .collect()
    }

    fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        for (i, who) in self.addressed_to.iter().enumerate() {
            check_profession(directory, &format!("addressed_to[{i}]"), *who, &[], "")?;
        }
        // What one may not read, one does not write either.
        if let Some(readers) = self.readers() {
            check_profession(
                directory,
                "author_id",
                self.author_id,
                &readers,
                "Ce type de note est réservé à certains membres de l'équipe.",
            )?;
        }
        // The medication review is the pharmacist's; answering it, the GP's.
        if self.note_kind == NoteKind::MedicationReview {
            check_profession(
                directory,
                "author_id",
                self.author_id,
                &[Profession::Pharmacist],
                "Le bilan de médication est rédigé par le pharmacien.",
            )?;
        }
        if !self.answers.is_empty() {
            check_profession(
                directory,
                "author_id",
                self.author_id,
                &[Profession::GeneralPractitioner],
                "Le médecin traitant répond aux recommandations.",
            )?;
        }
        Ok(())
    }

    /// Who may read it: the roles its programme restricts its kind to, or
    /// the whole team (None).
    pub fn readers(&self) -> Option<Vec<Profession>> {
        let programme = crate::programme::Programme::find(self.programme_id.as_deref()?)?;
        programme
            .note_readers(self.note_kind.code())
            .map(<[Profession]>::to_vec)
    }

    fn members_named(&self) -> Vec<(String, AccountId)> {
        self.addressed_to
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("addressed_to[{i}]"), *a))
            .collect()
    }
}

/// Whether some programme restricts this kind of note.
fn restricted_anywhere(kind: NoteKind) -> bool {
    crate::programme::Programme::all()
        .iter()
        .any(|p| p.note_readers(kind.code()).is_some())
}

record_body!(
    NotebookEntry,
    refers_to => NotebookEntry::references,
    check_people => NotebookEntry::check_people,
    members_named => NotebookEntry::members_named,
    readers => NotebookEntry::readers,
);

/// "I have read this entry": the reader's own record, once per reading
/// device; the team sees who read what and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotebookRead {
    pub id: RecordId,
    pub patient_id: PatientId,
    /// The reader.
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub entry_id: RecordId,
}

impl NotebookRead {
    fn check(&self) -> Result<(), FieldError> {
        if self.amends.is_some() {
            return Err(FieldError::new("amends", "Une lecture ne se corrige pas."));
        }
        Ok(())
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "entry_id",
            self.entry_id.0,
            &["notebook_entry"],
        )]
    }
}

record_body!(NotebookRead, refers_to => NotebookRead::references);

/// What the caseload needs of an entry to count what is unread: read
/// through this projection, the whole entry's decoder stays out of the
/// first screen's download.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Addressed {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    #[serde(default)]
    pub amends: Option<RecordId>,
    #[serde(default)]
    pub addressed_to: Vec<AccountId>,
}

/// What the caseload needs of a read receipt.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Receipt {
    pub author_id: AccountId,
    pub entry_id: RecordId,
}

/// How many entries addressed to `me` I have not read (the rule of
/// [`unread_for`], on the projections).
pub fn unread_count(me: AccountId, entries: &[Addressed], reads: &[Receipt]) -> usize {
    let corrected: std::collections::BTreeSet<RecordId> =
        entries.iter().filter_map(|e| e.amends).collect();
    entries
        .iter()
        .filter(|e| !corrected.contains(&e.id))
        .filter(|e| e.addressed_to.contains(&me) && e.author_id != me)
        .filter(|e| {
            !reads
                .iter()
                .any(|r| r.author_id == me && r.entry_id == e.id)
        })
        .count()
}

/// The entries addressed to `me` that I have not read, among one patient's
/// notebook: an entry another one corrects counts as its correction.
pub fn unread_for<'a>(
    me: AccountId,
    entries: &'a [NotebookEntry],
    reads: &[NotebookRead],
) -> Vec<&'a NotebookEntry> {
    let corrected: std::collections::BTreeSet<RecordId> =
        entries.iter().filter_map(|e| e.amends).collect();
    let read: std::collections::BTreeSet<RecordId> = reads
        .iter()
        .filter(|r| r.author_id == me)
        .map(|r| r.entry_id)
        .collect();
    entries
        .iter()
        .filter(|e| !corrected.contains(&e.id))
        .filter(|e| e.addressed_to.contains(&me) && e.author_id != me)
        .filter(|e| !read.contains(&e.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testing::People;
    use crate::record::RecordBody;

    const NOW: i64 = 1_795_168_800_000;

    fn entry(author: AccountId) -> NotebookEntry {
        NotebookEntry {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: author,
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            note_kind: NoteKind::Observation,
            text: "Œdème des chevilles ce matin.".into(),
            addressed_to: vec![],
            reply_to: None,
            medication_review: None,
            answers: vec![],
            programme_id: None,
        }
    }

    #[test]
    fn an_entry_and_its_rules() {
        let nurse = AccountId::new();
        assert_eq!(entry(nurse).validate_at(NOW), Ok(()));
        let mut e = entry(nurse);
        e.text = "  ".into();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "text");
        let mut e = entry(nurse);
        e.note_kind = NoteKind::Request;
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "addressed_to");
        let gp = AccountId::new();
        e.addressed_to = vec![gp, gp];
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "addressed_to[1]");
        e.addressed_to = vec![gp];
        assert_eq!(e.validate_at(NOW), Ok(()));
        assert_eq!(e.members_named(), vec![("addressed_to[0]".to_string(), gp)]);
    }

    #[test]
    fn a_medication_review_and_the_gp_s_answers() {
        let (pharmacist, gp, nurse) = (AccountId::new(), AccountId::new(), AccountId::new());
        let people = People::default()
            .with(pharmacist, Profession::Pharmacist)
            .with(gp, Profession::GeneralPractitioner)
            .with(nurse, Profession::Nurse);
        let mut review = entry(pharmacist);
        review.note_kind = NoteKind::MedicationReview;
        review.text = String::new();
        review.addressed_to = vec![gp];
        assert_eq!(
            review.validate_at(NOW).unwrap_err().field,
            "medication_review"
        );
        review.medication_review = Some(MedicationReview {
            medications: vec!["Tramadol 50 mg × 3".into(), "Zolpidem 10 mg le soir".into()],
            findings: "Risque de chute : sédatifs.".into(),
            recommendations: vec!["Arrêt progressif du zolpidem".into(), String::new()],
        });
        assert_eq!(
            review.validate_at(NOW).unwrap_err().field,
            "medication_review.recommendations[1]"
        );
        review
            .medication_review
            .as_mut()
            .unwrap()
            .recommendations
            .pop();
        assert_eq!(review.validate_at(NOW), Ok(()));
        assert_eq!(review.check_people(&people), Ok(()));
        // Written by someone else than a pharmacist: refused.
        let mut by_nurse = review.clone();
        by_nurse.author_id = nurse;
        assert_eq!(
            by_nurse.check_people(&people).unwrap_err().field,
            "author_id"
        );

        let mut answer = entry(gp);
        answer.text = String::new();
        answer.answers = vec![RecommendationAnswer {
            recommendation: 1,
            decision: Decision::Refused,
            reason: String::new(),
        }];
        assert_eq!(answer.validate_at(NOW).unwrap_err().field, "answers");
        answer.reply_to = Some(review.id);
        assert_eq!(
            answer.validate_at(NOW).unwrap_err().field,
            "answers[0].reason"
        );
        answer.answers[0].reason = "Insomnie sévère, à revoir dans un mois.".into();
        assert_eq!(answer.validate_at(NOW), Ok(()));
        assert_eq!(answer.check_people(&people), Ok(()));
        assert_eq!(answer.refers_to()[0].kinds, &["notebook_entry"]);
        answer.author_id = nurse;
        assert_eq!(answer.check_people(&people).unwrap_err().field, "author_id");
    }

    #[test]
    fn a_restricted_note_names_its_programme_and_its_readers_write_it() {
        let (psychologist, nurse) = (AccountId::new(), AccountId::new());
        let people = People::default()
            .with(psychologist, Profession::Psychologist)
            .with(nurse, Profession::Nurse);
        let mut note = entry(psychologist);
        note.note_kind = NoteKind::Psychological;
        assert_eq!(note.validate_at(NOW).unwrap_err().field, "programme_id");
        note.programme_id = Some("horoscope".into());
        assert_eq!(note.validate_at(NOW).unwrap_err().field, "programme_id");
        note.programme_id = Some("chronic_pain".into());
        assert_eq!(note.validate_at(NOW), Ok(()));
        assert_eq!(
            note.readers(),
            Some(vec![
                Profession::Psychologist,
                Profession::GeneralPractitioner
            ])
        );
        assert_eq!(note.check_people(&people), Ok(()));
        note.author_id = nurse;
        assert_eq!(note.check_people(&people).unwrap_err().field, "author_id");
        // An ordinary note is the whole team's, in a programme or not.
        let mut plain = entry(nurse);
        assert_eq!(plain.readers(), None);
        plain.programme_id = Some("chronic_pain".into());
        assert_eq!(plain.readers(), None);
    }

    #[test]
    fn what_is_unread_for_me() {
        let (nurse, gp) = (AccountId::new(), AccountId::new());
        let mut to_gp = entry(nurse);
        to_gp.addressed_to = vec![gp];
        let to_all = entry(nurse);
        let mut corrected = entry(nurse);
        corrected.addressed_to = vec![gp];
        let correction = NotebookEntry {
            id: RecordId::new(),
            amends: Some(corrected.id),
            ..corrected.clone()
        };
        let entries = vec![to_gp.clone(), to_all, corrected, correction.clone()];
        let unread: Vec<RecordId> = unread_for(gp, &entries, &[]).iter().map(|e| e.id).collect();
        assert_eq!(unread, vec![to_gp.id, correction.id]);
        // Read by the nurse is not read by the GP; read by the GP is.
        let read = |who: AccountId, entry: RecordId| NotebookRead {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: who,
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            entry_id: entry,
        };
        let reads = vec![read(nurse, to_gp.id), read(gp, correction.id)];
        let unread: Vec<RecordId> = unread_for(gp, &entries, &reads)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(unread, vec![to_gp.id]);
        // My own entries are never unread for me.
        assert!(unread_for(nurse, &entries, &[]).is_empty());
        // The projections count the same.
        let project = |v: &[NotebookEntry]| -> Vec<Addressed> {
            v.iter()
                .map(|e| serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap())
                .collect()
        };
        let receipts: Vec<Receipt> = reads
            .iter()
            .map(|r| serde_json::from_value(serde_json::to_value(r).unwrap()).unwrap())
            .collect();
        assert_eq!(unread_count(gp, &project(&entries), &receipts), 1);
        assert_eq!(unread_count(gp, &project(&entries), &[]), 2);
        assert_eq!(unread_count(nurse, &project(&entries), &[]), 0);
        assert_eq!(read(gp, to_gp.id).validate_at(NOW), Ok(()));
    }
}
