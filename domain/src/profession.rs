use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What a professional is, which decides what they own in a care plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    /// Infirmière ressource douleur de proximité.
    PainResourceNurse,
    /// Médecin traitant.
    GeneralPractitioner,
    Nurse,
    Physiotherapist,
    Psychologist,
    /// Enseignant·e en activité physique adaptée.
    AdaptedActivityCoach,
    Pharmacist,
    SocialWorker,
    /// Coordonnateur·rice d'appui.
    SupportCoordinator,
}

impl Profession {
    pub const ALL: [Profession; 9] = [
        Self::PainResourceNurse,
        Self::GeneralPractitioner,
        Self::Nurse,
        Self::Physiotherapist,
        Self::Psychologist,
        Self::AdaptedActivityCoach,
        Self::Pharmacist,
        Self::SocialWorker,
        Self::SupportCoordinator,
    ];

    /// The code used in the database, the protocol and the command line.
    pub fn code(self) -> &'static str {
        match self {
            Self::PainResourceNurse => "pain_resource_nurse",
            Self::GeneralPractitioner => "general_practitioner",
            Self::Nurse => "nurse",
            Self::Physiotherapist => "physiotherapist",
            Self::Psychologist => "psychologist",
            Self::AdaptedActivityCoach => "adapted_activity_coach",
            Self::Pharmacist => "pharmacist",
            Self::SocialWorker => "social_worker",
            Self::SupportCoordinator => "support_coordinator",
        }
    }

    /// How the profession is written on screen.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::PainResourceNurse => "Infirmière ressource douleur",
            Self::GeneralPractitioner => "Médecin traitant",
            Self::Nurse => "Infirmier·e",
            Self::Physiotherapist => "Masseur-kinésithérapeute",
            Self::Psychologist => "Psychologue",
            Self::AdaptedActivityCoach => "Enseignant·e en APA",
            Self::Pharmacist => "Pharmacien·ne",
            Self::SocialWorker => "Assistant·e de service social",
            Self::SupportCoordinator => "Coordonnateur·rice d'appui",
        }
    }
}

impl FromStr for Profession {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.code() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|p| p.code()).collect();
                format!(
                    "unknown profession '{s}', expected one of: {}",
                    known.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_profession() {
        for p in Profession::ALL {
            assert_eq!(p.code().parse::<Profession>(), Ok(p));
        }
        assert!("surgeon".parse::<Profession>().is_err());
    }
}
