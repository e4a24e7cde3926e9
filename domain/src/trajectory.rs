//! The pain trajectory the team reads at a glance at every review point:
//! the diary's daily average and its 7-day moving average, the nurses'
//! assessments as marked points, the baseline, and the response against it
//! (a 30 % reduction is a moderate response, 50 % a substantial one — the
//! IMMPACT thresholds for chronic pain trials, used here as the programme's
//! yardstick, not as a diagnosis).
//!
//! Pure computation over records, so the patient's page, the review summary
//! and the tests agree to the decimal.

use crate::date::CalendarDate;
use crate::diary::DiaryEntry;
use crate::instrument_response::InstrumentResponse;
use crate::sync::Record;
use crate::PainAssessment;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The moving average's window, in days.
pub const WINDOW_DAYS: i64 = 7;
/// Days of the window that must have an entry for its mean to be drawn: a
/// weekly mean of fewer than half the week says more about which days were
/// written than about the pain.
pub const MIN_DAYS_IN_WINDOW: usize = 4;
/// A reduction of at least this many percent is a moderate response…
pub const MODERATE_RESPONSE_PERCENT: f64 = 30.0;
/// …and of at least this many, a substantial one.
pub const SUBSTANTIAL_RESPONSE_PERCENT: f64 = 50.0;

/// One day of the diary, its entries taken together (a correction stands
/// for the entry it corrects).
#[derive(Debug, Clone, PartialEq)]
pub struct DiaryDay {
    pub on: CalendarDate,
    /// Mean of the day's entries' average pain.
    pub average: f64,
    /// The day's worst.
    pub worst: u8,
    /// Last night's sleep, from the day's first entry that says.
    pub sleep: Option<u8>,
    /// Minutes of activity, all entries of the day.
    pub activity_minutes: u32,
    pub entries: usize,
}

/// A value on a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub on: CalendarDate,
    pub value: f64,
}

/// Where the baseline comes from, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineSource {
    /// The average pain of the EN filled at the initial evaluation.
    InitialEvaluation,
    /// The first assessment of a professional, when no initial evaluation
    /// has an EN.
    FirstAssessment,
    /// The mean of the diary's first week, when no professional assessed.
    FirstDiaryWeek,
}

impl BaselineSource {
    /// "depuis l'évaluation initiale", as the summary says it.
    pub fn since_fr(self) -> &'static str {
        match self {
            Self::InitialEvaluation => "depuis l'évaluation initiale",
            Self::FirstAssessment => "depuis la première évaluation",
            Self::FirstDiaryWeek => "depuis la première semaine du journal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub point: Point,
    pub source: BaselineSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// At least 50 % less pain than at baseline.
    Substantial,
    /// At least 30 % less.
    Moderate,
    /// Less than 30 % less, or more.
    None,
}

impl Response {
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Substantial => "réponse substantielle",
            Self::Moderate => "réponse modérée",
            Self::None => "pas de réponse à ce stade",
        }
    }
}

/// The change from baseline to now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub baseline: Baseline,
    pub current: Point,
    /// Negative when the pain went down.
    pub percent: f64,
    pub response: Response,
}

impl Change {
    /// "−42 % depuis l'évaluation initiale, réponse modérée".
    pub fn summary_fr(&self) -> String {
        let rounded = self.percent.round() as i64;
        let sign = match rounded {
            r if r < 0 => "\u{2212}",
            0 => "",
            _ => "+",
        };
        format!(
            "{sign}{} % {}, {}",
            rounded.abs(),
            self.baseline.source.since_fr(),
            self.response.label_fr()
        )
    }
}

/// What the chart and the review summary draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trajectory {
    /// Days with diary entries, in order.
    pub days: Vec<DiaryDay>,
    /// The 7-day moving average, for every day from the first diary day to
    /// the last one where the window holds enough days.
    pub moving_average: Vec<Point>,
    /// Professionals' assessments (average pain), in order.
    pub assessments: Vec<Point>,
    pub baseline: Option<Baseline>,
}

// The kinds that tell about pain are matched by hand below, not through
// `Record::id()`/`amends()`: those go through every kind's `RecordBody`,
// which would bring every kind's rules (programmes, instruments, INS…) into
// the patient's download with the trajectory.

/// The id of a record that tells about pain.
fn pain_id(r: &Record) -> Option<Uuid> {
    match r {
        Record::DiaryEntry(e) => Some(e.id.0),
        Record::PainAssessment(a) => Some(a.id.0),
        Record::InstrumentResponse(i) => Some(i.id.0),
        _ => None,
    }
}

/// The records of those kinds that a later one corrects.
fn amended(records: &[Record]) -> BTreeSet<Uuid> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::DiaryEntry(e) => e.amends.map(|a| a.0),
            Record::PainAssessment(a) => a.amends.map(|a| a.0),
            Record::InstrumentResponse(i) => i.amends.map(|a| a.0),
            _ => None,
        })
        .collect()
}

/// The day a moment falls on where the device is (`offset_minutes` east of
/// UTC, e.g. 60 in Paris in winter).
pub fn day_of(ms: i64, offset_minutes: i32) -> Option<CalendarDate> {
    let local = ms + i64::from(offset_minutes) * 60_000;
    CalendarDate::from_days_since_epoch(local.div_euclid(86_400_000))
}

/// The EN's average-pain score of a response, if it is an EN with one.
fn en_average(r: &InstrumentResponse) -> Option<f64> {
    if r.instrument_id != "en" {
        return None;
    }
    r.scores
        .iter()
        .find(|s| s.id == "average")
        .and_then(|s| s.value)
        .map(|v| v.0 as f64 / 100.0)
}

impl Trajectory {
    /// Builds the trajectory from a patient's records (any kinds; the ones
    /// that tell about pain are used). A record another one amends is
    /// replaced by its correction.
    pub fn from_records(records: &[Record], offset_minutes: i32) -> Self {
        let amended = amended(records);
        let current = records
            .iter()
            .filter(|r| !pain_id(r).is_some_and(|id| amended.contains(&id)));
        // Visits that were initial evaluations: their EN is the baseline.
        let evaluations: BTreeSet<Uuid> = records
            .iter()
            .filter_map(|r| match r {
                Record::Visit(v) if v.evaluation.is_some() => Some(v.id.0),
                _ => None,
            })
            .collect();
        let mut diary: Vec<&DiaryEntry> = vec![];
        let mut assessments: Vec<(i64, Point)> = vec![];
        let mut evaluation: Option<(i64, Point)> = None;
        for record in current {
            match record {
                Record::DiaryEntry(e) => diary.push(e),
                Record::PainAssessment(a) => {
                    if let Some(p) = assessment_point(a, offset_minutes) {
                        assessments.push((a.recorded_at, p));
                    }
                }
                Record::InstrumentResponse(r) => {
                    let (Some(value), Some(on)) =
                        (en_average(r), day_of(r.recorded_at, offset_minutes))
                    else {
                        continue;
                    };
                    let point = Point { on, value };
                    let at_evaluation = r.visit_id.is_some_and(|v| evaluations.contains(&v.0));
                    // The first initial evaluation's EN (a re-inclusion's
                    // later evaluation does not move the baseline).
                    if at_evaluation && evaluation.is_none_or(|(t, _)| r.recorded_at < t) {
                        evaluation = Some((r.recorded_at, point));
                    }
                    assessments.push((r.recorded_at, point));
                }
                _ => {}
            }
        }
        assessments.sort_by_key(|(t, _)| *t);
        let days = diary_days(&diary);
        let moving_average = moving_average(&days);
        let baseline = match (evaluation, assessments.first()) {
            (Some((_, point)), _) => Some(Baseline {
                point,
                source: BaselineSource::InitialEvaluation,
            }),
            (None, Some((_, point))) => Some(Baseline {
                point: *point,
                source: BaselineSource::FirstAssessment,
            }),
            (None, None) => first_week(&days).map(|point| Baseline {
                point,
                source: BaselineSource::FirstDiaryWeek,
            }),
        };
        Trajectory {
            days,
            moving_average,
            assessments: assessments.into_iter().map(|(_, p)| p).collect(),
            baseline,
        }
    }

    /// The latest value to compare with the baseline: the latest moving
    /// average or the latest assessment, whichever is more recent (the
    /// diary's mean on a tie: it is a week, not a moment).
    pub fn current(&self) -> Option<Point> {
        match (self.moving_average.last(), self.assessments.last()) {
            (Some(m), Some(a)) if a.on > m.on => Some(*a),
            (Some(m), _) => Some(*m),
            (None, a) => a.copied(),
        }
    }

    /// The change since baseline, when there is a baseline with some pain
    /// (a percentage of 0 means nothing) and a later value.
    pub fn change(&self) -> Option<Change> {
        let baseline = self.baseline?;
        let current = self.current()?;
        if baseline.point.value <= 0.0 || current.on < baseline.point.on {
            return None;
        }
        let percent = (current.value - baseline.point.value) / baseline.point.value * 100.0;
        // Compared on the rounded figure the summary shows, so "−30 %" is
        // never said to be below the 30 % threshold.
        let reduction = -percent.round();
        let response = if reduction >= SUBSTANTIAL_RESPONSE_PERCENT {
            Response::Substantial
        } else if reduction >= MODERATE_RESPONSE_PERCENT {
            Response::Moderate
        } else {
            Response::None
        };
        Some(Change {
            baseline,
            current,
            percent,
            response,
        })
    }

    /// Days with at least one diary entry between two days, both included.
    pub fn days_with_entries(&self, from: CalendarDate, to: CalendarDate) -> usize {
        self.days
            .iter()
            .filter(|d| d.on >= from && d.on <= to)
            .count()
    }

    /// The first and last day anything was recorded.
    pub fn span(&self) -> Option<(CalendarDate, CalendarDate)> {
        let all = self
            .days
            .iter()
            .map(|d| d.on)
            .chain(self.assessments.iter().map(|p| p.on))
            .chain(self.baseline.map(|b| b.point.on));
        all.fold(None, |span, d| match span {
            None => Some((d, d)),
            Some((a, b)) => Some((a.min(d), b.max(d))),
        })
    }
}

/// One score of an instrument filled more than once: its first and its
/// latest value (corrections replacing what they correct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreChange {
    pub instrument_id: String,
    pub score_id: String,
    pub first: (i64, crate::instrument::Hundredths),
    pub last: (i64, crate::instrument::Hundredths),
}

impl ScoreChange {
    /// Last minus first, in hundredths.
    pub fn delta(&self) -> i64 {
        self.last.1 .0 - self.first.1 .0
    }
}

/// The instruments filled at least twice, each score's first and latest
/// value, for the review summary ("HADS anxiété 12 → 8").
pub fn repeated_instruments(records: &[Record]) -> Vec<ScoreChange> {
    let amended = amended(records);
    let mut by_instrument: BTreeMap<&str, Vec<&InstrumentResponse>> = BTreeMap::new();
    for r in records {
        if let Record::InstrumentResponse(r) = r {
            if !amended.contains(&r.id.0) {
                by_instrument.entry(&r.instrument_id).or_default().push(r);
            }
        }
    }
    let mut changes = vec![];
    for (instrument, mut responses) in by_instrument {
        if responses.len() < 2 {
            continue;
        }
        responses.sort_by_key(|r| r.recorded_at);
        let (first, last) = (responses[0], responses[responses.len() - 1]);
        for score in &first.scores {
            let later = last.scores.iter().find(|s| s.id == score.id);
            if let (Some(a), Some(b)) = (score.value, later.and_then(|s| s.value)) {
                changes.push(ScoreChange {
                    instrument_id: instrument.to_string(),
                    score_id: score.id.clone(),
                    first: (first.recorded_at, a),
                    last: (last.recorded_at, b),
                });
            }
        }
    }
    changes
}

fn assessment_point(a: &PainAssessment, offset_minutes: i32) -> Option<Point> {
    Some(Point {
        on: day_of(a.recorded_at, offset_minutes)?,
        value: f64::from(a.pain_average_24h),
    })
}

/// The diary's entries grouped by the day they tell about.
pub fn diary_days(entries: &[&DiaryEntry]) -> Vec<DiaryDay> {
    let mut by_day: BTreeMap<CalendarDate, Vec<&DiaryEntry>> = BTreeMap::new();
    for e in entries {
        by_day.entry(e.on).or_default().push(e);
    }
    by_day
        .into_iter()
        .map(|(on, mut entries)| {
            entries.sort_by_key(|e| e.recorded_at);
            let n = entries.len();
            DiaryDay {
                on,
                average: entries
                    .iter()
                    .map(|e| f64::from(e.pain_average))
                    .sum::<f64>()
                    / n as f64,
                worst: entries.iter().map(|e| e.pain_worst).max().unwrap_or(0),
                sleep: entries.iter().find_map(|e| e.sleep),
                activity_minutes: entries
                    .iter()
                    .flat_map(|e| &e.activities)
                    .map(|a| a.minutes)
                    .sum(),
                entries: n,
            }
        })
        .collect()
}

/// For every day from the first diary day to the last, the mean of the
/// days with entries among the 7 ending that day, when there are enough.
pub fn moving_average(days: &[DiaryDay]) -> Vec<Point> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return vec![];
    };
    let by_day: BTreeMap<i64, f64> = days
        .iter()
        .map(|d| (d.on.days_since_epoch(), d.average))
        .collect();
    let (start, end) = (first.on.days_since_epoch(), last.on.days_since_epoch());
    (start..=end)
        .filter_map(|d| {
            let window: Vec<f64> = by_day
                .range(d - WINDOW_DAYS + 1..=d)
                .map(|(_, v)| *v)
                .collect();
            if window.len() < MIN_DAYS_IN_WINDOW {
                return None;
            }
            Some(Point {
                on: CalendarDate::from_days_since_epoch(d)?,
                value: window.iter().sum::<f64>() / window.len() as f64,
            })
        })
        .collect()
}

/// The mean of the diary's first week, if enough of it was written; dated
/// on its last day.
fn first_week(days: &[DiaryDay]) -> Option<Point> {
    let first = days.first()?.on;
    let end = first.add_days(WINDOW_DAYS - 1)?;
    let week: Vec<&DiaryDay> = days.iter().filter(|d| d.on <= end).collect();
    (week.len() >= MIN_DAYS_IN_WINDOW).then(|| Point {
        on: end,
        value: week.iter().map(|d| d.average).sum::<f64>() / week.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diary::Activity;
    use crate::instrument::{Answer, Instrument, ResponseMode};
    use crate::visit::{InitialEvaluation, Visit, VisitKind};
    use crate::{AccountId, DeviceId, PatientId, RecordId};

    const DAY: i64 = 86_400_000;
    /// 2026-09-01T10:00:00Z.
    const START: i64 = 1_788_256_800_000;

    fn date(s: &str) -> CalendarDate {
        s.parse().unwrap()
    }

    fn diary(day: i64, average: u8) -> Record {
        Record::DiaryEntry(DiaryEntry {
            id: RecordId::new(),
            patient_id: PatientId::default(),
            author_id: AccountId::default(),
            device_id: DeviceId::default(),
            recorded_at: START + day * DAY,
            amends: None,
            on: day_of(START + day * DAY, 0).unwrap(),
            pain_now: average,
            pain_average: average,
            pain_worst: average,
            sleep: Some(5),
            activities: vec![Activity {
                what: "Marche".into(),
                minutes: 20,
            }],
            medicines: vec![],
            mood: None,
            better: String::new(),
            worse: String::new(),
            note: String::new(),
        })
    }

    fn assessment(day: i64, average: u8) -> Record {
        Record::PainAssessment(PainAssessment {
            id: crate::AssessmentId::new(),
            patient_id: PatientId::default(),
            recorded_at: START + day * DAY,
            author_id: AccountId::default(),
            device_id: DeviceId::default(),
            mode: Default::default(),
            pain_now: average,
            pain_average_24h: average,
            pain_worst_24h: average,
            location: String::new(),
            note: String::new(),
            amends: None,
        })
    }

    /// An initial evaluation on `day` with its EN (average pain `average`).
    fn evaluation(day: i64, average: i64) -> Vec<Record> {
        let visit = Visit {
            id: RecordId::new(),
            patient_id: PatientId::default(),
            author_id: AccountId::default(),
            device_id: DeviceId::default(),
            recorded_at: START + day * DAY,
            amends: None,
            visit_type: VisitKind::Home,
            started_at: START + day * DAY,
            duration_minutes: 90,
            place: String::new(),
            with: vec![],
            actions: vec![],
            notes: String::new(),
            evaluation: Some(InitialEvaluation {
                programme_id: "chronic_pain".into(),
                history: Default::default(),
                pain_regions: vec![],
            }),
        };
        let en = Instrument::find("en").unwrap();
        let answers: std::collections::BTreeMap<String, Answer> = [
            ("pain_now", average),
            ("pain_average_24h", average),
            ("pain_worst_24h", average),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Answer::Number(v)))
        .collect();
        let response = InstrumentResponse {
            id: RecordId::new(),
            patient_id: PatientId::default(),
            author_id: AccountId::default(),
            device_id: DeviceId::default(),
            recorded_at: START + day * DAY,
            amends: None,
            instrument_id: "en".into(),
            instrument_version: en.version.clone(),
            language: "fr".into(),
            mode: ResponseMode::Interview,
            visit_id: Some(visit.id),
            scores: en.score(&answers),
            answers,
        };
        vec![Record::Visit(visit), Record::InstrumentResponse(response)]
    }

    #[test]
    fn moving_average_over_days_with_gaps() {
        // Days 0–3 written (8, 8, 6, 6), 4–5 missing, 6–9 written (4 each).
        let mut records: Vec<Record> = [(0, 8), (1, 8), (2, 6), (3, 6)]
            .into_iter()
            .map(|(d, v)| diary(d, v))
            .collect();
        records.extend((6..10).map(|d| diary(d, 4)));
        let t = Trajectory::from_records(&records, 0);
        assert_eq!(t.days.len(), 8);
        let m: Vec<(String, f64)> = t
            .moving_average
            .iter()
            .map(|p| (p.on.to_string(), p.value))
            .collect();
        assert_eq!(
            m,
            [
                // Day 3: four days in the window → drawn from there.
                ("2026-09-04".to_string(), 7.0),
                ("2026-09-05".to_string(), 7.0),
                ("2026-09-06".to_string(), 7.0),
                // Day 6: days 0–3 and 6 → (8+8+6+6+4)/5.
                ("2026-09-07".to_string(), 6.4),
                // Day 7: days 1–3, 6, 7 → (8+6+6+4+4)/5.
                ("2026-09-08".to_string(), 5.6),
                // Day 8: days 2, 3, 6, 7, 8.
                ("2026-09-09".to_string(), 4.8),
                // Day 9: days 3, 6–9.
                ("2026-09-10".to_string(), 4.4),
            ]
        );
        // Three days only: no weekly mean at all.
        let t = Trajectory::from_records(&records[..3], 0);
        assert!(t.moving_average.is_empty());
        assert_eq!(t.days.len(), 3);
    }

    #[test]
    fn a_correction_replaces_the_entry_it_corrects() {
        let mut records: Vec<Record> = (0..4).map(|d| diary(d, 6)).collect();
        let Record::DiaryEntry(original) = records[1].clone() else {
            unreachable!()
        };
        records.push(Record::DiaryEntry(DiaryEntry {
            id: RecordId::new(),
            amends: Some(original.id),
            recorded_at: original.recorded_at + 3_600_000,
            pain_average: 2,
            pain_now: 2,
            pain_worst: 2,
            ..original.clone()
        }));
        let t = Trajectory::from_records(&records, 0);
        assert_eq!(t.days.len(), 4);
        assert_eq!(t.days[1].entries, 1);
        assert_eq!(t.days[1].average, 2.0);
        assert_eq!(t.moving_average[0].value, 5.0);
    }

    #[test]
    fn two_entries_on_a_day_count_as_one_day() {
        let mut records = vec![diary(0, 8)];
        let Record::DiaryEntry(e) = diary(0, 5) else {
            unreachable!()
        };
        records.push(Record::DiaryEntry(DiaryEntry {
            recorded_at: e.recorded_at + 3_600_000,
            sleep: None,
            ..e
        }));
        let t = Trajectory::from_records(&records, 0);
        assert_eq!(t.days.len(), 1);
        let day = &t.days[0];
        assert_eq!((day.average, day.worst, day.entries), (6.5, 8, 2));
        assert_eq!(day.sleep, Some(5));
        assert_eq!(day.activity_minutes, 40);
    }

    #[test]
    fn baseline_prefers_the_initial_evaluation() {
        // An assessment on day 0 (7), the evaluation's EN on day 2 (8).
        let mut records = vec![assessment(0, 7)];
        records.extend(evaluation(2, 8));
        records.extend((3..10).map(|d| diary(d, 5)));
        let t = Trajectory::from_records(&records, 0);
        let b = t.baseline.unwrap();
        assert_eq!(b.source, BaselineSource::InitialEvaluation);
        assert_eq!((b.point.on, b.point.value), (date("2026-09-03"), 8.0));
        // Without the evaluation: the first assessment.
        let t = Trajectory::from_records(&records[..1], 0);
        assert_eq!(t.baseline.unwrap().source, BaselineSource::FirstAssessment);
        // Diary only: its first week, if four days of it are written.
        let diary_only: Vec<Record> = [0, 1, 2, 5, 9].into_iter().map(|d| diary(d, 6)).collect();
        let b = Trajectory::from_records(&diary_only, 0).baseline.unwrap();
        assert_eq!(b.source, BaselineSource::FirstDiaryWeek);
        assert_eq!((b.point.on, b.point.value), (date("2026-09-07"), 6.0));
        let sparse: Vec<Record> = [0, 2, 9].into_iter().map(|d| diary(d, 6)).collect();
        assert_eq!(Trajectory::from_records(&sparse, 0).baseline, None);
    }

    #[test]
    fn response_thresholds() {
        // Baseline 8 at the evaluation; a week of diary at the given value.
        let change = |value: u8| {
            let mut records = evaluation(0, 8);
            records.extend((1..8).map(|d| diary(d, value)));
            Trajectory::from_records(&records, 0).change().unwrap()
        };
        let c = change(4);
        assert_eq!(c.percent, -50.0);
        assert_eq!(c.response, Response::Substantial);
        assert_eq!(
            c.summary_fr(),
            "\u{2212}50 % depuis l'évaluation initiale, réponse substantielle"
        );
        let c = change(5);
        assert_eq!(c.response, Response::Moderate); // −37.5 %
        assert_eq!(
            c.summary_fr(),
            "\u{2212}38 % depuis l'évaluation initiale, réponse modérée"
        );
        let c = change(6);
        assert_eq!(c.response, Response::None); // −25 %
        let c = change(8);
        assert_eq!(
            c.summary_fr(),
            "0 % depuis l'évaluation initiale, pas de réponse à ce stade"
        );
        let c = change(10);
        assert_eq!(c.response, Response::None);
        assert!(c.summary_fr().starts_with("+25 %"));
        // 10 → 7 is exactly −30 %: moderate.
        let mut records = evaluation(0, 10);
        records.extend((1..8).map(|d| diary(d, 7)));
        let c = Trajectory::from_records(&records, 0).change().unwrap();
        assert_eq!(c.response, Response::Moderate);
        // A baseline of 0: no percentage.
        let mut records = evaluation(0, 0);
        records.extend((1..8).map(|d| diary(d, 3)));
        assert_eq!(Trajectory::from_records(&records, 0).change(), None);
    }

    #[test]
    fn days_where_only_a_nurse_assessed() {
        // No diary at all: the nurse's later assessment is the current value,
        // and there is no diary day nor weekly mean.
        let mut records = evaluation(0, 8);
        records.push(assessment(20, 4));
        let t = Trajectory::from_records(&records, 0);
        assert!(t.days.is_empty() && t.moving_average.is_empty());
        // The evaluation's own EN is an assessment point too.
        assert_eq!(t.assessments.len(), 2);
        let c = t.change().unwrap();
        assert_eq!((c.current.on, c.current.value), (date("2026-09-21"), 4.0));
        assert_eq!(c.response, Response::Substantial);
        // A diary week ending after the assessment wins over it…
        records.extend((20..27).map(|d| diary(d, 6)));
        let t = Trajectory::from_records(&records, 0);
        assert_eq!(t.current().unwrap().value, 6.0);
        // …and an assessment after the diary's last day wins over the diary.
        records.push(assessment(30, 3));
        let t = Trajectory::from_records(&records, 0);
        assert_eq!(t.current().unwrap().value, 3.0);
        assert_eq!(
            t.days_with_entries(date("2026-09-01"), date("2026-12-31")),
            7
        );
        assert_eq!(
            t.days_with_entries(date("2026-09-24"), date("2026-09-25")),
            2
        );
        assert_eq!(t.span(), Some((date("2026-09-01"), date("2026-10-01"))));
    }

    #[test]
    fn instruments_filled_again_show_their_change() {
        // EN at the evaluation (8), again later (5), and a third time
        // corrected from 6 to 4: first 8, latest 4.
        let mut records = evaluation(0, 8);
        let again = |day: i64, v: i64| {
            let Record::InstrumentResponse(r) = evaluation(day, v).remove(1) else {
                unreachable!()
            };
            r
        };
        records.push(Record::InstrumentResponse(again(30, 5)));
        let third = again(60, 6);
        let corrected = InstrumentResponse {
            id: RecordId::new(),
            amends: Some(third.id),
            recorded_at: third.recorded_at + 1,
            ..again(60, 4)
        };
        records.push(Record::InstrumentResponse(third));
        records.push(Record::InstrumentResponse(corrected));
        let changes = repeated_instruments(&records);
        let average = changes.iter().find(|c| c.score_id == "average").unwrap();
        assert_eq!(average.instrument_id, "en");
        assert_eq!((average.first.1 .0, average.last.1 .0), (800, 400));
        assert_eq!(average.delta(), -400);
        // Filled once: nothing to compare.
        assert!(repeated_instruments(&evaluation(0, 8)).is_empty());
    }

    #[test]
    fn a_day_is_the_device_s_day() {
        // 23:30 UTC is already tomorrow in Paris (UTC+1).
        let ms = 1_788_219_000_000; // 2026-08-31T23:30:00Z
        assert_eq!(day_of(ms, 0), Some(date("2026-08-31")));
        assert_eq!(day_of(ms, 60), Some(date("2026-09-01")));
        assert_eq!(day_of(ms + 3_600_000, -120), Some(date("2026-08-31")));
    }
}
