//! The two databases themselves: PostgreSQL reached over TLS, and the two
//! migration sets kept in step.

use parcours_server::db::Database;

/// The test cluster (scripts/test.sh) refuses plain connections; the server
/// reaches it with `sslmode=require`, and the session is encrypted.
#[tokio::test]
async fn postgres_is_reached_over_tls() {
    let Ok(url) = std::env::var("PARCOURS_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("PARCOURS_SKIP_POSTGRES").is_ok(),
            "PARCOURS_TEST_POSTGRES_URL is not set: run scripts/test.sh"
        );
        return;
    };
    assert!(url.contains("sslmode=require"), "{url}");
    let db = Database::connect(&url).await.expect("connect over TLS");
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&db.pool)
            .await
            .expect("pg_stat_ssl");
    assert!(encrypted, "the connection is not encrypted");
    let plain = url.replace("sslmode=require", "sslmode=disable");
    assert!(
        Database::connect(&plain).await.is_err(),
        "the cluster accepted a plain connection: this test would prove nothing"
    );
}

/// `migrations/sqlite` and `migrations/postgres` hold the same schema: the
/// PostgreSQL twin differs only by BIGINT for INTEGER, BIGSERIAL for the
/// audit's autoincrement, `json_build_object(…)::text` for `json_object`, the
/// foreign-key swap that SQLite does by rebuilding a table, the reading of a
/// JSON body (`json_extract` / `->>`) in backfills, comments, and triggers
/// (each dialect's own: compared by the tables they guard).
#[test]
fn the_two_migration_sets_stay_twins() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir.join(backend))
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"), "same files, same names");
    let normalise = |sql: &str| -> Vec<String> {
        sql.lines()
            .map(|l| l.split("--").next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.replace("BIGINT", "INTEGER")
                    .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
                    .replace("json_build_object(", "json_object(")
                    .replace(")::text", ")")
            })
            .collect()
    };
    for name in names("sqlite") {
        let (sqlite, sqlite_guarded) = without_triggers(normalise(
            &std::fs::read_to_string(dir.join("sqlite").join(&name)).unwrap(),
        ));
        let (postgres, postgres_guarded) = without_triggers(normalise(
            &std::fs::read_to_string(dir.join("postgres").join(&name)).unwrap(),
        ));
        assert_eq!(
            sqlite_guarded, postgres_guarded,
            "{name}: triggers guard other tables"
        );
        // Where SQLite rebuilds a table to change a foreign key, PostgreSQL
        // alters it: those statements are compared by what they leave.
        let reads_json = |l: &&String| l.contains("json_extract(") || l.contains("->>");
        let only_sqlite: Vec<_> = sqlite
            .iter()
            .filter(|l| !postgres.contains(l) && !reads_json(l))
            .collect();
        let only_postgres: Vec<_> = postgres
            .iter()
            .filter(|l| !sqlite.contains(l) && !reads_json(l))
            .collect();
        // A backfill reads as many JSON fields on both.
        assert_eq!(
            sqlite.iter().filter(reads_json).count(),
            postgres.iter().filter(reads_json).count(),
            "{name}: backfills differ"
        );
        let rebuild = only_sqlite
            .iter()
            .all(|l| l.contains("care_plan_item_versions") || is_column_of_rebuilt_table(l))
            && only_postgres
                .iter()
                .all(|l| l.contains("care_plan_item_versions") || l.starts_with("ADD CONSTRAINT"));
        assert!(
            rebuild,
            "{name}: the twins differ beyond known substitutions:\nsqlite only: {only_sqlite:#?}\npostgres only: {only_postgres:#?}"
        );
    }
}

/// The statements outside trigger and trigger-function definitions, and the
/// tables the triggers guard. A definition ends at `END;` once it has a
/// `BEGIN` (SQLite), at `LANGUAGE plpgsql;` once it has a `$$` (PostgreSQL),
/// else at its first `;`.
fn without_triggers(lines: Vec<String>) -> (Vec<String>, std::collections::BTreeSet<String>) {
    let mut kept = vec![];
    let mut guarded = std::collections::BTreeSet::new();
    let mut block: Option<(bool, bool)> = None; // (has BEGIN, has $$)
    for line in lines {
        if block.is_none()
            && (line.starts_with("CREATE TRIGGER") || line.starts_with("CREATE FUNCTION"))
        {
            block = Some((false, false));
        }
        let Some((begun, dollars)) = block.as_mut() else {
            kept.push(line);
            continue;
        };
        if let Some(table) = line.split(" ON ").nth(1) {
            guarded.insert(table.split_whitespace().next().unwrap_or("").to_string());
        }
        *begun |= line.ends_with("BEGIN") || line == "BEGIN";
        *dollars |= line.contains("$$");
        let ends = if *begun {
            line == "END;"
        } else if *dollars {
            line.ends_with("LANGUAGE plpgsql;")
        } else {
            line.ends_with(';')
        };
        if ends {
            block = None;
        }
    }
    (kept, guarded)
}

fn is_column_of_rebuilt_table(line: &str) -> bool {
    [
        "item_id",
        "version",
        "account_id",
        "device_id",
        "mutation_id",
        "applied_at",
        "mutation ",
        "outcome",
        "PRIMARY KEY (item_id, version)",
        ");",
        "ON care_plan_item_versions",
    ]
    .iter()
    .any(|c| line.starts_with(c))
}

/// A database made before the journal (migrations 1–2, with data) keeps
/// every record and item through migration 3, readable as the domain's types.
async fn the_journal_migration_keeps_every_record_and_item(url: String) {
    use parcours_domain::care_plan::{self, FieldChange, ItemStatus, Mutation};
    use parcours_domain::sync::Record;
    use parcours_domain::{AccountId, DeviceId, ItemId, PatientId};

    let db = Database::connect(&url).await.expect("connect");
    let mut before = match db.backend {
        parcours_server::db::Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        parcours_server::db::Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    before.migrations = std::borrow::Cow::Owned(before.migrations[..2].to_vec());
    before.run(&db.pool).await.expect("migrations 1-2");

    let (account, patient, device) = (AccountId::new(), PatientId::new(), DeviceId::new());
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let exec = |sql: &'static str| sqlx::query(sql);
    exec("INSERT INTO accounts (id, username, display_name, profession, password_hash, created_at) VALUES ($1, 'claire', 'Claire', 'nurse', 'x', 1)")
        .bind(account.to_string()).execute(&db.pool).await.unwrap();
    exec("INSERT INTO patients (id, family_name, given_name, birth_date, town, created_at) VALUES ($1, 'Lefèvre', 'Jeanne', '1956-04-12', 'Pontivy', 1)")
        .bind(patient.to_string()).execute(&db.pool).await.unwrap();
    for (id, seq, amends, note) in [
        (first, 1i64, None, "Réveils « nocturnes »\n"),
        (second, 2, Some(first), ""),
    ] {
        exec("INSERT INTO pain_assessments (id, seq, patient_id, author_id, device_id, recorded_at, received_at, mode, pain_now, pain_average_24h, pain_worst_24h, location, note, amends)
              VALUES ($1, $2, $3, $4, $5, 1790000000000, 1790000000001, 'self_reported', 7, 5, 9, 'Lombaires', $6, $7)")
            .bind(id.to_string()).bind(seq).bind(patient.to_string()).bind(account.to_string())
            .bind(device.to_string()).bind(note).bind(amends.map(|a: uuid::Uuid| a.to_string()))
            .execute(&db.pool).await.unwrap();
    }
    let item = ItemId::new();
    let create = Mutation {
        device_id: device,
        mutation_id: 1,
        item_id: item,
        patient_id: patient,
        author_id: account,
        base_version: 0,
        hlc: parcours_domain::hlc::Hlc::zero(device).tick(1_790_000_000_000),
        changes: vec![
            FieldChange::Title("Kinésithérapie".into()),
            FieldChange::Owner(account),
            FieldChange::Status(ItemStatus::Active),
        ],
        resolves: vec![],
    };
    let (state, applied) = care_plan::apply(None, &create).unwrap();
    exec("INSERT INTO care_plan_items (id, patient_id, seq, version, state) VALUES ($1, $2, 3, 1, $3)")
        .bind(item.to_string()).bind(patient.to_string()).bind(serde_json::to_string(&state).unwrap())
        .execute(&db.pool).await.unwrap();
    exec("INSERT INTO care_plan_item_versions (item_id, version, account_id, device_id, mutation_id, applied_at, mutation, outcome) VALUES ($1, 1, $2, $3, 1, 5, $4, $5)")
        .bind(item.to_string()).bind(account.to_string()).bind(device.to_string())
        .bind(serde_json::to_string(&create).unwrap()).bind(serde_json::to_string(&applied).unwrap())
        .execute(&db.pool).await.unwrap();

    db.migrate().await.expect("migration 3 onwards");

    let rows: Vec<(String, String, i64, i64, String)> =
        sqlx::query_as("SELECT id, kind, seq, version, body FROM journal ORDER BY seq")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 3);
    for (row, (id, amends, note)) in rows[..2].iter().zip([
        (first, None, "Réveils « nocturnes »\n"),
        (second, Some(first), ""),
    ]) {
        assert_eq!(row.1, "pain_assessment");
        let Ok(Record::PainAssessment(a)) = Record::from_json(&row.4) else {
            panic!("a readable pain assessment: {}", row.4)
        };
        assert_eq!(
            (a.id.0, a.amends.map(|x| x.0), a.note.as_str()),
            (id, amends, note)
        );
        assert_eq!(
            (a.pain_now, a.pain_average_24h, a.pain_worst_24h),
            (7, 5, 9)
        );
        assert_eq!(a.mode, parcours_domain::AssessmentMode::SelfReported);
        assert_eq!(row.3, 0, "records are version 0");
    }
    assert_eq!(
        (rows[2].1.as_str(), rows[2].2, rows[2].3),
        ("care_plan_item", 3, 1)
    );
    let migrated: care_plan::ItemState = serde_json::from_str(&rows[2].4).unwrap();
    assert_eq!(migrated, state);
    // The history still points at its item, now in the journal.
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM item_versions WHERE item_id = $1")
        .bind(item.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(versions, 1);
    let orphan = exec("INSERT INTO item_versions (item_id, version, account_id, device_id, mutation_id, applied_at, mutation, outcome) VALUES ($1, 1, $2, $3, 9, 5, '', '')")
        .bind(uuid::Uuid::now_v7().to_string()).bind(account.to_string()).bind(device.to_string())
        .execute(&db.pool).await;
    assert!(
        orphan.is_err(),
        "the history's foreign key now checks the journal"
    );
    // Migration 6: the records' envelope, read from their bodies.
    let envelopes: Vec<(Option<String>, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT device_id, recorded_at, amends FROM journal WHERE kind = 'pain_assessment' ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        envelopes,
        vec![
            (Some(device.to_string()), Some(1_790_000_000_000), None),
            (
                Some(device.to_string()),
                Some(1_790_000_000_000),
                Some(first.to_string())
            ),
        ]
    );
}

#[tokio::test]
async fn the_journal_migration_keeps_every_record_and_item_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("parcours_mig_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    the_journal_migration_keeps_every_record_and_item(format!("sqlite://{}/p.db", dir.display()))
        .await;
}

#[tokio::test]
async fn the_journal_migration_keeps_every_record_and_item_on_postgres() {
    let Ok(admin_url) = std::env::var("PARCOURS_TEST_POSTGRES_URL") else {
        assert!(std::env::var("PARCOURS_SKIP_POSTGRES").is_ok());
        return;
    };
    let name = format!("parcours_mig_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin.pool)
        .await
        .unwrap();
    let (address, options) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let base = address.rsplit_once('/').unwrap().0;
    the_journal_migration_keeps_every_record_and_item(format!("{base}/{name}?{options}")).await;
}

/// Every connection of the SQLite pool is opened with the settings the
/// server's durability and speed rest on (db.rs): WAL, a commit that
/// survives a power cut (synchronous FULL), foreign keys enforced, a
/// statement's journal in memory, and a 512 KiB page cache. Four
/// connections held at once: each is a connection of its own.
#[tokio::test]
async fn every_sqlite_connection_has_the_servers_settings() {
    let dir = std::env::temp_dir().join(format!("parcours_set_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = Database::connect(&format!("sqlite://{}/p.db", dir.display()))
        .await
        .expect("connect");
    let mut held = vec![];
    for _ in 0..4 {
        held.push(db.pool.acquire().await.expect("a connection"));
    }
    for conn in &mut held {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        for (name, expected) in [
            // 2 = FULL.
            ("synchronous", 2),
            ("foreign_keys", 1),
            // 2 = MEMORY.
            ("temp_store", 2),
            ("wal_autocheckpoint", 4000),
            ("cache_size", -512),
        ] {
            let value: i64 = sqlx::query_scalar(&format!("PRAGMA {name}"))
                .fetch_one(&mut **conn)
                .await
                .unwrap_or_else(|e| panic!("PRAGMA {name}: {e}"));
            assert_eq!(value, expected, "PRAGMA {name}");
        }
    }
    drop(held);
    std::fs::remove_dir_all(&dir).ok();
}
