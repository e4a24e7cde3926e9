//! The messages of the sync protocol (see `docs/sync-protocol.md`).
//!
//! Append lane: immutable records made on a device, pushed idempotently.
//! Mutation lane (version 2): changes to care-plan items, applied once each,
//! in order per device. Both come back through the same cursor-paged pull.

use crate::care_plan::{ItemState, Mutation};
use crate::{FieldError, PainAssessment};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bumped when a message changes in a way an older peer cannot read.
pub const PROTOCOL_VERSION: u32 = 2;
/// The oldest version the server still accepts (an app cached by an old
/// service worker may still push its waiting records with it).
pub const OLDEST_PROTOCOL_VERSION: u32 = 1;
/// Most records one push may carry; a device with more sends several pushes.
pub const MAX_PUSH_RECORDS: usize = 500;
/// Most mutations one push may carry.
pub const MAX_PUSH_MUTATIONS: usize = 500;
/// Records in a pull page when the client does not ask for fewer.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
/// Most records one pull page may hold.
pub const MAX_PULL_LIMIT: u32 = 1000;

/// An immutable record of the append lane, tagged by its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    PainAssessment(PainAssessment),
}

impl Record {
    pub fn id(&self) -> Uuid {
        match self {
            Record::PainAssessment(a) => a.id.0,
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Record::PainAssessment(a) => a.validate(),
        }
    }
}

/// `POST /api/sync/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u32,
    #[serde(default)]
    pub records: Vec<Record>,
    /// In mutation-id order, consecutive.
    #[serde(default)]
    pub mutations: Vec<Mutation>,
}

impl PushRequest {
    /// Rules on the whole message that need no database. Record errors are
    /// located in the list (`records[2].pain_now`).
    pub fn validate(&self) -> Result<(), FieldError> {
        if !(OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&self.protocol) {
            return Err(FieldError::new(
                "protocol",
                format!("Version de protocole non prise en charge : {} (attendue : {PROTOCOL_VERSION}).", self.protocol),
            ));
        }
        if self.records.len() > MAX_PUSH_RECORDS {
            return Err(FieldError::new(
                "records",
                format!("Au plus {MAX_PUSH_RECORDS} enregistrements par envoi."),
            ));
        }
        if self.mutations.len() > MAX_PUSH_MUTATIONS {
            return Err(FieldError::new(
                "mutations",
                format!("Au plus {MAX_PUSH_MUTATIONS} mutations par envoi."),
            ));
        }
        for (i, m) in self.mutations.iter().enumerate() {
            m.validate()
                .map_err(|e| e.within(&format!("mutations[{i}]")))?;
            if i > 0 && m.mutation_id != self.mutations[i - 1].mutation_id + 1 {
                return Err(FieldError::new(
                    format!("mutations[{i}].mutation_id"),
                    "Les mutations d'un envoi se suivent sans trou, dans l'ordre.",
                ));
            }
            if m.device_id != self.mutations[0].device_id {
                return Err(FieldError::new(
                    format!("mutations[{i}].device_id"),
                    "Un envoi vient d'un seul appareil.",
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, record) in self.records.iter().enumerate() {
            record
                .validate()
                .map_err(|e| e.within(&format!("records[{i}]")))?;
            if !seen.insert(record.id()) {
                return Err(FieldError::new(
                    format!("records[{i}].id"),
                    "Cet enregistrement figure deux fois dans l'envoi.",
                ));
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

/// An opaque position in the server's history. Devices store it and send it
/// back; they never compare or compute with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Cursor(pub String);

/// `GET /api/sync/pull?cursor=…&limit=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub records: Vec<Record>,
    /// Care-plan items changed since the cursor, each in its latest state.
    #[serde(default)]
    pub items: Vec<ItemState>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, AssessmentId, AssessmentMode, DeviceId, PatientId};

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
        assert_eq!(push.validate().unwrap_err().field, "records[2].pain_now");
    }

    #[test]
    fn duplicates_wrong_versions_and_oversized_pushes_are_refused() {
        let r = record(1);
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: vec![r.clone(), r],
            mutations: vec![],
        };
        assert_eq!(push.validate().unwrap_err().field, "records[1].id");
        let push = PushRequest {
            protocol: 99,
            records: vec![],
            mutations: vec![],
        };
        assert_eq!(push.validate().unwrap_err().field, "protocol");
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: (0..=MAX_PUSH_RECORDS).map(|_| record(1)).collect(),
            mutations: vec![],
        };
        assert_eq!(push.validate().unwrap_err().field, "records");
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: (0..MAX_PUSH_RECORDS).map(|_| record(1)).collect(),
            mutations: vec![],
        };
        assert_eq!(push.validate(), Ok(()));
    }
}

/// `GET /api/sync/checksum`: what the server holds for this person, to compare
/// with the device's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksumResponse {
    pub items: u64,
    /// `care_plan::checksum` of (item, version), as a decimal string (JSON
    /// numbers lose precision above 2^53).
    pub checksum: String,
}
