//! The messages of the sync protocol (see `docs/sync-protocol.md`).
//!
//! Version 1 has the append lane only: immutable records made on a device,
//! pushed idempotently, pulled back by a server-assigned cursor.

use crate::{FieldError, PainAssessment};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bumped when a message changes in a way an older peer cannot read.
pub const PROTOCOL_VERSION: u32 = 1;
/// Most records one push may carry; a device with more sends several pushes.
pub const MAX_PUSH_RECORDS: usize = 500;
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
    pub records: Vec<Record>,
}

impl PushRequest {
    /// Rules on the whole message that need no database. Record errors are
    /// located in the list (`records[2].pain_now`).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.protocol != PROTOCOL_VERSION {
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
    /// Where the next pull starts. Store it in the same transaction as `records`.
    pub next_cursor: Cursor,
    /// True when more records are waiting: pull again at once.
    pub has_more: bool,
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
        };
        assert_eq!(push.validate().unwrap_err().field, "records[2].pain_now");
    }

    #[test]
    fn duplicates_wrong_versions_and_oversized_pushes_are_refused() {
        let r = record(1);
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: vec![r.clone(), r],
        };
        assert_eq!(push.validate().unwrap_err().field, "records[1].id");
        let push = PushRequest {
            protocol: 99,
            records: vec![],
        };
        assert_eq!(push.validate().unwrap_err().field, "protocol");
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: (0..=MAX_PUSH_RECORDS).map(|_| record(1)).collect(),
        };
        assert_eq!(push.validate().unwrap_err().field, "records");
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            records: (0..MAX_PUSH_RECORDS).map(|_| record(1)).collect(),
        };
        assert_eq!(push.validate(), Ok(()));
    }
}
