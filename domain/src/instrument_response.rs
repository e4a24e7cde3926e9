//! One filled instrument: every answer, the scores computed from them, the
//! instrument's id, version and language, how it was obtained and by whom.
//! An append-lane record: a correction is a new response that amends it.

use crate::instrument::{Answer, Instrument, ResponseMode, Score};
use crate::record::{record_body, Reference};
use crate::{AccountId, DeviceId, FieldError, PatientId, RecordId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentResponse {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub instrument_id: String,
    pub instrument_version: String,
    pub language: String,
    pub mode: ResponseMode,
    /// The visit it was filled in, if any.
    #[serde(default)]
    pub visit_id: Option<RecordId>,
    pub answers: BTreeMap<String, Answer>,
    /// As [`Instrument::score`] computes them from `answers`; the server
    /// checks they are.
    pub scores: Vec<Score>,
}

impl InstrumentResponse {
    pub fn instrument(&self) -> Option<&'static Instrument> {
        Instrument::find(&self.instrument_id)
    }

    /// Each score as a person reads it: "DN4 5/10 (douleur neuropathique
    /// probable) · …"; a score too few items allowed is said to be so.
    pub fn scores_fr(&self) -> String {
        let Some(instrument) = self.instrument() else {
            return String::new();
        };
        instrument
            .scores
            .iter()
            .zip(&self.scores)
            .map(|(def, s)| match s.value {
                Some(v) => format!(
                    "{} {}/{}{}",
                    def.label,
                    v.french(),
                    def.max,
                    s.band
                        .as_ref()
                        .map(|b| format!(" ({b})"))
                        .unwrap_or_default()
                ),
                None => format!("{} non calculé", def.label),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn check(&self) -> Result<(), FieldError> {
        let instrument = self
            .instrument()
            .ok_or_else(|| FieldError::new("instrument_id", "Instrument inconnu."))?;
        if (&self.instrument_version, &self.language) != (&instrument.version, &instrument.language)
        {
            return Err(FieldError::new(
                "instrument_version",
                format!(
                    "Version attendue : {} ({}).",
                    instrument.version, instrument.language
                ),
            ));
        }
        if self.answers.is_empty() {
            return Err(FieldError::new("answers", "Aucune réponse."));
        }
        instrument.check_answers(self.mode, &self.answers)?;
        if self.scores != instrument.score(&self.answers) {
            return Err(FieldError::new(
                "scores",
                "Les scores ne correspondent pas aux réponses.",
            ));
        }
        Ok(())
    }

    fn references(&self) -> Vec<Reference> {
        self.visit_id
            .map(|v| Reference::to("visit_id", v.0, &["visit"]))
            .into_iter()
            .collect()
    }
}

record_body!(InstrumentResponse, refers_to => InstrumentResponse::references);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordBody;

    const NOW: i64 = 1_795_000_000_000;

    fn dn4(mode: ResponseMode, yes: &[&str]) -> InstrumentResponse {
        let ins = Instrument::find("dn4").unwrap();
        let answers: BTreeMap<String, Answer> = ins
            .items
            .iter()
            .filter(|i| mode == ResponseMode::Examination || i.requires.is_none())
            .map(|i| (i.id.clone(), Answer::YesNo(yes.contains(&i.id.as_str()))))
            .collect();
        InstrumentResponse {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            instrument_id: ins.id.clone(),
            instrument_version: ins.version.clone(),
            language: ins.language.clone(),
            mode,
            visit_id: None,
            scores: ins.score(&answers),
            answers,
        }
    }

    #[test]
    fn a_response_keeps_answers_and_the_scores_they_give() {
        let r = dn4(
            ResponseMode::Examination,
            &["burning", "tingling", "numbness", "brushing"],
        );
        assert_eq!(r.validate_at(NOW), Ok(()));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["answers"]["burning"], true);
        assert_eq!(json["scores"][0]["value"], 4);
        let back: InstrumentResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn forged_scores_and_wrong_versions_are_refused() {
        let mut r = dn4(ResponseMode::Interview, &["burning"]);
        r.scores[1].value = Some(crate::instrument::Hundredths(700));
        assert_eq!(r.validate_at(NOW).unwrap_err().field, "scores");
        let mut r = dn4(ResponseMode::Interview, &["burning"]);
        r.instrument_version = "2004".into();
        assert_eq!(r.validate_at(NOW).unwrap_err().field, "instrument_version");
        let mut r = dn4(ResponseMode::Interview, &["burning"]);
        r.instrument_id = "mmse".into();
        assert_eq!(r.validate_at(NOW).unwrap_err().field, "instrument_id");
        let mut r = dn4(ResponseMode::Interview, &[]);
        r.answers.clear();
        r.scores = Instrument::find("dn4").unwrap().score(&r.answers);
        assert_eq!(r.validate_at(NOW).unwrap_err().field, "answers");
        // Examination items in an interview.
        let mut r = dn4(ResponseMode::Examination, &["brushing"]);
        r.mode = ResponseMode::Interview;
        assert_eq!(r.validate_at(NOW).unwrap_err().field, "answers.brushing");
    }
}
