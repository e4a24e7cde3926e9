//! A pain assessment on the numeric rating scale (EN, échelle numérique).
//!
//! Append lane: an assessment is never edited once written. A correction is a
//! new assessment whose `amends` points at the one it corrects, so the history
//! of what was recorded, by whom and when, is never lost.

use crate::validation::{check_text, check_time, EARLIEST_MS};
use crate::{AccountId, AssessmentId, DeviceId, FieldError, PatientId};
use serde::{Deserialize, Serialize};

/// The top of the numeric rating scale: 0 = no pain, 10 = worst imaginable.
pub const NRS_MAX: u8 = 10;
/// Longest free-text location kept, in characters.
pub const LOCATION_MAX_CHARS: usize = 200;
/// Longest note kept, in characters.
pub const NOTE_MAX_CHARS: usize = 4000;

/// Who answered the scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentMode {
    /// The professional asked and wrote down the patient's answers.
    #[default]
    Interview,
    /// The patient filled it in themself.
    SelfReported,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PainAssessment {
    pub id: AssessmentId,
    pub patient_id: PatientId,
    /// When it was recorded on the device: milliseconds since the Unix epoch, UTC.
    pub recorded_at: i64,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    #[serde(default)]
    pub mode: AssessmentMode,
    /// Pain now, 0–10.
    pub pain_now: u8,
    /// Average pain over the last 24 hours, 0–10.
    pub pain_average_24h: u8,
    /// Worst pain over the last 24 hours, 0–10.
    pub pain_worst_24h: u8,
    /// Where it hurts, in the patient's or the nurse's words.
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub note: String,
    /// The assessment this one corrects, if it is a correction.
    #[serde(default)]
    pub amends: Option<AssessmentId>,
}

impl PainAssessment {
    /// The rules of `validate`, and `recorded_at` no later than the
    /// receiver's clock (`now_ms`) allows.
    pub fn validate_at(&self, now_ms: i64) -> Result<(), FieldError> {
        self.validate()?;
        check_time("recorded_at", self.recorded_at, now_ms)
    }

    /// Checks every rule that does not need the database. The first broken
    /// rule is returned, named by its field.
    pub fn validate(&self) -> Result<(), FieldError> {
        match self.problems().into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Every rule the assessment breaks, each with its field: the form shows
    /// them all at once, the server answers with the first.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems: Vec<FieldError> = [
            ("pain_now", self.pain_now),
            ("pain_average_24h", self.pain_average_24h),
            ("pain_worst_24h", self.pain_worst_24h),
        ]
        .into_iter()
        .filter_map(|(field, value)| validate_nrs(field, value).err())
        .collect();
        problems.extend(pain_order_problem(
            "pain_worst_24h",
            self.pain_now,
            self.pain_average_24h,
            self.pain_worst_24h,
        ));
        problems.extend(check_text("location", &self.location, LOCATION_MAX_CHARS).err());
        problems.extend(check_text("note", &self.note, NOTE_MAX_CHARS).err());
        if self.recorded_at < EARLIEST_MS {
            problems.push(FieldError::new(
                "recorded_at",
                "La date d'enregistrement est invalide.",
            ));
        }
        if self.amends == Some(self.id) {
            problems.push(FieldError::new(
                "amends",
                "Une évaluation ne peut pas corriger elle-même.",
            ));
        }
        problems
    }
}

/// The worst pain of a period is at least its average and at least the pain
/// felt now, which is part of it: a nurse's assessment and a patient's diary
/// follow the same rule, said in the same words. The error names the worst
/// score's field (`worst_field`), the one to look at again.
pub fn pain_order_problem(
    worst_field: &str,
    now: u8,
    average: u8,
    worst: u8,
) -> Option<FieldError> {
    if worst < average {
        Some(FieldError::new(
            worst_field,
            "La douleur la plus forte ne peut pas être plus faible que la douleur moyenne.",
        ))
    } else if worst < now {
        Some(FieldError::new(
            worst_field,
            "La douleur la plus forte ne peut pas être plus faible que la douleur en ce moment.",
        ))
    } else {
        None
    }
}

/// A score on the numeric rating scale must be a whole number from 0 to 10.
pub fn validate_nrs(field: &str, value: u8) -> Result<(), FieldError> {
    if value > NRS_MAX {
        return Err(FieldError::new(
            field,
            format!("La note doit être comprise entre 0 et {NRS_MAX}."),
        ));
    }
    Ok(())
}

/// Reads what a person typed in a 0–10 field: the form calls this before
/// anything is saved, so the message is the same one the server would give.
pub fn parse_nrs(field: &str, input: &str) -> Result<u8, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "Indiquez une note de 0 à 10."));
    }
    let value: i64 = trimmed
        .parse()
        .map_err(|_| FieldError::new(field, "La note doit être un nombre entier de 0 à 10."))?;
    let value = u8::try_from(value).map_err(|_| {
        FieldError::new(
            field,
            format!("La note doit être comprise entre 0 et {NRS_MAX}."),
        )
    })?;
    validate_nrs(field, value)?;
    Ok(value)
}

/// The usual intensity bands for the numeric scale (a screening aid, never a diagnosis).
pub fn nrs_band_fr(value: u8) -> &'static str {
    match value {
        0 => "absente",
        1..=4 => "légère",
        5..=6 => "modérée",
        _ => "sévère",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment() -> PainAssessment {
        PainAssessment {
            id: AssessmentId::new(),
            patient_id: PatientId::new(),
            recorded_at: 1_790_000_000_000,
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            mode: AssessmentMode::Interview,
            pain_now: 4,
            pain_average_24h: 5,
            pain_worst_24h: 8,
            location: "Lombaires".into(),
            note: String::new(),
            amends: None,
        }
    }

    #[test]
    fn a_complete_assessment_is_valid() {
        assert_eq!(assessment().validate(), Ok(()));
    }

    #[test]
    fn the_worst_pain_is_at_least_the_average_and_the_pain_now() {
        // The review's example: now 8, average 9, worst 2.
        let mut a = assessment();
        (a.pain_now, a.pain_average_24h, a.pain_worst_24h) = (8, 9, 2);
        let problems = a.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "pain_worst_24h");
        assert!(
            problems[0].message.contains("moyenne"),
            "{}",
            problems[0].message
        );
        (a.pain_now, a.pain_average_24h, a.pain_worst_24h) = (7, 3, 6);
        assert!(a.validate().unwrap_err().message.contains("en ce moment"));
        // Equal is fine: a steady pain.
        (a.pain_now, a.pain_average_24h, a.pain_worst_24h) = (6, 6, 6);
        assert_eq!(a.validate(), Ok(()));
    }

    #[test]
    fn every_problem_is_said_at_once_and_the_server_answers_with_the_first() {
        let mut a = assessment();
        a.pain_now = 11;
        a.pain_average_24h = 9;
        a.pain_worst_24h = 3;
        a.note = "x".repeat(NOTE_MAX_CHARS + 1);
        let fields: Vec<String> = a.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["pain_now", "pain_worst_24h", "note"]);
        assert_eq!(a.validate().unwrap_err().field, "pain_now");
    }

    #[test]
    fn each_score_above_ten_is_named_by_its_field() {
        for field in ["pain_now", "pain_average_24h", "pain_worst_24h"] {
            let mut a = assessment();
            match field {
                "pain_now" => a.pain_now = 11,
                "pain_average_24h" => a.pain_average_24h = 11,
                _ => a.pain_worst_24h = 11,
            }
            assert_eq!(a.validate().unwrap_err().field, field);
        }
        let mut edge = assessment();
        (edge.pain_now, edge.pain_average_24h, edge.pain_worst_24h) = (10, 0, 10);
        assert_eq!(edge.validate(), Ok(()));
    }

    #[test]
    fn long_texts_and_impossible_dates_are_refused() {
        let mut a = assessment();
        a.location = "x".repeat(LOCATION_MAX_CHARS + 1);
        assert_eq!(a.validate().unwrap_err().field, "location");
        let mut a = assessment();
        a.note = "é".repeat(NOTE_MAX_CHARS);
        assert_eq!(
            a.validate(),
            Ok(()),
            "the limit counts characters, not bytes"
        );
        a.note.push('é');
        assert_eq!(a.validate().unwrap_err().field, "note");
        let mut a = assessment();
        a.recorded_at = 0;
        assert_eq!(a.validate().unwrap_err().field, "recorded_at");
        let mut a = assessment();
        a.recorded_at = 1_790_000_000_000 + 2 * 24 * 3600 * 1000;
        assert_eq!(a.validate(), Ok(()), "no clock: no upper bound");
        assert_eq!(
            a.validate_at(1_790_000_000_000).unwrap_err().field,
            "recorded_at"
        );
        a.recorded_at = i64::MAX;
        assert_eq!(
            a.validate_at(1_790_000_000_000).unwrap_err().field,
            "recorded_at"
        );
        let mut a = assessment();
        a.note = "collé\u{0}depuis un PDF".into();
        assert_eq!(a.validate().unwrap_err().field, "note");
        let mut a = assessment();
        a.amends = Some(a.id);
        assert_eq!(a.validate().unwrap_err().field, "amends");
    }

    #[test]
    fn typed_scores_are_parsed_or_explained() {
        assert_eq!(parse_nrs("pain_now", " 7 "), Ok(7));
        assert_eq!(parse_nrs("pain_now", "0"), Ok(0));
        for bad in ["", "11", "-1", "7.5", "sept", "300"] {
            let err = parse_nrs("pain_now", bad).unwrap_err();
            assert_eq!(err.field, "pain_now", "input {bad:?}");
            assert!(!err.message.is_empty());
        }
    }

    #[test]
    fn bands_follow_the_usual_cut_offs() {
        assert_eq!(nrs_band_fr(0), "absente");
        assert_eq!(nrs_band_fr(4), "légère");
        assert_eq!(nrs_band_fr(5), "modérée");
        assert_eq!(nrs_band_fr(6), "modérée");
        assert_eq!(nrs_band_fr(7), "sévère");
        assert_eq!(nrs_band_fr(10), "sévère");
    }

    #[test]
    fn json_uses_the_protocol_field_names_and_defaults() {
        let a = assessment();
        let json = serde_json::to_value(&a).unwrap();
        for key in [
            "id",
            "patient_id",
            "recorded_at",
            "author_id",
            "device_id",
            "pain_now",
            "pain_average_24h",
            "pain_worst_24h",
            "location",
            "note",
            "mode",
            "amends",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        let mut minimal = json.clone();
        let obj = minimal.as_object_mut().unwrap();
        obj.remove("mode");
        obj.remove("note");
        obj.remove("amends");
        let back: PainAssessment = serde_json::from_value(minimal).unwrap();
        assert_eq!(back.mode, AssessmentMode::Interview);
        assert_eq!(back.amends, None);
    }
}
