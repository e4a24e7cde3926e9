//! A seeded, deterministic simulation of many devices editing one care team's
//! plans offline, against the real server code on a real database. Each
//! device runs the real sync client (`parcours_domain::sync::client`, the
//! code the app runs) over an in-memory store; the network between them and
//! the server injects the faults.
//!
//! Faults: partitions, duplicated and reordered pushes, lost
//! acknowledgements, and server crashes between commit and acknowledgement.
//! At the end every device and the server hold the same items, every
//! mutation a device made was applied exactly once, and every value a
//! mutation carried either stands or is kept as a recorded conflict.
//!
//! `PARCOURS_SIM_SEED=n` replays one seed; `PARCOURS_SIM_SEEDS=n` runs n
//! seeds (scripts/simulate.sh runs many); `PARCOURS_SIM_STEPS` sets the
//! length of each run.

mod common;

use axum::http::StatusCode;
use common::{Backend, Client, TestApp};
use parcours_domain::care_plan::{self, FieldChange, ItemField, ItemState, ItemStatus, Mutation};
use parcours_domain::hlc::Hlc;
use parcours_domain::sync::client::{
    self, Local, Outgoing, Page, RawPage, RawPush, Remote, RemoteError, SyncError,
};
use parcours_domain::sync::{self, ChecksumResponse, Cursor, PushResponse, PROTOCOL_VERSION};
use parcours_domain::{AccountId, DeviceId, ItemId, Patient, PatientId, Profession};
use parcours_server::admin::{self, NewAccount};
use parcours_server::audit::Actor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;

const DEVICES_PER_ACCOUNT: usize = 4;
const EXTRA_ACCOUNTS: [(&str, Profession); 3] = [
    ("kine", Profession::Physiotherapist),
    ("psy", Profession::Psychologist),
    ("apa", Profession::AdaptedActivityCoach),
];

/// One simulated device: its store in memory, driven by the real sync client.
struct Device {
    client: Client,
    account: AccountId,
    device: DeviceId,
    store: RefCell<Store>,
    /// Every mutation this device ever made.
    made: Vec<Mutation>,
    online: bool,
}

#[derive(Default)]
struct Store {
    /// Items as last pulled from the server.
    server: BTreeMap<ItemId, ItemState>,
    /// Mutations not yet acknowledged, in id order.
    outbox: Vec<Mutation>,
    next_id: u64,
    cursor: Option<Cursor>,
    hlc: Option<Hlc>,
    /// Items this device created and has not seen back yet.
    local_items: BTreeMap<ItemId, PatientId>,
    /// Mutations the server refused, with its reason.
    refused: Vec<(Mutation, String)>,
}

impl Device {
    fn known_items(&self) -> Vec<(ItemId, PatientId)> {
        let store = self.store.borrow();
        store
            .server
            .values()
            .map(|s| (s.item.id, s.item.patient_id))
            .chain(store.local_items.iter().map(|(i, p)| (*i, *p)))
            .collect()
    }
}

impl Local for Device {
    type Error = Infallible;

    async fn outbox(
        &self,
        _limit: usize,
        _after: Option<uuid::Uuid>,
    ) -> Result<Vec<Box<RawValue>>, Infallible> {
        Ok(vec![])
    }
    async fn mutation_outbox(
        &self,
        limit: usize,
        after: Option<u64>,
    ) -> Result<Vec<Outgoing>, Infallible> {
        Ok(self
            .store
            .borrow()
            .outbox
            .iter()
            .filter(|m| after.is_none_or(|after| m.mutation_id > after))
            .take(limit)
            .map(|m| Outgoing {
                mutation_id: m.mutation_id,
                raw: serde_json::value::to_raw_value(&sync::Mutation::CarePlanItem(m.clone()))
                    .expect("a mutation serialises"),
            })
            .collect())
    }
    async fn acknowledge(&self, _ids: &[uuid::Uuid]) -> Result<(), Infallible> {
        Ok(())
    }
    async fn acknowledge_mutations(&self, last: u64) -> Result<(), Infallible> {
        self.store
            .borrow_mut()
            .outbox
            .retain(|m| m.mutation_id > last);
        Ok(())
    }
    async fn renumber_mutations(&self, from: u64, first: u64) -> Result<(), Infallible> {
        let mut store = self.store.borrow_mut();
        let mut next = first;
        for m in store.outbox.iter_mut().filter(|m| m.mutation_id >= from) {
            m.mutation_id = next;
            next += 1;
        }
        store.next_id = next;
        Ok(())
    }
    async fn refuse_record(&self, _id: uuid::Uuid, _reason: &str) -> Result<(), Infallible> {
        unreachable!("the simulated devices send no records")
    }
    async fn refuse_mutation(&self, mutation_id: u64, reason: &str) -> Result<(), Infallible> {
        let mut store = self.store.borrow_mut();
        let Some(at) = store
            .outbox
            .iter()
            .position(|m| m.mutation_id == mutation_id)
        else {
            return Ok(());
        };
        let refused = store.outbox.remove(at);
        store.refused.push((refused, reason.to_string()));
        for m in store
            .outbox
            .iter_mut()
            .filter(|m| m.mutation_id > mutation_id)
        {
            m.mutation_id -= 1;
        }
        store.next_id -= 1;
        Ok(())
    }
    async fn pending(&self) -> Result<u32, Infallible> {
        Ok(self.store.borrow().outbox.len() as u32)
    }
    async fn replace_patients(&self, _patients: &[Patient]) -> Result<bool, Infallible> {
        // The simulator's devices keep no caseload.
        Ok(false)
    }
    async fn pull_cursor(&self) -> Result<Option<Cursor>, Infallible> {
        Ok(self.store.borrow().cursor.clone())
    }
    async fn reset_pull_cursor(&self) -> Result<(), Infallible> {
        self.store.borrow_mut().cursor = None;
        Ok(())
    }
    async fn store_page(&self, page: Page<'_>) -> Result<usize, Infallible> {
        assert!(page.unreadable.is_empty(), "{:?}", page.unreadable);
        let mut store = self.store.borrow_mut();
        for entry in page.items {
            let Ok(sync::ItemState::CarePlanItem(state)) = sync::ItemState::from_json(entry.raw)
            else {
                panic!("only care-plan items are edited here: {}", entry.raw);
            };
            store.local_items.remove(&state.item.id);
            let newer = store
                .server
                .get(&state.item.id)
                .is_none_or(|s| s.version <= state.version);
            assert!(newer, "a pull went back in time for an item");
            store.server.insert(state.item.id, state);
        }
        store.cursor = Some(page.next_cursor);
        Ok(0)
    }
    async fn raise_next_mutation_id(&self, server_last: u64) -> Result<(), Infallible> {
        let mut store = self.store.borrow_mut();
        store.next_id = store.next_id.max(server_last + 1);
        Ok(())
    }
    async fn checksum_entries(&self) -> Result<Vec<(uuid::Uuid, u64)>, Infallible> {
        Ok(self
            .store
            .borrow()
            .server
            .values()
            .map(|s| (s.item.id.0, s.version))
            .collect())
    }
    fn observe(&self, seen: Hlc) {
        let mut store = self.store.borrow_mut();
        let mine = store.hlc.unwrap_or(Hlc::zero(self.device));
        store.hlc = Some(mine.observe(seen, mine.wall_ms));
    }
}

/// The network between one device and the server, with its faults.
struct Link<'a> {
    sim: &'a Sim,
    d: usize,
    faults: bool,
}

impl Link<'_> {
    fn chance(&self, p: f64) -> bool {
        self.faults && self.sim.rng.borrow_mut().gen_bool(p)
    }

    /// With two instances, each request goes to either, at random: a
    /// device's pushes and pulls switch instance as behind a load balancer.
    fn other_instance(&self) -> Option<&TestApp> {
        let other = self.sim.other.as_ref()?;
        let chosen = self.sim.rng.borrow_mut().gen_bool(0.5);
        if chosen {
            self.sim.count("requests to the second instance");
        }
        chosen.then_some(other)
    }

    fn cookie(&self) -> &str {
        &self.sim.devices[self.d].client.cookie
    }

    async fn get(&self, path: &str) -> Result<Value, RemoteError> {
        if !self.sim.devices[self.d].online {
            return Err(RemoteError::Unreachable);
        }
        let reply = match self.other_instance() {
            Some(other) => other.get(path, self.cookie()).await,
            None => self.sim.app.read().await.get(path, self.cookie()).await,
        };
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        Ok(reply.body)
    }
}

impl Remote for Link<'_> {
    async fn push(&self, request: &RawPush) -> Result<PushResponse, RemoteError> {
        if !self.sim.devices[self.d].online {
            return Err(RemoteError::Unreachable);
        }
        let send = |mutations: &[Box<RawValue>]| {
            let body =
                json!({ "protocol": PROTOCOL_VERSION, "records": [], "mutations": mutations });
            async move {
                let reply = match self.other_instance() {
                    Some(other) => other.post("/api/sync/push", self.cookie(), &body).await,
                    None => {
                        self.sim
                            .app
                            .read()
                            .await
                            .post("/api/sync/push", self.cookie(), &body)
                            .await
                    }
                };
                (reply.status, reply.body)
            }
        };
        let batch = &request.mutations;
        if batch.len() > 1 && self.chance(0.1) {
            // Reordered: a later part arrives before the start.
            let split = self.sim.rng.borrow_mut().gen_range(1..batch.len());
            let (status, body) = send(&batch[split..]).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::CONFLICT,
                "{status} {body}"
            );
            if status == StatusCode::CONFLICT {
                assert!(
                    body["field"].as_str().unwrap().ends_with("mutation_id"),
                    "{body}"
                );
                self.sim.count("out-of-order pushes refused");
            }
        }
        let (status, body) = send(batch).await;
        if status != StatusCode::OK {
            // The refusals a device meets: its store was wiped and it
            // reused mutation ids (see `a_wiped_device_…`), or a change
            // made to be refused (see `a_refused_mutation_…`).
            let error = RemoteError::refused(status.as_u16(), serde_json::from_value(body).ok());
            assert!(
                matches!(error, RemoteError::MutationIdsTaken { .. })
                    || error.refused_element().is_some(),
                "push refused: {error}"
            );
            return Err(error);
        }
        if self.chance(0.1) {
            // Duplicated delivery of the same push.
            let (status, again) = send(batch).await;
            assert_eq!(status, StatusCode::OK, "{again}");
            assert_eq!(again["last_mutation_id"], body["last_mutation_id"]);
            self.sim.count("duplicated pushes");
        }
        if self.chance(0.05) {
            // The server crashed after committing, before answering.
            self.sim.app.write().await.restart().await;
            self.sim.count("crashes between commit and ack");
            return Err(RemoteError::Unreachable);
        }
        if self.chance(0.1) {
            self.sim.count("lost acknowledgements");
            return Err(RemoteError::Unreachable);
        }
        self.sim.count("pushes acknowledged");
        Ok(serde_json::from_value(body).expect("push answer"))
    }

    async fn caseload(&self) -> Result<Vec<Patient>, RemoteError> {
        Ok(serde_json::from_value(self.get("/api/caseload").await?).expect("caseload"))
    }

    async fn pull(&self, cursor: Option<&Cursor>, estimate: bool) -> Result<RawPage, RemoteError> {
        // Small pages of varying size, so that paging is exercised.
        let limit = 1 + self.sim.rng.borrow_mut().gen_range(0..40);
        let cursor = cursor.map(|c| c.0.as_str()).unwrap_or("");
        let body = self
            .get(&format!(
                "/api/sync/pull?cursor={cursor}&limit={limit}&estimate={estimate}"
            ))
            .await?;
        self.sim.count("pages pulled");
        Ok(serde_json::from_str(&body.to_string()).expect("pull answer"))
    }

    async fn checksum(&self) -> Result<ChecksumResponse, RemoteError> {
        Ok(
            serde_json::from_value(self.get("/api/sync/checksum?protocol=3").await?)
                .expect("checksum"),
        )
    }
}

struct Sim {
    /// Locked for writing only to restart it (a crash).
    app: tokio::sync::RwLock<TestApp>,
    /// A second server instance on the same database, when simulated.
    other: Option<TestApp>,
    rng: RefCell<ChaCha8Rng>,
    devices: Vec<Device>,
    patients: Vec<PatientId>,
    accounts: Vec<AccountId>,
    clock_ms: i64,
    stats: RefCell<HashMap<&'static str, u64>>,
}

fn random_change(rng: &mut ChaCha8Rng, field: ItemField, accounts: &[AccountId]) -> FieldChange {
    // Small value sets, so that equal values and real conflicts both happen.
    match field {
        ItemField::Title => FieldChange::Title(
            ["Kinésithérapie", "TENS", "Marche adaptée", "Psychothérapie"]
                .choose(rng)
                .unwrap()
                .to_string(),
        ),
        ItemField::Owner => FieldChange::Owner(*accounts.choose(rng).unwrap()),
        ItemField::Frequency => FieldChange::Frequency(
            ["1/semaine", "2/semaine", "quotidien", ""]
                .choose(rng)
                .unwrap()
                .to_string(),
        ),
        ItemField::StartsOn => FieldChange::StartsOn(
            [
                None,
                Some("2026-11-01".to_string()),
                Some("2026-12-01".to_string()),
            ]
            .choose(rng)
            .unwrap()
            .clone(),
        ),
        ItemField::EndsOn => FieldChange::EndsOn(
            [
                None,
                Some("2027-03-01".to_string()),
                Some("2027-06-01".to_string()),
            ]
            .choose(rng)
            .unwrap()
            .clone(),
        ),
        ItemField::Status => FieldChange::Status(*ItemStatus::ALL.choose(rng).unwrap()),
        ItemField::Notes => {
            FieldChange::Notes(["a", "b", "c", "d", "e"].choose(rng).unwrap().to_string())
        }
        ItemField::Category => {
            FieldChange::Category(["", "tens", "psychology"].choose(rng).unwrap().to_string())
        }
        ItemField::Funding => FieldChange::Funding(
            *[None, Some(care_plan::Funding::Pathway)]
                .choose(rng)
                .unwrap(),
        ),
        ItemField::LegalBasis => {
            FieldChange::LegalBasis(["", "arrêté"].choose(rng).unwrap().to_string())
        }
        // Only a GP countersigns, in their own name: not among the
        // simulated edits (`random_fields` leaves it out).
        ItemField::Countersignature => FieldChange::Countersignature(None),
    }
}

/// The fields the simulated people edit: all but the countersignature.
fn random_fields() -> Vec<ItemField> {
    ItemField::ALL
        .iter()
        .copied()
        .filter(|f| *f != ItemField::Countersignature)
        .collect()
}

impl Sim {
    async fn new(backend: Backend, seed: u64) -> Option<Self> {
        let app = TestApp::new(backend).await?;
        for (username, profession) in EXTRA_ACCOUNTS {
            admin::create_account(
                &app.db,
                &Actor::operator("simulator"),
                NewAccount {
                    username,
                    display_name: username,
                    profession,
                    password: "simulator-password",
                },
            )
            .await
            .expect("account");
        }
        let mut patients = vec![];
        for family in ["Lefèvre", "Moreau"] {
            let id = app.patient_id(family).await;
            for (username, _) in EXTRA_ACCOUNTS {
                admin::add_to_care_team(&app.db, &Actor::operator("simulator"), &id, username)
                    .await
                    .expect("care team");
            }
            patients.push(id.parse().unwrap());
        }
        let mut devices = vec![];
        let mut accounts = vec![];
        for username in ["claire", "dr.durand"]
            .into_iter()
            .chain(EXTRA_ACCOUNTS.iter().map(|a| a.0))
        {
            for _ in 0..DEVICES_PER_ACCOUNT {
                let client = app.session_for(username).await;
                let account: AccountId = client.account_id.parse().unwrap();
                let device: DeviceId = client.device_id.parse().unwrap();
                devices.push(Device {
                    account,
                    device,
                    client,
                    store: RefCell::new(Store {
                        next_id: 1,
                        ..Store::default()
                    }),
                    made: vec![],
                    online: true,
                });
            }
            accounts.push(devices.last().unwrap().account);
        }
        Some(Self {
            app: tokio::sync::RwLock::new(app),
            other: None,
            rng: RefCell::new(ChaCha8Rng::seed_from_u64(seed)),
            devices,
            patients,
            accounts,
            clock_ms: 1_790_000_000_000,
            stats: RefCell::default(),
        })
    }

    fn count(&self, what: &'static str) {
        *self.stats.borrow_mut().entry(what).or_default() += 1;
    }

    fn link(&self, d: usize, faults: bool) -> Link<'_> {
        Link {
            sim: self,
            d,
            faults,
        }
    }

    /// A device makes a change while it may be offline: create, edit, stop, or
    /// (as an item's owner) settle a conflict.
    fn local_change(&mut self, d: usize) {
        let mut rng_cell = self.rng.borrow_mut();
        let rng = &mut *rng_cell;
        self.clock_ms += rng.gen_range(1..5000);
        let known = self.devices[d].known_items();
        let roll: f64 = rng.gen();
        let dev = &self.devices[d];
        let store = dev.store.borrow();
        let (item_id, patient_id, base, changes, resolves) = if known.is_empty() || roll < 0.12 {
            let owner = *self.accounts.choose(rng).unwrap();
            let changes = vec![
                FieldChange::Title("Nouvelle action".into()),
                FieldChange::Owner(owner),
                FieldChange::Status(ItemStatus::Proposed),
            ];
            (
                ItemId(uuid::Uuid::from_u128(rng.gen())),
                *self.patients.choose(rng).unwrap(),
                0,
                changes,
                vec![],
            )
        } else {
            let (item_id, patient_id) = *known.choose(rng).unwrap();
            let server = store.server.get(&item_id);
            let base = server.map(|s| s.version).unwrap_or(0);
            let open: Vec<_> = server
                .filter(|s| s.item.owner_id == dev.account)
                .map(|s| s.open_conflicts().cloned().collect())
                .unwrap_or_default();
            if !open.is_empty() && roll < 0.35 {
                let conflict: &care_plan::Conflict<care_plan::CarePlanItem> =
                    open.choose(rng).unwrap();
                let pick = if rng.gen_bool(0.5) {
                    conflict.standing.change.clone()
                } else {
                    conflict.other.change.clone()
                };
                (item_id, patient_id, base, vec![pick], vec![conflict.field])
            } else if roll < 0.2 {
                (
                    item_id,
                    patient_id,
                    base,
                    vec![FieldChange::Status(ItemStatus::Stopped)],
                    vec![],
                )
            } else {
                let mut fields = random_fields();
                fields.shuffle(rng);
                let n = rng.gen_range(1..=2);
                let changes = fields[..n]
                    .iter()
                    .map(|f| random_change(rng, *f, &self.accounts))
                    .collect();
                (item_id, patient_id, base, changes, vec![])
            }
        };
        drop(store);
        let dev = &mut self.devices[d];
        let mut store = dev.store.borrow_mut();
        let hlc = store
            .hlc
            .unwrap_or(Hlc::zero(dev.device))
            .tick(self.clock_ms);
        store.hlc = Some(hlc);
        let m = Mutation {
            device_id: dev.device,
            mutation_id: store.next_id,
            item_id,
            patient_id,
            author_id: dev.account,
            base_version: base,
            hlc,
            changes,
            resolves,
        };
        store.next_id += 1;
        if base == 0 && !store.server.contains_key(&item_id) {
            store.local_items.insert(item_id, patient_id);
        }
        store.outbox.push(m.clone());
        drop(store);
        dev.made.push(m);
        self.count("mutations made");
    }

    /// Runs one part of the real client; a dropped connection is part of
    /// the game, any other failure is a bug.
    async fn expect_reachable<T>(&self, result: Result<T, SyncError<Infallible>>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(SyncError::Remote(RemoteError::Unreachable)) => None,
            Err(e) => panic!("sync failed: {e}"),
        }
    }

    async fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            let (d, roll) = {
                let rng = &mut *self.rng.borrow_mut();
                (rng.gen_range(0..self.devices.len()), rng.gen_range(0..100))
            };
            match roll {
                0..=44 => self.local_change(d),
                45..=69 => {
                    let pushed = client::push_all(&self.link(d, true), &self.devices[d]).await;
                    self.expect_reachable(pushed).await;
                }
                70..=91 => {
                    let pulled = client::pull_all(
                        &self.link(d, false),
                        &self.devices[d],
                        &Default::default(),
                    )
                    .await;
                    if self.expect_reachable(pulled).await.is_some() {
                        self.count("pulls");
                    }
                }
                _ => {
                    self.devices[d].online = !self.devices[d].online;
                    self.count("partitions toggled");
                }
            }
        }
        // Heal: everyone online; each device runs whole syncs.
        for dev in &mut self.devices {
            dev.online = true;
        }
        let mut changed_in_round = vec![];
        for round in 0..3 {
            let mut changed = 0;
            for d in 0..self.devices.len() {
                let outcome = client::sync(&self.link(d, false), &self.devices[d])
                    .await
                    .unwrap_or_else(|e| panic!("device {d}: {e}"));
                assert_eq!(outcome.set_aside, 0);
                assert!(!outcome.diverged, "device {d}: the checksums still differ");
                // After two rounds every device has sent and received
                // everything: a third sync brings nothing and says so
                // (the screens are not redrawn for nothing).
                assert!(
                    round < 2 || !outcome.changed,
                    "device {d}: a sync with nothing new says something changed"
                );
                changed += usize::from(outcome.changed);
            }
            changed_in_round.push(changed);
        }
        // Devices back from a partition with changes waiting: syncing them
        // changed something on at least one.
        assert!(
            changed_in_round[0] > 0,
            "the first syncs after the partitions changed nothing"
        );
    }

    async fn check(&self) {
        let db = self.app.read().await.db.clone();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, body FROM journal WHERE kind = 'care_plan_item'")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        let server: BTreeMap<ItemId, ItemState> = rows
            .into_iter()
            .map(|(id, s)| (id.parse().unwrap(), serde_json::from_str(&s).unwrap()))
            .collect();
        assert!(!server.is_empty());

        for (i, dev) in self.devices.iter().enumerate() {
            {
                let store = dev.store.borrow();
                assert!(
                    store.outbox.is_empty(),
                    "device {i} still has mutations waiting"
                );
                assert!(
                    store.local_items.is_empty(),
                    "device {i} never saw its own item back"
                );
                assert_eq!(store.server, server, "device {i} diverged from the server");
            }

            // Exactly once: ids 1..n, each applied once (the unique index) and none missing.
            let applied = applied_ids(&db, dev).await;
            let expected: Vec<i64> = (1..=dev.made.len() as i64).collect();
            assert_eq!(
                applied, expected,
                "device {i}: mutations applied ≠ mutations made"
            );

            // Nothing silently dropped: each value a mutation carried was applied,
            // was already there, or is kept as a conflict on its item.
            for m in &dev.made {
                let outcome: String = sqlx::query_scalar(
                    "SELECT outcome FROM item_versions WHERE account_id = $1 AND device_id = $2 AND mutation_id = $3",
                )
                .bind(dev.account.to_string())
                .bind(dev.device.to_string())
                .bind(m.mutation_id as i64)
                .fetch_one(&db.pool)
                .await
                .unwrap();
                let outcome: care_plan::Applied<ItemField> =
                    serde_json::from_str(&outcome).unwrap();
                for change in &m.changes {
                    let field = change.field();
                    if outcome.applied.contains(&field) || outcome.unchanged.contains(&field) {
                        continue;
                    }
                    assert!(
                        outcome.conflicted.contains(&field),
                        "a change was neither applied nor conflicted"
                    );
                    let item = &server[&m.item_id];
                    let kept = item.conflicts.iter().any(|c| {
                        [&c.standing, &c.other].iter().any(|v| {
                            v.change == *change
                                && v.stamp.device_id == m.device_id
                                && v.stamp.mutation_id == m.mutation_id
                        })
                    });
                    assert!(kept, "a conflicting value was dropped: {change:?}");
                }
            }
        }
    }
}

/// The mutation ids the server applied for this device, in order.
async fn applied_ids(db: &parcours_server::db::Database, dev: &Device) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT mutation_id FROM item_versions WHERE account_id = $1 AND device_id = $2 ORDER BY mutation_id",
    )
    .bind(dev.account.to_string())
    .bind(dev.device.to_string())
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

fn seeds() -> Vec<u64> {
    if let Ok(seed) = std::env::var("PARCOURS_SIM_SEED") {
        return vec![seed.parse().expect("PARCOURS_SIM_SEED is a number")];
    }
    let n: u64 = std::env::var("PARCOURS_SIM_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    (1..=n).collect()
}

fn steps() -> usize {
    std::env::var("PARCOURS_SIM_STEPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2500)
}

async fn simulate(backend: Backend, seeds: Vec<u64>, instances: usize) {
    for seed in seeds {
        eprintln!("simulator: {backend:?}, {instances} instance(s), seed {seed} (replay with PARCOURS_SIM_SEED={seed})");
        let Some(mut sim) = Sim::new(backend, seed).await else {
            return;
        };
        if instances > 1 {
            sim.other = Some(sim.app.read().await.another_instance().await);
        }
        sim.run(steps()).await;
        sim.check().await;
        let stats = sim.stats.borrow();
        let mut stats: Vec<_> = stats.iter().collect();
        stats.sort();
        eprintln!("simulator: seed {seed} converged: {stats:?}");
        assert!(stats
            .iter()
            .any(|(k, v)| **k == "mutations made" && **v > 500));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_converge_on_sqlite() {
    simulate(Backend::Sqlite, seeds(), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_converge_on_postgres() {
    // One seed on PostgreSQL in the default run; the same seeds as SQLite when replaying.
    let seeds = if std::env::var("PARCOURS_SIM_SEED").is_ok()
        || std::env::var("PARCOURS_SIM_SEEDS").is_ok()
    {
        seeds()
    } else {
        vec![7]
    };
    simulate(Backend::Postgres, seeds, 1).await;
}

/// Two server instances on one PostgreSQL, as behind a load balancer: every
/// request of every device goes to either at random (a push to one, the
/// next pull from the other, a retry elsewhere) — and everything converges,
/// nothing lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_converge_on_two_instances_of_postgres() {
    let seeds = if std::env::var("PARCOURS_SIM_SEED").is_ok() {
        seeds()
    } else {
        vec![9]
    };
    simulate(Backend::Postgres, seeds, 2).await;
}

/// A device whose store was wiped while its id survived (storage cleared,
/// a restored copy) makes changes before its first pull: their mutation ids
/// are ones the server applied before. The push is refused (409, with the
/// id expected next); the client renumbers what waits and pushes again —
/// nothing stuck, nothing lost, nothing applied twice.
async fn a_wiped_device_renumbers_its_mutations(backend: Backend) {
    let Some(mut sim) = Sim::new(backend, 11).await else {
        return;
    };
    for _ in 0..3 {
        sim.local_change(0);
    }
    client::sync(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("first sync");
    *sim.devices[0].store.borrow_mut() = Store {
        next_id: 1,
        ..Store::default()
    };
    // Knowing nothing, it can only create: two new items, mutations 1 and 2.
    sim.local_change(0);
    sim.local_change(0);
    let created: Vec<ItemId> = sim.devices[0]
        .store
        .borrow()
        .outbox
        .iter()
        .map(|m| m.item_id)
        .collect();
    assert_eq!(created.len(), 2);
    client::sync(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("the sync renumbers and goes on");
    {
        let store = sim.devices[0].store.borrow();
        assert!(store.outbox.is_empty());
        for item in &created {
            assert!(
                store.server.contains_key(item),
                "its new item reached the server"
            );
        }
        assert_eq!(store.next_id, 6, "new mutations follow the server's last");
    }
    let dev = &sim.devices[0];
    let db = sim.app.read().await.db.clone();
    let applied = applied_ids(&db, dev).await;
    assert_eq!(applied, vec![1, 2, 3, 4, 5], "each applied once");
}

/// A change the server refuses for what it is (here: an item given to
/// someone outside the patient's care team) goes to the device's refused
/// list with the server's reason; the changes after it take its id and
/// reach the server, applied once each, without a gap.
async fn a_refused_mutation_is_set_aside_and_the_rest_goes_on(backend: Backend) {
    let Some(mut sim) = Sim::new(backend, 12).await else {
        return;
    };
    sim.local_change(0);
    client::sync(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("first sync");
    let outsider: AccountId = sim
        .app
        .read()
        .await
        .session_for("sophie")
        .await
        .account_id
        .parse()
        .unwrap();
    sim.local_change(0);
    {
        let dev = &sim.devices[0];
        let mut store = dev.store.borrow_mut();
        let (&item_id, state) = store.server.iter().next().expect("an item pulled");
        let hlc = store
            .hlc
            .unwrap_or(Hlc::zero(dev.device))
            .tick(sim.clock_ms + 10_000);
        let m = Mutation {
            device_id: dev.device,
            mutation_id: store.next_id,
            item_id,
            patient_id: state.item.patient_id,
            author_id: dev.account,
            base_version: state.version,
            hlc,
            changes: vec![FieldChange::Owner(outsider)],
            resolves: vec![],
        };
        store.hlc = Some(hlc);
        store.next_id += 1;
        store.outbox.push(m);
    }
    sim.clock_ms += 20_000;
    sim.local_change(0);
    let refused_id = sim.devices[0].store.borrow().outbox[1].mutation_id;
    let outcome = client::sync(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("the sync goes on");
    assert_eq!(outcome.refused, 1);
    {
        let store = sim.devices[0].store.borrow();
        assert!(store.outbox.is_empty(), "the rest left");
        assert_eq!(store.refused.len(), 1);
        let (refused, reason) = &store.refused[0];
        assert_eq!(refused.mutation_id, refused_id);
        assert_eq!(refused.changes, vec![FieldChange::Owner(outsider)]);
        assert_eq!(
            reason,
            "Le responsable doit faire partie de l'équipe de soins du patient."
        );
        assert_eq!(store.next_id, 4, "no id lost to the refusal");
    }
    let db = sim.app.read().await.db.clone();
    let applied = applied_ids(&db, &sim.devices[0]).await;
    assert_eq!(applied, vec![1, 2, 3], "each applied once, no gap");
}

impl Sim {
    /// Queues on device `d` the creation of a new item of the first patient.
    fn create_item(&mut self, d: usize, title: &str) -> ItemId {
        self.clock_ms += 1_000;
        let dev = &self.devices[d];
        let mut store = dev.store.borrow_mut();
        let hlc = store
            .hlc
            .unwrap_or(Hlc::zero(dev.device))
            .tick(self.clock_ms);
        let item_id = ItemId(uuid::Uuid::new_v4());
        let m = Mutation {
            device_id: dev.device,
            mutation_id: store.next_id,
            item_id,
            patient_id: self.patients[0],
            author_id: dev.account,
            base_version: 0,
            hlc,
            changes: vec![
                FieldChange::Title(title.into()),
                FieldChange::Owner(dev.account),
                FieldChange::Status(ItemStatus::Proposed),
            ],
            resolves: vec![],
        };
        store.hlc = Some(hlc);
        store.next_id += 1;
        store.outbox.push(m);
        item_id
    }
}

/// The server restored from a copy taken before some of a device's
/// changes (applied and acknowledged, then lost with the restore): the
/// device's next change carries an id ahead of the server's last. The
/// server says which id it expects; the device gives what waits that id
/// on, and the change is applied — nothing stuck. (Only the push is run
/// after the restore: the simulated devices also check that no pull ever
/// goes back in time, which a restore does.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_a_device_renumbers_what_waits_and_goes_on() {
    let Some(mut sim) = Sim::new(Backend::Sqlite, 13).await else {
        return;
    };
    sim.create_item(0, "Marche");
    sim.create_item(0, "Relaxation");
    client::sync(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("first sync");
    let dir = std::env::temp_dir().join(format!(
        "parcours_restore_{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("copie.db");
    parcours_server::backup::to_file(&sim.app.read().await.db, &copy, &Actor::operator("test"))
        .await
        .expect("backup");
    let lost = sim.create_item(0, "Balnéothérapie");
    client::push_all(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("applied, then lost with the restore");
    {
        let mut app = sim.app.write().await;
        app.url = format!("sqlite://{}", copy.display());
        app.restart().await;
    }
    let kept = sim.create_item(0, "Hypnose");
    assert_eq!(sim.devices[0].store.borrow().outbox[0].mutation_id, 4);
    client::push_all(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("renumbered and pushed");
    assert!(sim.devices[0].store.borrow().outbox.is_empty());
    assert_eq!(
        sim.devices[0].store.borrow().next_id,
        4,
        "new ones follow it"
    );
    let db = sim.app.read().await.db.clone();
    assert_eq!(applied_ids(&db, &sim.devices[0]).await, vec![1, 2, 3]);
    let item = |id: ItemId| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM journal WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&db.pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        item(kept).await,
        1,
        "the change made after the restore is there"
    );
    assert_eq!(item(lost).await, 0, "what the copy did not hold is not");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mutation_is_set_aside_on_sqlite() {
    a_refused_mutation_is_set_aside_and_the_rest_goes_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mutation_is_set_aside_on_postgres() {
    a_refused_mutation_is_set_aside_and_the_rest_goes_on(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_device_renumbers_its_mutations_on_sqlite() {
    a_wiped_device_renumbers_its_mutations(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_device_renumbers_its_mutations_on_postgres() {
    a_wiped_device_renumbers_its_mutations(Backend::Postgres).await;
}

/// An outbox of several pushes: each next push is read while the one before
/// travels, and used only if the server took that one whole. Here the
/// second push holds a change the server refuses: what was read ahead is
/// dropped, the refused change set aside, the ones after it renumbered and
/// sent — every other change applied once, in order, without a gap.
async fn a_long_outbox_leaves_in_order_with_a_refusal_in_the_middle(backend: Backend) {
    let Some(mut sim) = Sim::new(backend, 14).await else {
        return;
    };
    let outsider: AccountId = sim
        .app
        .read()
        .await
        .session_for("sophie")
        .await
        .account_id
        .parse()
        .unwrap();
    const WAITING: usize = 2 * sync::MAX_PUSH_MUTATIONS + 234;
    for n in 0..WAITING {
        sim.create_item(0, &format!("Action {n}"));
    }
    let refused_at = sync::MAX_PUSH_MUTATIONS + 199;
    sim.devices[0].store.borrow_mut().outbox[refused_at].changes[1] = FieldChange::Owner(outsider);
    let pushed = client::push_all(&sim.link(0, false), &sim.devices[0])
        .await
        .expect("the push goes on");
    assert_eq!(pushed.refused, 1);
    assert_eq!(pushed.held.len(), 0, "no records in this outbox");
    {
        let store = sim.devices[0].store.borrow();
        assert!(store.outbox.is_empty(), "the rest left");
        assert_eq!(store.refused[0].0.mutation_id, refused_at as u64 + 1);
        assert_eq!(store.next_id, WAITING as u64, "no id lost to the refusal");
    }
    let db = sim.app.read().await.db.clone();
    let applied = applied_ids(&db, &sim.devices[0]).await;
    assert_eq!(
        applied,
        (1..WAITING as i64).collect::<Vec<_>>(),
        "each applied once, no gap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outbox_leaves_in_order_on_sqlite() {
    a_long_outbox_leaves_in_order_with_a_refusal_in_the_middle(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outbox_leaves_in_order_on_postgres() {
    a_long_outbox_leaves_in_order_with_a_refusal_in_the_middle(Backend::Postgres).await;
}
