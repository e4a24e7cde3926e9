//! Property tests on stable Rust (proptest) of what the server and the
//! devices decode from outside, and of the merge: on any input, no panic;
//! what decodes survives a round trip; every change a merge accepts is
//! applied, already there, or kept as a conflict — never dropped.
//! More cases: `PROPTEST_CASES=10000 cargo test -p parcours-domain --test fuzz`.

use parcours_domain::care_plan::{CarePlanItem, FieldChange, ItemStatus, Mutation};
use parcours_domain::hlc::Hlc;
use parcours_domain::merge::{self, Editable, StateOf};
use parcours_domain::sync::client::{read_page, RawPage};
use parcours_domain::sync::{self, Record};
use parcours_domain::{AccountId, DeviceId, ItemId, PatientId};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

/// Words the decoders look for, so random objects reach past the first check.
const KEYS: &[&str] = &[
    "kind",
    "id",
    "patient_id",
    "author_id",
    "device_id",
    "recorded_at",
    "amends",
    "mode",
    "pain_now",
    "pain_average_24h",
    "pain_worst_24h",
    "location",
    "note",
    "item_id",
    "mutation_id",
    "base_version",
    "hlc",
    "wall_ms",
    "counter",
    "changes",
    "field",
    "value",
    "resolves",
    "item",
    "version",
    "stamps",
    "conflicts",
    "on",
    "programme_id",
];
const KINDS: &[&str] = &[
    "pain_assessment",
    "diary_entry",
    "notebook_entry",
    "enrollment",
    "visit",
    "care_plan_item",
    "review",
    "meeting_report",
    "telepathy",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(KINDS).prop_map(Value::from),
        Just(json!(Uuid::now_v7())),
        Just(json!("2026-02-31")),
        Just(json!(9_007_199_254_740_993u64)),
        ".{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A valid pain assessment, as a device sends it.
fn assessment() -> Value {
    json!({
        "kind": "pain_assessment", "id": Uuid::now_v7(), "patient_id": Uuid::now_v7(),
        "author_id": Uuid::now_v7(), "device_id": Uuid::now_v7(), "recorded_at": 1_790_000_000_000i64,
        "mode": "interview", "pain_now": 5, "pain_average_24h": 4, "pain_worst_24h": 6,
        "location": "Lombaires", "note": "", "amends": null,
    })
}

const ACCOUNTS: [AccountId; 3] = [
    AccountId(Uuid::from_u128(1)),
    AccountId(Uuid::from_u128(2)),
    AccountId(Uuid::from_u128(3)),
];
const DEVICES: [DeviceId; 3] = [
    DeviceId(Uuid::from_u128(11)),
    DeviceId(Uuid::from_u128(12)),
    DeviceId(Uuid::from_u128(13)),
];
const ITEM: ItemId = ItemId(Uuid::from_u128(21));
const PATIENT: PatientId = PatientId(Uuid::from_u128(31));

fn change() -> impl Strategy<Value = FieldChange> {
    let date = proptest::option::of("20[0-9]{2}-[01][0-9]-[0-3][0-9]");
    prop_oneof![
        ".{0,30}".prop_map(FieldChange::Title),
        (0..3usize).prop_map(|i| FieldChange::Owner(ACCOUNTS[i])),
        ".{0,12}".prop_map(FieldChange::Frequency),
        date.clone().prop_map(FieldChange::StartsOn),
        date.prop_map(FieldChange::EndsOn),
        prop::sample::select(ItemStatus::ALL.to_vec()).prop_map(FieldChange::Status),
        ".{0,40}".prop_map(FieldChange::Notes),
    ]
}

/// One edit: by which device (and its account), how many versions behind
/// the latest it was made, what it changes, how much later on its clock.
fn edit() -> impl Strategy<Value = (usize, u64, Vec<FieldChange>, i64)> {
    (
        0..3usize,
        0..3u64,
        prop::collection::vec(change(), 1..4),
        0..5_000i64,
    )
}

proptest! {
    #[test]
    fn any_text_decodes_or_is_refused_without_panic(text in ".{0,200}") {
        let _ = Record::from_json(&text);
        let _ = sync::Mutation::from_json(&text);
        let _ = sync::ItemState::from_json(&text);
    }

    #[test]
    fn any_json_in_a_push_decodes_or_is_refused_and_what_decodes_round_trips(value in json_value()) {
        let text = value.to_string();
        if let Ok(record) = Record::from_json(&text) {
            let again = Record::from_json(&serde_json::to_string(&record).unwrap());
            prop_assert_eq!(again.ok(), Some(record));
        }
        if let Ok(mutation) = sync::Mutation::from_json(&text) {
            let again = sync::Mutation::from_json(&serde_json::to_string(&mutation).unwrap());
            prop_assert_eq!(again.ok(), Some(mutation));
        }
    }

    #[test]
    fn a_valid_record_with_one_field_replaced_is_decoded_or_refused_naming_a_field(
        key in prop::sample::select(KEYS),
        value in json_value(),
    ) {
        let mut record = assessment();
        record[key] = value;
        if let Err(e) = Record::from_json(&record.to_string()) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn any_pull_page_is_read_without_panic(records in prop::collection::vec(json_value(), 0..6),
                                           items in prop::collection::vec(json_value(), 0..6)) {
        let page = json!({ "records": records, "items": items, "next_cursor": "7", "has_more": false });
        if let Ok(raw) = serde_json::from_value::<RawPage>(page) {
            let (read, _) = read_page(&raw, &Default::default());
            prop_assert_eq!(read.records.len() + read.items.len() + read.unreadable.len(),
                            raw.records.len() + raw.items.len());
        }
    }

    #[test]
    fn every_change_a_merge_accepts_is_applied_already_there_or_kept_as_a_conflict(
        edits in prop::collection::vec(edit(), 1..20),
    ) {
        let create = Mutation {
            device_id: DEVICES[0], mutation_id: 1, item_id: ITEM, patient_id: PATIENT,
            author_id: ACCOUNTS[0], base_version: 0,
            hlc: Hlc::zero(DEVICES[0]).tick(1_790_000_000_000),
            changes: vec![
                FieldChange::Title("Marche".into()),
                FieldChange::Owner(ACCOUNTS[0]),
                FieldChange::Status(ItemStatus::Proposed),
            ],
            resolves: vec![],
        };
        let (mut state, _): (StateOf<CarePlanItem>, _) = merge::apply(None, &create).unwrap();
        let mut wall = 1_790_000_000_000i64;
        for (n, (d, behind, changes, later)) in edits.into_iter().enumerate() {
            wall += later;
            let m = Mutation {
                device_id: DEVICES[d], mutation_id: n as u64 + 2, item_id: ITEM, patient_id: PATIENT,
                author_id: ACCOUNTS[d], base_version: state.version.saturating_sub(behind).max(1),
                hlc: Hlc::zero(DEVICES[d]).tick(wall),
                changes, resolves: vec![],
            };
            let before = state.version;
            match merge::apply(Some(state.clone()), &m) {
                Ok((next, applied)) => {
                    prop_assert_eq!(next.version, before + 1);
                    prop_assert_eq!(applied.version, next.version);
                    for c in &m.changes {
                        let field = CarePlanItem::field_of(c);
                        let accounted = applied.applied.contains(&field)
                            || applied.unchanged.contains(&field)
                            || applied.conflicted.contains(&field);
                        prop_assert!(accounted, "{:?} neither applied nor conflicted", c);
                        if applied.conflicted.contains(&field) {
                            prop_assert!(next.conflicts.iter().any(|k| k.standing.change == *c || k.other.change == *c),
                                "a conflicting value was dropped: {:?}", c);
                        }
                        if applied.applied.contains(&field) {
                            prop_assert_eq!(&next.item.current(field), c);
                        }
                    }
                    state = next;
                }
                // Refused (a calendar-invalid date…): the state is the caller's, untouched.
                Err(_) => prop_assert_eq!(state.version, before),
            }
        }
    }
}
