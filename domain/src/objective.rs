//! A shared, measurable objective of the care plan ("douleur moyenne ≤ 4",
//! "marcher 30 minutes"), with its due date and status. Kept when it is not
//! achieved: its status says so. An editable kind of the mutation lane.

use crate::date::CalendarDate;
use crate::merge::{editable_fields, Editable};
use crate::validation::check_text;
use crate::{AccountId, FieldError, ItemId, PatientId};
use serde::{Deserialize, Serialize};

pub const TEXT_MAX_CHARS: usize = 300;
pub const NOTES_MAX_CHARS: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    Active,
    Achieved,
    PartlyAchieved,
    NotAchieved,
    Abandoned,
}

impl ObjectiveStatus {
    pub const ALL: [ObjectiveStatus; 5] = [
        Self::Active,
        Self::Achieved,
        Self::PartlyAchieved,
        Self::NotAchieved,
        Self::Abandoned,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Active => "En cours",
            Self::Achieved => "Atteint",
            Self::PartlyAchieved => "Partiellement atteint",
            Self::NotAchieved => "Non atteint",
            Self::Abandoned => "Abandonné",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    pub id: ItemId,
    pub patient_id: PatientId,
    /// Who follows it (and settles its conflicts).
    pub owner_id: AccountId,
    /// The objective in words the patient shares.
    pub title: String,
    /// How it is measured ("EN moyenne sur 24 h", "minutes de marche").
    pub measure: String,
    /// The value aimed at ("≤ 4", "30 minutes par jour").
    pub target: String,
    pub due_on: Option<CalendarDate>,
    pub status: ObjectiveStatus,
    pub notes: String,
}

editable_fields!(Objective, ObjectiveField, ObjectiveChange {
    Title(title: String) = "Objectif",
    Owner(owner_id: AccountId) = "Responsable",
    Measure(measure: String) = "Mesure",
    Target(target: String) = "Cible",
    DueOn(due_on: Option<CalendarDate>) = "Échéance",
    Status(status: ObjectiveStatus) = "Statut",
    Notes(notes: String) = "Notes",
});

impl Editable for Objective {
    type Field = ObjectiveField;
    type Change = ObjectiveChange;
    const KIND: &'static str = "objective";
    const FIELDS: &'static [ObjectiveField] = ObjectiveField::ALL;
    const REQUIRED: &'static [ObjectiveField] = &[
        ObjectiveField::Title,
        ObjectiveField::Owner,
        ObjectiveField::Status,
    ];
    const INCOMPLETE: &'static str =
        "Un nouvel objectif demande un intitulé, un responsable et un statut.";

    // The objectives are shared with the patient; the team's notes are not.
    fn for_patient(&self) -> Option<Self> {
        Some(Self {
            notes: String::new(),
            ..self.clone()
        })
    }
    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self {
        Objective {
            id,
            patient_id,
            owner_id: author_id,
            title: String::new(),
            measure: String::new(),
            target: String::new(),
            due_on: None,
            status: ObjectiveStatus::Active,
            notes: String::new(),
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
    fn field_of(change: &ObjectiveChange) -> ObjectiveField {
        change.field()
    }
    fn current(&self, field: ObjectiveField) -> ObjectiveChange {
        ObjectiveChange::current(self, field)
    }
    fn apply(&mut self, change: &ObjectiveChange) {
        change.apply_to(self)
    }
    fn check(change: &ObjectiveChange) -> Result<(), FieldError> {
        match change {
            ObjectiveChange::Title(t) if t.trim().is_empty() => {
                Err(FieldError::new("title", "Décrivez l'objectif."))
            }
            ObjectiveChange::Title(t) => check_text("title", t, TEXT_MAX_CHARS),
            ObjectiveChange::Measure(t) => check_text("measure", t, TEXT_MAX_CHARS),
            ObjectiveChange::Target(t) => check_text("target", t, TEXT_MAX_CHARS),
            ObjectiveChange::Notes(t) => check_text("notes", t, NOTES_MAX_CHARS),
            _ => Ok(()),
        }
    }
    fn new_owner(change: &ObjectiveChange) -> Option<AccountId> {
        match change {
            ObjectiveChange::Owner(o) => Some(*o),
            _ => None,
        }
    }
}
