//! The operator's commands, run as the real binary on a real SQLite file.

use std::io::Write;
use std::process::{Command, Stdio};

fn parcours(db_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parcours-server"))
        .args(["--database-url", db_url])
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run parcours-server");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn an_operator_creates_an_account_a_patient_and_a_care_team() {
    let dir = std::env::temp_dir().join(format!("parcours_cli_{}", uuid::Uuid::new_v4().simple()));
    let db_url = format!("sqlite://{}/parcours.db", dir.display());

    let short = parcours(
        &db_url,
        &[
            "account",
            "create",
            "--username",
            "lea",
            "--name",
            "Léa Kiné",
            "--profession",
            "physiotherapist",
        ],
        "court\n",
    );
    assert!(!short.status.success(), "a short password is refused");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));

    let bad_profession = parcours(
        &db_url,
        &[
            "account",
            "create",
            "--username",
            "lea",
            "--name",
            "Léa",
            "--profession",
            "surgeon",
        ],
        "un mot de passe long\n",
    );
    assert!(!bad_profession.status.success());

    let created = parcours(
        &db_url,
        &[
            "account",
            "create",
            "--username",
            "lea",
            "--name",
            "Léa Kiné",
            "--profession",
            "physiotherapist",
        ],
        "un mot de passe long\n",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let account_id = String::from_utf8(created.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert!(uuid::Uuid::parse_str(&account_id).is_ok());

    let again = parcours(
        &db_url,
        &[
            "account",
            "create",
            "--username",
            "lea",
            "--name",
            "Léa",
            "--profession",
            "physiotherapist",
        ],
        "un mot de passe long\n",
    );
    assert!(!again.status.success(), "usernames are unique");

    let patient = parcours(
        &db_url,
        &[
            "patient",
            "create",
            "--family-name",
            "Petit",
            "--given-name",
            "Louis",
            "--birth-date",
            "1970-05-06",
        ],
        "",
    );
    assert!(patient.status.success());
    let patient_id = String::from_utf8(patient.stdout)
        .unwrap()
        .trim()
        .to_string();
    let added = parcours(
        &db_url,
        &[
            "care-team",
            "add",
            "--patient",
            &patient_id,
            "--username",
            "lea",
        ],
        "",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let unknown = parcours(
        &db_url,
        &[
            "care-team",
            "add",
            "--patient",
            &patient_id,
            "--username",
            "nobody",
        ],
        "",
    );
    assert!(!unknown.status.success());

    let db = parcours_server::db::Database::connect(&db_url)
        .await
        .unwrap();
    let (hash, member): (String, i64) = sqlx::query_as(
        "SELECT a.password_hash, (SELECT count(*) FROM care_team_members m WHERE m.account_id = a.id AND m.patient_id = $1)
         FROM accounts a WHERE a.id = $2",
    )
    .bind(&patient_id)
    .bind(&account_id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("un mot de passe long"));
    assert_eq!(member, 1);

    // The rest of an account's life, each step with the operator's name.
    let run = |args: &[&str], stdin: &str| {
        let mut all = vec!["--operator", "m.admin"];
        all.extend_from_slice(args);
        let out = parcours(&db_url, &all, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&["account", "disable", "--username", "lea"], "");
    let disabled: Option<i64> =
        sqlx::query_scalar("SELECT disabled_at FROM accounts WHERE id = $1")
            .bind(&account_id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(disabled.is_some());
    run(&["account", "enable", "--username", "lea"], "");
    run(
        &["account", "set-password", "--username", "lea"],
        "un autre mot de passe\n",
    );
    let new_hash: String = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1")
        .bind(&account_id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_ne!(new_hash, hash);
    let ended = run(&["account", "end-sessions", "--username", "lea"], "");
    assert_eq!(String::from_utf8_lossy(&ended.stdout).trim(), "0");
    run(
        &[
            "care-team",
            "remove",
            "--patient",
            &patient_id,
            "--username",
            "lea",
        ],
        "",
    );
    let again = parcours(
        &db_url,
        &[
            "care-team",
            "remove",
            "--patient",
            &patient_id,
            "--username",
            "lea",
        ],
        "",
    );
    assert!(!again.status.success(), "not a member any more");
    let still_there: Option<i64> = sqlx::query_scalar(
        "SELECT ended_at FROM care_team_members WHERE patient_id = $1 AND account_id = $2",
    )
    .bind(&patient_id)
    .bind(&account_id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(still_there.is_some(), "a membership ends; its row stays");
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'operator' AND operator = 'm.admin' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "account_disable",
            "account_enable",
            "account_set_password",
            "account_end_sessions (0)",
            "care_team_remove"
        ]
    );
    let _ = std::fs::remove_dir_all(dir);
}
