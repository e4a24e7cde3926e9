//! Programmes (pathways) as data: who may include, the criteria, the care
//! contract, the duration, the ways out, the initial evaluation, the kinds of
//! plan item and the review schedule. Each programme is a JSON file in
//! `domain/programmes/` (format: `docs/programmes.md`), compiled into the
//! server and the app, so both apply the same rules. The chronic-pain pathway
//! is the first; another programme is another file, not another table.

use crate::date::CalendarDate;
use crate::{FieldError, Profession};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The files of the programmes this build carries.
const FILES: &[&str] = &[
    include_str!("../programmes/chronic_pain.json"),
    include_str!("../programmes/addiction_microstructure.json"),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    /// As written in records (`chronic_pain`).
    pub id: String,
    /// Raised when a rule changes; an inclusion records the version it was made under.
    pub version: u32,
    pub name: String,
    pub summary: String,
    pub includers: Includers,
    /// Whole years on the inclusion day (the birthday itself counts).
    pub min_age_years: i32,
    pub criteria: Vec<Criterion>,
    pub consent: Consent,
    pub duration_months: DurationMonths,
    pub exit_reasons: Vec<Choice>,
    pub initial_evaluation: InitialEvaluation,
    pub plan_item_kinds: Vec<PlanItemKind>,
    pub review_types: Vec<Choice>,
    pub review_schedule: Vec<ScheduledReview>,
    /// Kinds of notebook note only some roles of the team may read (and
    /// write), by note kind (`psychological`): the server never sends them
    /// to anyone else.
    #[serde(default)]
    pub restricted_notes: std::collections::BTreeMap<String, Vec<Profession>>,
}

/// Who may include a patient: these professions in their own name, and
/// those on behalf of a named GP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Includers {
    pub professions: Vec<Profession>,
    #[serde(default)]
    pub on_behalf_of_gp: Vec<Profession>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// Must be true to include.
    Inclusion,
    /// Must be false to include.
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub kind: CriterionKind,
    /// The question as the form asks it.
    pub label: String,
    /// Why a patient is not included when this criterion fails, in French.
    pub refusal: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The contract's version, recorded with each consent.
    pub version: String,
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationMonths {
    pub min: i32,
    pub max: i32,
}

/// A code and how it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialEvaluation {
    /// Instrument ids (`domain/instruments/`), in the order they are offered.
    pub instruments: Vec<String>,
    /// The history taken in the long first visit, one free text each.
    pub history: Vec<Choice>,
}

/// Who pays for a plan item: the pathway's own funding means no
/// out-of-pocket cost for the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    Pathway,
    HealthInsurance,
    Other,
}

impl Funding {
    pub fn label_fr(self) -> &'static str {
        match self {
            Funding::Pathway => "Financé par le parcours (sans reste à charge)",
            Funding::HealthInsurance => "Assurance maladie",
            Funding::Other => "Autre financement",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanItemKind {
    pub id: String,
    pub label: String,
    /// The profession that usually owns it (the form proposes them).
    pub owner: Profession,
    pub funding: Funding,
    /// An order that needs this profession's countersignature (TENS: the GP).
    #[serde(default)]
    pub countersigned_by: Option<Profession>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledReview {
    /// Months after the start of the pathway (the consent's start day).
    pub after_months: i32,
    /// One of `review_types`.
    #[serde(rename = "type")]
    pub review_type: String,
}

/// The outcome of one check of the eligibility rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `age` or a criterion id.
    pub id: String,
    pub label: String,
    pub passed: bool,
    /// Why not, in French, when it did not pass.
    pub refusal: Option<String>,
}

/// Every rule, item by item, for one patient on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    pub age_years: i32,
    pub checks: Vec<Check>,
}

impl Eligibility {
    pub fn eligible(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The reasons a patient is not eligible, in French, in rule order.
    pub fn refusals(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter_map(|c| c.refusal.as_deref())
            .collect()
    }
}

impl Programme {
    /// Every programme this build carries.
    pub fn all() -> &'static [Programme] {
        static ALL: OnceLock<Vec<Programme>> = OnceLock::new();
        ALL.get_or_init(|| {
            FILES
                .iter()
                // The files are part of the build and checked by the tests
                // below: one that does not read is a bug, not input.
                .map(|f| serde_json::from_str(f).expect("a programme file of this build"))
                .collect()
        })
    }

    pub fn find(id: &str) -> Option<&'static Programme> {
        Self::all().iter().find(|p| p.id == id)
    }

    /// Who may read a note of this kind in this programme; None: the whole
    /// care team.
    pub fn note_readers(&self, note_kind: &str) -> Option<&[Profession]> {
        self.restricted_notes.get(note_kind).map(Vec::as_slice)
    }

    /// Whether this profession may include in its own name (true), on
    /// behalf of a named GP (false), or not at all (None).
    pub fn includes_in_own_name(&self, profession: Profession) -> Option<bool> {
        if self.includers.professions.contains(&profession) {
            Some(true)
        } else if self.includers.on_behalf_of_gp.contains(&profession) {
            Some(false)
        } else {
            None
        }
    }

    /// The rules checked one by one: age on the inclusion day from the
    /// birth date, each inclusion criterion answered yes, each exclusion
    /// answered no. An unanswered criterion fails (the form asks them all).
    pub fn eligibility(
        &self,
        birth_date: CalendarDate,
        inclusion_day: CalendarDate,
        answers: &BTreeMap<String, bool>,
    ) -> Eligibility {
        let age_years = inclusion_day.years_since(birth_date);
        let mut checks = vec![Check {
            id: "age".into(),
            label: format!("{} ans ou plus le jour de l'inclusion", self.min_age_years),
            passed: age_years >= self.min_age_years,
            refusal: (age_years < self.min_age_years).then(|| {
                format!(
                    "Le patient a {age_years} ans le jour de l'inclusion : le parcours commence à {} ans.",
                    self.min_age_years
                )
            }),
        }];
        for criterion in &self.criteria {
            let answer = answers.get(&criterion.id).copied();
            let passed = match criterion.kind {
                CriterionKind::Inclusion => answer == Some(true),
                CriterionKind::Exclusion => answer == Some(false),
            };
            let refusal = match (passed, answer) {
                (true, _) => None,
                (false, None) => Some(format!("Critère non renseigné : {}.", criterion.label)),
                (false, Some(_)) => Some(criterion.refusal.clone()),
            };
            checks.push(Check {
                id: criterion.id.clone(),
                label: criterion.label.clone(),
                passed,
                refusal,
            });
        }
        Eligibility { age_years, checks }
    }

    /// Checks a planned end against the programme's duration.
    pub fn check_planned_end(
        &self,
        field: &str,
        starts_on: CalendarDate,
        planned_end_on: CalendarDate,
    ) -> Result<(), FieldError> {
        let (min, max) = (
            starts_on.add_months(self.duration_months.min),
            starts_on.add_months(self.duration_months.max),
        );
        match (min, max) {
            (Some(min), Some(max)) if (min..=max).contains(&planned_end_on) => Ok(()),
            _ => Err(FieldError::new(
                field,
                format!(
                    "La fin prévue doit tomber entre {} et {} mois après le début.",
                    self.duration_months.min, self.duration_months.max
                ),
            )),
        }
    }

    /// The review points the schedule plans from a start day.
    pub fn planned_reviews(&self, starts_on: CalendarDate) -> Vec<(CalendarDate, &Choice)> {
        self.review_schedule
            .iter()
            .filter_map(|r| {
                let kind = self.review_types.iter().find(|t| t.id == r.review_type)?;
                Some((starts_on.add_months(r.after_months)?, kind))
            })
            .collect()
    }

    pub fn exit_reason(&self, id: &str) -> Option<&Choice> {
        self.exit_reasons.iter().find(|r| r.id == id)
    }

    /// A plan item kind of whichever programme has it (ids are unique
    /// across programmes: a test checks it).
    pub fn any_plan_item_kind(id: &str) -> Option<&'static PlanItemKind> {
        Self::all().iter().find_map(|p| p.plan_item_kind(id))
    }

    /// A review type of whichever programme has it (unique ids too).
    pub fn any_review_type(id: &str) -> Option<&'static Choice> {
        Self::all().iter().find_map(|p| p.review_type(id))
    }

    /// Whether this profession includes patients in some programme.
    pub fn any_includes(profession: Profession) -> bool {
        Self::all()
            .iter()
            .any(|p| p.includes_in_own_name(profession).is_some())
    }

    pub fn plan_item_kind(&self, id: &str) -> Option<&PlanItemKind> {
        self.plan_item_kinds.iter().find(|k| k.id == id)
    }

    pub fn review_type(&self, id: &str) -> Option<&Choice> {
        self.review_types.iter().find(|k| k.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> CalendarDate {
        s.parse().unwrap()
    }

    fn pain() -> &'static Programme {
        Programme::find("chronic_pain").expect("the chronic-pain pathway ships")
    }

    fn all_good() -> BTreeMap<String, bool> {
        pain()
            .criteria
            .iter()
            .map(|c| (c.id.clone(), c.kind == CriterionKind::Inclusion))
            .collect()
    }

    #[test]
    fn every_programme_file_reads_and_refers_to_what_exists() {
        assert!(!Programme::all().is_empty());
        for p in Programme::all() {
            for r in &p.review_schedule {
                assert!(p.review_type(&r.review_type).is_some(), "{}", r.review_type);
            }
            for i in &p.initial_evaluation.instruments {
                assert!(
                    crate::instrument::Instrument::find(i).is_some(),
                    "{}: unknown instrument {i}",
                    p.id
                );
            }
            assert!(p.duration_months.min <= p.duration_months.max);
        }
    }

    #[test]
    fn the_chronic_pain_pathway_is_as_the_seed_says() {
        let p = pain();
        assert_eq!(p.min_age_years, 15);
        assert_eq!((p.duration_months.min, p.duration_months.max), (6, 18));
        let exclusions: Vec<&str> = p
            .criteria
            .iter()
            .filter(|c| c.kind == CriterionKind::Exclusion)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(exclusions.len(), 4);
        assert_eq!(
            p.includes_in_own_name(Profession::GeneralPractitioner),
            Some(true)
        );
        assert_eq!(
            p.includes_in_own_name(Profession::PainResourceNurse),
            Some(false)
        );
        assert_eq!(p.includes_in_own_name(Profession::Physiotherapist), None);
        assert_eq!(
            p.plan_item_kind("tens").and_then(|k| k.countersigned_by),
            Some(Profession::GeneralPractitioner)
        );
    }

    #[test]
    fn kinds_and_review_types_are_unique_across_programmes() {
        let mut kinds = std::collections::BTreeSet::new();
        let mut reviews = std::collections::BTreeSet::new();
        for p in Programme::all() {
            for k in &p.plan_item_kinds {
                assert!(kinds.insert(k.id.clone()), "{}", k.id);
            }
            for r in &p.review_types {
                assert!(reviews.insert(r.id.clone()), "{}", r.id);
            }
        }
        assert_eq!(
            Programme::any_plan_item_kind("social_follow_up").map(|k| k.owner),
            Some(Profession::SocialWorker)
        );
        assert!(Programme::any_review_type("synthesis").is_some());
        assert!(Programme::any_includes(Profession::PainResourceNurse));
        assert!(!Programme::any_includes(Profession::Psychologist));
    }

    #[test]
    fn the_addiction_microstructure_is_for_adults_included_by_their_gp() {
        let p = Programme::find("addiction_microstructure").expect("the microstructure ships");
        let answers: BTreeMap<String, bool> = p
            .criteria
            .iter()
            .map(|c| (c.id.clone(), c.kind == CriterionKind::Inclusion))
            .collect();
        let birth = d("2008-12-02");
        assert!(p.eligibility(birth, d("2026-12-02"), &answers).eligible());
        let minor = p.eligibility(birth, d("2026-12-01"), &answers);
        assert_eq!(
            minor.refusals(),
            vec!["Le patient a 17 ans le jour de l'inclusion : le parcours commence à 18 ans."]
        );
        assert_eq!(
            p.includes_in_own_name(Profession::GeneralPractitioner),
            Some(true)
        );
        // Only the GP includes: nobody on their behalf.
        assert_eq!(p.includes_in_own_name(Profession::PainResourceNurse), None);
        assert_eq!(
            p.restricted_notes.get("psychological"),
            Some(&vec![
                Profession::Psychologist,
                Profession::GeneralPractitioner
            ])
        );
        assert_eq!(
            p.plan_item_kind("social_follow_up").map(|k| k.owner),
            Some(Profession::SocialWorker)
        );
    }

    #[test]
    fn the_fifteenth_birthday_is_the_first_day_of_eligibility() {
        let p = pain();
        let birth = d("2011-11-24");
        let on_birthday = p.eligibility(birth, d("2026-11-24"), &all_good());
        assert_eq!(on_birthday.age_years, 15);
        assert!(on_birthday.eligible());
        let day_before = p.eligibility(birth, d("2026-11-23"), &all_good());
        assert_eq!(day_before.age_years, 14);
        assert!(!day_before.eligible());
        assert_eq!(
            day_before.refusals(),
            vec!["Le patient a 14 ans le jour de l'inclusion : le parcours commence à 15 ans."]
        );
    }

    #[test]
    fn each_exclusion_alone_refuses_with_its_own_reason() {
        let p = pain();
        for c in p
            .criteria
            .iter()
            .filter(|c| c.kind == CriterionKind::Exclusion)
        {
            let mut answers = all_good();
            answers.insert(c.id.clone(), true);
            let e = p.eligibility(d("1960-01-01"), d("2026-11-24"), &answers);
            assert!(!e.eligible(), "{}", c.id);
            assert_eq!(e.refusals(), vec![c.refusal.as_str()]);
            let failed: Vec<&str> = e
                .checks
                .iter()
                .filter(|x| !x.passed)
                .map(|x| x.id.as_str())
                .collect();
            assert_eq!(failed, vec![c.id.as_str()]);
        }
    }

    #[test]
    fn no_chronic_pain_or_an_unanswered_criterion_is_not_eligible() {
        let p = pain();
        let mut answers = all_good();
        answers.insert("chronic_pain_or_risk".into(), false);
        let e = p.eligibility(d("1960-01-01"), d("2026-11-24"), &answers);
        assert!(!e.eligible());
        answers.remove("chronic_pain_or_risk");
        answers.remove("major_loss_of_autonomy");
        let e = p.eligibility(d("1960-01-01"), d("2026-11-24"), &answers);
        assert_eq!(e.refusals().len(), 2);
        assert!(e.refusals()[1].starts_with("Critère non renseigné"));
        assert!(p
            .eligibility(d("1960-01-01"), d("2026-11-24"), &all_good())
            .eligible());
    }

    #[test]
    fn the_planned_end_falls_within_six_to_eighteen_months() {
        let p = pain();
        let start = d("2026-11-24");
        assert!(p.check_planned_end("e", start, d("2027-05-24")).is_ok());
        assert!(p.check_planned_end("e", start, d("2028-05-24")).is_ok());
        assert_eq!(
            p.check_planned_end("e", start, d("2027-05-23"))
                .unwrap_err()
                .field,
            "e"
        );
        assert!(p.check_planned_end("e", start, d("2028-05-25")).is_err());
        let reviews = p.planned_reviews(start);
        assert_eq!(reviews.first().map(|r| r.0), Some(d("2026-12-24")));
        assert_eq!(reviews.len(), p.review_schedule.len());
    }
}
