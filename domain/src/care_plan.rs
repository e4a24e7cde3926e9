//! The personalised care plan (PPS) and its items, and the one implementation
//! of the merge rules that the server applies and the devices predict with.
//!
//! An item is the unit of conflict resolution. Each field carries a stamp
//! saying which version, author and device last set it. A mutation names the
//! item version its author last saw (`base_version`):
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

use crate::hlc::Hlc;
use crate::{AccountId, DeviceId, FieldError, ItemId, PatientId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TITLE_MAX_CHARS: usize = 200;
pub const FREQUENCY_MAX_CHARS: usize = 200;
pub const NOTES_MAX_CHARS: usize = 4000;
/// Most field changes one mutation may carry (there are seven fields).
pub const MAX_CHANGES: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Proposed,
    Active,
    OnHold,
    Done,
    /// Stopped, with who and when in the history: an item is never deleted.
    Stopped,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 5] = [
        Self::Proposed,
        Self::Active,
        Self::OnHold,
        Self::Done,
        Self::Stopped,
    ];

    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Proposed => "Proposée",
            Self::Active => "En cours",
            Self::OnHold => "En pause",
            Self::Done => "Terminée",
            Self::Stopped => "Arrêtée",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Active => "active",
            Self::OnHold => "on_hold",
            Self::Done => "done",
            Self::Stopped => "stopped",
        }
    }
}

/// One action of the plan, as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePlanItem {
    pub id: ItemId,
    pub patient_id: PatientId,
    /// The one professional responsible for this action.
    pub owner_id: AccountId,
    /// What is to be done ("Séances de kinésithérapie", "TENS"…).
    pub title: String,
    /// How often ("2 fois par semaine").
    pub frequency: String,
    /// ISO dates (`2026-11-23`).
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub status: ItemStatus,
    pub notes: String,
}

impl CarePlanItem {
    /// A new item before anything is filled in: proposed, every text empty.
    pub fn blank(id: ItemId, patient_id: PatientId, owner_id: AccountId) -> Self {
        Self {
            id,
            patient_id,
            owner_id,
            title: String::new(),
            frequency: String::new(),
            starts_on: None,
            ends_on: None,
            status: ItemStatus::Proposed,
            notes: String::new(),
        }
    }
}

/// The fields of an item that a mutation can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemField {
    Title,
    Owner,
    Frequency,
    StartsOn,
    EndsOn,
    Status,
    Notes,
}

impl ItemField {
    pub const ALL: [ItemField; 7] = [
        Self::Title,
        Self::Owner,
        Self::Frequency,
        Self::StartsOn,
        Self::EndsOn,
        Self::Status,
        Self::Notes,
    ];

    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Title => "Action",
            Self::Owner => "Responsable",
            Self::Frequency => "Fréquence",
            Self::StartsOn => "Début",
            Self::EndsOn => "Fin",
            Self::Status => "Statut",
            Self::Notes => "Notes",
        }
    }
}

/// A new value for one field. In JSON: `{"field": "status", "value": "active"}`;
/// a field that does not exist is refused when the message is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum FieldChange {
    Title(String),
    Owner(AccountId),
    Frequency(String),
    StartsOn(Option<String>),
    EndsOn(Option<String>),
    Status(ItemStatus),
    Notes(String),
}

impl FieldChange {
    pub fn field(&self) -> ItemField {
        match self {
            Self::Title(_) => ItemField::Title,
            Self::Owner(_) => ItemField::Owner,
            Self::Frequency(_) => ItemField::Frequency,
            Self::StartsOn(_) => ItemField::StartsOn,
            Self::EndsOn(_) => ItemField::EndsOn,
            Self::Status(_) => ItemField::Status,
            Self::Notes(_) => ItemField::Notes,
        }
    }

    /// The item's current value of `field`, as a change that would set it.
    pub fn current(item: &CarePlanItem, field: ItemField) -> Self {
        match field {
            ItemField::Title => Self::Title(item.title.clone()),
            ItemField::Owner => Self::Owner(item.owner_id),
            ItemField::Frequency => Self::Frequency(item.frequency.clone()),
            ItemField::StartsOn => Self::StartsOn(item.starts_on.clone()),
            ItemField::EndsOn => Self::EndsOn(item.ends_on.clone()),
            ItemField::Status => Self::Status(item.status),
            ItemField::Notes => Self::Notes(item.notes.clone()),
        }
    }

    pub fn apply_to(&self, item: &mut CarePlanItem) {
        match self {
            Self::Title(v) => item.title = v.clone(),
            Self::Owner(v) => item.owner_id = *v,
            Self::Frequency(v) => item.frequency = v.clone(),
            Self::StartsOn(v) => item.starts_on = v.clone(),
            Self::EndsOn(v) => item.ends_on = v.clone(),
            Self::Status(v) => item.status = *v,
            Self::Notes(v) => item.notes = v.clone(),
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        use crate::validation::{check_text, is_calendar_date};
        match self {
            Self::Title(v) if v.trim().is_empty() => {
                Err(FieldError::new("title", "Décrivez l'action."))
            }
            Self::Title(v) => check_text("title", v, TITLE_MAX_CHARS),
            Self::Frequency(v) => check_text("frequency", v, FREQUENCY_MAX_CHARS),
            Self::Notes(v) => check_text("notes", v, NOTES_MAX_CHARS),
            Self::StartsOn(Some(d)) if !is_calendar_date(d) => {
                Err(FieldError::new("starts_on", "Date invalide (AAAA-MM-JJ)."))
            }
            Self::EndsOn(Some(d)) if !is_calendar_date(d) => {
                Err(FieldError::new("ends_on", "Date invalide (AAAA-MM-JJ)."))
            }
            _ => Ok(()),
        }
    }
}

/// A change to one item, made on one device, sent through the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutation {
    pub device_id: DeviceId,
    /// 1, 2, 3… per (account, device): the server applies them in this order, each once.
    pub mutation_id: u64,
    pub item_id: ItemId,
    pub patient_id: PatientId,
    pub author_id: AccountId,
    /// The item version the author last saw; 0 for an item this device created
    /// and has not yet seen back from the server.
    pub base_version: u64,
    pub hlc: Hlc,
    pub changes: Vec<FieldChange>,
    /// Fields whose open conflicts this mutation settles (the owner's one tap).
    #[serde(default)]
    pub resolves: Vec<ItemField>,
}

impl Mutation {
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
        if self.changes.len() > MAX_CHANGES {
            return Err(FieldError::new(
                "changes",
                format!("Au plus {MAX_CHANGES} changements par mutation."),
            ));
        }
        let mut seen = Vec::new();
        for (i, change) in self.changes.iter().enumerate() {
            change
                .validate()
                .map_err(|e| FieldError::new(format!("changes[{i}].value"), e.message))?;
            if seen.contains(&change.field()) {
                return Err(FieldError::new(
                    format!("changes[{i}].field"),
                    "Ce champ est changé deux fois.",
                ));
            }
            seen.push(change.field());
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
    fn of(m: &Mutation, version: u64) -> Self {
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
pub struct StampedValue {
    pub change: FieldChange,
    pub stamp: FieldStamp,
}

/// Two people changed the same field without seeing each other's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: ItemField,
    /// The value that stands on the item.
    pub standing: StampedValue,
    /// The value that did not stand, kept so the owner can choose it.
    pub other: StampedValue,
    /// The item version at which the conflict was recorded.
    pub recorded_at_version: u64,
    /// Set when the owner settled it: the version and who.
    pub resolved_at_version: Option<u64>,
    pub resolved_by: Option<AccountId>,
}

impl Conflict {
    pub fn is_open(&self) -> bool {
        self.resolved_at_version.is_none()
    }
}

/// An item as the server holds it: the values, the version, where each
/// field's value came from, and its conflicts (open and settled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    pub item: CarePlanItem,
    pub version: u64,
    /// The device that created the item (its later edits may carry base 0).
    pub created_by_device: DeviceId,
    pub stamps: BTreeMap<ItemField, FieldStamp>,
    pub conflicts: Vec<Conflict>,
}

impl ItemState {
    pub fn open_conflicts(&self) -> impl Iterator<Item = &Conflict> {
        self.conflicts.iter().filter(|c| c.is_open())
    }
}

/// What one applied mutation did, for the item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The item version this mutation produced.
    pub version: u64,
    /// Fields that took the mutation's value.
    pub applied: Vec<ItemField>,
    /// Fields where the mutation met a concurrent change (see the item's conflicts).
    pub conflicted: Vec<ItemField>,
    /// Fields already holding the mutation's value.
    pub unchanged: Vec<ItemField>,
    /// Settlements not made because the author was no longer the owner.
    #[serde(default)]
    pub resolves_ignored: Vec<ItemField>,
}

/// One version of an item, as `GET /api/items/{id}/history` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub version: u64,
    pub author_id: AccountId,
    pub author_name: String,
    pub device_id: DeviceId,
    pub mutation_id: u64,
    /// Server time when it was applied (ms since the Unix epoch).
    pub applied_at: i64,
    /// The mutation as its device sent it.
    pub mutation: Mutation,
    pub outcome: Applied,
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
    #[error("a new item needs {0:?}")]
    IncompleteCreate(ItemField),
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
pub fn apply(state: Option<ItemState>, m: &Mutation) -> Result<(ItemState, Applied), MergeError> {
    m.validate().map_err(MergeError::Invalid)?;
    match state {
        None => create(m),
        Some(state) => edit(state, m),
    }
}

fn create(m: &Mutation) -> Result<(ItemState, Applied), MergeError> {
    if m.base_version != 0 {
        return Err(MergeError::UnknownItem);
    }
    // A new item needs what it is, who owns it and its status; the rest may wait.
    let required = [ItemField::Title, ItemField::Owner, ItemField::Status];
    if let Some(missing) = required
        .into_iter()
        .find(|f| !m.changes.iter().any(|c| c.field() == *f))
    {
        return Err(MergeError::IncompleteCreate(missing));
    }
    let mut item = CarePlanItem::blank(m.item_id, m.patient_id, m.author_id);
    for change in &m.changes {
        change.apply_to(&mut item);
    }
    // Every field is stamped, set or defaulted: a later concurrent edit of a
    // defaulted field is still measured against this creation.
    let stamps = ItemField::ALL
        .into_iter()
        .map(|f| (f, FieldStamp::of(m, 1)))
        .collect();
    let state = ItemState {
        item,
        version: 1,
        created_by_device: m.device_id,
        stamps,
        conflicts: vec![],
    };
    let applied = Applied {
        version: 1,
        applied: m.changes.iter().map(FieldChange::field).collect(),
        conflicted: vec![],
        unchanged: vec![],
        resolves_ignored: vec![],
    };
    Ok((state, applied))
}

fn edit(mut state: ItemState, m: &Mutation) -> Result<(ItemState, Applied), MergeError> {
    if state.item.patient_id != m.patient_id {
        return Err(MergeError::WrongPatient);
    }
    if m.base_version > state.version {
        return Err(MergeError::FutureBase {
            base: m.base_version,
            current: state.version,
        });
    }
    if m.base_version == 0 && state.created_by_device != m.device_id {
        return Err(MergeError::AlreadyExists);
    }
    let owner = state.item.owner_id;
    let version = state.version + 1;
    let mut applied = Applied {
        version,
        applied: vec![],
        conflicted: vec![],
        unchanged: vec![],
        resolves_ignored: vec![],
    };
    for change in &m.changes {
        let field = change.field();
        let current = FieldChange::current(&state.item, field);
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
            change.apply_to(&mut state.item);
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
            change.apply_to(&mut state.item);
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
pub fn with_pending(server: Option<&CarePlanItem>, pending: &[&Mutation]) -> Option<CarePlanItem> {
    let mut item = server.cloned();
    for m in pending {
        let item =
            item.get_or_insert_with(|| CarePlanItem::blank(m.item_id, m.patient_id, m.author_id));
        for change in &m.changes {
            change.apply_to(item);
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Person {
        account: AccountId,
        device: DeviceId,
        next: u64,
    }

    impl Person {
        fn new() -> Self {
            Self {
                account: AccountId::new(),
                device: DeviceId::new(),
                next: 1,
            }
        }
        fn mutation(
            &mut self,
            item: ItemId,
            patient: PatientId,
            base: u64,
            changes: Vec<FieldChange>,
        ) -> Mutation {
            let id = self.next;
            self.next += 1;
            Mutation {
                device_id: self.device,
                mutation_id: id,
                item_id: item,
                patient_id: patient,
                author_id: self.account,
                base_version: base,
                hlc: Hlc {
                    wall_ms: 1_790_000_000_000 + id as i64,
                    counter: 0,
                    device: self.device,
                },
                changes,
                resolves: vec![],
            }
        }
    }

    /// A physio-owned item created by the nurse, and the three people.
    fn setup() -> (ItemState, Person, Person, Person) {
        let (mut nurse, physio, gp) = (Person::new(), Person::new(), Person::new());
        let patient = PatientId::new();
        let create = nurse.mutation(
            ItemId::new(),
            patient,
            0,
            vec![
                FieldChange::Title("Kinésithérapie".into()),
                FieldChange::Owner(physio.account),
                FieldChange::Status(ItemStatus::Proposed),
                FieldChange::Frequency("2 fois par semaine".into()),
            ],
        );
        let (state, applied) = apply(None, &create).unwrap();
        assert_eq!(applied.version, 1);
        (state, nurse, physio, gp)
    }

    fn edit(
        state: &ItemState,
        who: &mut Person,
        base: u64,
        changes: Vec<FieldChange>,
    ) -> (ItemState, Applied) {
        let m = who.mutation(state.item.id, state.item.patient_id, base, changes);
        apply(Some(state.clone()), &m).unwrap()
    }

    #[test]
    fn a_new_item_takes_every_given_field_and_defaults_the_rest() {
        let (state, nurse, physio, _) = setup();
        assert_eq!(state.item.title, "Kinésithérapie");
        assert_eq!(state.item.owner_id, physio.account);
        assert_eq!(state.item.frequency, "2 fois par semaine");
        assert_eq!(state.item.notes, "");
        assert_eq!(state.stamps.len(), ItemField::ALL.len());
        assert!(state
            .stamps
            .values()
            .all(|s| s.author_id == nurse.account && s.version == 1));
    }

    #[test]
    fn concurrent_edits_of_different_fields_merge_without_conflict() {
        let (s1, mut nurse, _physio, mut gp) = setup();
        let (s2, _) = edit(
            &s1,
            &mut nurse,
            1,
            vec![FieldChange::Notes("Douleurs le matin".into())],
        );
        let (s3, applied) = edit(
            &s2,
            &mut gp,
            1,
            vec![FieldChange::Status(ItemStatus::Active)],
        );
        assert_eq!(applied.applied, vec![ItemField::Status]);
        assert_eq!(s3.item.notes, "Douleurs le matin");
        assert_eq!(s3.item.status, ItemStatus::Active);
        assert_eq!(s3.version, 3);
        assert!(s3.conflicts.is_empty());
    }

    #[test]
    fn between_two_non_owners_the_first_value_to_arrive_stands_and_the_other_is_kept() {
        let (s1, mut nurse, _physio, mut gp) = setup();
        let (s2, _) = edit(
            &s1,
            &mut nurse,
            1,
            vec![FieldChange::Frequency("1 fois par semaine".into())],
        );
        let (s3, applied) = edit(
            &s2,
            &mut gp,
            1,
            vec![FieldChange::Frequency("3 fois par semaine".into())],
        );
        assert_eq!(applied.conflicted, vec![ItemField::Frequency]);
        assert_eq!(s3.item.frequency, "1 fois par semaine");
        let c = &s3.conflicts[0];
        assert!(c.is_open());
        assert_eq!(
            c.standing.change,
            FieldChange::Frequency("1 fois par semaine".into())
        );
        assert_eq!(c.standing.stamp.author_id, nurse.account);
        assert_eq!(
            c.other.change,
            FieldChange::Frequency("3 fois par semaine".into())
        );
        assert_eq!(c.other.stamp.author_id, gp.account);
        assert_eq!(c.other.stamp.mutation_id, 1);
    }

    #[test]
    fn the_owners_value_stands_whichever_arrives_first() {
        // Owner second: the owner's value replaces the standing one, which is kept.
        let (s1, mut nurse, mut physio, _) = setup();
        let (s2, _) = edit(
            &s1,
            &mut nurse,
            1,
            vec![FieldChange::Status(ItemStatus::OnHold)],
        );
        let (s3, _) = edit(
            &s2,
            &mut physio,
            1,
            vec![FieldChange::Status(ItemStatus::Active)],
        );
        assert_eq!(s3.item.status, ItemStatus::Active);
        assert_eq!(
            s3.conflicts[0].other.change,
            FieldChange::Status(ItemStatus::OnHold)
        );
        assert_eq!(s3.stamps[&ItemField::Status].author_id, physio.account);

        // Owner first: the non-owner's later value does not replace it.
        let (s1, mut nurse, mut physio, _) = setup();
        let (s2, _) = edit(
            &s1,
            &mut physio,
            1,
            vec![FieldChange::Status(ItemStatus::Active)],
        );
        let (s3, _) = edit(
            &s2,
            &mut nurse,
            1,
            vec![FieldChange::Status(ItemStatus::OnHold)],
        );
        assert_eq!(s3.item.status, ItemStatus::Active);
        assert_eq!(
            s3.conflicts[0].other.change,
            FieldChange::Status(ItemStatus::OnHold)
        );
        assert_eq!(s3.conflicts[0].other.stamp.author_id, nurse.account);
    }

    #[test]
    fn equal_values_and_seen_values_are_not_conflicts() {
        let (s1, mut nurse, _, mut gp) = setup();
        let (s2, _) = edit(
            &s1,
            &mut nurse,
            1,
            vec![FieldChange::Status(ItemStatus::Active)],
        );
        let (s3, applied) = edit(
            &s2,
            &mut gp,
            1,
            vec![FieldChange::Status(ItemStatus::Active)],
        );
        assert_eq!(applied.unchanged, vec![ItemField::Status]);
        assert!(s3.conflicts.is_empty());
        // The GP saw version 3: his change is not concurrent.
        let (s4, applied) = edit(&s3, &mut gp, 3, vec![FieldChange::Status(ItemStatus::Done)]);
        assert_eq!(applied.applied, vec![ItemField::Status]);
        assert!(s4.conflicts.is_empty());
    }

    #[test]
    fn a_devices_own_successive_edits_never_conflict_with_each_other() {
        let (s1, mut nurse, _, _) = setup();
        // Two offline edits, both made on top of version 1.
        let (s2, _) = edit(&s1, &mut nurse, 1, vec![FieldChange::Notes("a".into())]);
        let (s3, applied) = edit(&s2, &mut nurse, 1, vec![FieldChange::Notes("b".into())]);
        assert_eq!(applied.applied, vec![ItemField::Notes]);
        assert_eq!(s3.item.notes, "b");
        assert!(s3.conflicts.is_empty());
        // Edits before the creation came back carry base 0.
        let (s4, applied) = edit(&s3, &mut nurse, 0, vec![FieldChange::Title("Kiné".into())]);
        assert_eq!(applied.applied, vec![ItemField::Title]);
        assert_eq!(s4.version, 4);
    }

    #[test]
    fn the_owner_resolves_a_conflict_in_one_mutation_and_only_the_owner() {
        let (s1, mut nurse, mut physio, mut gp) = setup();
        let (s2, _) = edit(&s1, &mut nurse, 1, vec![FieldChange::Notes("x".into())]);
        let (s3, _) = edit(&s2, &mut gp, 1, vec![FieldChange::Notes("y".into())]);
        assert_eq!(s3.open_conflicts().count(), 1);

        let mut by_gp = gp.mutation(
            s3.item.id,
            s3.item.patient_id,
            3,
            vec![FieldChange::Notes("y".into())],
        );
        by_gp.resolves = vec![ItemField::Notes];
        // Not the owner: the change merges, the settling is ignored, visibly.
        let (ignored, outcome) = apply(Some(s3.clone()), &by_gp).unwrap();
        assert_eq!(outcome.resolves_ignored, vec![ItemField::Notes]);
        assert_eq!(ignored.open_conflicts().count(), 1);

        let mut by_owner = physio.mutation(
            s3.item.id,
            s3.item.patient_id,
            3,
            vec![FieldChange::Notes("y".into())],
        );
        by_owner.resolves = vec![ItemField::Notes];
        let (s4, _) = apply(Some(s3), &by_owner).unwrap();
        assert_eq!(s4.item.notes, "y");
        assert_eq!(s4.open_conflicts().count(), 0);
        assert_eq!(s4.conflicts[0].resolved_by, Some(physio.account));
        assert_eq!(s4.conflicts[0].resolved_at_version, Some(4));

        // A conflict recorded after the owner looked stays open.
        let (s5, _) = edit(&s4, &mut nurse, 4, vec![FieldChange::Notes("z".into())]);
        let (s6, _) = edit(&s5, &mut gp, 4, vec![FieldChange::Notes("w".into())]);
        let mut late = physio.mutation(s6.item.id, s6.item.patient_id, 4, vec![]);
        late.resolves = vec![ItemField::Notes];
        let (s7, _) = apply(Some(s6), &late).unwrap();
        assert_eq!(
            s7.open_conflicts().count(),
            1,
            "the owner had not seen version 6's conflict"
        );
    }

    #[test]
    fn impossible_mutations_are_refused() {
        let (s1, mut nurse, _, mut gp) = setup();
        let future = gp.mutation(
            s1.item.id,
            s1.item.patient_id,
            9,
            vec![FieldChange::Notes("x".into())],
        );
        assert_eq!(
            apply(Some(s1.clone()), &future).unwrap_err().field(),
            "base_version"
        );
        let recreate = gp.mutation(
            s1.item.id,
            s1.item.patient_id,
            0,
            vec![FieldChange::Notes("x".into())],
        );
        assert_eq!(
            apply(Some(s1.clone()), &recreate).unwrap_err(),
            MergeError::AlreadyExists
        );
        let other_patient = gp.mutation(
            s1.item.id,
            PatientId::new(),
            1,
            vec![FieldChange::Notes("x".into())],
        );
        assert_eq!(
            apply(Some(s1.clone()), &other_patient).unwrap_err(),
            MergeError::WrongPatient
        );
        let unknown = gp.mutation(
            ItemId::new(),
            s1.item.patient_id,
            1,
            vec![FieldChange::Notes("x".into())],
        );
        assert_eq!(apply(None, &unknown).unwrap_err(), MergeError::UnknownItem);
        let incomplete = nurse.mutation(
            ItemId::new(),
            s1.item.patient_id,
            0,
            vec![FieldChange::Title("x".into())],
        );
        assert_eq!(
            apply(None, &incomplete).unwrap_err(),
            MergeError::IncompleteCreate(ItemField::Owner)
        );
        let empty_title = gp.mutation(
            s1.item.id,
            s1.item.patient_id,
            1,
            vec![FieldChange::Title("  ".into())],
        );
        assert_eq!(
            apply(Some(s1.clone()), &empty_title).unwrap_err().field(),
            "changes[0].value"
        );
        let twice = gp.mutation(
            s1.item.id,
            s1.item.patient_id,
            1,
            vec![
                FieldChange::Notes("a".into()),
                FieldChange::Notes("b".into()),
            ],
        );
        assert_eq!(
            apply(Some(s1.clone()), &twice).unwrap_err().field(),
            "changes[1].field"
        );
        let bad_date = gp.mutation(
            s1.item.id,
            s1.item.patient_id,
            1,
            vec![FieldChange::EndsOn(Some("23/11/2026".into()))],
        );
        assert_eq!(
            apply(Some(s1), &bad_date).unwrap_err().field(),
            "changes[0].value"
        );
    }

    #[test]
    fn field_changes_read_from_json_refuse_unknown_fields() {
        let ok: FieldChange =
            serde_json::from_str(r#"{"field":"status","value":"on_hold"}"#).unwrap();
        assert_eq!(ok, FieldChange::Status(ItemStatus::OnHold));
        let cleared: FieldChange =
            serde_json::from_str(r#"{"field":"ends_on","value":null}"#).unwrap();
        assert_eq!(cleared, FieldChange::EndsOn(None));
        assert!(
            serde_json::from_str::<FieldChange>(r#"{"field":"diagnosis","value":"x"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<FieldChange>(r#"{"field":"status","value":"lost"}"#).is_err()
        );
    }

    #[test]
    fn pending_changes_show_on_top_of_the_server_state() {
        let (s1, mut nurse, _, _) = setup();
        let a = nurse.mutation(
            s1.item.id,
            s1.item.patient_id,
            1,
            vec![FieldChange::Notes("a".into())],
        );
        let b = nurse.mutation(
            s1.item.id,
            s1.item.patient_id,
            1,
            vec![FieldChange::Status(ItemStatus::Stopped)],
        );
        let shown = with_pending(Some(&s1.item), &[&a, &b]).unwrap();
        assert_eq!(
            (shown.notes.as_str(), shown.status),
            ("a", ItemStatus::Stopped)
        );
        assert_eq!(with_pending(None, &[]), None);
    }

    #[test]
    fn dates_must_exist_in_the_calendar() {
        assert_eq!(
            FieldChange::StartsOn(Some("2026-11-23".into())).validate(),
            Ok(())
        );
        for bad in ["2026-02-31", "2026-13-01", "23/11/2026", ""] {
            let err = FieldChange::EndsOn(Some(bad.into()))
                .validate()
                .unwrap_err();
            assert_eq!(err.field, "ends_on", "{bad}");
        }
    }
}
