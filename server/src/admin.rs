//! What an operator does from the command line: accounts, patients, care teams.

use crate::care_team;
use crate::clock::now_ms;
use crate::db::Database;
use crate::session::hash_password;
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

pub async fn create_account(db: &Database, account: NewAccount<'_>) -> anyhow::Result<AccountId> {
    anyhow::ensure!(!account.username.trim().is_empty(), "the username is empty");
    let id = AccountId::new();
    let hash = hash_password(account.password)?;
    sqlx::query(
        "INSERT INTO accounts (id, username, display_name, profession, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(account.username.trim())
    .bind(account.display_name)
    .bind(account.profession.code())
    .bind(hash)
    .bind(now_ms())
    .execute(&db.pool)
    .await
    .with_context(|| {
        format!(
            "creating account {:?} (does it exist already?)",
            account.username
        )
    })?;
    Ok(id)
}

pub struct NewPatient<'a> {
    pub family_name: &'a str,
    pub given_name: &'a str,
    pub birth_date: &'a str,
    pub town: &'a str,
}

pub async fn create_patient(db: &Database, patient: NewPatient<'_>) -> anyhow::Result<PatientId> {
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
    Ok(id)
}

pub async fn account_id(db: &Database, username: &str) -> anyhow::Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Puts an account in a patient's care team.
pub async fn add_to_care_team(
    db: &Database,
    patient_id: &str,
    username: &str,
) -> anyhow::Result<()> {
    let account = account_id(db, username)
        .await?
        .with_context(|| format!("no account {username:?}"))?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1")
        .bind(patient_id)
        .fetch_optional(&db.pool)
        .await?;
    exists.with_context(|| format!("no patient {patient_id}"))?;
    let mut conn = db.pool.acquire().await?;
    care_team::add_member(&mut conn, patient_id, &account).await?;
    Ok(())
}
