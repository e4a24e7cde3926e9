//! The messages of the sync protocol (see `docs/sync-protocol.md`).
//!
//! Append lane: immutable records made on a device, pushed idempotently.
//! Mutation lane: changes to editable items (care-plan items, objectives…),
//! applied once each, in order per device. Both come back through the same
//! cursor-paged pull.
//!
//! A new kind of record is one type implementing [`RecordBody`] and one line
//! in `record_kinds!` below; a new editable kind is one type implementing
//! [`Editable`] and one line in `editable_kinds!`: the server stores, pulls,
//! merges, audits and checks them without knowing more, and so does the
//! device's store.

pub mod acknowledged;
pub mod client;

use crate::appointment::Appointment;
use crate::care_plan::{CarePlan, CarePlanItem};
use crate::coordination::{CoordinationEvent, CoordinationRequest, NeedsAssessment};
use crate::diary::DiaryEntry;
use crate::enrollment::{Consent, Enrollment, Exit};
use crate::episode::Episode;
use crate::hlc::Hlc;
use crate::instrument_response::InstrumentResponse;
use crate::meeting::{MeetingContribution, MeetingReport, MeetingSheet};
use crate::merge::{self, Applied, Editable, MergeError, MutationOf, StateOf};
use crate::notebook::{NotebookEntry, NotebookRead};
use crate::objective::Objective;
use crate::patient_share::PatientShare;
use crate::problem::Problem;
use crate::record::{Directory, Opening, Reference};
use crate::review::Review;
use crate::visit::Visit;
use crate::{AccountId, DeviceId, FieldError, ItemId, PainAssessment, PatientId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bumped when a message changes in a way an older peer cannot read.
pub const PROTOCOL_VERSION: u32 = 4;
/// The kind of a mutation or item state that does not say (protocol ≤ 3,
/// where care-plan items were the only editable kind).
pub const LEGACY_EDITABLE_KIND: &str = "care_plan_item";
/// The kinds a protocol-3 client knows: it is sent nothing else.
pub const PROTOCOL_3_KINDS: &[&str] = &["pain_assessment", "care_plan_item"];
/// The oldest version the server still accepts (an app cached by an old
/// service worker may still push its waiting records with it).
pub const OLDEST_PROTOCOL_VERSION: u32 = 1;
/// Most records one push may carry; a device with more sends several pushes.
/// (500 until session 10: at 2,000 the server's fixed cost per push — the
/// session, the directory, a commit — is spread over four times as many.)
pub const MAX_PUSH_RECORDS: usize = 2000;
/// The largest request body the server reads (413 beyond).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most bytes of records a client puts in one push: 2,000 long notes could
/// pass the body limit, and a push refused for its size would block the
/// outbox. Half the limit leaves room for the mutations.
pub const MAX_PUSH_RECORD_BYTES: usize = MAX_BODY_BYTES / 2;
/// Most mutations one push may carry.
pub const MAX_PUSH_MUTATIONS: usize = 500;
/// Records in a pull page when the client does not ask for fewer.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
/// Most records and items (counted together) one pull page may hold.
pub const MAX_PULL_LIMIT: u32 = 2000;

pub use crate::record::RecordBody;

/// A registered record kind: how it goes into and out of a [`Record`], so a
/// store or a screen can ask for "the pain assessments" without a `match`.
pub trait RecordKind: RecordBody + Sized {
    /// As written in `kind`.
    const KIND: &'static str;
    fn into_record(self) -> Record;
    fn from_record(record: Record) -> Option<Self>;
}

/// A registered editable kind, likewise for [`Mutation`] and [`ItemState`].
pub trait EditableKind: Editable {
    fn into_mutation(m: MutationOf<Self>) -> Mutation;
    fn from_mutation(m: Mutation) -> Option<MutationOf<Self>>;
    fn from_state(s: ItemState) -> Option<StateOf<Self>>;
}

/// Declares the record kinds: the `Record` enum tagged by `kind` (so no kind
/// may have a field of that name), and the
/// decoding of one record by its kind with errors that name the field.
macro_rules! record_kinds {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) = $kind:literal),* $(,)?) => {
        /// An immutable record of the append lane, tagged by its kind.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum Record {
            $($(#[$doc])* #[serde(rename = $kind)] $variant($ty)),*
        }

        impl Record {
            /// Every kind this build knows, as written in `kind`.
            pub const KINDS: &'static [&'static str] = &[$($kind),*];

            pub fn kind(&self) -> &'static str {
                match self {
                    $(Record::$variant(_) => $kind),*
                }
            }

            fn body(&self) -> &dyn RecordBody {
                match self {
                    $(Record::$variant(r) => r),*
                }
            }

            /// Reads one record from its JSON. Errors are 400-kind (shape,
            /// type, unknown kind, a field given twice) and name the field,
            /// relative to the record (`pain_now`, `kind`).
            pub fn from_json(json: &str) -> Result<Self, FieldError> {
                #[derive(Deserialize)]
                struct Tag {
                    kind: Option<String>,
                    id: Option<serde_json::Value>,
                }
                let tag: Tag = serde_json::from_str(json)
                    .map_err(|e| FieldError::new("", format!("JSON invalide : {e}")))?;
                let record = match tag.kind.as_deref() {
                    $(Some($kind) => decode_json::<$ty>(json).map(Record::$variant),)*
                    Some(other) => Err(FieldError::new(
                        "kind",
                        format!("Type d'enregistrement inconnu : {other}"),
                    )),
                    None => Err(FieldError::new("kind", "Type d'enregistrement manquant.")),
                }?;
                // Acknowledgements carry ids in canonical form; a client
                // matching them as strings must find the ones it sent.
                if tag.id.as_ref().and_then(|v| v.as_str()) != Some(record.id().to_string().as_str()) {
                    return Err(FieldError::new(
                        "id",
                        "Identifiant à écrire en minuscules avec tirets (forme canonique d'un UUID).",
                    ));
                }
                Ok(record)
            }
        }

        $(impl RecordKind for $ty {
            const KIND: &'static str = $kind;
            fn into_record(self) -> Record {
                Record::$variant(self)
            }
            fn from_record(record: Record) -> Option<Self> {
                match record {
                    Record::$variant(r) => Some(r),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        })*
    };
}

record_kinds! {
    /// A pain assessment on the numeric rating scale (the quick record).
    PainAssessment(PainAssessment) = "pain_assessment",
    /// A patient's inclusion in a programme.
    Enrollment(Enrollment) = "enrollment",
    /// Consent to a programme's care contract.
    Consent(Consent) = "consent",
    /// The end of a patient's pathway.
    Exit(Exit) = "exit",
    /// One filled instrument (DN4, QCD, HADS…).
    InstrumentResponse(InstrumentResponse) = "instrument_response",
    /// A visit or consultation.
    Visit(Visit) = "visit",
    /// A day of the patient's own pain diary.
    DiaryEntry(DiaryEntry) = "diary_entry",
    /// An entry of the liaison notebook.
    NotebookEntry(NotebookEntry) = "notebook_entry",
    /// Someone read a notebook entry addressed to them.
    NotebookRead(NotebookRead) = "notebook_read",
    /// A relapse, a break in follow-up, a resumption: not an exit.
    Episode(Episode) = "episode",
    /// A message the team wrote for the patient, read in their own app.
    PatientShare(PatientShare) = "patient_share",
    /// A professional asks the CPTS's coordinators for support.
    CoordinationRequest(CoordinationRequest) = "coordination_request",
    /// The coordinator's assessment of what exists and what is needed.
    NeedsAssessment(NeedsAssessment) = "needs_assessment",
    /// A request taken, followed up, closed.
    CoordinationEvent(CoordinationEvent) = "coordination_event",
    /// A patient on a synthesis meeting's agenda.
    MeetingSheet(MeetingSheet) = "meeting_sheet",
    /// An attendee's view, prepared before the meeting.
    MeetingContribution(MeetingContribution) = "meeting_contribution",
    /// The sheet finalised in the meeting: decision, patient's position, steps.
    MeetingReport(MeetingReport) = "meeting_report",
}

impl Record {
    pub fn id(&self) -> Uuid {
        self.body().id()
    }
    pub fn patient_id(&self) -> PatientId {
        self.body().patient_id()
    }
    pub fn author_id(&self) -> AccountId {
        self.body().author_id()
    }
    pub fn device_id(&self) -> DeviceId {
        self.body().device_id()
    }
    pub fn recorded_at(&self) -> i64 {
        self.body().recorded_at()
    }
    pub fn amends(&self) -> Option<Uuid> {
        self.body().amends()
    }
    pub fn validate_at(&self, now_ms: i64) -> Result<(), FieldError> {
        self.body().validate_at(now_ms)
    }
    pub fn opens(&self) -> Option<Opening> {
        self.body().opens()
    }
    pub fn refers_to(&self) -> Vec<Reference> {
        self.body().refers_to()
    }
    pub fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
        self.body().check_people(directory)
    }
    pub fn readers(&self) -> Option<Vec<crate::Profession>> {
        self.body().readers()
    }
    pub fn members_named(&self) -> Vec<(String, AccountId)> {
        self.body().members_named()
    }
    pub fn shown_to_patient(&self) -> bool {
        self.body().shown_to_patient()
    }
    pub fn written_by_patient(&self) -> bool {
        self.body().written_by_patient()
    }
    pub fn server_made(&self) -> Option<FieldError> {
        self.body().server_made()
    }
}

/// What every mutation says about itself, whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutationEnvelope {
    pub device_id: DeviceId,
    pub mutation_id: u64,
    pub item_id: ItemId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    pub base_version: u64,
    pub hlc: Hlc,
}

fn envelope<E: Editable>(m: &MutationOf<E>) -> MutationEnvelope {
    MutationEnvelope {
        device_id: m.device_id,
        mutation_id: m.mutation_id,
        item_id: m.item_id,
        patient_id: m.patient_id,
        author_id: m.author_id,
        base_version: m.base_version,
        hlc: m.hlc,
    }
}

/// Reads the `kind` of a message that may not say it (protocol ≤ 3).
fn editable_kind(json: &str) -> Result<String, FieldError> {
    #[derive(Deserialize)]
    struct Tag {
        kind: Option<String>,
    }
    let tag: Tag = serde_json::from_str(json)
        .map_err(|e| FieldError::new("", format!("JSON invalide : {e}")))?;
    Ok(tag.kind.unwrap_or_else(|| LEGACY_EDITABLE_KIND.to_string()))
}

/// Declares the editable kinds: the `Mutation` and `ItemState` enums tagged
/// by `kind`, their decoding by kind, and the merge of a mutation into the
/// state of its kind.
macro_rules! editable_kinds {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) = $kind:literal),* $(,)?) => {
        /// A change to one editable item, tagged by the item's kind.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum Mutation {
            $($(#[$doc])* #[serde(rename = $kind)] $variant(MutationOf<$ty>)),*
        }

        /// An editable item as the server holds it, tagged by its kind.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum ItemState {
            $($(#[$doc])* #[serde(rename = $kind)] $variant(StateOf<$ty>)),*
        }

        /// What one mutation did to its item, for the history (the JSON of
        /// the kind's `Applied`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum Outcome {
            $($variant(Applied<<$ty as Editable>::Field>)),*
        }

        impl Mutation {
            /// Every editable kind this build knows, as written in `kind`.
            pub const KINDS: &'static [&'static str] = &[$($kind),*];

            pub fn kind(&self) -> &'static str {
                match self {
                    $(Mutation::$variant(_) => $kind),*
                }
            }

            pub fn envelope(&self) -> MutationEnvelope {
                match self {
                    $(Mutation::$variant(m) => envelope(m)),*
                }
            }

            /// Reads one mutation from its JSON; without `kind` it is a
            /// care-plan item's (protocol ≤ 3). Errors name the field.
            pub fn from_json(json: &str) -> Result<Self, FieldError> {
                match editable_kind(json)?.as_str() {
                    $($kind => decode_json::<MutationOf<$ty>>(json).map(Mutation::$variant),)*
                    other => Err(FieldError::new(
                        "kind",
                        format!("Type d'élément modifiable inconnu : {other}"),
                    )),
                }
            }

            pub fn validate_at(&self, now_ms: i64) -> Result<(), FieldError> {
                match self {
                    $(Mutation::$variant(m) => m.validate_at(now_ms)),*
                }
            }

            /// Rules about who may make each change (a countersignature).
            pub fn check_people(&self, directory: &dyn Directory) -> Result<(), FieldError> {
                match self {
                    $(Mutation::$variant(m) => {
                        for (i, c) in m.changes.iter().enumerate() {
                            <$ty as Editable>::check_people(c, m.author_id, directory)
                                .map_err(|e| FieldError::new(format!("changes[{i}].value"), e.message))?;
                        }
                        Ok(())
                    }),*
                }
            }

            /// The accounts this mutation makes owner, with the index of the
            /// change that does (each must be in the patient's care team).
            pub fn new_owners(&self) -> Vec<(usize, AccountId)> {
                match self {
                    $(Mutation::$variant(m) => m
                        .changes
                        .iter()
                        .enumerate()
                        .filter_map(|(i, c)| <$ty as Editable>::new_owner(c).map(|o| (i, o)))
                        .collect()),*
                }
            }

            /// Applies this mutation to the state of its item (None: a
            /// creation). A state of another kind is another item: unknown.
            pub fn apply(&self, state: Option<ItemState>) -> Result<(ItemState, Outcome), MergeError> {
                match (self, state) {
                    $((Mutation::$variant(m), None) => merge::apply(None, m)
                        .map(|(s, o)| (ItemState::$variant(s), Outcome::$variant(o))),
                    (Mutation::$variant(m), Some(ItemState::$variant(s))) => merge::apply(Some(s), m)
                        .map(|(s, o)| (ItemState::$variant(s), Outcome::$variant(o))),)*
                    #[allow(unreachable_patterns)]
                    _ => Err(MergeError::UnknownItem),
                }
            }
        }

        impl ItemState {
            pub fn kind(&self) -> &'static str {
                match self {
                    $(ItemState::$variant(_) => $kind),*
                }
            }

            /// Reads one state from its JSON (without `kind`: a care-plan item's).
            pub fn from_json(json: &str) -> Result<Self, FieldError> {
                match editable_kind(json)?.as_str() {
                    $($kind => decode_json::<StateOf<$ty>>(json).map(ItemState::$variant),)*
                    other => Err(FieldError::new(
                        "kind",
                        format!("Type d'élément modifiable inconnu : {other}"),
                    )),
                }
            }

            pub fn id(&self) -> ItemId {
                match self {
                    $(ItemState::$variant(s) => s.item.id()),*
                }
            }

            pub fn patient_id(&self) -> PatientId {
                match self {
                    $(ItemState::$variant(s) => s.item.patient_id()),*
                }
            }

            pub fn version(&self) -> u64 {
                match self {
                    $(ItemState::$variant(s) => s.version),*
                }
            }

            /// The clocks of every field's last change: a device's clock
            /// moves past them when it receives the state.
            pub fn clocks(&self) -> Vec<Hlc> {
                match self {
                    $(ItemState::$variant(s) => s.stamps.values().map(|st| st.hlc).collect()),*
                }
            }

            /// What the patient reads of this item in their own app, if
            /// anything (see [`Editable::for_patient`]). Conflicts stay the
            /// team's: they hold other people's values of any field.
            pub fn for_patient(&self) -> Option<ItemState> {
                match self {
                    $(ItemState::$variant(s) => s.item.for_patient().map(|item| {
                        ItemState::$variant(StateOf {
                            item,
                            version: s.version,
                            created_by_device: s.created_by_device,
                            stamps: s.stamps.clone(),
                            conflicts: vec![],
                        })
                    })),*
                }
            }
        }

        $(impl EditableKind for $ty {
            fn into_mutation(m: MutationOf<Self>) -> Mutation {
                Mutation::$variant(m)
            }
            fn from_mutation(m: Mutation) -> Option<MutationOf<Self>> {
                match m {
                    Mutation::$variant(m) => Some(m),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
            fn from_state(s: ItemState) -> Option<StateOf<Self>> {
                match s {
                    ItemState::$variant(s) => Some(s),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        })*

        #[cfg(test)]
        const EDITABLE_KIND_NAMES: &[(&str, &str)] = &[$(($kind, <$ty as Editable>::KIND)),*];
    };
}

editable_kinds! {
    /// An action of the personalised care plan.
    CarePlanItem(CarePlanItem) = "care_plan_item",
    /// The plan itself (one per patient): coordinator, IRDP, expectations.
    CarePlan(CarePlan) = "care_plan",
    /// A problem the plan answers.
    Problem(Problem) = "problem",
    /// A shared, measurable objective.
    Objective(Objective) = "objective",
    /// A review point or team meeting.
    Review(Review) = "review",
    /// A planned visit.
    Appointment(Appointment) = "appointment",
}

/// Reads a value from JSON with serde's own rules (a field given twice is
/// refused). With the `field-paths` feature, the error names the path of the
/// field that broke (`changes[0].value`, or empty when the whole value is
/// wrong); without it, the error is on the whole value.
pub fn decode_json<T: DeserializeOwned>(json: &str) -> Result<T, FieldError> {
    #[cfg(feature = "field-paths")]
    {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path == "?" {
                String::new()
            } else {
                path
            };
            FieldError::new(field, format!("JSON invalide : {}", e.inner()))
        })
    }
    #[cfg(not(feature = "field-paths"))]
    {
        serde_json::from_str(json).map_err(|e| FieldError::new("", format!("JSON invalide : {e}")))
    }
}

/// Why a pushed value was refused, and so the HTTP status it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// The message breaks a rule (422).
    Invalid(FieldError),
    /// The mutations are not in consecutive order (409: send the outbox again
    /// from its start).
    OutOfOrder(FieldError),
}

impl PushError {
    pub fn field_error(&self) -> &FieldError {
        match self {
            PushError::Invalid(e) | PushError::OutOfOrder(e) => e,
        }
    }
}

/// `POST /api/sync/push`. Generic over how records and mutations are
/// carried: the server reads them as the domain's types; the sync client
/// sends them as the device stored them (raw JSON), so it needs no code of
/// any kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest<R = Record, M = Mutation> {
    pub protocol: u32,
    #[serde(default = "Vec::new")]
    pub records: Vec<R>,
    /// In mutation-id order, consecutive.
    #[serde(default = "Vec::new")]
    pub mutations: Vec<M>,
}

impl PushRequest {
    /// Rules on the whole message that need no database, with times checked
    /// against the receiver's clock. Record errors are located in the list
    /// (`records[2].pain_now`).
    pub fn validate_at(&self, now_ms: i64) -> Result<(), PushError> {
        use PushError::{Invalid, OutOfOrder};
        if !(OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&self.protocol) {
            return Err(Invalid(FieldError::new(
                "protocol",
                format!("Version de protocole non prise en charge : {} (attendue : {PROTOCOL_VERSION}).", self.protocol),
            )));
        }
        if self.protocol < 2 && !self.mutations.is_empty() {
            return Err(Invalid(FieldError::new(
                "mutations",
                "Les mutations demandent la version 2 du protocole ou plus.",
            )));
        }
        if self.records.len() > MAX_PUSH_RECORDS {
            return Err(Invalid(FieldError::new(
                "records",
                format!("Au plus {MAX_PUSH_RECORDS} enregistrements par envoi."),
            )));
        }
        if self.mutations.len() > MAX_PUSH_MUTATIONS {
            return Err(Invalid(FieldError::new(
                "mutations",
                format!("Au plus {MAX_PUSH_MUTATIONS} mutations par envoi."),
            )));
        }
        for (i, m) in self.mutations.iter().enumerate() {
            m.validate_at(now_ms)
                .map_err(|e| Invalid(e.within(&format!("mutations[{i}]"))))?;
            let this = m.envelope();
            if i > 0 && this.mutation_id != self.mutations[i - 1].envelope().mutation_id + 1 {
                return Err(OutOfOrder(FieldError::new(
                    format!("mutations[{i}].mutation_id"),
                    "Les mutations d'un envoi se suivent sans trou, dans l'ordre.",
                )));
            }
            if this.device_id != self.mutations[0].envelope().device_id {
                return Err(Invalid(FieldError::new(
                    format!("mutations[{i}].device_id"),
                    "Un envoi vient d'un seul appareil.",
                )));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, record) in self.records.iter().enumerate() {
            record
                .validate_at(now_ms)
                .map_err(|e| Invalid(e.within(&format!("records[{i}]"))))?;
            if !seen.insert(record.id()) {
                return Err(Invalid(FieldError::new(
                    format!("records[{i}].id"),
                    "Cet enregistrement figure deux fois dans l'envoi.",
                )));
            }
        }
        Ok(())
    }
}

/// The answer to a push: every record listed here is durably stored on the
/// server (now or by an earlier push), so the device may forget it was pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub acknowledged: Vec<Uuid>,
    /// The last mutation of this (account, device) the server has applied:
    /// every outbox mutation up to it may be forgotten.
    #[serde(default)]
    pub last_mutation_id: u64,
}

/// What a kind is called, in French, where a screen names kinds it does not
/// otherwise show (the refused list). Every registered kind has a name
/// (a test checks it): registering a kind means naming it here too.
pub fn kind_fr(kind: &str) -> &'static str {
    match kind {
        "pain_assessment" => "Évaluation de la douleur",
        "enrollment" => "Inclusion",
        "consent" => "Consentement",
        "exit" => "Sortie du parcours",
        "instrument_response" => "Questionnaire",
        "visit" => "Visite",
        "diary_entry" => "Journal de douleur",
        "notebook_entry" => "Message du cahier de liaison",
        "notebook_read" => "Lecture d'un message",
        "episode" => "Épisode du parcours",
        "patient_share" => "Message au patient",
        "coordination_request" => "Demande d'appui",
        "needs_assessment" => "Évaluation des besoins",
        "coordination_event" => "Suivi d'une demande d'appui",
        "meeting_sheet" => "Fiche de réunion",
        "meeting_contribution" => "Avis préparé pour une réunion",
        "meeting_report" => "Compte rendu de réunion",
        "care_plan_item" => "Action du plan de soins",
        "care_plan" => "Plan personnalisé de santé",
        "problem" => "Problème du plan",
        "objective" => "Objectif du plan",
        "review" => "Point d'étape",
        "appointment" => "Rendez-vous",
        _ => "Enregistrement",
    }
}

/// A record or a change the server refused, given up by its author on
/// their device (`POST /api/sync/discarded`). The server never stored it;
/// it writes who gave up what, when and why, in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discarded {
    pub patient_id: PatientId,
    /// The record's kind, or the edited item's.
    pub kind: String,
    /// The record's id, or the edited item's.
    pub id: Uuid,
    /// The server's refusal, as the device received it.
    pub reason: String,
}

impl Discarded {
    pub const MAX_KIND_CHARS: usize = 64;
    pub const MAX_REASON_CHARS: usize = 300;

    /// Every problem at once (empty: acceptable).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = vec![];
        let kind = self.kind.trim();
        if kind.is_empty() || kind.chars().count() > Self::MAX_KIND_CHARS {
            problems.push(FieldError::new(
                "kind",
                "Indiquez la sorte d'enregistrement abandonné (64 caractères au plus).",
            ));
        }
        if self.reason.chars().count() > Self::MAX_REASON_CHARS {
            problems.push(FieldError::new(
                "reason",
                "Le motif du refus est trop long (300 caractères au plus).",
            ));
        }
        problems
    }
}

/// An opaque position in the server's history. Devices store it and send it
/// back; they never compare or compute with it. The server refuses (400,
/// field `cursor`) one it never issued; the device then pulls from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Cursor(pub String);

/// `GET /api/sync/pull?cursor=…&limit=…&estimate=…&protocol=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PullQuery {
    /// The client's protocol version; absent means 3, whose clients are sent
    /// only the kinds they know ([`PROTOCOL_3_KINDS`]).
    #[serde(default)]
    pub protocol: Option<u32>,
    /// The `next_cursor` of the previous page; absent or empty the first time.
    #[serde(default)]
    pub cursor: Option<Cursor>,
    /// 1 to `MAX_PULL_LIMIT` records and items together.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Ask for `remaining` (costs two counts: the first page of a sync only).
    #[serde(default)]
    pub estimate: bool,
}

/// The answer to a pull. Generic over how records and items are carried: the
/// server sends them as stored (raw JSON), a client may read each one on its
/// own so that one it cannot read does not cost it the whole page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse<R = Record, I = ItemState> {
    pub records: Vec<R>,
    /// Editable items changed since the cursor, each in its latest state.
    #[serde(default = "Vec::new")]
    pub items: Vec<I>,
    /// The last mutation of this (account, device) the server has applied.
    #[serde(default)]
    pub last_mutation_id: u64,
    /// Where the next pull starts. Store it in the same transaction as `records`.
    pub next_cursor: Cursor,
    /// True when more records are waiting: pull again at once.
    pub has_more: bool,
    /// When asked (`estimate=true`): how many records and items wait after
    /// this page, for a progress bar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// `GET /api/sync/checksum`: what the server holds for this person, to compare
/// with the device's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksumResponse {
    /// Care-plan items the person may see.
    pub items: u64,
    /// Append-lane records the person may see.
    #[serde(default)]
    pub records: u64,
    /// [`checksum`] over every (item id, version) and (record id, 0), as a
    /// decimal string (JSON numbers lose precision above 2^53).
    pub checksum: String,
}

/// An order-independent checksum of (id, version) pairs (records are
/// immutable: version 0). A device and the server compare theirs to detect
/// divergence without sending the data.
///
/// Exactly: for each pair, FNV-1a 64 over the id's 16 bytes (big-endian, as
/// written in the UUID) followed by the version's 8 bytes little-endian; the
/// checksum is the XOR of those hashes (0 for nothing).
pub fn checksum<I: IntoIterator<Item = (Uuid, u64)>>(entries: I) -> u64 {
    entries.into_iter().fold(0u64, |acc, (id, version)| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.as_bytes().iter().chain(version.to_le_bytes().iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        acc ^ h
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_kind_has_a_french_name() {
        for kind in Record::KINDS.iter().chain(Mutation::KINDS) {
            assert_ne!(kind_fr(kind), "Enregistrement", "{kind} has no name");
        }
    }
    use crate::{AccountId, AssessmentId, AssessmentMode, DeviceId, ItemId, PatientId};

    const NOW: i64 = 1_790_000_000_000;

    fn record(pain_now: u8) -> Record {
        Record::PainAssessment(PainAssessment {
            id: AssessmentId::new(),
            patient_id: PatientId::new(),
            recorded_at: 1_790_000_000_000,
            author_id: AccountId::new(),
            device_id: DeviceId::new(),
            mode: AssessmentMode::Interview,
            pain_now,
            pain_average_24h: 3,
            pain_worst_24h: 6,
            location: String::new(),
            note: String::new(),
            amends: None,
        })
    }

    #[test]
    fn records_are_tagged_by_kind() {
        let json = serde_json::to_value(record(2)).unwrap();
        assert_eq!(json["kind"], "pain_assessment");
        let back: Record = serde_json::from_value(json).unwrap();
        assert!(matches!(back, Record::PainAssessment(a) if a.pain_now == 2));
    }

    #[test]
    fn a_bad_record_is_located_in_the_list() {
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: vec![record(1), record(2), record(12)],
            mutations: vec![],
        };
        assert_eq!(
            push.validate_at(NOW).unwrap_err().field_error().field,
            "records[2].pain_now"
        );
    }

    #[test]
    fn duplicates_wrong_versions_and_oversized_pushes_are_refused() {
        let r = record(1);
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: vec![r.clone(), r],
            mutations: vec![],
        };
        assert_eq!(
            push.validate_at(NOW).unwrap_err().field_error().field,
            "records[1].id"
        );
        let push = PushRequest {
            protocol: 99,
            records: vec![],
            mutations: vec![],
        };
        assert_eq!(
            push.validate_at(NOW).unwrap_err().field_error().field,
            "protocol"
        );
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: (0..=MAX_PUSH_RECORDS).map(|_| record(1)).collect(),
            mutations: vec![],
        };
        assert_eq!(
            push.validate_at(NOW).unwrap_err().field_error().field,
            "records"
        );
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: (0..MAX_PUSH_RECORDS).map(|_| record(1)).collect(),
            mutations: vec![],
        };
        assert_eq!(push.validate_at(NOW), Ok(()));
    }

    #[test]
    fn each_kind_is_tagged_as_declared_and_decoded_by_its_tag() {
        let r = record(2);
        let json = serde_json::to_string(&r).unwrap();
        assert!(Record::KINDS.contains(&r.kind()));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap()["kind"],
            r.kind()
        );
        assert_eq!(Record::from_json(&json).unwrap(), r);
    }

    #[test]
    fn undecodable_records_name_what_is_wrong() {
        let json = serde_json::to_value(record(2)).unwrap();
        let mut unknown = json.clone();
        unknown["kind"] = "telepathy".into();
        assert_eq!(
            Record::from_json(&unknown.to_string()).unwrap_err().field,
            "kind"
        );
        let mut missing = json.clone();
        missing.as_object_mut().unwrap().remove("kind");
        assert_eq!(
            Record::from_json(&missing.to_string()).unwrap_err().field,
            "kind"
        );
        let mut wrong_type = json.clone();
        wrong_type["pain_now"] = "sept".into();
        let err = Record::from_json(&wrong_type.to_string()).unwrap_err();
        #[cfg(feature = "field-paths")]
        assert_eq!(err.field, "pain_now");
        assert!(err.message.contains("invalid type"), "{err:?}");
        // The same field twice: the last would silently win in a map.
        let twice = json
            .to_string()
            .replacen("\"pain_now\":2", "\"pain_now\":3,\"pain_now\":9", 1);
        assert!(twice.contains("\"pain_now\":9"));
        let err = Record::from_json(&twice).unwrap_err();
        assert!(err.message.contains("duplicate field"), "{err:?}");
    }

    #[test]
    fn times_beyond_the_receivers_clock_and_mutations_on_protocol_1_are_refused() {
        let Some(mut a) = PainAssessment::from_record(record(2)) else {
            panic!("a pain assessment")
        };
        a.recorded_at = i64::MAX;
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: vec![Record::PainAssessment(a)],
            mutations: vec![],
        };
        assert_eq!(
            push.validate_at(NOW).unwrap_err(),
            PushError::Invalid(FieldError::new(
                "records[0].recorded_at",
                "Date dans le futur : vérifiez l'heure de l'appareil."
            ))
        );
    }

    #[test]
    fn editable_kinds_are_tagged_as_their_types_say() {
        for (tag, kind) in EDITABLE_KIND_NAMES {
            assert_eq!(tag, kind);
            assert!(Mutation::KINDS.contains(tag));
        }
    }

    #[test]
    fn a_mutation_without_kind_is_a_care_plan_items() {
        use crate::care_plan::{FieldChange, ItemStatus};
        let m = MutationOf::<CarePlanItem> {
            device_id: DeviceId::new(),
            mutation_id: 1,
            item_id: ItemId::new(),
            patient_id: PatientId::new(),
            author_id: AccountId::new(),
            base_version: 0,
            hlc: Hlc {
                wall_ms: NOW,
                counter: 0,
                device: DeviceId::new(),
            },
            changes: vec![FieldChange::Status(ItemStatus::Active)],
            resolves: vec![],
        };
        let tagged = serde_json::to_value(Mutation::CarePlanItem(m.clone())).unwrap();
        assert_eq!(tagged["kind"], "care_plan_item");
        let legacy = serde_json::to_string(&m).unwrap();
        assert!(!legacy.contains("kind"));
        assert_eq!(
            Mutation::from_json(&legacy).unwrap(),
            Mutation::CarePlanItem(m.clone())
        );
        assert_eq!(
            Mutation::from_json(&tagged.to_string()).unwrap(),
            Mutation::CarePlanItem(m)
        );
        let mut unknown = tagged.clone();
        unknown["kind"] = "pain_assessment".into();
        assert_eq!(
            Mutation::from_json(&unknown.to_string()).unwrap_err().field,
            "kind"
        );
    }

    #[test]
    fn checksums_ignore_order_and_see_any_version_change() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(checksum([(a, 1), (b, 0)]), checksum([(b, 0), (a, 1)]));
        assert_ne!(checksum([(a, 1), (b, 0)]), checksum([(a, 1), (b, 3)]));
        assert_ne!(
            checksum([(a, 1), (b, 0)]),
            checksum([(a, 1)]),
            "a missing record shows"
        );
        assert_eq!(checksum([]), 0);
        // Pinned, so a second client can check its implementation byte for byte.
        let id = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
        // (computed independently with a few lines of Python)
        assert_eq!(checksum([(id, 7)]), 0x2368_9407_ea76_18c5);
    }
}
