//! A seeded, deterministic simulation of many devices editing one care team's
//! plans offline, against the real server code on a real database.
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
use parcours_domain::{AccountId, DeviceId, ItemId, PatientId, Profession};
use parcours_server::admin::{self, NewAccount};
use parcours_server::audit::Actor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

const DEVICES_PER_ACCOUNT: usize = 4;
const EXTRA_ACCOUNTS: [(&str, Profession); 3] = [
    ("kine", Profession::Physiotherapist),
    ("psy", Profession::Psychologist),
    ("apa", Profession::AdaptedActivityCoach),
];

struct Device {
    client: Client,
    account: AccountId,
    device: DeviceId,
    /// Items as last pulled from the server.
    server: BTreeMap<ItemId, ItemState>,
    /// Mutations not yet acknowledged, in id order.
    outbox: Vec<Mutation>,
    /// Every mutation this device ever made.
    made: Vec<Mutation>,
    next_id: u64,
    cursor: String,
    online: bool,
    hlc: Hlc,
    /// Items this device created and has not seen back yet.
    local_items: BTreeMap<ItemId, PatientId>,
}

impl Device {
    fn acknowledge(&mut self, last: u64) {
        self.outbox.retain(|m| m.mutation_id > last);
    }

    fn known_items(&self) -> Vec<(ItemId, PatientId)> {
        self.server
            .values()
            .map(|s| (s.item.id, s.item.patient_id))
            .chain(self.local_items.iter().map(|(i, p)| (*i, *p)))
            .collect()
    }
}

struct Sim {
    app: TestApp,
    rng: ChaCha8Rng,
    devices: Vec<Device>,
    patients: Vec<PatientId>,
    accounts: Vec<AccountId>,
    clock_ms: i64,
    stats: HashMap<&'static str, u64>,
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
    }
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
                    server: BTreeMap::new(),
                    outbox: vec![],
                    made: vec![],
                    next_id: 1,
                    cursor: String::new(),
                    online: true,
                    hlc: Hlc::zero(device),
                    local_items: BTreeMap::new(),
                });
            }
            accounts.push(devices.last().unwrap().account);
        }
        Some(Self {
            app,
            rng: ChaCha8Rng::seed_from_u64(seed),
            devices,
            patients,
            accounts,
            clock_ms: 1_790_000_000_000,
            stats: HashMap::new(),
        })
    }

    fn count(&mut self, what: &'static str) {
        *self.stats.entry(what).or_default() += 1;
    }

    /// A device makes a change while it may be offline: create, edit, stop, or
    /// (as an item's owner) settle a conflict.
    fn local_change(&mut self, d: usize) {
        self.clock_ms += self.rng.gen_range(1..5000);
        let known = self.devices[d].known_items();
        let roll: f64 = self.rng.gen();
        let dev = &self.devices[d];
        let (item_id, patient_id, base, changes, resolves) = if known.is_empty() || roll < 0.12 {
            let owner = *self.accounts.choose(&mut self.rng).unwrap();
            let changes = vec![
                FieldChange::Title("Nouvelle action".into()),
                FieldChange::Owner(owner),
                FieldChange::Status(ItemStatus::Proposed),
            ];
            (
                ItemId(uuid::Uuid::from_u128(self.rng.gen())),
                *self.patients.choose(&mut self.rng).unwrap(),
                0,
                changes,
                vec![],
            )
        } else {
            let (item_id, patient_id) = *known.choose(&mut self.rng).unwrap();
            let server = dev.server.get(&item_id);
            let base = server.map(|s| s.version).unwrap_or(0);
            let open: Vec<_> = server
                .filter(|s| s.item.owner_id == dev.account)
                .map(|s| s.open_conflicts().cloned().collect())
                .unwrap_or_default();
            if !open.is_empty() && roll < 0.35 {
                let conflict: &care_plan::Conflict = open.choose(&mut self.rng).unwrap();
                let pick = if self.rng.gen_bool(0.5) {
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
                let mut fields = ItemField::ALL.to_vec();
                fields.shuffle(&mut self.rng);
                let n = self.rng.gen_range(1..=2);
                let changes = fields[..n]
                    .iter()
                    .map(|f| random_change(&mut self.rng, *f, &self.accounts))
                    .collect();
                (item_id, patient_id, base, changes, vec![])
            }
        };
        let dev = &mut self.devices[d];
        dev.hlc = dev.hlc.tick(self.clock_ms);
        let m = Mutation {
            device_id: dev.device,
            mutation_id: dev.next_id,
            item_id,
            patient_id,
            author_id: dev.account,
            base_version: base,
            hlc: dev.hlc,
            changes,
            resolves,
        };
        dev.next_id += 1;
        if base == 0 && !dev.server.contains_key(&item_id) {
            dev.local_items.insert(item_id, patient_id);
        }
        dev.outbox.push(m.clone());
        dev.made.push(m);
        self.count("mutations made");
    }

    async fn send(&self, d: usize, mutations: &[Mutation]) -> (StatusCode, Value) {
        let body = json!({ "protocol": 2, "records": [], "mutations": mutations });
        let reply = self
            .app
            .post("/api/sync/push", &self.devices[d].client.cookie, &body)
            .await;
        (reply.status, reply.body)
    }

    /// Pushes the outbox, with the faults of a real network.
    async fn push(&mut self, d: usize, faults: bool) {
        if !self.devices[d].online || self.devices[d].outbox.is_empty() {
            return;
        }
        let batch: Vec<Mutation> = self.devices[d].outbox.iter().take(50).cloned().collect();
        if faults && batch.len() > 1 && self.rng.gen_bool(0.1) {
            // Reordered: a later part arrives before the start.
            let split = self.rng.gen_range(1..batch.len());
            let (status, body) = self.send(d, &batch[split..]).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::CONFLICT,
                "{status} {body}"
            );
            if status == StatusCode::CONFLICT {
                assert!(
                    body["field"].as_str().unwrap().ends_with("mutation_id"),
                    "{body}"
                );
                self.count("out-of-order pushes refused");
            }
        }
        let (status, body) = self.send(d, &batch).await;
        assert_eq!(status, StatusCode::OK, "push refused: {body}");
        if faults && self.rng.gen_bool(0.1) {
            // Duplicated delivery of the same push.
            let (status, again) = self.send(d, &batch).await;
            assert_eq!(status, StatusCode::OK, "{again}");
            assert_eq!(again["last_mutation_id"], body["last_mutation_id"]);
            self.count("duplicated pushes");
        }
        if faults && self.rng.gen_bool(0.05) {
            // The server crashed after committing, before answering.
            self.app.restart().await;
            self.count("crashes between commit and ack");
            return;
        }
        if faults && self.rng.gen_bool(0.1) {
            self.count("lost acknowledgements");
            return;
        }
        let last = body["last_mutation_id"].as_u64().expect("last_mutation_id");
        self.devices[d].acknowledge(last);
        self.count("pushes acknowledged");
    }

    async fn pull(&mut self, d: usize) {
        if !self.devices[d].online {
            return;
        }
        loop {
            let dev = &self.devices[d];
            let limit = 1 + (self.clock_ms % 40) as u32;
            let reply = self
                .app
                .get(
                    &format!("/api/sync/pull?cursor={}&limit={limit}", dev.cursor),
                    &dev.client.cookie,
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let items: Vec<ItemState> =
                serde_json::from_value(reply.body["items"].clone()).expect("items");
            let dev = &mut self.devices[d];
            for state in items {
                dev.local_items.remove(&state.item.id);
                dev.hlc = dev.hlc.observe(
                    state
                        .stamps
                        .values()
                        .map(|s| s.hlc)
                        .max()
                        .unwrap_or(dev.hlc),
                    self.clock_ms,
                );
                let newer = dev
                    .server
                    .get(&state.item.id)
                    .is_none_or(|s| s.version <= state.version);
                assert!(newer, "a pull went back in time for an item");
                dev.server.insert(state.item.id, state);
            }
            // A pull never acknowledges waiting mutations (only a push answer
            // does): the protocol, and the shipped client, forbid it.
            dev.cursor = reply.body["next_cursor"].as_str().unwrap().to_string();
            if !reply.body["has_more"].as_bool().unwrap() {
                break;
            }
        }
        self.count("pulls");
    }

    async fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            let d = self.rng.gen_range(0..self.devices.len());
            match self.rng.gen_range(0..100) {
                0..=44 => self.local_change(d),
                45..=69 => self.push(d, true).await,
                70..=91 => self.pull(d).await,
                _ => {
                    self.devices[d].online = !self.devices[d].online;
                    self.count("partitions toggled");
                }
            }
        }
        // Heal: everyone online, everything sent, everything received.
        for dev in &mut self.devices {
            dev.online = true;
        }
        for _ in 0..3 {
            for d in 0..self.devices.len() {
                while !self.devices[d].outbox.is_empty() {
                    self.push(d, false).await;
                }
            }
            for d in 0..self.devices.len() {
                self.pull(d).await;
            }
        }
    }

    async fn check(&self) {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, body FROM journal WHERE kind = 'care_plan_item'")
                .fetch_all(&self.app.db.pool)
                .await
                .unwrap();
        let server: BTreeMap<ItemId, ItemState> = rows
            .into_iter()
            .map(|(id, s)| (id.parse().unwrap(), serde_json::from_str(&s).unwrap()))
            .collect();
        assert!(!server.is_empty());

        for (i, dev) in self.devices.iter().enumerate() {
            assert!(
                dev.outbox.is_empty(),
                "device {i} still has mutations waiting"
            );
            assert!(
                dev.local_items.is_empty(),
                "device {i} never saw its own item back"
            );
            assert_eq!(dev.server, server, "device {i} diverged from the server");
            // The checksum a device would compare after its pull.
            let reply = self.app.get("/api/sync/checksum", &dev.client.cookie).await;
            let local = parcours_domain::sync::checksum(
                dev.server.values().map(|s| (s.item.id.0, s.version)),
            );
            assert_eq!(reply.body["checksum"], local.to_string());

            // Exactly once: ids 1..n, each applied once (the unique index) and none missing.
            let applied: Vec<i64> = sqlx::query_scalar(
                "SELECT mutation_id FROM care_plan_item_versions WHERE account_id = $1 AND device_id = $2 ORDER BY mutation_id",
            )
            .bind(dev.account.to_string())
            .bind(dev.device.to_string())
            .fetch_all(&self.app.db.pool)
            .await
            .unwrap();
            let expected: Vec<i64> = (1..dev.next_id as i64).collect();
            assert_eq!(
                applied, expected,
                "device {i}: mutations applied ≠ mutations made"
            );

            // Nothing silently dropped: each value a mutation carried was applied,
            // was already there, or is kept as a conflict on its item.
            for m in &dev.made {
                let outcome: String = sqlx::query_scalar(
                    "SELECT outcome FROM care_plan_item_versions WHERE account_id = $1 AND device_id = $2 AND mutation_id = $3",
                )
                .bind(dev.account.to_string())
                .bind(dev.device.to_string())
                .bind(m.mutation_id as i64)
                .fetch_one(&self.app.db.pool)
                .await
                .unwrap();
                let outcome: care_plan::Applied = serde_json::from_str(&outcome).unwrap();
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

async fn simulate(backend: Backend, seeds: Vec<u64>) {
    for seed in seeds {
        eprintln!("simulator: {backend:?}, seed {seed} (replay with PARCOURS_SIM_SEED={seed})");
        let Some(mut sim) = Sim::new(backend, seed).await else {
            return;
        };
        sim.run(steps()).await;
        sim.check().await;
        let mut stats: Vec<_> = sim.stats.iter().collect();
        stats.sort();
        eprintln!("simulator: seed {seed} converged: {stats:?}");
        assert!(sim.stats.get("mutations made").copied().unwrap_or(0) > 500);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_converge_on_sqlite() {
    simulate(Backend::Sqlite, seeds()).await;
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
    simulate(Backend::Postgres, seeds).await;
}
