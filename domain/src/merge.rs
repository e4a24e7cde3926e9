//! The merge rules of the mutation lane, once, for every editable kind
//! (care-plan items, objectives, review points…), applied by the server and
//! predicted by the devices.
//!
//! An editable item is the unit of conflict resolution. Each field carries a
//! stamp saying which version, author and device last set it. A mutation
//! names the item version its author last saw (`base_version`):
//!
//! - a field nobody else changed since that version takes the new value;
//! - a field someone else changed since then is a concurrent edit. If the
//!   values are equal nothing happens. Otherwise the item's owner's value
//!   stands (between two non-owners, the value that reached the server
//!   first), and the other value is recorded as a conflict on the item, with
//!   who and when, until the owner resolves it. Nothing is silently dropped.
//!
//! Edits from the same device are never concurrent with each other: the
//! server applies a device's mutations in order, so a device always "saw" its
//! own earlier mutations.
//!
//! A new editable kind is a type implementing [`Editable`] (its fields, how a
//! change reads, applies and is checked) and one line in `editable_kinds!`
//! (`sync::kinds`).

use crate::hlc::Hlc;
use crate::{AccountId, DeviceId, FieldError, ItemId, PatientId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

/// Declares an editable kind's fields: the `Field` enum (with its French
/// labels) and the `Change` enum (`{"field": "…", "value": …}`), and how a
/// change reads and sets the item's member.
macro_rules! editable_fields {
    ($item:ty, $field:ident, $change:ident {
        $($(#[$doc:meta])* $variant:ident($member:ident: $ty:ty) = $label:literal),* $(,)?
    }) => {
        /// The fields a mutation can change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $field {
            $($variant),*
        }

        impl $field {
            pub const ALL: &'static [$field] = &[$($field::$variant),*];

            pub fn label_fr(self) -> &'static str {
                match self {
                    $($field::$variant => $label),*
                }
            }
        }

        /// A new value for one field; a field that does not exist is refused
        /// when the message is read.
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "field", content = "value", rename_all = "snake_case")]
        pub enum $change {
            $($(#[$doc])* $variant($ty)),*
        }

        impl $change {
            pub fn field(&self) -> $field {
                match self {
                    $($change::$variant(_) => $field::$variant),*
                }
            }

            /// The item's current value of `field`, as a change that would set it.
            pub fn current(item: &$item, field: $field) -> Self {
                match field {
                    $($field::$variant => $change::$variant(item.$member.clone())),*
                }
            }

            pub fn apply_to(&self, item: &mut $item) {
                match self {
                    $($change::$variant(v) => item.$member = v.clone()),*
                }
            }
        }
    };
}
pub(crate) use editable_fields;

/// What the merge needs to know about one editable kind.
pub trait Editable: Clone + PartialEq + Eq + Debug + Serialize + DeserializeOwned {
    /// The fields a mutation can change (serialised as snake_case names).
    type Field: Copy + Ord + Eq + Hash + Debug + Serialize + DeserializeOwned + 'static;
    /// A new value for one field: `{"field": "…", "value": …}` in JSON.
    type Change: Clone + PartialEq + Eq + Debug + Serialize + DeserializeOwned;
    /// As written in the `kind` of its mutations and states.
    const KIND: &'static str;
    /// Every field, so a creation can stamp them all.
    const FIELDS: &'static [Self::Field];
    /// What a creation must set (the rest takes the blank value).
    const REQUIRED: &'static [Self::Field];
    /// The French sentence for a creation missing one of them.
    const INCOMPLETE: &'static str;

    /// A new item before anything is filled in.
    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self;
    fn id(&self) -> ItemId;
    fn patient_id(&self) -> PatientId;
    /// The one person whose value stands in a conflict, and who settles it.
    fn owner_id(&self) -> AccountId;
    fn field_of(change: &Self::Change) -> Self::Field;
    /// The item's current value of `field`, as a change that would set it.
    fn current(&self, field: Self::Field) -> Self::Change;
    fn apply(&mut self, change: &Self::Change);
    /// The change's own rules; the error names the field (`title`).
    fn check(change: &Self::Change) -> Result<(), FieldError>;
    /// Rules between the item's fields (an end not before its start), on
    /// the item a mutation would make: every broken one, each naming its
    /// field, so a form shows them all. The merge refuses a mutation that
    /// breaks one the item kept before it (see `apply`).
    fn problems(&self) -> Vec<FieldError> {
        vec![]
    }
    /// The account a change makes owner, if it does: the server checks that
    /// this person is in the patient's care team.
    fn new_owner(_change: &Self::Change) -> Option<AccountId> {
        None
    }
    /// Rules about who may make a change (a countersignature is the GP's own).
    fn check_people(
        _change: &Self::Change,
        _author: AccountId,
        _directory: &dyn crate::record::Directory,
    ) -> Result<(), FieldError> {
        Ok(())
    }
    /// What the patient reads of the item in their own app, in plain words:
    /// by default nothing; a kind the patient shares (their plan's actions,
    /// objectives, visits, review points) leaves out what is the team's
    /// (professionals' notes). Patients never change items.
    fn for_patient(&self) -> Option<Self> {
        None
    }
    /// One item per patient (its id made from the patient's): two devices
    /// may create it offline, and the second creation merges as a
    /// concurrent edit instead of being refused.
    const SINGLETON: bool = false;
}

/// A change to one editable item, made on one device, sent through the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct MutationOf<E: Editable> {
    pub device_id: DeviceId,
    /// 1, 2, 3… per (account, device), whatever the kind: the server applies
    /// them in this order, each once.
    pub mutation_id: u64,
    pub item_id: ItemId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    /// The item version the author last saw; 0 for an item this device created
    /// and has not yet seen back from the server.
    pub base_version: u64,
    pub hlc: Hlc,
    pub changes: Vec<E::Change>,
    /// Fields whose open conflicts this mutation settles (the owner's one tap).
    #[serde(default)]
    pub resolves: Vec<E::Field>,
}

impl<E: Editable> MutationOf<E> {
    /// The rules of `validate`, and the mutation's clock within the window
    /// around `now_ms` (the receiver's clock) that every peer can store.
    pub fn validate_at(&self, now_ms: i64) -> Result<(), FieldError> {
        self.validate()?;
        crate::validation::check_time("hlc.wall_ms", self.hlc.wall_ms, now_ms)
    }

    /// Rules that need no stored state.
    pub fn validate(&self) -> Result<(), FieldError> {
        use crate::validation::check_safe_integer;
        check_safe_integer("mutation_id", self.mutation_id)?;
        check_safe_integer("base_version", self.base_version)?;
        if self.mutation_id == 0 {
            return Err(FieldError::new(
                "mutation_id",
                "Les numéros de mutation commencent à 1.",
            ));
        }
        if self.changes.is_empty() && self.resolves.is_empty() {
            return Err(FieldError::new(
                "changes",
                "Une mutation doit changer au moins un champ.",
            ));
        }
        if self.changes.len() > E::FIELDS.len() {
            return Err(FieldError::new(
                "changes",
                format!("Au plus {} changements par mutation.", E::FIELDS.len()),
            ));
        }
        let mut seen = Vec::new();
        for (i, change) in self.changes.iter().enumerate() {
            E::check(change)
                .map_err(|e| FieldError::new(format!("changes[{i}].value"), e.message))?;
            let field = E::field_of(change);
            if seen.contains(&field) {
                return Err(FieldError::new(
                    format!("changes[{i}].field"),
                    "Ce champ est changé deux fois.",
                ));
            }
            seen.push(field);
        }
        Ok(())
    }
}

/// Who last set a field, and where that value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStamp {
    pub version: u64,
    pub author_id: AccountId,
    pub device_id: DeviceId,
    pub mutation_id: u64,
    pub hlc: Hlc,
}

impl FieldStamp {
    fn of<E: Editable>(m: &MutationOf<E>, version: u64) -> Self {
        Self {
            version,
            author_id: m.author_id,
            device_id: m.device_id,
            mutation_id: m.mutation_id,
            hlc: m.hlc,
        }
    }
}

/// A value with its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct StampedValue<E: Editable> {
    pub change: E::Change,
    pub stamp: FieldStamp,
}

/// Two people changed the same field without seeing each other's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct Conflict<E: Editable> {
    pub field: E::Field,
    /// The value that stands on the item.
    pub standing: StampedValue<E>,
    /// The value that did not stand, kept so the owner can choose it.
    pub other: StampedValue<E>,
    /// The item version at which the conflict was recorded.
    pub recorded_at_version: u64,
    /// Set when the owner settled it: the version and who.
    pub resolved_at_version: Option<u64>,
    pub resolved_by: Option<AccountId>,
}

impl<E: Editable> Conflict<E> {
    pub fn is_open(&self) -> bool {
        self.resolved_at_version.is_none()
    }
}

/// An editable item as the server holds it: the values, the version, where
/// each field's value came from, and its conflicts (open and settled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct StateOf<E: Editable> {
    pub item: E,
    pub version: u64,
    /// The device that created the item (its later edits may carry base 0).
    pub created_by_device: DeviceId,
    pub stamps: BTreeMap<E::Field, FieldStamp>,
    pub conflicts: Vec<Conflict<E>>,
}

impl<E: Editable> StateOf<E> {
    pub fn open_conflicts(&self) -> impl Iterator<Item = &Conflict<E>> {
        self.conflicts.iter().filter(|c| c.is_open())
    }
}

/// What one applied mutation did, for the item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "F: Serialize", deserialize = "F: DeserializeOwned"))]
pub struct Applied<F> {
    /// The item version this mutation produced.
    pub version: u64,
    /// Fields that took the mutation's value.
    pub applied: Vec<F>,
    /// Fields where the mutation met a concurrent change (see the item's conflicts).
    pub conflicted: Vec<F>,
    /// Fields already holding the mutation's value.
    pub unchanged: Vec<F>,
    /// Settlements not made because the author was no longer the owner.
    #[serde(default = "Vec::new")]
    pub resolves_ignored: Vec<F>,
}

impl<F> Applied<F> {
    fn at(version: u64) -> Self {
        Self {
            version,
            applied: vec![],
            conflicted: vec![],
            unchanged: vec![],
            resolves_ignored: vec![],
        }
    }
}

/// One version of an item, as `GET /api/items/{id}/history` lists it. The
/// server passes the stored mutation and outcome through (`M`, `O` raw); a
/// screen reads them as its kind's types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry<M, O> {
    pub version: u64,
    pub author_id: AccountId,
    pub author_name: String,
    pub device_id: DeviceId,
    pub mutation_id: u64,
    /// Server time when it was applied (ms since the Unix epoch).
    pub applied_at: i64,
    /// The mutation as its device sent it.
    pub mutation: M,
    pub outcome: O,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("unknown item")]
    UnknownItem,
    #[error("the item already exists")]
    AlreadyExists,
    #[error("base version {base} is ahead of the item's version {current}")]
    FutureBase { base: u64, current: u64 },
    #[error("the item belongs to another patient")]
    WrongPatient,
    /// A creation without a required field; the message says which ones.
    #[error("{0}")]
    IncompleteCreate(&'static str),
    #[error("{0}")]
    Invalid(FieldError),
}

impl MergeError {
    /// The protocol field this error is about, inside one mutation.
    pub fn field(&self) -> &str {
        match self {
            MergeError::UnknownItem | MergeError::AlreadyExists => "item_id",
            MergeError::FutureBase { .. } => "base_version",
            MergeError::WrongPatient => "patient_id",
            MergeError::IncompleteCreate(_) => "changes",
            MergeError::Invalid(e) => &e.field,
        }
    }
}

/// Applies one mutation to an item (or creates it): the merge rules, once.
pub fn apply<E: Editable>(
    state: Option<StateOf<E>>,
    m: &MutationOf<E>,
) -> Result<(StateOf<E>, Applied<E::Field>), MergeError> {
    m.validate().map_err(MergeError::Invalid)?;
    // An item that already broke a rule between its fields (kept from before
    // the rule, or made so by two people's concurrent edits of its two
    // fields) is still edited; a mutation may not be the one that breaks it.
    let kept = state
        .as_ref()
        .map(|s| s.item.problems())
        .unwrap_or_default();
    let (state, applied) = match state {
        None => create(m)?,
        Some(state) => edit(state, m)?,
    };
    if let Some(broken) = state
        .item
        .problems()
        .into_iter()
        .find(|e| !kept.contains(e))
    {
        // Named like any refused change: the one that sets the field the
        // rule names, or else the mutation's first (it moved the other end).
        let named = |c: &E::Change| {
            serde_json::to_value(E::field_of(c)).is_ok_and(|f| f.as_str() == Some(&broken.field))
        };
        let at = m.changes.iter().position(named).unwrap_or(0);
        return Err(MergeError::Invalid(FieldError::new(
            format!("changes[{at}].value"),
            broken.message,
        )));
    }
    Ok((state, applied))
}

fn create<E: Editable>(m: &MutationOf<E>) -> Result<(StateOf<E>, Applied<E::Field>), MergeError> {
    if m.base_version != 0 {
        return Err(MergeError::UnknownItem);
    }
    if E::REQUIRED
        .iter()
        .any(|f| !m.changes.iter().any(|c| E::field_of(c) == *f))
    {
        return Err(MergeError::IncompleteCreate(E::INCOMPLETE));
    }
    let mut item = E::blank(m.item_id, m.patient_id, m.author_id);
    for change in &m.changes {
        item.apply(change);
    }
    // Every field is stamped, set or defaulted: a later concurrent edit of a
    // defaulted field is still measured against this creation.
    let stamps = E::FIELDS
        .iter()
        .map(|f| (*f, FieldStamp::of(m, 1)))
        .collect();
    let state = StateOf {
        item,
        version: 1,
        created_by_device: m.device_id,
        stamps,
        conflicts: vec![],
    };
    let mut applied = Applied::at(1);
    applied.applied = m.changes.iter().map(E::field_of).collect();
    Ok((state, applied))
}

fn edit<E: Editable>(
    mut state: StateOf<E>,
    m: &MutationOf<E>,
) -> Result<(StateOf<E>, Applied<E::Field>), MergeError> {
    if state.item.patient_id() != m.patient_id {
        return Err(MergeError::WrongPatient);
    }
    if m.base_version > state.version {
        return Err(MergeError::FutureBase {
            base: m.base_version,
            current: state.version,
        });
    }
    if m.base_version == 0 && state.created_by_device != m.device_id && !E::SINGLETON {
        return Err(MergeError::AlreadyExists);
    }
    let owner = state.item.owner_id();
    let version = state.version + 1;
    let mut applied = Applied::at(version);
    for change in &m.changes {
        let field = E::field_of(change);
        let current = state.item.current(field);
        let stamp = state
            .stamps
            .get(&field)
            .cloned()
            .unwrap_or_else(|| FieldStamp::of(m, 0));
        let seen = stamp.version <= m.base_version
            || (stamp.device_id == m.device_id
                && stamp.author_id == m.author_id
                && stamp.mutation_id < m.mutation_id);
        if current == *change {
            applied.unchanged.push(field);
            continue;
        }
        if seen {
            state.item.apply(change);
            state.stamps.insert(field, FieldStamp::of(m, version));
            applied.applied.push(field);
            continue;
        }
        // A concurrent edit of the same field.
        let incoming = StampedValue {
            change: change.clone(),
            stamp: FieldStamp::of(m, version),
        };
        let existing = StampedValue {
            change: current,
            stamp,
        };
        let incoming_wins = m.author_id == owner;
        let (standing, other) = if incoming_wins {
            (incoming, existing)
        } else {
            (existing, incoming)
        };
        if incoming_wins {
            state.item.apply(change);
            state.stamps.insert(field, FieldStamp::of(m, version));
        }
        state.conflicts.push(Conflict {
            field,
            standing,
            other,
            recorded_at_version: version,
            resolved_at_version: None,
            resolved_by: None,
        });
        applied.conflicted.push(field);
    }
    // Settling is the owner's. A mutation made by the owner may arrive after
    // someone else changed the owner: it is not refused (that would block the
    // device's outbox), its changes merge as usual and its settling is
    // ignored, visibly, in the outcome. Only conflicts the owner had seen are
    // settled; one recorded since stays open.
    for field in &m.resolves {
        if m.author_id != owner {
            applied.resolves_ignored.push(*field);
            continue;
        }
        for conflict in state
            .conflicts
            .iter_mut()
            .filter(|c| c.field == *field && c.is_open() && c.recorded_at_version <= m.base_version)
        {
            conflict.resolved_at_version = Some(version);
            conflict.resolved_by = Some(m.author_id);
        }
    }
    state.version = version;
    Ok((state, applied))
}

/// The item as this device should show it: the server's state with the
/// device's own unsent changes on top, in order.
pub fn with_pending<E: Editable>(server: Option<&E>, pending: &[&MutationOf<E>]) -> Option<E> {
    let mut item = server.cloned();
    for m in pending {
        let item = item.get_or_insert_with(|| E::blank(m.item_id, m.patient_id, m.author_id));
        for change in &m.changes {
            item.apply(change);
        }
    }
    item
}
