//! A planned visit (rendez-vous): who goes, to which patient, which day and
//! time, home, practice or phone. Planned ahead, moved or cancelled by the
//! team, possibly offline: an editable kind of the mutation lane. The visit
//! itself, once made, is its own record (`visit.rs`).

use crate::date::CalendarDate;
use crate::merge::{editable_fields, Editable};
use crate::validation::check_text;
use crate::visit::VisitKind;
use crate::{AccountId, FieldError, ItemId, PatientId};
use serde::{Deserialize, Serialize};

pub const NOTES_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Planned,
    Done,
    Cancelled,
}

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 3] = [Self::Planned, Self::Done, Self::Cancelled];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Planned => "Prévu",
            Self::Done => "Fait",
            Self::Cancelled => "Annulé",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: ItemId,
    pub patient_id: PatientId,
    /// Who makes the visit.
    pub owner_id: AccountId,
    pub on: Option<CalendarDate>,
    /// "14:30", or empty when only the day is set.
    pub time: String,
    pub visit_type: VisitKind,
    pub status: AppointmentStatus,
    pub notes: String,
}

editable_fields!(Appointment, AppointmentField, AppointmentChange {
    On(on: Option<CalendarDate>) = "Jour",
    Time(time: String) = "Heure",
    VisitType(visit_type: VisitKind) = "Type de visite",
    Owner(owner_id: AccountId) = "Qui",
    Status(status: AppointmentStatus) = "Statut",
    Notes(notes: String) = "Notes",
});

/// "14:30": hours 00–23, minutes 00–59.
fn is_time(text: &str) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    let ok = |s: &str, max: u32| s.len() == 2 && s.parse::<u32>().is_ok_and(|n| n <= max);
    ok(h, 23) && ok(m, 59)
}

impl Editable for Appointment {
    type Field = AppointmentField;
    type Change = AppointmentChange;
    const KIND: &'static str = "appointment";
    const FIELDS: &'static [AppointmentField] = AppointmentField::ALL;
    const REQUIRED: &'static [AppointmentField] = &[
        AppointmentField::On,
        AppointmentField::Owner,
        AppointmentField::Status,
    ];
    const INCOMPLETE: &'static str = "Un rendez-vous demande un jour, une personne et un statut.";

    // The patient sees their next visits; the team's notes are not theirs.
    fn for_patient(&self) -> Option<Self> {
        Some(Self {
            notes: String::new(),
            ..self.clone()
        })
    }
    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self {
        Appointment {
            id,
            patient_id,
            owner_id: author_id,
            on: None,
            time: String::new(),
            visit_type: VisitKind::Home,
            status: AppointmentStatus::Planned,
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
    fn field_of(change: &AppointmentChange) -> AppointmentField {
        change.field()
    }
    fn current(&self, field: AppointmentField) -> AppointmentChange {
        AppointmentChange::current(self, field)
    }
    fn apply(&mut self, change: &AppointmentChange) {
        change.apply_to(self)
    }
    fn check(change: &AppointmentChange) -> Result<(), FieldError> {
        match change {
            AppointmentChange::On(None) => Err(FieldError::new("on", "Indiquez le jour.")),
            AppointmentChange::Time(t) if !t.is_empty() && !is_time(t) => {
                Err(FieldError::new("time", "Heure au format 14:30, ou vide."))
            }
            AppointmentChange::Notes(t) => check_text("notes", t, NOTES_MAX_CHARS),
            _ => Ok(()),
        }
    }
    fn new_owner(change: &AppointmentChange) -> Option<AccountId> {
        match change {
            AppointmentChange::Owner(o) => Some(*o),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_required_and_a_time_reads_as_a_clock() {
        assert_eq!(
            Appointment::check(&AppointmentChange::On(None))
                .unwrap_err()
                .field,
            "on"
        );
        assert!(
            Appointment::check(&AppointmentChange::On(Some("2026-12-01".parse().unwrap()))).is_ok()
        );
        for good in ["", "00:00", "09:05", "23:59"] {
            assert!(
                Appointment::check(&AppointmentChange::Time(good.into())).is_ok(),
                "{good}"
            );
        }
        for bad in ["24:00", "9:05", "12:60", "midi", "12:3a", "12:30:00"] {
            assert_eq!(
                Appointment::check(&AppointmentChange::Time(bad.into()))
                    .unwrap_err()
                    .field,
                "time",
                "{bad}"
            );
        }
    }
}
