//! What an operator does from the command line: accounts, patients, care
//! teams. Every command leaves an audit row naming the operator.

use crate::audit::{self, Action, Actor, AuditEvent};
use crate::care_team;
use crate::clock::now_ms;
use crate::db::Database;
use crate::session::{end_sessions, hash_password};
use anyhow::Context;
use parcours_domain::{AccountId, PatientId, Profession};

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub profession: Profession,
    pub password: &'a str,
}

/// Minimum password length for accounts made by an operator.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The rules for a password an operator sets (demo accounts excepted).
pub fn check_password(password: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD_CHARS,
        "the password must have at least {MIN_PASSWORD_CHARS} characters"
    );
    anyhow::ensure!(
        password.chars().count() <= parcours_domain::session::PASSWORD_MAX_CHARS,
        "the password is too long"
    );
    Ok(())
}

async fn audit_operator(db: &Database, who: &Actor, event: AuditEvent) -> anyhow::Result<()> {
    let mut conn = db.pool.acquire().await?;
    audit::record(&mut conn, who, event).await?;
    Ok(())
}

pub async fn create_account(
    db: &Database,
    who: &Actor,
    account: NewAccount<'_>,
) -> anyhow::Result<AccountId> {
    let username = account.username.trim();
    anyhow::ensure!(!username.is_empty(), "the username is empty");
    anyhow::ensure!(
        username.chars().count() <= parcours_domain::session::USERNAME_MAX_CHARS
            && !username.chars().any(char::is_control),
        "the username is too long or holds control characters"
    );
    let id = AccountId::new();
    let hash = hash_password(account.password)?;
    sqlx::query(
        "INSERT INTO accounts (id, username, display_name, profession, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(username)
    .bind(account.display_name)
    .bind(account.profession.code())
    .bind(hash)
    .bind(now_ms())
    .execute(&db.pool)
    .await
    .with_context(|| format!("creating account {username:?} (does it exist already?)"))?;
    let event = AuditEvent::new(Action::Operator)
        .record(id)
        .detail(format!("account_create {username}"));
    audit_operator(db, who, event).await?;
    Ok(id)
}

pub struct NewPatient<'a> {
    pub family_name: &'a str,
    pub given_name: &'a str,
    pub birth_date: &'a str,
    pub town: &'a str,
}

pub async fn create_patient(
    db: &Database,
    who: &Actor,
    patient: NewPatient<'_>,
) -> anyhow::Result<PatientId> {
    anyhow::ensure!(
        parcours_domain::validation::is_calendar_date(patient.birth_date),
        "the birth date must be a real day, YYYY-MM-DD"
    );
    let id = PatientId::new();
    sqlx::query(
        "INSERT INTO patients (id, family_name, given_name, birth_date, town, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(patient.family_name)
    .bind(patient.given_name)
    .bind(patient.birth_date)
    .bind(patient.town)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    let event = AuditEvent::new(Action::Operator)
        .patient(id)
        .detail("patient_create");
    audit_operator(db, who, event).await?;
    Ok(id)
}

pub async fn account_id(db: &Database, username: &str) -> anyhow::Result<Option<AccountId>> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
        .bind(username.trim())
        .fetch_optional(&db.pool)
        .await?;
    id.map(|i| i.parse().context("unreadable account id"))
        .transpose()
}

async fn existing_account(db: &Database, username: &str) -> anyhow::Result<AccountId> {
    account_id(db, username)
        .await?
        .with_context(|| format!("no account {username:?}"))
}

async fn existing_patient(db: &Database, patient: &str) -> anyhow::Result<PatientId> {
    let id: PatientId = patient
        .parse()
        .with_context(|| format!("{patient:?} is not a patient id"))?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    exists.with_context(|| format!("no patient {patient}"))?;
    Ok(id)
}

/// Puts an account in a patient's care team.
pub async fn add_to_care_team(
    db: &Database,
    who: &Actor,
    patient: &str,
    username: &str,
) -> anyhow::Result<()> {
    let account = existing_account(db, username).await?;
    let patient = existing_patient(db, patient).await?;
    let mut conn = db.pool.acquire().await?;
    care_team::add_member(&mut conn, who, patient, account).await?;
    Ok(())
}

/// Ends an account's membership of a patient's care team.
pub async fn remove_from_care_team(
    db: &Database,
    who: &Actor,
    patient: &str,
    username: &str,
) -> anyhow::Result<()> {
    let account = existing_account(db, username).await?;
    let patient = existing_patient(db, patient).await?;
    let mut conn = db.pool.acquire().await?;
    let ended = care_team::end_member(&mut conn, who, patient, account).await?;
    anyhow::ensure!(ended, "{username:?} is not in this patient's care team");
    Ok(())
}

/// Disables an account (its sessions stop working at once) or enables it again.
pub async fn set_disabled(
    db: &Database,
    who: &Actor,
    username: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    let account = existing_account(db, username).await?;
    let mut tx = db.pool.begin().await?;
    let at = disabled.then(now_ms);
    sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE id = $2")
        .bind(at)
        .bind(account.to_string())
        .execute(&mut *tx)
        .await?;
    if disabled {
        end_sessions(&mut tx, account, None).await?;
    }
    let what = if disabled {
        "account_disable"
    } else {
        "account_enable"
    };
    audit::record(
        &mut tx,
        who,
        AuditEvent::new(Action::Operator)
            .record(account)
            .detail(what),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password and ends every session of the account.
pub async fn set_password(
    db: &Database,
    who: &Actor,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    check_password(password)?;
    let account = existing_account(db, username).await?;
    let hash = hash_password(password)?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(account.to_string())
        .execute(&mut *tx)
        .await?;
    end_sessions(&mut tx, account, None).await?;
    audit::record(
        &mut tx,
        who,
        AuditEvent::new(Action::Operator)
            .record(account)
            .detail("account_set_password"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of an account (a lost phone); returns how many.
pub async fn end_account_sessions(
    db: &Database,
    who: &Actor,
    username: &str,
) -> anyhow::Result<u64> {
    let account = existing_account(db, username).await?;
    let mut tx = db.pool.begin().await?;
    let ended = end_sessions(&mut tx, account, None).await?;
    audit::record(
        &mut tx,
        who,
        AuditEvent::new(Action::Operator)
            .record(account)
            .detail(format!("account_end_sessions ({ended})")),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}
