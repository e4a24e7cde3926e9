//! A patient's entry into a programme (inclusion), their consent to its care
//! contract, and their exit: three append-lane records, never edited — a
//! correction amends, and an exited patient keeps their history.
//!
//! An inclusion of someone Parcours does not know yet brings them in: the
//! server creates the patient and the care team it names, so a GP can
//! include offline at the practice and sync later.

use crate::date::CalendarDate;
use crate::patient::Patient;
use crate::programme::Programme;
use crate::record::{check_profession, record_body, Directory, Opening, Reference};
use crate::validation::{check_text, EARLIEST_MS};
use crate::{AccountId, DeviceId, FieldError, PatientId, Profession, RecordId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const NAME_MAX_CHARS: usize = 100;
pub const ADDRESS_MAX_CHARS: usize = 300;
pub const REASON_MAX_CHARS: usize = 2000;
pub const NOTE_MAX_CHARS: usize = 4000;
pub const MAX_TEAM: usize = 30;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    /// As the identity document says when it is neither.
    Undetermined,
}

impl Sex {
    pub const ALL: [Sex; 3] = [Sex::Female, Sex::Male, Sex::Undetermined];
    pub fn label_fr(self) -> &'static str {
        match self {
            Sex::Female => "Féminin",
            Sex::Male => "Masculin",
            Sex::Undetermined => "Indéterminé",
        }
    }
}

/// The status of the national health identity (INS): how far it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsStatus {
    Provisional,
    Recovered,
    Validated,
    Qualified,
}

impl InsStatus {
    pub const ALL: [InsStatus; 4] = [
        Self::Provisional,
        Self::Recovered,
        Self::Validated,
        Self::Qualified,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Provisional => "Provisoire",
            Self::Recovered => "Récupérée",
            Self::Validated => "Validée",
            Self::Qualified => "Qualifiée",
        }
    }
}

/// The national health identifier (INS): the NIR and its status. Ready for
/// the teleservice; filled by hand until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ins {
    /// 15 digits (13 + the 2-digit key), or empty while provisional.
    #[serde(default)]
    pub number: String,
    pub status: InsStatus,
}

/// Who the patient is, as recorded at inclusion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub family_name: String,
    pub given_name: String,
    pub birth_date: CalendarDate,
    pub sex: Sex,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    pub town: String,
    #[serde(default)]
    pub ins: Option<Ins>,
}

impl Identity {
    pub fn check(&self) -> Result<(), FieldError> {
        for (field, value) in [
            ("identity.family_name", &self.family_name),
            ("identity.given_name", &self.given_name),
            ("identity.town", &self.town),
        ] {
            if value.trim().is_empty() {
                return Err(FieldError::new(field, "Champ obligatoire."));
            }
            check_text(field, value, NAME_MAX_CHARS)?;
        }
        check_text("identity.address", &self.address, ADDRESS_MAX_CHARS)?;
        let phone_ok = self.phone.chars().count() <= 30
            && self
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '.' | '-'));
        if !phone_ok {
            return Err(FieldError::new(
                "identity.phone",
                "Numéro de téléphone invalide (chiffres, espaces, +).",
            ));
        }
        if let Some(ins) = &self.ins {
            if !(ins.number.is_empty() || is_nir(&ins.number)) {
                return Err(FieldError::new(
                    "identity.ins.number",
                    "Matricule INS invalide : 15 chiffres dont la clé.",
                ));
            }
            if ins.number.is_empty() && ins.status != InsStatus::Provisional {
                return Err(FieldError::new(
                    "identity.ins.number",
                    "Une identité récupérée, validée ou qualifiée a un matricule.",
                ));
            }
        }
        Ok(())
    }
}

/// A NIR with its key: 13 digits (Corsica's 2A/2B read as 19/18) and a key
/// of 97 − (number mod 97).
pub fn is_nir(s: &str) -> bool {
    if s.len() != 15 || !s.is_ascii() {
        return false;
    }
    let (body, key) = s.split_at(13);
    let body = match &body[5..7] {
        "2A" => format!("{}19{}", &body[..5], &body[7..]),
        "2B" => format!("{}18{}", &body[..5], &body[7..]),
        _ => body.to_string(),
    };
    match (body.parse::<u64>(), key.parse::<u64>()) {
        (Ok(n), Ok(k)) if body.bytes().all(|b| b.is_ascii_digit()) => 97 - n % 97 == k,
        _ => false,
    }
}

/// Someone the inclusion puts in the care team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub account_id: AccountId,
    pub role: Profession,
    pub from: CalendarDate,
}

/// A patient's inclusion in a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub programme_id: String,
    pub programme_version: u32,
    pub included_on: CalendarDate,
    /// The GP who includes: the author, or the GP a nurse includes for.
    pub referring_gp_id: AccountId,
    pub reason: String,
    pub identity: Identity,
    /// Each criterion of the programme, answered.
    pub eligibility: BTreeMap<String, bool>,
    #[serde(default)]
    pub care_team: Vec<TeamMember>,
}

fn programme(id: &str, version: u32) -> Result<&'static Programme, FieldError> {
    let p =
        Programme::find(id).ok_or_else(|| FieldError::new("programme_id", "Parcours inconnu."))?;
    if p.version != version {
        return Err(FieldError::new(
            "programme_version",
            "Version du parcours différente : mettez l'application à jour.",
        ));
    }
    Ok(p)
}

/// A calendar day no later than the day after the record was made (time
/// zones), and not before 2020.
fn check_day(field: &str, day: CalendarDate, recorded_at: i64) -> Result<(), FieldError> {
    let days = day.days_since_epoch();
    if days * DAY_MS < EARLIEST_MS - DAY_MS {
        return Err(FieldError::new(field, "Date antérieure à 2020 : invalide."));
    }
    if days > recorded_at.div_euclid(DAY_MS) + 1 {
        return Err(FieldError::new(field, "Cette date est dans le futur."));
    }
    Ok(())
}

impl Enrollment {
    /// The programme's rules, item by item, for this patient on this day.
    pub fn eligibility(&self) -> Result<crate::programme::Eligibility, FieldError> {
        let p = programme(&self.programme_id, self.programme_version)?;
        Ok(p.eligibility(
            self.identity.birth_date,
            self.included_on,
            &self.eligibility,
        ))
    }

    fn check(&self) -> Result<(), FieldError> {
        let p = programme(&self.programme_id, self.programme_version)?;
        self.identity.check()?;
        check_day("included_on", self.included_on, self.recorded_at)?;
        if self.reason.trim().is_empty() {
            return Err(FieldError::new("reason", "Indiquez le motif d'inclusion."));
        }
        check_text("reason", &self.reason, REASON_MAX_CHARS)?;
        if let Some(id) = self
            .eligibility
            .keys()
            .find(|k| !p.criteria.iter().any(|c| &c.id == *k))
        {
            return Err(FieldError::new(
                format!("eligibility.{id}"),
                "Critère inconnu pour ce parcours.",
            ));
        }
        let e = p.eligibility(
            self.identity.birth_date,
            self.included_on,
            &self.eligibility,
        );
        if let Some(failed) = e.checks.iter().find(|c| !c.passed) {
            let field = if failed.id == "age" {
                "identity.birth_date".to_string()
            } else {
                format!("eligibility.{}", failed.id)
            };
            return Err(FieldError::new(
                field,
                failed.refusal.clone().unwrap_or_default(),
            ));
        }
        if self.care_team.len() > MAX_TEAM {
            return Err(FieldError::new(
                "care_team",
                format!("Au plus {MAX_TEAM} membres."),
            ));
        }
        for (i, m) in self.care_team.iter().enumerate() {
            if self.care_team[..i]
                .iter()
                .any(|o| o.account_id == m.account_id)
            {
                return Err(FieldError::new(
                    format!("care_team[{i}].account_id"),
                    "Ce professionnel figure deux fois dans l'équipe.",
                ));
            }
        }
        Ok(())
    }

    fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        let p = programme(&self.programme_id, self.programme_version)?;
        let refused = "Seul le médecin traitant, ou l'IRDP en son nom, peut inclure un patient dans ce parcours.";
        let author = directory
            .profession(self.author_id)
            .ok_or_else(|| FieldError::new("author_id", "Compte inconnu ou désactivé."))?;
        match p.includes_in_own_name(author) {
            Some(true) if self.referring_gp_id == self.author_id => {}
            Some(true) => {
                return Err(FieldError::new(
                    "referring_gp_id",
                    "Un médecin inclut en son propre nom.",
                ))
            }
            Some(false) => check_profession(
                directory,
                "referring_gp_id",
                self.referring_gp_id,
                &[Profession::GeneralPractitioner],
                "Nommez le médecin traitant pour qui vous incluez.",
            )?,
            None => return Err(FieldError::new("author_id", refused)),
        }
        for (i, m) in self.care_team.iter().enumerate() {
            check_profession(
                directory,
                &format!("care_team[{i}].role"),
                m.account_id,
                &[m.role],
                "Ce rôle n'est pas la profession de ce compte.",
            )?;
        }
        Ok(())
    }

    fn opening(&self) -> Option<Opening> {
        let mut team = vec![self.author_id, self.referring_gp_id];
        for m in &self.care_team {
            if !team.contains(&m.account_id) {
                team.push(m.account_id);
            }
        }
        team.dedup();
        Some(Opening {
            patient: Patient {
                id: self.patient_id,
                family_name: self.identity.family_name.trim().to_string(),
                given_name: self.identity.given_name.trim().to_string(),
                birth_date: self.identity.birth_date.to_string(),
                town: self.identity.town.trim().to_string(),
                care_team: vec![],
            },
            team,
        })
    }
}

record_body!(Enrollment,
    opens => Enrollment::opening,
    check_people => Enrollment::check_people,
);

/// The patient's consent to the programme's care contract: the pathway
/// starts with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    /// The inclusion this consent is for.
    pub enrollment_id: RecordId,
    pub programme_id: String,
    /// The contract's version the patient agreed to.
    pub contract_version: String,
    pub consented_on: CalendarDate,
    /// Who collected it.
    pub collected_by: AccountId,
    pub starts_on: CalendarDate,
    pub planned_end_on: CalendarDate,
}

impl Consent {
    fn check(&self) -> Result<(), FieldError> {
        let p = Programme::find(&self.programme_id)
            .ok_or_else(|| FieldError::new("programme_id", "Parcours inconnu."))?;
        if self.contract_version != p.consent.version {
            return Err(FieldError::new(
                "contract_version",
                format!(
                    "Le contrat en vigueur est la version {} : faites-le accepter.",
                    p.consent.version
                ),
            ));
        }
        check_day("consented_on", self.consented_on, self.recorded_at)?;
        if self.starts_on < self.consented_on {
            return Err(FieldError::new(
                "starts_on",
                "Le parcours commence au plus tôt le jour du consentement.",
            ));
        }
        p.check_planned_end("planned_end_on", self.starts_on, self.planned_end_on)
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "enrollment_id",
            self.enrollment_id.0,
            &["enrollment"],
        )]
    }

    fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        check_profession(directory, "collected_by", self.collected_by, &[], "")
    }
}

record_body!(Consent,
    refers_to => Consent::references,
    check_people => Consent::check_people,
);

/// The end of a patient's pathway, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub enrollment_id: RecordId,
    pub programme_id: String,
    pub exited_on: CalendarDate,
    /// One of the programme's exit reasons.
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

impl Exit {
    fn check(&self) -> Result<(), FieldError> {
        let p = Programme::find(&self.programme_id)
            .ok_or_else(|| FieldError::new("programme_id", "Parcours inconnu."))?;
        if p.exit_reason(&self.reason).is_none() {
            return Err(FieldError::new("reason", "Motif de sortie inconnu."));
        }
        check_day("exited_on", self.exited_on, self.recorded_at)?;
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

record_body!(Exit, refers_to => Exit::references);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testing::People;
    use crate::record::RecordBody;

    const NOW: i64 = 1_795_000_000_000; // 2026-11-18

    pub fn enrollment(author: AccountId, gp: AccountId) -> Enrollment {
        let p = Programme::find("chronic_pain").unwrap();
        Enrollment {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: author,
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            programme_id: p.id.clone(),
            programme_version: p.version,
            included_on: "2026-11-18".parse().unwrap(),
            referring_gp_id: gp,
            reason: "Lombalgie chronique depuis 8 mois".into(),
            identity: Identity {
                family_name: "Morel".into(),
                given_name: "Lucie".into(),
                birth_date: "1971-05-02".parse().unwrap(),
                sex: Sex::Female,
                phone: "06 12 34 56 78".into(),
                address: "3 rue des Lilas".into(),
                town: "Pontivy".into(),
                ins: None,
            },
            eligibility: p
                .criteria
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        c.kind == crate::programme::CriterionKind::Inclusion,
                    )
                })
                .collect(),
            care_team: vec![],
        }
    }

    #[test]
    fn an_eligible_inclusion_by_a_gp_opens_the_patient_with_the_team() {
        let gp = AccountId::new();
        let physio = AccountId::new();
        let mut e = enrollment(gp, gp);
        e.care_team.push(TeamMember {
            account_id: physio,
            role: Profession::Physiotherapist,
            from: "2026-11-18".parse().unwrap(),
        });
        assert_eq!(e.validate_at(NOW), Ok(()));
        let people = People::default()
            .with(gp, Profession::GeneralPractitioner)
            .with(physio, Profession::Physiotherapist);
        assert_eq!(e.check_people(&people), Ok(()));
        let opening = e.opens().unwrap();
        assert_eq!(opening.team, vec![gp, physio]);
        assert_eq!(opening.patient.birth_date, "1971-05-02");
    }

    #[test]
    fn an_ineligible_patient_is_refused_with_the_reason() {
        let gp = AccountId::new();
        let mut e = enrollment(gp, gp);
        e.eligibility
            .insert("ongoing_cancer_treatment".into(), true);
        let err = e.validate_at(NOW).unwrap_err();
        assert_eq!(err.field, "eligibility.ongoing_cancer_treatment");
        assert!(err.message.contains("cancer"), "{err:?}");
        let mut young = enrollment(gp, gp);
        young.identity.birth_date = "2011-11-19".parse().unwrap();
        let err = young.validate_at(NOW).unwrap_err();
        assert_eq!(err.field, "identity.birth_date");
        young.identity.birth_date = "2011-11-18".parse().unwrap();
        assert_eq!(young.validate_at(NOW), Ok(()), "15 on the inclusion day");
    }

    #[test]
    fn who_may_include() {
        let (gp, nurse, physio) = (AccountId::new(), AccountId::new(), AccountId::new());
        let people = People::default()
            .with(gp, Profession::GeneralPractitioner)
            .with(nurse, Profession::PainResourceNurse)
            .with(physio, Profession::Physiotherapist);
        // A nurse, on behalf of a named GP.
        assert_eq!(enrollment(nurse, gp).check_people(&people), Ok(()));
        let err = enrollment(nurse, physio).check_people(&people).unwrap_err();
        assert_eq!(err.field, "referring_gp_id");
        assert_eq!(
            enrollment(physio, gp)
                .check_people(&people)
                .unwrap_err()
                .field,
            "author_id"
        );
        assert_eq!(
            enrollment(gp, AccountId::new())
                .check_people(&people)
                .unwrap_err()
                .field,
            "referring_gp_id"
        );
        let mut wrong_role = enrollment(gp, gp);
        wrong_role.care_team.push(TeamMember {
            account_id: physio,
            role: Profession::Psychologist,
            from: "2026-11-18".parse().unwrap(),
        });
        assert_eq!(
            wrong_role.check_people(&people).unwrap_err().field,
            "care_team[0].role"
        );
    }

    #[test]
    fn identity_rules() {
        let gp = AccountId::new();
        let mut e = enrollment(gp, gp);
        e.identity.family_name = " ".into();
        assert_eq!(
            e.validate_at(NOW).unwrap_err().field,
            "identity.family_name"
        );
        let mut e = enrollment(gp, gp);
        e.identity.phone = "appelez-moi".into();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "identity.phone");
        let mut e = enrollment(gp, gp);
        // 2 71 05 56 123 456 → key 97 − (2710556123456 mod 97).
        let body = 2_710_556_123_456u64;
        let nir = format!("{body}{:02}", 97 - body % 97);
        e.identity.ins = Some(Ins {
            number: nir.clone(),
            status: InsStatus::Qualified,
        });
        assert_eq!(e.validate_at(NOW), Ok(()));
        e.identity.ins = Some(Ins {
            number: format!("{}00", &nir[..13]),
            status: InsStatus::Qualified,
        });
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "identity.ins.number");
        // Corsica: 2A counts as 19 in the key.
        let corsican = 1_850_519_123_456u64;
        assert!(is_nir(&format!("185052A123456{:02}", 97 - corsican % 97)));
        assert!(!is_nir(&format!("185052B123456{:02}", 97 - corsican % 97)));
        let mut e = enrollment(gp, gp);
        e.included_on = "2026-11-25".parse().unwrap();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "included_on");
    }

    #[test]
    fn consent_follows_the_contract_and_the_duration() {
        let gp = AccountId::new();
        let e = enrollment(gp, gp);
        let p = Programme::find("chronic_pain").unwrap();
        let mut c = Consent {
            id: RecordId::new(),
            patient_id: e.patient_id,
            author_id: gp,
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            enrollment_id: e.id,
            programme_id: p.id.clone(),
            contract_version: p.consent.version.clone(),
            consented_on: "2026-11-18".parse().unwrap(),
            collected_by: gp,
            starts_on: "2026-11-18".parse().unwrap(),
            planned_end_on: "2027-11-18".parse().unwrap(),
        };
        assert_eq!(c.validate_at(NOW), Ok(()));
        assert_eq!(c.refers_to()[0].id, e.id.0);
        c.planned_end_on = "2028-11-18".parse().unwrap();
        assert_eq!(c.validate_at(NOW).unwrap_err().field, "planned_end_on");
        c.planned_end_on = "2027-11-18".parse().unwrap();
        c.contract_version = "2020-01".into();
        assert_eq!(c.validate_at(NOW).unwrap_err().field, "contract_version");
    }

    #[test]
    fn exit_reasons_come_from_the_programme() {
        let gp = AccountId::new();
        let e = enrollment(gp, gp);
        let mut x = Exit {
            id: RecordId::new(),
            patient_id: e.patient_id,
            author_id: gp,
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            enrollment_id: e.id,
            programme_id: "chronic_pain".into(),
            exited_on: "2026-11-18".parse().unwrap(),
            reason: "goals_met".into(),
            note: String::new(),
        };
        assert_eq!(x.validate_at(NOW), Ok(()));
        x.reason = "bored".into();
        assert_eq!(x.validate_at(NOW).unwrap_err().field, "reason");
    }
}
