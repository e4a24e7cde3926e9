//! Server-side sync throughput, on SQLite and (when PARCOURS_TEST_POSTGRES_URL
//! is set) PostgreSQL. Prints figures; asserts nothing.
//!
//!   cargo bench -p parcours-server --bench sync
//!   scripts/bench.sh runs it with a PostgreSQL it starts.
//!
//! Records are about 400 bytes of JSON each, like the targets in the issue.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{push_body, Backend, TestApp};
use parcours_domain::sync::MAX_PULL_LIMIT;
use serde_json::{json, Value};
use std::time::Instant;

const NOTE: &str = "Douleur lombaire irradiant dans la jambe gauche, aggravée en fin de journée, \
    améliorée par la marche courte et la chaleur. Sommeil interrompu deux fois par nuit.";

fn mutation(client: &common::Client, id: u64, item: &str, patient: &str, creating: bool) -> Value {
    let changes = if creating {
        json!([{ "field": "title", "value": "Kinésithérapie" }, { "field": "owner", "value": client.account_id }, { "field": "status", "value": "active" }])
    } else {
        json!([{ "field": "notes", "value": format!("{id} {NOTE}") }])
    };
    json!({
        "device_id": client.device_id, "mutation_id": id, "item_id": item, "patient_id": patient,
        "author_id": client.account_id, "base_version": 0,
        "hlc": { "wall_ms": 1_790_000_000_000i64 + id as i64, "counter": 0, "device": client.device_id },
        "changes": changes,
    })
}

async fn bench(backend: Backend) {
    let Some(app) = TestApp::new(backend).await else {
        println!("{backend:?}: skipped (no PARCOURS_TEST_POSTGRES_URL)");
        return;
    };
    let nurse = app.session_for("claire").await;
    let gp = app.session_for("dr.durand").await;
    let patient = app.patient_id("Lefèvre").await;

    // Mutation lane: 20,000 mutations on 200 items, in pushes of 500.
    const MUTATIONS: u64 = 20_000;
    let items: Vec<String> = (0..200).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let all: Vec<Value> = (1..=MUTATIONS)
        .map(|id| {
            mutation(
                &nurse,
                id,
                &items[(id as usize - 1) % items.len()],
                &patient,
                id <= items.len() as u64,
            )
        })
        .collect();
    let bytes: usize = all.iter().map(|m| m.to_string().len()).sum();
    let start = Instant::now();
    for batch in all.chunks(500) {
        let reply = app
            .post(
                "/api/sync/push",
                &nurse.cookie,
                &json!({ "protocol": 2, "mutations": batch }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{backend:?}: mutations applied: {MUTATIONS} in {secs:.2} s = {:.0}/s (avg {} bytes each, pushes of 500)",
        MUTATIONS as f64 / secs,
        bytes / MUTATIONS as usize
    );

    // Append lane: 100,000 assessments pushed in batches of 500, then pulled by the GP.
    const RECORDS: usize = 100_000;
    let mut record_bytes = 0;
    let start = Instant::now();
    for _ in 0..RECORDS / 500 {
        let records: Vec<Value> = (0..500)
            .map(|i| {
                let mut r = nurse.assessment(&patient, (i % 11) as u8);
                r["note"] = json!(NOTE);
                r
            })
            .collect();
        record_bytes += records.iter().map(|r| r.to_string().len()).sum::<usize>();
        let reply = app
            .post("/api/sync/push", &nurse.cookie, &push_body(records))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{backend:?}: records pushed: {RECORDS} in {secs:.2} s = {:.0}/s (avg {} bytes each, pushes of 500)",
        RECORDS as f64 / secs,
        record_bytes / RECORDS
    );

    let start = Instant::now();
    let mut cursor = String::new();
    let mut pulled = 0;
    loop {
        let reply = app
            .get(
                &format!("/api/sync/pull?cursor={cursor}&limit={MAX_PULL_LIMIT}"),
                &gp.cookie,
            )
            .await;
        assert_eq!(reply.status, 200);
        pulled += reply.body["records"].as_array().map_or(0, Vec::len)
            + reply.body["items"].as_array().map_or(0, Vec::len);
        cursor = reply.body["next_cursor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if reply.body["has_more"] != true {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{backend:?}: pull of a fresh device: {pulled} records and items in {secs:.2} s = {:.0}/s (pages of {MAX_PULL_LIMIT}, the app's)", pulled as f64 / secs);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    std::env::set_var("PARCOURS_SKIP_POSTGRES", "1");
    runtime.block_on(async {
        bench(Backend::Sqlite).await;
        bench(Backend::Postgres).await;
    });
}
