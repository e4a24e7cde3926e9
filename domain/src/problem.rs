//! A problem the care plan answers (medical, psychological, social,
//! functional), with its priority: an editable kind of the mutation lane.

use crate::merge::{editable_fields, Editable};
use crate::validation::check_text;
use crate::{AccountId, FieldError, ItemId, PatientId};
use serde::{Deserialize, Serialize};

pub const DESCRIPTION_MAX_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemDomain {
    Medical,
    Psychological,
    Social,
    Functional,
}

impl ProblemDomain {
    pub const ALL: [ProblemDomain; 4] = [
        Self::Medical,
        Self::Psychological,
        Self::Social,
        Self::Functional,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Medical => "Médical",
            Self::Psychological => "Psychologique",
            Self::Social => "Social",
            Self::Functional => "Fonctionnel",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Self::High, Self::Medium, Self::Low];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::High => "Prioritaire",
            Self::Medium => "Important",
            Self::Low => "Secondaire",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStatus {
    Open,
    Resolved,
}

impl ProblemStatus {
    pub const ALL: [ProblemStatus; 2] = [Self::Open, Self::Resolved];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Open => "Actif",
            Self::Resolved => "Résolu",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub id: ItemId,
    pub patient_id: PatientId,
    pub owner_id: AccountId,
    pub domain: ProblemDomain,
    pub description: String,
    pub priority: Priority,
    pub status: ProblemStatus,
}

editable_fields!(Problem, ProblemField, ProblemChange {
    Domain(domain: ProblemDomain) = "Domaine",
    Description(description: String) = "Problème",
    Priority(priority: Priority) = "Priorité",
    Status(status: ProblemStatus) = "Statut",
    Owner(owner_id: AccountId) = "Responsable",
});

impl Editable for Problem {
    type Field = ProblemField;
    type Change = ProblemChange;
    const KIND: &'static str = "problem";
    const FIELDS: &'static [ProblemField] = ProblemField::ALL;
    const REQUIRED: &'static [ProblemField] = &[
        ProblemField::Domain,
        ProblemField::Description,
        ProblemField::Priority,
    ];
    const INCOMPLETE: &'static str =
        "Un nouveau problème demande un domaine, une description et une priorité.";

    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self {
        Problem {
            id,
            patient_id,
            owner_id: author_id,
            domain: ProblemDomain::Medical,
            description: String::new(),
            priority: Priority::Medium,
            status: ProblemStatus::Open,
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
    fn field_of(change: &ProblemChange) -> ProblemField {
        change.field()
    }
    fn current(&self, field: ProblemField) -> ProblemChange {
        ProblemChange::current(self, field)
    }
    fn apply(&mut self, change: &ProblemChange) {
        change.apply_to(self)
    }
    fn check(change: &ProblemChange) -> Result<(), FieldError> {
        match change {
            ProblemChange::Description(t) if t.trim().is_empty() => {
                Err(FieldError::new("description", "Décrivez le problème."))
            }
            ProblemChange::Description(t) => check_text("description", t, DESCRIPTION_MAX_CHARS),
            _ => Ok(()),
        }
    }
    fn new_owner(change: &ProblemChange) -> Option<AccountId> {
        match change {
            ProblemChange::Owner(o) => Some(*o),
            _ => None,
        }
    }
}
