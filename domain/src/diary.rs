//! The patient's pain diary: what they write on their own phone between
//! visits, about one day. Append lane: an entry is never edited; a
//! correction is a new entry that `amends` it, and the team sees both.
//!
//! Written by the patient only (their account, their own file); read by the
//! patient and by their care team (see `patient_view`).

use crate::date::CalendarDate;
use crate::record::record_body;
use crate::validation::{check_text, MAX_CLOCK_SKEW_MS};
use crate::{AccountId, DeviceId, FieldError, PatientId, RecordId, NRS_MAX};
use serde::{Deserialize, Serialize};

pub const MAX_ACTIVITIES: usize = 10;
pub const ACTIVITY_MAX_CHARS: usize = 120;
pub const MAX_MEDICINES: usize = 30;
pub const MEDICINE_MAX_CHARS: usize = 120;
pub const FACTORS_MAX_CHARS: usize = 1000;
pub const NOTE_MAX_CHARS: usize = 4000;
/// An activity lasts at most a day.
pub const MAX_ACTIVITY_MINUTES: u32 = 24 * 60;

/// How the day felt, in the patient's words (five faces on screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mood {
    VeryGood,
    Good,
    SoSo,
    Low,
    VeryLow,
}

impl Mood {
    pub const ALL: [Mood; 5] = [
        Self::VeryGood,
        Self::Good,
        Self::SoSo,
        Self::Low,
        Self::VeryLow,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::VeryGood => "Très bien",
            Self::Good => "Bien",
            Self::SoSo => "Moyen",
            Self::Low => "Pas bien",
            Self::VeryLow => "Très mal",
        }
    }
}

/// Something the patient did (a walk, the physio's exercises) and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub what: String,
    pub minutes: u32,
}

/// A medicine taken that day: one of their usual ones, or an as-needed dose
/// with the time it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicineTaken {
    pub name: String,
    #[serde(default)]
    pub as_needed: bool,
    /// `HH:MM`, for an as-needed dose.
    #[serde(default)]
    pub taken_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiaryEntry {
    pub id: RecordId,
    pub patient_id: PatientId,
    /// The patient's own account.
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    /// The day the entry tells about.
    pub on: CalendarDate,
    /// 0–10, when writing.
    pub pain_now: u8,
    /// 0–10, over the day.
    pub pain_average: u8,
    /// 0–10, the worst moment of the day.
    pub pain_worst: u8,
    /// How they slept last night, 0 (very badly) – 10 (very well).
    #[serde(default)]
    pub sleep: Option<u8>,
    #[serde(default)]
    pub activities: Vec<Activity>,
    #[serde(default)]
    pub medicines: Vec<MedicineTaken>,
    #[serde(default)]
    pub mood: Option<Mood>,
    /// What made it better.
    #[serde(default)]
    pub better: String,
    /// What made it worse.
    #[serde(default)]
    pub worse: String,
    #[serde(default)]
    pub note: String,
}

/// `HH:MM`, 00:00 to 23:59.
pub fn is_clock_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
        && (b[0] - b'0') * 10 + (b[1] - b'0') < 24
        && b[3] <= b'5'
}

impl DiaryEntry {
    /// What an entry says, a line each, in plain words (the team's list and
    /// the patient's own).
    pub fn lines_fr(&self) -> Vec<String> {
        let e = self;
        let mut lines = vec![format!(
            "Douleur : {}/10 en moyenne, {}/10 au plus fort, {}/10 au moment de noter",
            e.pain_average, e.pain_worst, e.pain_now
        )];
        if let Some(s) = e.sleep {
            lines.push(format!("Sommeil de la nuit : {s}/10"));
        }
        if let Some(m) = e.mood {
            lines.push(format!("Moral : {}", m.label_fr().to_lowercase()));
        }
        if !e.activities.is_empty() {
            let list: Vec<String> = e
                .activities
                .iter()
                .map(|a| format!("{} ({} min)", a.what, a.minutes))
                .collect();
            lines.push(format!("Activités : {}", list.join(", ")));
        }
        if !e.medicines.is_empty() {
            let list: Vec<String> = e
                .medicines
                .iter()
                .map(|m| match &m.taken_at {
                    Some(t) if m.as_needed => format!("{} (si besoin, à {t})", m.name),
                    _ => m.name.clone(),
                })
                .collect();
            lines.push(format!("Médicaments : {}", list.join(", ")));
        }
        for (label, text) in [
            ("Ce qui a aidé", &e.better),
            ("Ce qui a aggravé", &e.worse),
            ("Note", &e.note),
        ] {
            if !text.is_empty() {
                lines.push(format!("{label} : {text}"));
            }
        }
        lines
    }

    /// Every rule the entry breaks, each with its field: a form shows them
    /// all at once, the server answers with the first.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        let mut push = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                problems.push(e);
            }
        };
        for (field, value) in [
            ("pain_now", self.pain_now),
            ("pain_average", self.pain_average),
            ("pain_worst", self.pain_worst),
        ] {
            if value > NRS_MAX {
                push(Err(FieldError::new(field, "Une note va de 0 à 10.")));
            }
        }
        push(
            crate::pain_assessment::pain_order_problem(
                "pain_worst",
                self.pain_now,
                self.pain_average,
                self.pain_worst,
            )
            .map_or(Ok(()), Err),
        );
        if self.sleep.is_some_and(|s| s > 10) {
            push(Err(FieldError::new("sleep", "Une note va de 0 à 10.")));
        }
        // The day told about: not after the day it was written (a day of
        // clock skew allowed, as everywhere), nor before 2020.
        let written_day = (self.recorded_at + MAX_CLOCK_SKEW_MS).div_euclid(86_400_000);
        if self.on.days_since_epoch() > written_day {
            push(Err(FieldError::new(
                "on",
                "On ne peut pas remplir le journal d'un jour à venir.",
            )));
        }
        if self.on.year() < 2020 {
            push(Err(FieldError::new(
                "on",
                "Date antérieure à 2020 : invalide.",
            )));
        }
        if self.activities.len() > MAX_ACTIVITIES {
            push(Err(FieldError::new(
                "activities",
                format!("Au plus {MAX_ACTIVITIES} activités par jour."),
            )));
        }
        for (i, a) in self.activities.iter().enumerate() {
            if a.what.trim().is_empty() {
                push(Err(FieldError::new(
                    format!("activities[{i}].what"),
                    "Dites quelle activité.",
                )));
            }
            push(check_text(
                &format!("activities[{i}].what"),
                &a.what,
                ACTIVITY_MAX_CHARS,
            ));
            if a.minutes == 0 || a.minutes > MAX_ACTIVITY_MINUTES {
                push(Err(FieldError::new(
                    format!("activities[{i}].minutes"),
                    "Durée en minutes, de 1 à 1440.",
                )));
            }
        }
        if self.medicines.len() > MAX_MEDICINES {
            push(Err(FieldError::new(
                "medicines",
                format!("Au plus {MAX_MEDICINES} médicaments par jour."),
            )));
        }
        for (i, m) in self.medicines.iter().enumerate() {
            if m.name.trim().is_empty() {
                push(Err(FieldError::new(
                    format!("medicines[{i}].name"),
                    "Dites quel médicament.",
                )));
            }
            push(check_text(
                &format!("medicines[{i}].name"),
                &m.name,
                MEDICINE_MAX_CHARS,
            ));
            match (&m.taken_at, m.as_needed) {
                (Some(t), _) if !is_clock_time(t) => push(Err(FieldError::new(
                    format!("medicines[{i}].taken_at"),
                    "Heure au format HH:MM.",
                ))),
                (None, true) => push(Err(FieldError::new(
                    format!("medicines[{i}].taken_at"),
                    "Pour une prise « si besoin », dites à quelle heure.",
                ))),
                _ => {}
            }
        }
        push(check_text("better", &self.better, FACTORS_MAX_CHARS));
        push(check_text("worse", &self.worse, FACTORS_MAX_CHARS));
        push(check_text("note", &self.note, NOTE_MAX_CHARS));
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

// The patient's own words: theirs to write, and theirs to read back.
record_body!(
    DiaryEntry,
    shown_to_patient => |_: &DiaryEntry| true,
    written_by_patient => |_: &DiaryEntry| true,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordBody;

    /// 2026-11-20T10:00:00Z.
    const NOW: i64 = 1_795_168_800_000;

    fn entry() -> DiaryEntry {
        DiaryEntry {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            on: "2026-11-20".parse().unwrap(),
            pain_now: 4,
            pain_average: 5,
            pain_worst: 7,
            sleep: Some(6),
            activities: vec![Activity {
                what: "Marche".into(),
                minutes: 30,
            }],
            medicines: vec![
                MedicineTaken {
                    name: "Paracétamol 1 g".into(),
                    as_needed: false,
                    taken_at: None,
                },
                MedicineTaken {
                    name: "Tramadol 50 mg".into(),
                    as_needed: true,
                    taken_at: Some("21:30".into()),
                },
            ],
            mood: Some(Mood::SoSo),
            better: "La chaleur".into(),
            worse: "Rester assise".into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_full_entry_is_accepted() {
        assert_eq!(entry().validate_at(NOW), Ok(()));
        assert!(entry().problems().is_empty());
    }

    #[test]
    fn inconsistent_scores_are_refused() {
        // Now 8, average 9, worst 2: the case seen in the field.
        let mut e = entry();
        (e.pain_now, e.pain_average, e.pain_worst) = (8, 9, 2);
        let problems = e.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "pain_worst");
        assert!(problems[0].message.contains("moyenne"));
        // Worst below now only.
        let mut e = entry();
        (e.pain_now, e.pain_average, e.pain_worst) = (8, 3, 6);
        assert!(e.problems()[0].message.contains("en ce moment"));
        // Equal values are consistent.
        let mut e = entry();
        (e.pain_now, e.pain_average, e.pain_worst) = (5, 5, 5);
        assert_eq!(e.validate_at(NOW), Ok(()));
        let mut e = entry();
        e.pain_worst = 11;
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "pain_worst");
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let mut e = entry();
        e.sleep = Some(12);
        e.activities[0].minutes = 0;
        e.medicines[1].taken_at = None;
        e.on = "2026-11-23".parse().unwrap();
        let fields: Vec<String> = e.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "sleep",
                "on",
                "activities[0].minutes",
                "medicines[1].taken_at"
            ]
        );
        // The server answers with the first.
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "sleep");
    }

    #[test]
    fn the_day_told_about() {
        let mut e = entry();
        // Tomorrow is within the day of skew every device is allowed.
        e.on = "2026-11-21".parse().unwrap();
        assert_eq!(e.validate_at(NOW), Ok(()));
        e.on = "2026-11-22".parse().unwrap();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "on");
        e.on = "2019-12-31".parse().unwrap();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "on");
        // Filling in yesterday, or last week, is fine.
        e.on = "2026-11-13".parse().unwrap();
        assert_eq!(e.validate_at(NOW), Ok(()));
    }

    #[test]
    fn clock_times() {
        for ok in ["00:00", "09:05", "23:59"] {
            assert!(is_clock_time(ok), "{ok}");
        }
        for bad in ["24:00", "9:05", "12:60", "12h30", "", "ab:cd"] {
            assert!(!is_clock_time(bad), "{bad}");
        }
    }
}
