//! What every record of the append lane is, whatever its kind: an envelope
//! (id, patient, author, device, when, what it amends) the server stores as
//! columns, the rules of its kind, and what the server must check against
//! what it knows (the people named, the records referred to, a patient the
//! record opens). A kind declares these here once; the server, the device
//! store and the sync client handle every kind alike.

use crate::patient::Patient;
use crate::validation::check_time;
use crate::{AccountId, DeviceId, FieldError, PainAssessment, PatientId, Profession};
use uuid::Uuid;

/// What the server knows of the people a record names.
pub trait Directory {
    /// The account's profession, if the account exists and is enabled.
    fn profession(&self, account: AccountId) -> Option<Profession>;
}

/// A patient a record brings into Parcours (an inclusion of someone the
/// server does not know yet), with the care team it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub patient: Patient,
    /// Everyone who joins the care team, the author included.
    pub team: Vec<AccountId>,
}

/// A record of the same patient this one points at, which must exist (or
/// come earlier in the same push) and be of one of these kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub field: &'static str,
    pub id: Uuid,
    pub kinds: &'static [&'static str],
    /// A list of accounts in the record referred to that must name this
    /// record's author (a view on a meeting sheet is an attendee's).
    pub author_among: Option<AuthorAmong>,
}

/// Who may write a record that refers to another: the accounts the other
/// lists in its field `list`; anyone else is refused with `refusal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorAmong {
    pub list: &'static str,
    pub refusal: &'static str,
}

impl Reference {
    pub fn to(field: &'static str, id: Uuid, kinds: &'static [&'static str]) -> Self {
        Reference {
            field,
            id,
            kinds,
            author_among: None,
        }
    }

    /// Only the accounts the record referred to lists in `list` may write
    /// this one; anyone else is told `refusal`.
    pub fn written_by_one_of(mut self, list: &'static str, refusal: &'static str) -> Self {
        self.author_among = Some(AuthorAmong { list, refusal });
        self
    }

    /// Whether `referred` (the record referred to, as JSON) lists `author`
    /// in its `author_among` list; true when there is no such rule.
    pub fn admits(&self, referred: &serde_json::Value, author: AccountId) -> bool {
        let Some(AuthorAmong { list, .. }) = self.author_among else {
            return true;
        };
        let author = author.to_string();
        referred
            .get(list)
            .and_then(|l| l.as_array())
            .is_some_and(|l| l.iter().any(|a| a.as_str() == Some(author.as_str())))
    }
}

/// What every record of the append lane says about itself, whatever its kind:
/// enough for the server to check, store, route and audit it.
pub trait RecordBody {
    fn id(&self) -> Uuid;
    fn patient_id(&self) -> PatientId;
    fn author_id(&self) -> AccountId;
    fn device_id(&self) -> DeviceId;
    /// When it was made, by the device's clock (ms since the Unix epoch).
    fn recorded_at(&self) -> i64;
    /// The record of the same patient this one corrects, if any.
    fn amends(&self) -> Option<Uuid>;
    /// Every rule of the kind, with times checked against the receiver's
    /// clock (`now_ms`).
    fn validate_at(&self, now_ms: i64) -> Result<(), FieldError>;
    /// A patient this record brings in, when the server does not know them.
    fn opens(&self) -> Option<Opening> {
        None
    }
    /// Records of the same patient this one refers to.
    fn refers_to(&self) -> Vec<Reference> {
        vec![]
    }
    /// Rules about the people it names (who may write it, who is named).
    fn check_people(&self, _directory: &dyn Directory) -> Result<(), FieldError> {
        Ok(())
    }
    /// Accounts it names that must be members of the patient's care team
    /// (the people a notebook entry is addressed to), with their fields.
    fn members_named(&self) -> Vec<(String, AccountId)> {
        vec![]
    }
    /// The professions that may read it, when it is restricted (a
    /// psychologist's note); None: the whole care team. The server stores
    /// it with the record and never sends the record to anyone else.
    fn readers(&self) -> Option<Vec<Profession>> {
        None
    }
    /// Whether the patient reads it in their own app. By default no: a
    /// professional's record is the team's (notes, raw answers) unless the
    /// kind says what of it is shared.
    fn shown_to_patient(&self) -> bool {
        false
    }
    /// Whether it is the patient's own to write (their diary) — and so not a
    /// professional's: the server takes such a kind from the patient only,
    /// and every other kind from professionals only.
    fn written_by_patient(&self) -> bool {
        false
    }
    /// Made by the server only, as part of an action it performs (a
    /// coordinator taking a request joins the care team): a device that
    /// sends it is refused with this error.
    fn server_made(&self) -> Option<FieldError> {
        None
    }
}

/// The envelope's own rules: a time the receiver can store, and no record
/// correcting itself.
pub fn check_envelope(
    id: Uuid,
    recorded_at: i64,
    amends: Option<Uuid>,
    now_ms: i64,
) -> Result<(), FieldError> {
    check_time("recorded_at", recorded_at, now_ms)?;
    if amends == Some(id) {
        return Err(FieldError::new(
            "amends",
            "Un enregistrement ne peut pas corriger lui-même.",
        ));
    }
    Ok(())
}

/// Implements the envelope part of [`RecordBody`] for a record type with the
/// usual fields (`id: RecordId`, `patient_id`, `author_id`, `device_id`,
/// `recorded_at`, `amends: Option<RecordId>`); the kind's own rules are its
/// `check(&self)`, and the optional parts are given by name.
macro_rules! record_body {
    ($ty:ty $(, $name:ident => $body:expr)* $(,)?) => {
        impl $crate::record::RecordBody for $ty {
            fn id(&self) -> uuid::Uuid {
                self.id.0
            }
            fn patient_id(&self) -> $crate::PatientId {
                self.patient_id
            }
            fn author_id(&self) -> $crate::AccountId {
                self.author_id
            }
            fn device_id(&self) -> $crate::DeviceId {
                self.device_id
            }
            fn recorded_at(&self) -> i64 {
                self.recorded_at
            }
            fn amends(&self) -> Option<uuid::Uuid> {
                self.amends.map(|a| a.0)
            }
            fn validate_at(&self, now_ms: i64) -> Result<(), $crate::FieldError> {
                $crate::record::check_envelope(self.id.0, self.recorded_at, self.amends.map(|a| a.0), now_ms)?;
                self.check()
            }
            $($crate::record::record_body!(@part $name $body);)*
        }
    };
    (@part opens $body:expr) => {
        fn opens(&self) -> Option<$crate::record::Opening> {
            ($body)(self)
        }
    };
    (@part refers_to $body:expr) => {
        fn refers_to(&self) -> Vec<$crate::record::Reference> {
            ($body)(self)
        }
    };
    (@part members_named $body:expr) => {
        fn members_named(&self) -> Vec<(String, $crate::AccountId)> {
            ($body)(self)
        }
    };
    (@part readers $body:expr) => {
        fn readers(&self) -> Option<Vec<$crate::Profession>> {
            ($body)(self)
        }
    };
    (@part shown_to_patient $body:expr) => {
        fn shown_to_patient(&self) -> bool {
            ($body)(self)
        }
    };
    (@part written_by_patient $body:expr) => {
        fn written_by_patient(&self) -> bool {
            ($body)(self)
        }
    };
    (@part server_made $body:expr) => {
        fn server_made(&self) -> Option<$crate::FieldError> {
            ($body)(self)
        }
    };
    (@part check_people $body:expr) => {
        fn check_people(&self, directory: &dyn $crate::record::Directory) -> Result<(), $crate::FieldError> {
            ($body)(self, directory)
        }
    };
}
pub(crate) use record_body;

impl RecordBody for PainAssessment {
    fn id(&self) -> Uuid {
        self.id.0
    }
    fn patient_id(&self) -> PatientId {
        self.patient_id
    }
    fn author_id(&self) -> AccountId {
        self.author_id
    }
    fn device_id(&self) -> DeviceId {
        self.device_id
    }
    fn recorded_at(&self) -> i64 {
        self.recorded_at
    }
    fn amends(&self) -> Option<Uuid> {
        self.amends.map(|a| a.0)
    }
    fn validate_at(&self, now_ms: i64) -> Result<(), FieldError> {
        PainAssessment::validate_at(self, now_ms)
    }
}

/// Checks a named account exists with one of these professions.
pub fn check_profession(
    directory: &dyn Directory,
    field: &str,
    account: AccountId,
    allowed: &[Profession],
    message: &str,
) -> Result<(), FieldError> {
    match directory.profession(account) {
        Some(p) if allowed.is_empty() || allowed.contains(&p) => Ok(()),
        Some(_) => Err(FieldError::new(field, message)),
        None => Err(FieldError::new(field, "Compte inconnu ou désactivé.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_that_names_its_writers_admits_them_only() {
        let (listed, other) = (AccountId::new(), AccountId::new());
        let sheet = serde_json::json!({ "attendees": [listed.to_string()] });
        let open = Reference::to("sheet_id", Uuid::nil(), &["meeting_sheet"]);
        assert!(open.admits(&sheet, other));
        let closed = open.written_by_one_of("attendees", "Non.");
        assert!(closed.admits(&sheet, listed));
        assert!(!closed.admits(&sheet, other));
        // A record without the list admits nobody.
        assert!(!closed.admits(&serde_json::json!({}), listed));
    }
}

#[cfg(test)]
pub mod testing {
    use super::*;
    use std::collections::BTreeMap;

    /// A directory in memory, for the kinds' tests.
    #[derive(Default)]
    pub struct People(pub BTreeMap<AccountId, Profession>);

    impl People {
        pub fn with(mut self, account: AccountId, p: Profession) -> Self {
            self.0.insert(account, p);
            self
        }
    }

    impl Directory for People {
        fn profession(&self, account: AccountId) -> Option<Profession> {
            self.0.get(&account).copied()
        }
    }
}
