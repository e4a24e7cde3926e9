//! The personalised care plan (PPS) and its items. An item is the unit of
//! conflict resolution: it is an editable kind of the mutation lane, merged
//! by the rules of `merge`.

use crate::date::CalendarDate;
pub use crate::merge::{apply, with_pending, Applied, Conflict, FieldStamp, MergeError};
use crate::merge::{editable_fields, Editable, MutationOf, StateOf};
pub use crate::programme::Funding;
use crate::programme::{PlanItemKind, Programme};
use crate::record::{check_profession, Directory};
use crate::{AccountId, FieldError, ItemId, PatientId, Profession};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX_CHARS: usize = 200;
pub const FREQUENCY_MAX_CHARS: usize = 200;
pub const NOTES_MAX_CHARS: usize = 4000;
pub const LEGAL_BASIS_MAX_CHARS: usize = 500;

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
    /// Fields of protocol 4; an item written before reads them blank.
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub funding: Option<Funding>,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub countersignature: Option<Countersignature>,
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
            category: String::new(),
            funding: None,
            legal_basis: String::new(),
            countersignature: None,
        }
    }

    /// The programme's kind of this item, if it has one.
    pub fn kind_in(&self, programme: &'static Programme) -> Option<&'static PlanItemKind> {
        programme.plan_item_kind(&self.category)
    }

    /// An order that waits for its countersignature (a TENS without the GP's).
    pub fn awaits_countersignature(&self) -> bool {
        self.countersignature.is_none()
            && Programme::all()
                .iter()
                .filter_map(|p| p.plan_item_kind(&self.category))
                .any(|k| k.countersigned_by.is_some())
    }
}

editable_fields!(CarePlanItem, ItemField, FieldChange {
    Title(title: String) = "Action",
    Owner(owner_id: AccountId) = "Responsable",
    Frequency(frequency: String) = "Fréquence",
    StartsOn(starts_on: Option<String>) = "Début",
    EndsOn(ends_on: Option<String>) = "Fin",
    Status(status: ItemStatus) = "Statut",
    Notes(notes: String) = "Notes",
    /// The programme's kind of item (`tens`, `psychology`…), or empty.
    Category(category: String) = "Type d'action",
    Funding(funding: Option<Funding>) = "Financement",
    /// Why the owner may order it (a nurse's TENS prescription).
    LegalBasis(legal_basis: String) = "Base légale",
    /// The GP's countersignature of an order, given from their own account.
    Countersignature(countersignature: Option<Countersignature>) = "Contreseing",
});

/// A GP's countersignature: who, and which day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countersignature {
    pub by: AccountId,
    pub on: CalendarDate,
}

impl FieldChange {
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
            Self::Category(c)
                if !c.is_empty()
                    && c != crate::coordination::STEP_CATEGORY
                    && !Programme::all()
                        .iter()
                        .any(|p| p.plan_item_kind(c).is_some()) =>
            {
                Err(FieldError::new("category", "Type d'action inconnu."))
            }
            Self::LegalBasis(v) => check_text("legal_basis", v, LEGAL_BASIS_MAX_CHARS),
            _ => Ok(()),
        }
    }
}

impl Editable for CarePlanItem {
    type Field = ItemField;
    type Change = FieldChange;
    const KIND: &'static str = "care_plan_item";
    const FIELDS: &'static [ItemField] = ItemField::ALL;
    // What it is, who owns it and its status; the rest may wait.
    const REQUIRED: &'static [ItemField] = &[ItemField::Title, ItemField::Owner, ItemField::Status];
    const INCOMPLETE: &'static str =
        "Une nouvelle action demande un intitulé, un responsable et un statut.";

    // The patient reads what is planned and by whom, not the team's notes.
    fn for_patient(&self) -> Option<Self> {
        Some(Self {
            notes: String::new(),
            legal_basis: String::new(),
            ..self.clone()
        })
    }
    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self {
        CarePlanItem::blank(id, patient_id, author_id)
    }
    fn id(&self) -> ItemId {
        self.id
    }
    fn patient_id(&self) -> PatientId {
        self.patient_id
    }
    fn owner_id(&self) -> AccountId {
        self.owner_id
    }
    fn field_of(change: &FieldChange) -> ItemField {
        change.field()
    }
    fn current(&self, field: ItemField) -> FieldChange {
        FieldChange::current(self, field)
    }
    fn apply(&mut self, change: &FieldChange) {
        change.apply_to(self)
    }
    fn problems(&self) -> Vec<FieldError> {
        match (&self.starts_on, &self.ends_on) {
            // Both in AAAA-MM-JJ (checked with each change): as text, in
            // calendar order.
            (Some(start), Some(end)) if end < start => vec![FieldError::new(
                "ends_on",
                "La fin ne peut pas précéder le début.",
            )],
            _ => vec![],
        }
    }

    fn check(change: &FieldChange) -> Result<(), FieldError> {
        change.validate()
    }
    fn new_owner(change: &FieldChange) -> Option<AccountId> {
        match change {
            FieldChange::Owner(owner) => Some(*owner),
            _ => None,
        }
    }
    fn check_people(
        change: &FieldChange,
        author: AccountId,
        directory: &dyn Directory,
    ) -> Result<(), FieldError> {
        match change {
            FieldChange::Countersignature(signature) => {
                if signature.as_ref().is_some_and(|s| s.by != author) {
                    return Err(FieldError::new(
                        "countersignature",
                        "On ne contresigne qu'en son propre nom.",
                    ));
                }
                check_profession(
                    directory,
                    "countersignature",
                    author,
                    &[Profession::GeneralPractitioner],
                    "Seul un médecin contresigne une prescription.",
                )
            }
            _ => Ok(()),
        }
    }
}

/// The plan itself, one per patient: who coordinates it, the pain resource
/// nurse, and the patient's expectations and priorities in their own words.
/// Its id is made from the patient's, so two people starting it offline
/// write to the same plan (their values merge, conflicts kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePlan {
    pub id: ItemId,
    pub patient_id: PatientId,
    pub owner_id: AccountId,
    pub coordinator_id: Option<AccountId>,
    pub irdp_id: Option<AccountId>,
    pub expectations: String,
    pub priorities: String,
}

editable_fields!(CarePlan, PlanField, PlanChange {
    Owner(owner_id: AccountId) = "Responsable du plan",
    Coordinator(coordinator_id: Option<AccountId>) = "Coordinateur·rice",
    Irdp(irdp_id: Option<AccountId>) = "Infirmière ressource douleur",
    Expectations(expectations: String) = "Attentes du patient",
    Priorities(priorities: String) = "Priorités du patient",
});

impl CarePlan {
    /// The plan's id for this patient.
    pub fn id_for(patient: PatientId) -> ItemId {
        // A fixed mask keeps it a valid UUID and unlike any made on a device.
        ItemId(uuid::Uuid::from_u128(
            patient.0.as_u128() ^ 0x0000_0000_0000_0000_0000_0000_c0a7_9ea0,
        ))
    }
}

impl Editable for CarePlan {
    type Field = PlanField;
    type Change = PlanChange;
    const KIND: &'static str = "care_plan";
    const FIELDS: &'static [PlanField] = PlanField::ALL;
    const REQUIRED: &'static [PlanField] = &[PlanField::Owner];
    const INCOMPLETE: &'static str = "Un plan demande un responsable.";
    const SINGLETON: bool = true;

    // Who coordinates, and the patient's own expectations and priorities.
    fn for_patient(&self) -> Option<Self> {
        Some(self.clone())
    }
    fn blank(id: ItemId, patient_id: PatientId, author_id: AccountId) -> Self {
        CarePlan {
            id,
            patient_id,
            owner_id: author_id,
            coordinator_id: None,
            irdp_id: None,
            expectations: String::new(),
            priorities: String::new(),
        }
    }
    fn id(&self) -> ItemId {
        self.id
    }
    fn patient_id(&self) -> PatientId {
        self.patient_id
    }
    fn owner_id(&self) -> AccountId {
        self.owner_id
    }
    fn field_of(change: &PlanChange) -> PlanField {
        change.field()
    }
    fn current(&self, field: PlanField) -> PlanChange {
        PlanChange::current(self, field)
    }
    fn apply(&mut self, change: &PlanChange) {
        change.apply_to(self)
    }
    fn check(change: &PlanChange) -> Result<(), FieldError> {
        use crate::validation::check_text;
        match change {
            PlanChange::Expectations(t) => check_text("expectations", t, NOTES_MAX_CHARS),
            PlanChange::Priorities(t) => check_text("priorities", t, NOTES_MAX_CHARS),
            _ => Ok(()),
        }
    }
    fn new_owner(change: &PlanChange) -> Option<AccountId> {
        match change {
            PlanChange::Owner(o) => Some(*o),
            PlanChange::Coordinator(Some(o)) | PlanChange::Irdp(Some(o)) => Some(*o),
            _ => None,
        }
    }
}

/// A change to one care-plan item.
pub type Mutation = MutationOf<CarePlanItem>;
/// A care-plan item as the server holds it.
pub type ItemState = StateOf<CarePlanItem>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::DeviceId;

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
    ) -> (ItemState, Applied<ItemField>) {
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
    fn an_action_may_not_end_before_it_starts() {
        let (s1, mut nurse, _physio, mut gp) = setup();
        let dates = |start: &str, end: &str| {
            vec![
                FieldChange::StartsOn(Some(start.into())),
                FieldChange::EndsOn(Some(end.into())),
            ]
        };
        let backwards = nurse.mutation(
            s1.item.id,
            s1.item.patient_id,
            1,
            dates("2026-03-10", "2026-03-01"),
        );
        let refused = apply(Some(s1.clone()), &backwards).unwrap_err();
        assert_eq!(
            refused.field(),
            "changes[1].value",
            "the end, second change"
        );
        assert_eq!(s1.item.problems(), vec![], "nothing kept of it");
        let mut created = nurse.mutation(
            ItemId::new(),
            s1.item.patient_id,
            0,
            dates("2026-03-10", "2026-03-09"),
        );
        created.changes.push(FieldChange::Title("Marche".into()));
        created.changes.push(FieldChange::Owner(nurse.account));
        created
            .changes
            .push(FieldChange::Status(ItemStatus::Proposed));
        assert_eq!(
            apply(None, &created).unwrap_err().field(),
            "changes[1].value"
        );
        // The same day, and open ends, are fine.
        let (s2, _) = edit(&s1, &mut nurse, 1, dates("2026-03-10", "2026-03-10"));
        let (s3, _) = edit(&s2, &mut nurse, 2, vec![FieldChange::StartsOn(None)]);
        // Two people moving each end at once can cross them: the second is
        // refused (its author sees why and chooses), unless the item was
        // already so, when other edits still go through.
        let (s4, _) = edit(&s3, &mut nurse, 3, dates("2026-04-01", "2026-04-30"));
        let late_start = nurse.mutation(
            s4.item.id,
            s4.item.patient_id,
            4,
            vec![FieldChange::StartsOn(Some("2026-04-20".into()))],
        );
        let early_end = gp.mutation(
            s4.item.id,
            s4.item.patient_id,
            4,
            vec![FieldChange::EndsOn(Some("2026-04-10".into()))],
        );
        let (s5, _) = apply(Some(s4.clone()), &late_start).unwrap();
        assert_eq!(
            apply(Some(s5.clone()), &early_end).unwrap_err().field(),
            "changes[0].value"
        );
        let mut crossed = s5.clone();
        crossed.item.ends_on = Some("2026-04-10".into());
        let (s6, applied) = edit(
            &crossed,
            &mut gp,
            5,
            vec![FieldChange::Notes("Le matin".into())],
        );
        assert_eq!(applied.applied, vec![ItemField::Notes]);
        assert_eq!(s6.item.problems().len(), 1, "still to be put right");
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
        assert_eq!(apply(None, &incomplete).unwrap_err().field(), "changes");
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
        assert_eq!(with_pending::<CarePlanItem>(None, &[]), None);
    }

    #[test]
    fn only_a_gp_countersigns_and_only_in_their_own_name() {
        use crate::record::testing::People;
        let (gp, nurse) = (AccountId::new(), AccountId::new());
        let people = People::default()
            .with(gp, Profession::GeneralPractitioner)
            .with(nurse, Profession::PainResourceNurse);
        let sign = |by| {
            FieldChange::Countersignature(Some(Countersignature {
                by,
                on: "2026-11-24".parse().unwrap(),
            }))
        };
        assert_eq!(CarePlanItem::check_people(&sign(gp), gp, &people), Ok(()));
        assert!(CarePlanItem::check_people(&sign(nurse), nurse, &people).is_err());
        assert!(CarePlanItem::check_people(&sign(gp), nurse, &people).is_err());
        assert_eq!(
            CarePlanItem::check_people(&FieldChange::Notes("x".into()), nurse, &people),
            Ok(())
        );
        // A TENS item waits for it; once given, it no longer does.
        let mut tens = CarePlanItem::blank(ItemId::new(), PatientId::new(), nurse);
        tens.category = "tens".into();
        assert!(tens.awaits_countersignature());
        sign(gp).apply_to(&mut tens);
        assert!(!tens.awaits_countersignature());
        assert_eq!(
            FieldChange::Category("horoscope".into())
                .validate()
                .unwrap_err()
                .field,
            "category"
        );
    }

    #[test]
    fn an_item_stored_before_protocol_4_reads_its_new_fields_blank() {
        let (s1, ..) = setup();
        let mut json = serde_json::to_value(&s1).unwrap();
        for field in ["category", "funding", "legal_basis", "countersignature"] {
            json["item"].as_object_mut().unwrap().remove(field);
        }
        let old: ItemState = serde_json::from_value(json).unwrap();
        assert_eq!(old.item.category, "");
        assert_eq!(old.item.countersignature, None);
    }

    #[test]
    fn two_devices_starting_the_plan_offline_merge_instead_of_refusing() {
        let (mut nurse, mut gp) = (Person::new(), Person::new());
        let patient = PatientId::new();
        let id = CarePlan::id_for(patient);
        assert_eq!(id, CarePlan::id_for(patient), "the same id on every device");
        let start = |who: &mut Person, text: &str| MutationOf::<CarePlan> {
            device_id: who.device,
            mutation_id: 1,
            item_id: id,
            patient_id: patient,
            author_id: who.account,
            base_version: 0,
            hlc: Hlc {
                wall_ms: 1_790_000_000_000,
                counter: 0,
                device: who.device,
            },
            changes: vec![
                PlanChange::Owner(who.account),
                PlanChange::Expectations(text.into()),
            ],
            resolves: vec![],
        };
        let (s1, _) = apply(None, &start(&mut nurse, "Remarcher")).unwrap();
        let (s2, outcome) = apply(Some(s1), &start(&mut gp, "Dormir")).unwrap();
        assert_eq!(s2.version, 2);
        assert!(outcome.conflicted.contains(&PlanField::Expectations));
        assert!(s2
            .open_conflicts()
            .any(|c| c.field == PlanField::Expectations));
        // A care-plan item is not a singleton: the same refusal as before.
        let (s, mut a, _, _) = setup();
        let again = a.mutation(
            s.item.id,
            s.item.patient_id,
            0,
            vec![FieldChange::Notes("x".into())],
        );
        let mut other = Person::new();
        let mut m = other.mutation(
            s.item.id,
            s.item.patient_id,
            0,
            vec![FieldChange::Notes("y".into())],
        );
        m.mutation_id = again.mutation_id;
        assert_eq!(apply(Some(s), &m).unwrap_err(), MergeError::AlreadyExists);
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
