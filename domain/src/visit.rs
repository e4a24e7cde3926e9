//! A visit (home, practice, phone): when, who, where, how long, what was
//! done, notes. The instruments filled during it are their own records that
//! name it. The initial evaluation is a long visit that also takes the
//! history the programme asks for.

use crate::programme::Programme;
use crate::record::{check_profession, record_body, Directory};
use crate::validation::{check_text, check_time};
use crate::{AccountId, DeviceId, FieldError, PatientId, RecordId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PLACE_MAX_CHARS: usize = 200;
pub const NOTES_MAX_CHARS: usize = 8000;
pub const HISTORY_MAX_CHARS: usize = 4000;
pub const MAX_ACTIONS: usize = 30;
pub const ACTION_MAX_CHARS: usize = 200;
/// A visit lasts at most a day.
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    Home,
    Practice,
    Phone,
}

impl VisitKind {
    pub const ALL: [VisitKind; 3] = [Self::Home, Self::Practice, Self::Phone];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Home => "À domicile",
            Self::Practice => "Au cabinet",
            Self::Phone => "Par téléphone",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    /// Not `kind`: that name is the record's own tag.
    pub visit_type: VisitKind,
    /// When it began (ms since the Unix epoch).
    pub started_at: i64,
    pub duration_minutes: u32,
    #[serde(default)]
    pub place: String,
    /// Other professionals present.
    #[serde(default)]
    pub with: Vec<AccountId>,
    /// What was done, one line each.
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// For an initial evaluation: the programme, and its history questions
    /// answered (`onset`, `treatments_tried`…).
    #[serde(default)]
    pub evaluation: Option<InitialEvaluation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialEvaluation {
    pub programme_id: String,
    pub history: BTreeMap<String, String>,
    /// Where it hurts, as body-map region codes.
    #[serde(default)]
    pub pain_regions: Vec<String>,
}

impl Visit {
    fn check(&self) -> Result<(), FieldError> {
        check_time("started_at", self.started_at, self.recorded_at)?;
        if self.duration_minutes == 0 || self.duration_minutes > MAX_DURATION_MINUTES {
            return Err(FieldError::new(
                "duration_minutes",
                "Durée en minutes, de 1 à 1440.",
            ));
        }
        check_text("place", &self.place, PLACE_MAX_CHARS)?;
        check_text("notes", &self.notes, NOTES_MAX_CHARS)?;
        if self.actions.len() > MAX_ACTIONS {
            return Err(FieldError::new(
                "actions",
                format!("Au plus {MAX_ACTIONS} actions."),
            ));
        }
        for (i, a) in self.actions.iter().enumerate() {
            check_text(&format!("actions[{i}]"), a, ACTION_MAX_CHARS)?;
        }
        if let Some(e) = &self.evaluation {
            let p = Programme::find(&e.programme_id)
                .ok_or_else(|| FieldError::new("evaluation.programme_id", "Parcours inconnu."))?;
            for (key, text) in &e.history {
                let field = format!("evaluation.history.{key}");
                if !p.initial_evaluation.history.iter().any(|h| &h.id == key) {
                    return Err(FieldError::new(
                        field,
                        "Question inconnue pour ce parcours.",
                    ));
                }
                check_text(&field, text, HISTORY_MAX_CHARS)?;
            }
            for (i, region) in e.pain_regions.iter().enumerate() {
                if !crate::body_map::is_region(region) || e.pain_regions[..i].contains(region) {
                    return Err(FieldError::new(
                        format!("evaluation.pain_regions[{i}]"),
                        "Zone du schéma corporel inconnue ou en double.",
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        for (i, who) in self.with.iter().enumerate() {
            check_profession(directory, &format!("with[{i}]"), *who, &[], "")?;
        }
        Ok(())
    }
}

record_body!(Visit, check_people => Visit::check_people);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordBody;

    const NOW: i64 = 1_795_000_000_000;

    fn visit() -> Visit {
        Visit {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            visit_type: VisitKind::Home,
            started_at: NOW - 90 * 60_000,
            duration_minutes: 90,
            place: "Domicile, Pontivy".into(),
            with: vec![],
            actions: vec!["Évaluation initiale".into()],
            notes: String::new(),
            evaluation: Some(InitialEvaluation {
                programme_id: "chronic_pain".into(),
                history: [("onset".to_string(), "Chute en 2024".to_string())].into(),
                pain_regions: vec!["back.lower_back".into(), "front.knee_left".into()],
            }),
        }
    }

    #[test]
    fn a_visit_and_its_rules() {
        assert_eq!(visit().validate_at(NOW), Ok(()));
        let mut v = visit();
        v.duration_minutes = 0;
        assert_eq!(v.validate_at(NOW).unwrap_err().field, "duration_minutes");
        let mut v = visit();
        v.started_at = NOW + 2 * 86_400_000;
        assert_eq!(v.validate_at(NOW).unwrap_err().field, "started_at");
        let mut v = visit();
        v.evaluation
            .as_mut()
            .unwrap()
            .history
            .insert("horoscope".into(), "x".into());
        assert_eq!(
            v.validate_at(NOW).unwrap_err().field,
            "evaluation.history.horoscope"
        );
        for (regions, bad) in [
            (vec!["back.lower_back", "front.tail"], 1),
            (vec!["back.lower_back", "back.lower_back"], 1),
        ] {
            let mut v = visit();
            v.evaluation.as_mut().unwrap().pain_regions =
                regions.into_iter().map(String::from).collect();
            assert_eq!(
                v.validate_at(NOW).unwrap_err().field,
                format!("evaluation.pain_regions[{bad}]")
            );
        }
    }
}
