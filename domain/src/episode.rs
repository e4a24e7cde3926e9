//! An episode in a patient's programme: a relapse, a break in follow-up, a
//! resumption. Continuity across relapses: an episode is an event of the
//! pathway, not an exit — the inclusion stays, the team keeps following.

use crate::date::CalendarDate;
use crate::record::{record_body, Reference};
use crate::validation::{check_text, MAX_CLOCK_SKEW_MS};
use crate::{AccountId, DeviceId, FieldError, PatientId, RecordId};
use serde::{Deserialize, Serialize};

pub const NOTE_MAX_CHARS: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeKind {
    Relapse,
    /// The patient stopped coming, or could not be reached.
    BreakInFollowUp,
    /// Follow-up resumed after a relapse or a break.
    Resumed,
}

impl EpisodeKind {
    pub const ALL: [EpisodeKind; 3] = [Self::Relapse, Self::BreakInFollowUp, Self::Resumed];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Relapse => "Rechute",
            Self::BreakInFollowUp => "Rupture du suivi",
            Self::Resumed => "Reprise du suivi",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    /// The inclusion this episode belongs to.
    pub enrollment_id: RecordId,
    pub episode_kind: EpisodeKind,
    /// When it happened (or began).
    pub on: CalendarDate,
    #[serde(default)]
    pub note: String,
}

impl Episode {
    fn check(&self) -> Result<(), FieldError> {
        let written_day = (self.recorded_at + MAX_CLOCK_SKEW_MS).div_euclid(86_400_000);
        if self.on.days_since_epoch() > written_day {
            return Err(FieldError::new(
                "on",
                "Un épisode se note quand il a eu lieu, pas à l'avance.",
            ));
        }
        if self.on.year() < 2020 {
            return Err(FieldError::new("on", "Date antérieure à 2020 : invalide."));
        }
        check_text("note", &self.note, NOTE_MAX_CHARS)
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "enrollment_id",
            self.enrollment_id.0,
            &["enrollment"],
        )]
    }
}

record_body!(Episode, refers_to => Episode::references);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordBody;

    /// 2026-11-20T10:00:00Z.
    const NOW: i64 = 1_795_168_800_000;

    fn episode() -> Episode {
        Episode {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            enrollment_id: RecordId::new(),
            episode_kind: EpisodeKind::Relapse,
            on: "2026-11-18".parse().unwrap(),
            note: "Reprise de la consommation après un deuil.".into(),
        }
    }

    #[test]
    fn an_episode_and_its_rules() {
        assert_eq!(episode().validate_at(NOW), Ok(()));
        assert_eq!(episode().refers_to()[0].kinds, &["enrollment"]);
        let mut e = episode();
        e.on = "2026-11-25".parse().unwrap();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "on");
        let mut e = episode();
        e.note = "\u{0}".into();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "note");
    }
}
