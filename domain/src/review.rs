//! A review point (point d'étape) or team meeting: its type (from the
//! programme), when it is due, when it was held, who attended, what was
//! concluded. Planned ahead, then filled in by several people: an editable
//! kind of the mutation lane.

use crate::date::CalendarDate;
use crate::merge::{editable_fields, Editable};
use crate::programme::{Choice, Programme};
use crate::validation::check_text;
use crate::{AccountId, FieldError, ItemId, PatientId};
use serde::{Deserialize, Serialize};

pub const CONCLUSIONS_MAX_CHARS: usize = 8000;
pub const MAX_ATTENDEES: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Planned,
    Done,
    Cancelled,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 3] = [Self::Planned, Self::Done, Self::Cancelled];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Planned => "Prévu",
            Self::Done => "Réalisé",
            Self::Cancelled => "Annulé",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: ItemId,
    pub patient_id: PatientId,
    pub owner_id: AccountId,
    /// One of a programme's review types (`irdp_gp`, `team`…).
    pub review_type: String,
    pub due_on: Option<CalendarDate>,
    pub status: ReviewStatus,
    pub held_on: Option<CalendarDate>,
    pub attendees: Vec<AccountId>,
    pub conclusions: String,
}

impl Review {
    /// The type as a programme names it.
    pub fn type_label(&self) -> Option<&'static Choice> {
        Programme::all()
            .iter()
            .find_map(|p| p.review_type(&self.review_type))
    }

    /// Due and not held: what the nurse's day lists, overdue first.
    pub fn is_pending(&self) -> bool {
        self.status == ReviewStatus::Planned
    }
}

editable_fields!(Review, ReviewField, ReviewChange {
    ReviewType(review_type: String) = "Type",
    Owner(owner_id: AccountId) = "Responsable",
    DueOn(due_on: Option<CalendarDate>) = "Prévu le",
    Status(status: ReviewStatus) = "Statut",
    HeldOn(held_on: Option<CalendarDate>) = "Réalisé le",
    Attendees(attendees: Vec<AccountId>) = "Participants",
    Conclusions(conclusions: String) = "Conclusions",
});

impl Editable for Review {
    type Field = ReviewField;
    type Change = ReviewChange;
    const KIND: &'static str = "review";
    const FIELDS: &'static [ReviewField] = ReviewField::ALL;
    const REQUIRED: &'static [ReviewField] = &[
        ReviewField::ReviewType,
        ReviewField::Owner,
        ReviewField::DueOn,
        ReviewField::Status,
    ];
    const INCOMPLETE: &'static str =
        "Un nouveau point d'étape demande un type, un responsable, une date prévue et un statut.";

    // The patient knows when their review points are; the conclusions are
    // the team's until told to them.
    fn for_patient(&self) -> Option<Self> {
        Some(Self {
            conclusions: String::new(),
            ..self.clone()
        })
    }
    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self {
        Review {
            id,
            patient_id,
            owner_id: author_id,
            review_type: String::new(),
            due_on: None,
            status: ReviewStatus::Planned,
            held_on: None,
            attendees: vec![],
            conclusions: String::new(),
        }
    }
    fn id(&self) -> ItemId {
        self.id
    }
    fn patient_id(&self) -> PatientId {
        self.patient_id
    }
    fn owner_id(&self) -> AccountId {
        self.owner_id
    }
    fn field_of(change: &ReviewChange) -> ReviewField {
        change.field()
    }
    fn current(&self, field: ReviewField) -> ReviewChange {
        ReviewChange::current(self, field)
    }
    fn apply(&mut self, change: &ReviewChange) {
        change.apply_to(self)
    }
    fn check(change: &ReviewChange) -> Result<(), FieldError> {
        match change {
            ReviewChange::ReviewType(t)
                if !Programme::all().iter().any(|p| p.review_type(t).is_some()) =>
            {
                Err(FieldError::new(
                    "review_type",
                    "Type de point d'étape inconnu.",
                ))
            }
            ReviewChange::Attendees(a) if a.len() > MAX_ATTENDEES => Err(FieldError::new(
                "attendees",
                format!("Au plus {MAX_ATTENDEES} participants."),
            )),
            ReviewChange::Attendees(a) if a.iter().enumerate().any(|(i, x)| a[..i].contains(x)) => {
                Err(FieldError::new(
                    "attendees",
                    "Un participant figure deux fois.",
                ))
            }
            ReviewChange::Conclusions(t) => check_text("conclusions", t, CONCLUSIONS_MAX_CHARS),
            _ => Ok(()),
        }
    }
    fn new_owner(change: &ReviewChange) -> Option<AccountId> {
        match change {
            ReviewChange::Owner(o) => Some(*o),
            _ => None,
        }
    }
}
