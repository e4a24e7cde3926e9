//! The instrument engine: each instrument is a data file in
//! `domain/instruments/` (its items, answer types, scoring rules, cut-offs,
//! missing-data rules, version, language, licence; format in
//! `docs/instruments.md`), and scoring is this one implementation, run by the
//! app as the nurse fills a form and by the server to check what it stores.
//!
//! Licensed instruments (DN4, QCD, HADS, PCS-CF) ship as structure and
//! scoring only: their wording is a file a licensed deployment supplies
//! ([`Wording`]); without it the instrument is unavailable, never shown with
//! made-up wording. Scores are screening aids shown with their cut-offs,
//! never a diagnosis.

use crate::{body_map, FieldError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const FILES: &[&str] = &[
    include_str!("../instruments/en.json"),
    include_str!("../instruments/evs.json"),
    include_str!("../instruments/sleep.json"),
    include_str!("../instruments/pgic.json"),
    include_str!("../instruments/dn4.json"),
    include_str!("../instruments/qcd.json"),
    include_str!("../instruments/hads.json"),
    include_str!("../instruments/pcs_cf.json"),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// As written in responses (`dn4`).
    pub id: String,
    /// The instrument's own version (`2005` for DN4); kept with every response.
    pub version: String,
    /// The language of its wording (`fr`).
    pub language: String,
    pub name: String,
    pub licence: Licence,
    /// Shipped wording only; a wording file brings its own.
    #[serde(default)]
    pub instructions: Option<String>,
    /// The period the answers are about ("la semaine écoulée").
    #[serde(default)]
    pub recall: Option<String>,
    pub items: Vec<ItemDef>,
    pub scores: Vec<ScoreDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    pub holder: String,
    pub wording: WordingSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordingSource {
    /// Free to ship: the wording is in the instrument's file.
    Shipped,
    /// Licensed: a deployment that holds the licence supplies a wording file.
    Deployment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDef {
    pub id: String,
    pub answer: AnswerType,
    /// Items shown together (DN4's four questions, QCD's interference).
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub requires: Option<Requirement>,
    /// Shipped wording: the question, the scale's two ends, the options in
    /// the order shown.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub anchors: Vec<String>,
    #[serde(default)]
    pub options: Vec<OptionLabel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerType {
    /// A whole number from `min` to `max` in `step`s, tapped on a row.
    Scale {
        min: i64,
        max: i64,
        #[serde(default = "one")]
        step: i64,
    },
    YesNo,
    /// One of these values; the wording gives each one's label, in the
    /// order shown (HADS: the direction of an item is in its options).
    Choice {
        values: Vec<i64>,
    },
    Text {
        max_chars: usize,
    },
    /// Regions of the body map.
    BodyMap,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Only answered after a clinical examination (DN4 items 8–10).
    Examination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionLabel {
    pub value: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreDef {
    pub id: String,
    pub label: String,
    pub rule: Rule,
    /// The highest value it can take (to show "4/10").
    pub max: i64,
    /// Answers needed for a score (default: every item of the rule). Below
    /// it the score is flagged incomplete, not computed.
    #[serde(default)]
    pub min_answered: Option<u32>,
    /// Cut-offs: each band starts at `from` and runs to the next one.
    #[serde(default)]
    pub bands: Vec<Band>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// One item's answer.
    Value(String),
    /// The sum of the items' answers (yes = 1, no = 0).
    Sum(Vec<String>),
    /// The mean of the answered items.
    Mean(Vec<String>),
}

impl Rule {
    pub fn items(&self) -> &[String] {
        match self {
            Rule::Value(item) => std::slice::from_ref(item),
            Rule::Sum(items) | Rule::Mean(items) => items,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: i64,
    pub label: String,
}

/// How a response was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// The patient filled it in.
    SelfCompleted,
    /// The professional asked and wrote the answers down.
    Interview,
    /// With a clinical examination (needed for DN4 items 8–10).
    Examination,
}

impl ResponseMode {
    pub const ALL: [ResponseMode; 3] = [Self::SelfCompleted, Self::Interview, Self::Examination];

    pub fn label_fr(self) -> &'static str {
        match self {
            Self::SelfCompleted => "Auto-questionnaire",
            Self::Interview => "Entretien",
            Self::Examination => "Entretien et examen clinique",
        }
    }
}

/// One answer: yes/no, a number (scale or choice value), body-map regions,
/// or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    YesNo(bool),
    Number(i64),
    Regions(Vec<String>),
    Text(String),
}

impl Answer {
    /// What it counts for in a score.
    fn points(&self) -> Option<i64> {
        match self {
            Answer::YesNo(yes) => Some(i64::from(*yes)),
            Answer::Number(n) => Some(*n),
            Answer::Regions(_) | Answer::Text(_) => None,
        }
    }
}

/// A decimal kept exactly to the hundredth, written as a JSON number
/// (`4.8`). Scores are compared exactly: floats would not be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hundredths(pub i64);

impl Hundredths {
    /// `num / den`, rounded half away from zero.
    fn of(num: i64, den: i64) -> Self {
        let scaled = num * 100;
        let half = den / 2;
        Hundredths(if scaled >= 0 {
            (scaled + half) / den
        } else {
            (scaled - half) / den
        })
    }

    /// "4,8", "39", "4,86": as a French reader writes it.
    pub fn french(self) -> String {
        let (whole, cents) = (self.0 / 100, (self.0 % 100).abs());
        let sign = if self.0 < 0 && whole == 0 { "-" } else { "" };
        match cents {
            0 => format!("{sign}{whole}"),
            c if c % 10 == 0 => format!("{sign}{whole},{}", c / 10),
            c => format!("{sign}{whole},{c:02}"),
        }
    }
}

impl Serialize for Hundredths {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_i64(self.0 / 100)
        } else {
            s.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Hundredths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let x = f64::deserialize(d)?;
        let scaled = (x * 100.0).round();
        if !scaled.is_finite() || scaled.abs() > crate::validation::MAX_SAFE_INTEGER as f64 {
            return Err(serde::de::Error::custom("nombre hors limites"));
        }
        Ok(Hundredths(scaled as i64))
    }
}

/// One computed score, as a response keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub id: String,
    /// None when too few items were answered: flagged, not computed.
    pub value: Option<Hundredths>,
    /// Items answered, and needed for a value.
    pub answered: u32,
    pub needed: u32,
    /// The cut-off band the value falls in.
    #[serde(default)]
    pub band: Option<String>,
}

impl Instrument {
    /// Every instrument this build carries.
    pub fn all() -> &'static [Instrument] {
        static ALL: OnceLock<Vec<Instrument>> = OnceLock::new();
        ALL.get_or_init(|| {
            FILES
                .iter()
                // Files of the build, checked by the tests below.
                .map(|f| serde_json::from_str(f).expect("an instrument file of this build"))
                .collect()
        })
    }

    pub fn find(id: &str) -> Option<&'static Instrument> {
        Self::all().iter().find(|i| i.id == id)
    }

    pub fn item(&self, id: &str) -> Option<&ItemDef> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Every score of the instrument from these answers.
    pub fn score(&self, answers: &BTreeMap<String, Answer>) -> Vec<Score> {
        self.scores
            .iter()
            .map(|def| {
                let items = def.rule.items();
                let points: Vec<i64> = items
                    .iter()
                    .filter_map(|i| answers.get(i).and_then(Answer::points))
                    .collect();
                let answered = points.len() as u32;
                let needed = def.min_answered.unwrap_or(items.len() as u32);
                let (num, den) = match def.rule {
                    Rule::Mean(_) => (points.iter().sum::<i64>(), i64::from(answered.max(1))),
                    Rule::Value(_) | Rule::Sum(_) => (points.iter().sum::<i64>(), 1),
                };
                let complete = answered >= needed && answered > 0;
                let band = complete
                    .then(|| {
                        def.bands
                            .iter()
                            .rev()
                            .find(|b| num >= b.from * den)
                            .map(|b| b.label.clone())
                    })
                    .flatten();
                Score {
                    id: def.id.clone(),
                    value: complete.then(|| Hundredths::of(num, den)),
                    answered,
                    needed,
                    band,
                }
            })
            .collect()
    }

    /// Checks each answer against its item: the item exists, the answer has
    /// its type and range, and an item that needs an examination is only
    /// answered in that mode. Errors name `answers.<item>`.
    pub fn check_answers(
        &self,
        mode: ResponseMode,
        answers: &BTreeMap<String, Answer>,
    ) -> Result<(), FieldError> {
        for (id, answer) in answers {
            let field = format!("answers.{id}");
            let Some(item) = self.item(id) else {
                return Err(FieldError::new(
                    field,
                    "Question inconnue pour cet instrument.",
                ));
            };
            if item.requires == Some(Requirement::Examination) && mode != ResponseMode::Examination
            {
                return Err(FieldError::new(
                    field,
                    "Cet item demande un examen clinique : choisissez « Entretien et examen clinique ».",
                ));
            }
            let fits = match (&item.answer, answer) {
                (AnswerType::Scale { min, max, step }, Answer::Number(n)) => {
                    (min..=max).contains(&n) && *step > 0 && (n - min) % step == 0
                }
                (AnswerType::YesNo, Answer::YesNo(_)) => true,
                (AnswerType::Choice { values }, Answer::Number(n)) => values.contains(n),
                (AnswerType::Text { max_chars }, Answer::Text(t)) => {
                    crate::validation::check_text(&field, t, *max_chars)?;
                    true
                }
                (AnswerType::BodyMap, Answer::Regions(regions)) => {
                    let unique: BTreeSet<&String> = regions.iter().collect();
                    unique.len() == regions.len() && regions.iter().all(|r| body_map::is_region(r))
                }
                _ => false,
            };
            if !fits {
                return Err(FieldError::new(field, expected_fr(&item.answer)));
            }
        }
        Ok(())
    }

    /// The instrument with its wording: shipped, or from a deployment's
    /// wording file (checked against the structure). None: unavailable.
    pub fn worded(&'static self, supplied: Option<&Wording>) -> Option<Worded> {
        match self.licence.wording {
            WordingSource::Shipped => Some(Worded {
                instrument: self,
                title: self.name.clone(),
                instructions: self.instructions.clone(),
                items: self
                    .items
                    .iter()
                    .map(|i| ItemWording {
                        text: i.text.clone().unwrap_or_default(),
                        anchors: i.anchors.clone(),
                        options: i.options.clone(),
                    })
                    .collect(),
                groups: BTreeMap::new(),
            }),
            WordingSource::Deployment => {
                let w = supplied?;
                w.check(self).ok()?;
                Some(Worded {
                    instrument: self,
                    title: w.title.clone(),
                    instructions: w.instructions.clone(),
                    items: self
                        .items
                        .iter()
                        .map(|i| w.items.get(&i.id).cloned().unwrap_or_default())
                        .collect(),
                    groups: w.groups.clone(),
                })
            }
        }
    }
}

fn expected_fr(answer: &AnswerType) -> String {
    match answer {
        AnswerType::Scale { min, max, step: 1 } => {
            format!("Réponse attendue : un nombre de {min} à {max}.")
        }
        AnswerType::Scale { min, max, step } => {
            format!("Réponse attendue : un nombre de {min} à {max}, par pas de {step}.")
        }
        AnswerType::YesNo => "Réponse attendue : oui ou non.".into(),
        AnswerType::Choice { .. } => "Réponse attendue : une des propositions.".into(),
        AnswerType::Text { max_chars } => {
            format!("Réponse attendue : un texte d'au plus {max_chars} caractères.")
        }
        AnswerType::BodyMap => {
            "Réponse attendue : des zones du schéma corporel, chacune une fois.".into()
        }
    }
}

/// The wording of a licensed instrument, supplied by a deployment that holds
/// the licence (`<id>.<language>.json` in the wording folder; format in
/// `docs/instruments.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    pub instrument: String,
    pub version: String,
    pub language: String,
    pub title: String,
    #[serde(default)]
    pub instructions: Option<String>,
    pub items: BTreeMap<String, ItemWording>,
    /// Headings of groups of items (DN4's questions).
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemWording {
    pub text: String,
    #[serde(default)]
    pub anchors: Vec<String>,
    #[serde(default)]
    pub options: Vec<OptionLabel>,
}

impl Wording {
    /// A wording file fits its instrument: same id, version and language,
    /// a text for every item and nothing else, and for a choice exactly
    /// one label per value.
    pub fn check(&self, instrument: &Instrument) -> Result<(), String> {
        if (&self.instrument, &self.version, &self.language)
            != (&instrument.id, &instrument.version, &instrument.language)
        {
            return Err(format!(
                "le fichier est pour {} {} ({}), l'instrument est {} {} ({})",
                self.instrument,
                self.version,
                self.language,
                instrument.id,
                instrument.version,
                instrument.language
            ));
        }
        for item in &instrument.items {
            let Some(w) = self.items.get(&item.id) else {
                return Err(format!("pas de texte pour l'item {}", item.id));
            };
            if w.text.trim().is_empty() {
                return Err(format!("texte vide pour l'item {}", item.id));
            }
            if let AnswerType::Choice { values } = &item.answer {
                let mut labelled: Vec<i64> = w.options.iter().map(|o| o.value).collect();
                labelled.sort_unstable();
                let mut expected = values.clone();
                expected.sort_unstable();
                if labelled != expected {
                    return Err(format!(
                        "les propositions de l'item {} ne couvrent pas ses valeurs",
                        item.id
                    ));
                }
            }
        }
        if let Some(extra) = self.items.keys().find(|k| instrument.item(k).is_none()) {
            return Err(format!("item inconnu : {extra}"));
        }
        Ok(())
    }
}

/// An instrument ready to be shown: its wording item by item, in the
/// structure's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worded {
    pub instrument: &'static Instrument,
    pub title: String,
    pub instructions: Option<String>,
    pub items: Vec<ItemWording>,
    pub groups: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn yes(ids: &[&str]) -> BTreeMap<String, Answer> {
        answers(
            &ids.iter()
                .map(|i| (*i, Answer::YesNo(true)))
                .collect::<Vec<_>>(),
        )
    }

    fn score<'a>(scores: &'a [Score], id: &str) -> &'a Score {
        scores.iter().find(|s| s.id == id).unwrap()
    }

    fn numbers(prefix: &str, values: &[Option<i64>]) -> BTreeMap<String, Answer> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (format!("{prefix}{}", i + 1), Answer::Number(v))))
            .collect()
    }

    const DN4_ITEMS: [&str; 10] = [
        "burning",
        "painful_cold",
        "electric_shocks",
        "tingling",
        "pins_and_needles",
        "numbness",
        "itching",
        "hypoaesthesia_touch",
        "hypoaesthesia_prick",
        "brushing",
    ];

    fn dn4(yes_items: &[&str]) -> BTreeMap<String, Answer> {
        DN4_ITEMS
            .iter()
            .map(|i| (i.to_string(), Answer::YesNo(yes_items.contains(i))))
            .collect()
    }

    #[test]
    fn every_instrument_file_reads_and_its_rules_name_scorable_items() {
        let all = Instrument::all();
        assert_eq!(all.len(), FILES.len());
        for ins in all {
            for s in &ins.scores {
                for item in s.rule.items() {
                    let def = ins
                        .item(item)
                        .unwrap_or_else(|| panic!("{}: {item}", ins.id));
                    assert!(
                        matches!(
                            def.answer,
                            AnswerType::Scale { .. }
                                | AnswerType::YesNo
                                | AnswerType::Choice { .. }
                        ),
                        "{}: {item} cannot be scored",
                        ins.id
                    );
                }
                let froms: Vec<i64> = s.bands.iter().map(|b| b.from).collect();
                assert!(froms.windows(2).all(|w| w[0] < w[1]), "{}.{}", ins.id, s.id);
            }
            let shipped = ins.licence.wording == WordingSource::Shipped;
            for item in &ins.items {
                // Shipped wording is complete; a licensed file carries none.
                assert_eq!(item.text.is_some(), shipped, "{}.{}", ins.id, item.id);
                if let (true, AnswerType::Choice { values }) = (shipped, &item.answer) {
                    let labelled: Vec<i64> = item.options.iter().map(|o| o.value).collect();
                    assert_eq!(&labelled, values, "{}.{}", ins.id, item.id);
                }
            }
        }
        for licensed in ["dn4", "qcd", "hads", "pcs_cf"] {
            let ins = Instrument::find(licensed).unwrap();
            assert_eq!(ins.licence.wording, WordingSource::Deployment);
            assert_eq!(
                ins.worded(None),
                None,
                "{licensed} without wording is unavailable"
            );
        }
        for free in ["en", "evs", "sleep", "pgic"] {
            assert!(Instrument::find(free).unwrap().worded(None).is_some());
        }
    }

    #[test]
    fn dn4_vectors_of_instruments_md() {
        let ins = Instrument::find("dn4").unwrap();
        let s = ins.score(&dn4(&[
            "burning",
            "tingling",
            "numbness",
            "hypoaesthesia_touch",
        ]));
        assert_eq!(score(&s, "total").value, Some(Hundredths(400)));
        assert_eq!(score(&s, "total").band.as_deref(), Some("Positif (≥ 4/10)"));
        let s = ins.score(&dn4(&["burning", "tingling", "numbness"]));
        assert_eq!(score(&s, "total").value, Some(Hundredths(300)));
        assert_eq!(score(&s, "total").band.as_deref(), Some("Négatif (< 4/10)"));
        assert_eq!(score(&s, "interview").value, Some(Hundredths(300)));
        assert_eq!(
            score(&s, "interview").band.as_deref(),
            Some("Positif (≥ 3/7)")
        );
        // All ten, none.
        let s = ins.score(&dn4(&DN4_ITEMS));
        assert_eq!(score(&s, "total").value, Some(Hundredths(1000)));
        let s = ins.score(&dn4(&[]));
        assert_eq!(score(&s, "total").value, Some(Hundredths(0)));
        assert_eq!(
            score(&s, "interview").band.as_deref(),
            Some("Négatif (< 3/7)")
        );
    }

    #[test]
    fn dn4_by_interview_alone_scores_the_seven_items_and_flags_the_ten() {
        let ins = Instrument::find("dn4").unwrap();
        let interview = yes(&["burning", "painful_cold", "itching"]);
        let mut all = dn4(&["burning", "painful_cold", "itching"]);
        all.retain(|k, _| interview.contains_key(k) || DN4_ITEMS[..7].contains(&k.as_str()));
        let s = ins.score(&all);
        let total = score(&s, "total");
        assert_eq!((total.value, total.answered, total.needed), (None, 7, 10));
        assert_eq!(total.band, None);
        assert_eq!(score(&s, "interview").value, Some(Hundredths(300)));
        // Items 8–10 need the examination mode.
        let exam = dn4(&["brushing"]);
        assert_eq!(ins.check_answers(ResponseMode::Examination, &exam), Ok(()));
        let err = ins
            .check_answers(ResponseMode::Interview, &exam)
            .unwrap_err();
        assert_eq!(err.field, "answers.brushing", "the first in id order");
        assert_eq!(ins.check_answers(ResponseMode::Interview, &all), Ok(()));
    }

    #[test]
    fn qcd_interference_needs_four_of_seven_and_is_a_mean() {
        let ins = Instrument::find("qcd").unwrap();
        let interference = |values: [Option<i64>; 7]| {
            let ids = [
                "general_activity",
                "mood",
                "walking",
                "normal_work",
                "relations",
                "sleep",
                "enjoyment",
            ];
            let a: BTreeMap<String, Answer> = ids
                .iter()
                .zip(values)
                .filter_map(|(i, v)| v.map(|v| (i.to_string(), Answer::Number(v))))
                .collect();
            score(&ins.score(&a), "interference").clone()
        };
        // INSTRUMENTS.md lists "5, 6, 4, –, –, 7, –" as 3 of 7, not valid:
        // that is four answers, which the rule (≥ 4 of 7) accepts — 5.5.
        // Three answers are not valid.
        let four = interference([Some(5), Some(6), Some(4), None, None, Some(7), None]);
        assert_eq!(
            (four.value, four.answered, four.needed),
            (Some(Hundredths(550)), 4, 4)
        );
        let three = interference([Some(5), Some(6), Some(4), None, None, None, None]);
        assert_eq!((three.value, three.answered, three.band), (None, 3, None));
        let five = interference([Some(5), Some(6), Some(4), Some(2), None, Some(7), None]);
        assert_eq!(five.value, Some(Hundredths(480)));
        assert_eq!(five.value.unwrap().french(), "4,8");
        let seven = interference([
            Some(1),
            Some(2),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
        ]);
        assert_eq!(seven.value, Some(Hundredths(329)), "23/7 = 3.2857 → 3.29");
        // Severity: the mean of the four intensities, all needed.
        let a = answers(&[
            ("worst", Answer::Number(8)),
            ("least", Answer::Number(2)),
            ("average", Answer::Number(5)),
            ("now", Answer::Number(4)),
        ]);
        let s = ins.score(&a);
        assert_eq!(score(&s, "severity").value, Some(Hundredths(475)));
        assert_eq!(score(&s, "worst").value, Some(Hundredths(800)));
        let mut a3 = a.clone();
        a3.remove("least");
        assert_eq!(score(&ins.score(&a3), "severity").value, None);
    }

    #[test]
    fn qcd_answers_are_checked_by_type() {
        let ins = Instrument::find("qcd").unwrap();
        let ok = answers(&[
            ("pain_today", Answer::YesNo(true)),
            (
                "body",
                Answer::Regions(vec!["back.lower_back".into(), "front.knee_left".into()]),
            ),
            ("relief", Answer::Number(30)),
            ("treatments", Answer::Text("Paracétamol, kiné".into())),
        ]);
        assert_eq!(ins.check_answers(ResponseMode::SelfCompleted, &ok), Ok(()));
        for (item, bad) in [
            ("relief", Answer::Number(35)),
            ("relief", Answer::Number(110)),
            ("worst", Answer::Number(11)),
            ("worst", Answer::YesNo(true)),
            ("pain_today", Answer::Number(1)),
            ("body", Answer::Regions(vec!["front.tail".into()])),
            (
                "body",
                Answer::Regions(vec!["front.head".into(), "front.head".into()]),
            ),
            ("treatments", Answer::Text("a\u{0}b".into())),
            ("diagnosis", Answer::Text("x".into())),
        ] {
            let err = ins
                .check_answers(
                    ResponseMode::SelfCompleted,
                    &answers(&[(item, bad.clone())]),
                )
                .unwrap_err();
            assert_eq!(err.field, format!("answers.{item}"), "{bad:?}");
        }
    }

    #[test]
    fn hads_subscales_and_an_incomplete_one_flagged_not_scored() {
        let ins = Instrument::find("hads").unwrap();
        // Odd items all 2 → anxiety 14, definite.
        let mut values = [
            Some(2),
            Some(1),
            Some(2),
            Some(1),
            Some(2),
            Some(1),
            Some(2),
        ]
        .iter()
        .flat_map(|_| [Some(2), Some(1)])
        .collect::<Vec<_>>();
        assert_eq!(values.len(), 14);
        let s = ins.score(&numbers("q", &values));
        assert_eq!(score(&s, "anxiety").value, Some(Hundredths(1400)));
        assert_eq!(
            score(&s, "anxiety").band.as_deref(),
            Some("Cas certain (≥ 11)")
        );
        assert_eq!(score(&s, "depression").value, Some(Hundredths(700)));
        assert_eq!(
            score(&s, "depression").band.as_deref(),
            Some("Pas de cas (≤ 7)")
        );
        // One even item missing: depression flagged, anxiety still scored.
        values[3] = None;
        let s = ins.score(&numbers("q", &values));
        let d = score(&s, "depression");
        assert_eq!(
            (d.value, d.answered, d.needed, d.band.clone()),
            (None, 6, 7, None)
        );
        assert_eq!(score(&s, "anxiety").value, Some(Hundredths(1400)));
        // The bands' edges: 7, 8, 10, 11.
        for (sum, band) in [
            (7, "Pas de cas (≤ 7)"),
            (8, "Cas douteux (8–10)"),
            (10, "Cas douteux (8–10)"),
            (11, "Cas certain (≥ 11)"),
        ] {
            let mut odd = vec![Some(0); 14];
            let mut left = sum;
            for n in (0..14).step_by(2) {
                let v = left.min(3);
                odd[n] = Some(v);
                left -= v;
            }
            let s = ins.score(&numbers("q", &odd));
            assert_eq!(score(&s, "anxiety").value, Some(Hundredths(sum * 100)));
            assert_eq!(score(&s, "anxiety").band.as_deref(), Some(band), "{sum}");
        }
        assert!(ins
            .check_answers(ResponseMode::SelfCompleted, &numbers("q", &[Some(4)]))
            .is_err());
    }

    #[test]
    fn pcs_cf_vectors() {
        let ins = Instrument::find("pcs_cf").unwrap();
        let s = ins.score(&numbers("q", &[Some(3); 13]));
        for (id, v) in [
            ("total", 39),
            ("rumination", 12),
            ("magnification", 9),
            ("helplessness", 18),
        ] {
            assert_eq!(score(&s, id).value, Some(Hundredths(v * 100)), "{id}");
        }
        assert_eq!(
            score(&s, "total").band.as_deref(),
            Some("Cliniquement significatif (≥ 30)")
        );
        let mut some = vec![Some(2); 13];
        some[12] = None; // item 13: magnification and the total are flagged
        let s = ins.score(&numbers("q", &some));
        assert_eq!(score(&s, "total").value, None);
        assert_eq!(score(&s, "magnification").value, None);
        assert_eq!(score(&s, "rumination").value, Some(Hundredths(800)));
        assert_eq!(score(&s, "helplessness").value, Some(Hundredths(1200)));
        let s = ins.score(&numbers("q", &[Some(2); 13]));
        assert_eq!(score(&s, "total").band.as_deref(), Some("< 30"));
    }

    #[test]
    fn free_scales_band_and_flag() {
        let en = Instrument::find("en").unwrap();
        for (v, band) in [
            (0, "Pas de douleur"),
            (4, "Douleur faible (1–4)"),
            (5, "Douleur modérée (5–6)"),
            (7, "Douleur sévère (7–10)"),
            (10, "Douleur sévère (7–10)"),
        ] {
            let s = en.score(&answers(&[("pain_now", Answer::Number(v))]));
            assert_eq!(score(&s, "now").band.as_deref(), Some(band));
            assert_eq!(score(&s, "average").value, None, "not answered, not scored");
        }
        let pgic = Instrument::find("pgic").unwrap();
        for (v, responder) in [(1, true), (2, true), (3, false), (7, false)] {
            let s = pgic.score(&answers(&[("change", Answer::Number(v))]));
            assert_eq!(
                score(&s, "change")
                    .band
                    .as_deref()
                    .map(|b| b.starts_with("Répondeur")),
                Some(responder)
            );
        }
        let evs = Instrument::find("evs").unwrap();
        assert!(evs
            .check_answers(
                ResponseMode::Interview,
                &answers(&[("pain", Answer::Number(5))])
            )
            .is_err());
    }

    #[test]
    fn a_wording_file_must_fit_its_instrument() {
        let ins = Instrument::find("pcs_cf").unwrap();
        let options: Vec<OptionLabel> = (0..=4)
            .map(|v| OptionLabel {
                value: v,
                label: format!("niveau {v}"),
            })
            .collect();
        let mut w = Wording {
            instrument: "pcs_cf".into(),
            version: "1".into(),
            language: "fr".into(),
            title: "PCS-CF".into(),
            instructions: None,
            items: (1..=13)
                .map(|n| {
                    (
                        format!("q{n}"),
                        ItemWording {
                            text: format!("item {n}"),
                            anchors: vec![],
                            options: options.clone(),
                        },
                    )
                })
                .collect(),
            groups: BTreeMap::new(),
        };
        assert_eq!(w.check(ins), Ok(()));
        let worded = ins.worded(Some(&w)).unwrap();
        assert_eq!(worded.items[12].text, "item 13");
        let mut missing = w.clone();
        missing.items.remove("q13");
        assert!(missing.check(ins).is_err());
        assert!(ins.worded(Some(&missing)).is_none());
        let mut short = w.clone();
        short.items.get_mut("q2").unwrap().options.pop();
        assert!(short.check(ins).is_err());
        w.version = "2".into();
        assert!(w.check(ins).is_err());
    }

    #[test]
    fn hundredths_round_half_away_from_zero_and_read_back() {
        assert_eq!(Hundredths::of(23, 7), Hundredths(329));
        assert_eq!(Hundredths::of(1, 8), Hundredths(13));
        assert_eq!(Hundredths::of(-1, 8), Hundredths(-13));
        assert_eq!(serde_json::to_string(&Hundredths(480)).unwrap(), "4.8");
        assert_eq!(serde_json::to_string(&Hundredths(3900)).unwrap(), "39");
        for h in [
            Hundredths(480),
            Hundredths(329),
            Hundredths(0),
            Hundredths(1),
        ] {
            let back: Hundredths =
                serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
            assert_eq!(back, h);
        }
        assert_eq!(Hundredths(329).french(), "3,29");
        assert_eq!(Hundredths(1000).french(), "10");
    }
}
