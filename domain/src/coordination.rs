//! Complex-patient coordination support (appui à la coordination, seeds 001
//! and 002). Any professional of a patient's team — health, social or
//! medico-social — who finds the situation complex asks for support: why,
//! and what is urgent. The request lands in the coordinators' queue; a
//! coordinator takes it (and so joins the care team), contacts the patient
//! and the referring GP, assesses what exists and what is needed, proposes
//! steps (care-plan items of category [`STEP_CATEGORY`]: owned, dated,
//! merged like every item), follows up at planned check-ins, and closes
//! with an outcome. Each of these is a record of the append lane.

use crate::date::CalendarDate;
use crate::record::{check_profession, record_body, Directory, Reference};
use crate::validation::{check_text, MAX_CLOCK_SKEW_MS};
use crate::{AccountId, DeviceId, FieldError, PatientId, Profession, RecordId};
use serde::{Deserialize, Serialize};

pub const TEXT_MAX_CHARS: usize = 4000;
/// The care-plan category of the coordination's steps (a kind of plan item
/// every programme's plan accepts), and how it reads.
pub const STEP_CATEGORY: &str = "coordination";
pub const STEP_LABEL: &str = "Appui à la coordination";
/// A request nobody took is overdue after this many days (urgent: 1).
pub const TAKE_WITHIN_DAYS: i64 = 7;
/// Follow-up lasts about a quarter.
pub const FOLLOW_UP_DAYS: i64 = 92;

/// Who may take a request: the CPTS's coordinators — its support
/// coordinators and its pain resource nurses.
pub const COORDINATORS: [Profession; 2] = [
    Profession::SupportCoordinator,
    Profession::PainResourceNurse,
];

pub fn is_coordinator(profession: Profession) -> bool {
    COORDINATORS.contains(&profession)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    /// Within the week.
    Soon,
    /// Within the day.
    Urgent,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Self::Routine, Self::Soon, Self::Urgent];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Routine => "Pas d'urgence",
            Self::Soon => "Dans la semaine",
            Self::Urgent => "Dans la journée",
        }
    }
    fn take_within_days(self) -> i64 {
        match self {
            Self::Routine => TAKE_WITHIN_DAYS,
            Self::Soon => 3,
            Self::Urgent => 1,
        }
    }
}

/// The domains a needs assessment goes through (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedDomain {
    Medical,
    Psychological,
    Social,
    Functional,
    Adherence,
    Housing,
    Rights,
}

impl NeedDomain {
    pub const ALL: [NeedDomain; 7] = [
        Self::Medical,
        Self::Psychological,
        Self::Social,
        Self::Functional,
        Self::Adherence,
        Self::Housing,
        Self::Rights,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Medical => "Médical",
            Self::Psychological => "Psychologique",
            Self::Social => "Social",
            Self::Functional => "Fonctionnel (autonomie)",
            Self::Adherence => "Observance des traitements",
            Self::Housing => "Logement",
            Self::Rights => "Droits et ressources",
        }
    }
}

/// "I find this patient's situation complex": who asks (the author), why,
/// what is urgent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinationRequest {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub reasons: String,
    pub urgency: Urgency,
    /// What cannot wait, when something cannot.
    #[serde(default)]
    pub urgent_details: String,
    /// The domains the asker sees in difficulty, if they say.
    #[serde(default)]
    pub domains: Vec<NeedDomain>,
}

impl CoordinationRequest {
    /// Every problem at once, for the form.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if self.reasons.trim().is_empty() {
            problems.push(FieldError::new(
                "reasons",
                "Dites ce qui rend la situation complexe.",
            ));
        }
        problems.extend(check_text("reasons", &self.reasons, TEXT_MAX_CHARS).err());
        if self.urgency != Urgency::Routine && self.urgent_details.trim().is_empty() {
            problems.push(FieldError::new(
                "urgent_details",
                "Dites ce qui ne peut pas attendre.",
            ));
        }
        problems.extend(check_text("urgent_details", &self.urgent_details, TEXT_MAX_CHARS).err());
        for (i, d) in self.domains.iter().enumerate() {
            if self.domains[..i].contains(d) {
                problems.push(FieldError::new(
                    format!("domains[{i}]"),
                    "Domaine en double.",
                ));
            }
        }
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }
}

record_body!(CoordinationRequest);

/// One domain of the needs assessment: what exists, what is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub domain: NeedDomain,
    /// What is already in place (services, people, allowances).
    #[serde(default)]
    pub existing: String,
    /// What is missing; empty: nothing in this domain.
    #[serde(default)]
    pub needed: String,
}

/// The coordinator's assessment of the existing and the needs, after
/// contacting the patient and the referring GP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsAssessment {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub request_id: RecordId,
    pub patient_contacted: bool,
    pub gp_contacted: bool,
    pub needs: Vec<Need>,
    #[serde(default)]
    pub summary: String,
}

impl NeedsAssessment {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        if self.needs.iter().all(|n| n.needed.trim().is_empty()) {
            problems.push(FieldError::new(
                "needs",
                "Notez au moins un besoin (ou clôturez la demande).",
            ));
        }
        for (i, n) in self.needs.iter().enumerate() {
            if self.needs[..i].iter().any(|m| m.domain == n.domain) {
                problems.push(FieldError::new(
                    format!("needs[{i}].domain"),
                    "Domaine en double.",
                ));
            }
            problems.extend(
                check_text(&format!("needs[{i}].existing"), &n.existing, TEXT_MAX_CHARS).err(),
            );
            problems
                .extend(check_text(&format!("needs[{i}].needed"), &n.needed, TEXT_MAX_CHARS).err());
        }
        problems.extend(check_text("summary", &self.summary, TEXT_MAX_CHARS).err());
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    fn references(&self) -> Vec<Reference> {
        vec![request_reference(self.request_id)]
    }

    fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        only_coordinators(directory, self.author_id)
    }
}

record_body!(
    NeedsAssessment,
    refers_to => NeedsAssessment::references,
    check_people => NeedsAssessment::check_people,
);

/// How a coordination ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The needs are met; the field professionals carry on.
    Resolved,
    /// Better, and handed over to the care team.
    HandedOver,
    /// Referred to another service (hospital, social services…).
    Referred,
    /// The patient declined the support.
    Declined,
    /// The patient moved, died or could not be reached.
    Ended,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Self::Resolved,
        Self::HandedOver,
        Self::Referred,
        Self::Declined,
        Self::Ended,
    ];
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Resolved => "Besoins couverts",
            Self::HandedOver => "Relais pris par l'équipe de soins",
            Self::Referred => "Orienté vers un autre service",
            Self::Declined => "Refusé par le patient",
            Self::Ended => "Suivi impossible (déménagement, décès, injoignable)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CoordinationStep {
    /// A coordinator took the request (made by the server when they do:
    /// taking it is what lets them into the care team).
    Taken,
    /// A follow-up contact, and when the next one is planned.
    CheckIn {
        #[serde(default)]
        next_on: Option<CalendarDate>,
    },
    /// The end of the coordination, with its outcome.
    Closed { outcome: Outcome },
}

/// An event of a request's life: taken, followed up, closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinationEvent {
    pub id: RecordId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub recorded_at: i64,
    #[serde(default)]
    pub amends: Option<RecordId>,
    pub request_id: RecordId,
    /// The day it happened.
    pub on: CalendarDate,
    #[serde(flatten)]
    pub step: CoordinationStep,
    #[serde(default)]
    pub note: String,
}

impl CoordinationEvent {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        let written_day = (self.recorded_at + MAX_CLOCK_SKEW_MS).div_euclid(86_400_000);
        if self.on.days_since_epoch() > written_day {
            problems.push(FieldError::new(
                "on",
                "Un suivi se note quand il a eu lieu, pas à l'avance.",
            ));
        }
        if let CoordinationStep::CheckIn {
            next_on: Some(next),
        } = self.step
        {
            if next <= self.on {
                problems.push(FieldError::new(
                    "next_on",
                    "Le prochain point vient après celui-ci.",
                ));
            }
        }
        if matches!(self.step, CoordinationStep::CheckIn { .. }) && self.note.trim().is_empty() {
            problems.push(FieldError::new("note", "Notez ce qui a été fait ou dit."));
        }
        problems.extend(check_text("note", &self.note, TEXT_MAX_CHARS).err());
        problems
    }

    fn check(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    fn references(&self) -> Vec<Reference> {
        vec![request_reference(self.request_id)]
    }

    fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        only_coordinators(directory, self.author_id)
    }
}

record_body!(
    CoordinationEvent,
    refers_to => CoordinationEvent::references,
    check_people => CoordinationEvent::check_people,
    server_made => |e: &CoordinationEvent| (e.step == CoordinationStep::Taken).then(|| FieldError::new(
        "event",
        "Une demande d'appui se prend depuis la file des demandes.",
    )),
);

fn request_reference(id: RecordId) -> Reference {
    Reference::to("request_id", id.0, &["coordination_request"])
}

fn only_coordinators(directory: &dyn Directory, author: AccountId) -> Result<(), FieldError> {
    check_profession(
        directory,
        "author_id",
        author,
        &COORDINATORS,
        "Seul·e un·e coordinateur·rice de la CPTS suit une demande d'appui.",
    )
}

/// Where a request stands, for the coordinators' queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nobody has taken it yet.
    New,
    /// Taken; the needs are being assessed.
    Assessment,
    /// Steps under way, check-ins planned.
    FollowUp,
    Closed,
}

impl Status {
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::New => "Nouvelle",
            Self::Assessment => "En évaluation",
            Self::FollowUp => "En suivi",
            Self::Closed => "Clôturée",
        }
    }
}

/// A request with what happened to it: its status, who took it, and
/// whether it is late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub status: Status,
    pub taken_by: Option<AccountId>,
    /// The next planned check-in, while following up.
    pub next_check_in: Option<CalendarDate>,
    /// Not taken in time for its urgency, a check-in missed, or a
    /// follow-up past its quarter.
    pub overdue: bool,
}

impl Progress {
    /// From the request, its events and its assessments (any order; a
    /// corrected record counts as its correction), on `today`.
    pub fn of(
        request: &CoordinationRequest,
        events: &[CoordinationEvent],
        assessments: &[NeedsAssessment],
        today: CalendarDate,
        offset_minutes: i32,
    ) -> Progress {
        let mine = |id: RecordId| id == request.id;
        let mut events: Vec<&CoordinationEvent> =
            events.iter().filter(|e| mine(e.request_id)).collect();
        let replaced: Vec<RecordId> = events.iter().filter_map(|e| e.amends).collect();
        events.retain(|e| !replaced.contains(&e.id));
        events.sort_by_key(|e| (e.on, e.recorded_at));
        let taken = events
            .iter()
            .find(|e| e.step == CoordinationStep::Taken)
            .copied();
        let closed = events
            .iter()
            .any(|e| matches!(e.step, CoordinationStep::Closed { .. }));
        let assessed = assessments.iter().any(|a| mine(a.request_id));
        let next_check_in = events.iter().rev().find_map(|e| match e.step {
            CoordinationStep::CheckIn { next_on } => Some(next_on),
            _ => None,
        });
        let asked_on = crate::trajectory::day_of(request.recorded_at, offset_minutes);
        let days_since = |d: Option<CalendarDate>| {
            d.map_or(0, |d| today.days_since_epoch() - d.days_since_epoch())
        };
        let status = match (closed, taken.is_some(), assessed) {
            (true, _, _) => Status::Closed,
            (false, false, _) => Status::New,
            (false, true, false) => Status::Assessment,
            (false, true, true) => Status::FollowUp,
        };
        let overdue = match status {
            Status::New => days_since(asked_on) >= request.urgency.take_within_days(),
            Status::Assessment => days_since(taken.map(|t| t.on)) >= TAKE_WITHIN_DAYS,
            Status::FollowUp => {
                next_check_in.flatten().is_some_and(|d| d < today)
                    || days_since(taken.map(|t| t.on)) > FOLLOW_UP_DAYS
            }
            Status::Closed => false,
        };
        Progress {
            status,
            taken_by: taken.map(|t| t.author_id),
            next_check_in: if status == Status::FollowUp {
                next_check_in.flatten()
            } else {
                None
            },
            overdue,
        }
    }
}

/// One request as the coordinators' queue shows it
/// (`GET /api/coordination/queue`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueEntry {
    pub request: CoordinationRequest,
    pub progress: Progress,
    pub patient_name: String,
    pub patient_town: String,
    pub patient_birth_date: String,
    /// "Nadia Benali (assistante sociale)".
    pub asked_by: String,
    pub taken_by_name: Option<String>,
    /// Whether the person asking is in the patient's team already.
    pub in_my_team: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testing::People;
    use crate::record::RecordBody;

    /// 2026-11-20T10:00:00Z.
    const NOW: i64 = 1_795_168_800_000;
    const DAY: i64 = 86_400_000;

    fn day(s: &str) -> CalendarDate {
        s.parse().unwrap()
    }

    fn request(urgency: Urgency) -> CoordinationRequest {
        CoordinationRequest {
            id: RecordId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            reasons: "Vit seule, chutes répétées, refuse les aides.".into(),
            urgency,
            urgent_details: if urgency == Urgency::Routine {
                String::new()
            } else {
                "Plus de repas livrés depuis lundi.".into()
            },
            domains: vec![NeedDomain::Social, NeedDomain::Housing],
        }
    }

    fn event(r: &CoordinationRequest, on: &str, step: CoordinationStep) -> CoordinationEvent {
        CoordinationEvent {
            id: RecordId::new(),
            patient_id: r.patient_id,
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW + 60 * DAY,
            amends: None,
            request_id: r.id,
            on: day(on),
            step,
            note: "Appel à la patiente et au médecin traitant.".into(),
        }
    }

    fn assessment(r: &CoordinationRequest) -> NeedsAssessment {
        NeedsAssessment {
            id: RecordId::new(),
            patient_id: r.patient_id,
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            recorded_at: NOW,
            amends: None,
            request_id: r.id,
            patient_contacted: true,
            gp_contacted: true,
            needs: vec![Need {
                domain: NeedDomain::Housing,
                existing: "Aide-ménagère 2 h par semaine".into(),
                needed: "Barres d'appui, téléassistance".into(),
            }],
            summary: String::new(),
        }
    }

    #[test]
    fn a_request_says_why_and_what_cannot_wait() {
        assert_eq!(request(Urgency::Urgent).validate_at(NOW), Ok(()));
        let bad = CoordinationRequest {
            reasons: " ".into(),
            urgent_details: String::new(),
            domains: vec![NeedDomain::Social, NeedDomain::Social],
            ..request(Urgency::Soon)
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["reasons", "urgent_details", "domains[1]"]);
    }

    #[test]
    fn only_coordinators_assess_and_follow_up() {
        let r = request(Urgency::Routine);
        let a = assessment(&r);
        let social_worker = People::default().with(a.author_id, Profession::SocialWorker);
        assert_eq!(
            a.check_people(&social_worker).unwrap_err().field,
            "author_id"
        );
        let coordinator = People::default().with(a.author_id, Profession::SupportCoordinator);
        assert_eq!(a.check_people(&coordinator), Ok(()));
        assert_eq!(a.refers_to()[0].kinds, &["coordination_request"]);
        let empty = NeedsAssessment {
            needs: vec![Need {
                domain: NeedDomain::Medical,
                existing: "Suivi par le médecin traitant".into(),
                needed: String::new(),
            }],
            ..assessment(&r)
        };
        assert_eq!(empty.validate_at(NOW).unwrap_err().field, "needs");
    }

    #[test]
    fn check_ins_look_ahead_and_say_what_was_done() {
        let r = request(Urgency::Routine);
        let mut e = event(
            &r,
            "2026-11-20",
            CoordinationStep::CheckIn {
                next_on: Some(day("2026-11-20")),
            },
        );
        e.recorded_at = NOW;
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "next_on");
        e.step = CoordinationStep::CheckIn {
            next_on: Some(day("2026-12-04")),
        };
        e.note = String::new();
        assert_eq!(e.validate_at(NOW).unwrap_err().field, "note");
        e.on = day("2026-11-25");
        assert_eq!(e.problems()[0].field, "on");
    }

    #[test]
    fn the_queue_status_of_a_request_through_its_life() {
        let r = request(Urgency::Routine);
        let asked = day("2026-11-20");
        let at = |d: &str| day(d);
        // New, then late after a week (an urgent one after a day).
        let p = Progress::of(&r, &[], &[], asked, 60);
        assert_eq!((p.status, p.overdue), (Status::New, false));
        assert!(Progress::of(&r, &[], &[], at("2026-11-27"), 60).overdue);
        let urgent = request(Urgency::Urgent);
        assert!(Progress::of(&urgent, &[], &[], at("2026-11-21"), 60).overdue);
        // Taken: in assessment, by whom.
        let taken = event(&r, "2026-11-21", CoordinationStep::Taken);
        let p = Progress::of(&r, std::slice::from_ref(&taken), &[], at("2026-11-22"), 60);
        assert_eq!(
            (p.status, p.taken_by),
            (Status::Assessment, Some(taken.author_id))
        );
        // Assessed: in follow-up; a missed check-in makes it late.
        let check_in = event(
            &r,
            "2026-11-28",
            CoordinationStep::CheckIn {
                next_on: Some(at("2026-12-12")),
            },
        );
        let events = vec![taken.clone(), check_in.clone()];
        let assessed = [assessment(&r)];
        let p = Progress::of(&r, &events, &assessed, at("2026-12-01"), 60);
        assert_eq!(
            (p.status, p.next_check_in, p.overdue),
            (Status::FollowUp, Some(at("2026-12-12")), false)
        );
        assert!(Progress::of(&r, &events, &assessed, at("2026-12-13"), 60).overdue);
        // Past its quarter with no check-in planned: late too.
        assert!(
            Progress::of(
                &r,
                std::slice::from_ref(&taken),
                &assessed,
                at("2027-03-01"),
                60
            )
            .overdue
        );
        // Another request's events do not count; a closure ends it.
        let other = request(Urgency::Routine);
        assert_eq!(
            Progress::of(&other, &events, &assessed, at("2026-12-01"), 60).status,
            Status::New
        );
        let closed = event(
            &r,
            "2026-12-20",
            CoordinationStep::Closed {
                outcome: Outcome::HandedOver,
            },
        );
        let all = vec![taken, check_in, closed.clone()];
        let p = Progress::of(&r, &all, &assessed, at("2027-06-01"), 60);
        assert_eq!(
            (p.status, p.overdue, p.next_check_in),
            (Status::Closed, false, None)
        );
        // A closure corrected away (amended by a check-in) reopens it.
        let mut reopened = event(
            &r,
            "2026-12-20",
            CoordinationStep::CheckIn {
                next_on: Some(at("2027-01-05")),
            },
        );
        reopened.amends = Some(closed.id);
        let mut with_correction = all.clone();
        with_correction.push(reopened);
        assert_eq!(
            Progress::of(&r, &with_correction, &assessed, at("2027-01-01"), 60).status,
            Status::FollowUp
        );
    }
}
