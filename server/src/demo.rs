//! Demo data for `serve --demo`: two care teams, so that access rules show.
//! Never used without `--demo`; the only place with known passwords.

use crate::admin::{self, NewAccount, NewPatient};
use crate::audit::Actor;
use crate::db::Database;
use parcours_domain::Profession;

pub struct DemoAccount {
    pub username: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub profession: Profession,
}

pub const ACCOUNTS: [DemoAccount; 4] = [
    DemoAccount {
        username: "claire",
        password: "demo-claire",
        display_name: "Claire Martin",
        profession: Profession::PainResourceNurse,
    },
    DemoAccount {
        username: "dr.durand",
        password: "demo-durand",
        display_name: "Dr Paul Durand",
        profession: Profession::GeneralPractitioner,
    },
    DemoAccount {
        username: "lea",
        password: "demo-lea",
        display_name: "Léa Robert",
        profession: Profession::Physiotherapist,
    },
    DemoAccount {
        username: "sophie",
        password: "demo-sophie",
        display_name: "Sophie Bernard",
        profession: Profession::PainResourceNurse,
    },
];

/// (family name, given name, birth date, town, usernames in the care team)
const PATIENTS: [(&str, &str, &str, &str, &[&str]); 4] = [
    (
        "Lefèvre",
        "Jeanne",
        "1956-04-12",
        "Pontivy",
        &["claire", "dr.durand", "lea"],
    ),
    (
        "Moreau",
        "Henri",
        "1949-11-02",
        "Loudéac",
        &["claire", "dr.durand"],
    ),
    (
        "Garnier",
        "Amélie",
        "1981-07-23",
        "Pontivy",
        &["claire", "dr.durand"],
    ),
    (
        "Roux",
        "Bernard",
        "1962-01-30",
        "Guémené-sur-Scorff",
        &["sophie"],
    ),
];

/// Creates the demo accounts and patients unless they exist already. Refuses
/// a database that holds any other account: demo passwords are public, and
/// must never open a real database.
pub async fn seed(db: &Database) -> anyhow::Result<()> {
    let usernames: Vec<String> = sqlx::query_scalar("SELECT username FROM accounts")
        .fetch_all(&db.pool)
        .await?;
    let foreign: Vec<&String> = usernames
        .iter()
        .filter(|u| !ACCOUNTS.iter().any(|a| a.username == u.as_str()))
        .collect();
    anyhow::ensure!(
        foreign.is_empty(),
        "--demo refused: this database holds {} account(s) that are not demo accounts; \
         demo data (with public passwords) goes only into a database of its own",
        foreign.len()
    );
    if !usernames.is_empty() {
        return Ok(());
    }
    let who = Actor::operator("demo");
    for a in &ACCOUNTS {
        admin::create_account(
            db,
            &who,
            NewAccount {
                username: a.username,
                display_name: a.display_name,
                profession: a.profession,
                password: a.password,
            },
        )
        .await?;
    }
    for (family_name, given_name, birth_date, town, team) in PATIENTS {
        let id = admin::create_patient(
            db,
            &who,
            NewPatient {
                family_name,
                given_name,
                birth_date,
                town,
            },
        )
        .await?;
        for username in team {
            admin::add_to_care_team(db, &who, &id.to_string(), username).await?;
        }
    }
    Ok(())
}
