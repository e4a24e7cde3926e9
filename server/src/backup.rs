//! Backups while the server runs.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy of the database as it is at
//! one instant (a snapshot: pushes committing meanwhile are in it whole or
//! not at all), without stopping anyone. PostgreSQL has its own tool,
//! `pg_dump`, which does the same (one snapshot); this command says so.
//! Restoring: stop the server, put the copy in place of the database file
//! (or `pg_restore`), start it. Devices whose acknowledged records are newer
//! than the copy keep nothing of them: take backups often, and keep them
//! with the care they deserve (they hold the whole of every patient's file).

use crate::audit::{self, Action, Actor, AuditEvent};
use crate::db::{Backend, Database};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} existe déjà : choisissez un fichier qui n'existe pas.")]
    Exists(String),
    #[error("PostgreSQL : sauvegardez avec pg_dump (voir le README), qui prend une image cohérente sans arrêter le serveur.")]
    Postgres,
    #[error("sauvegarde : {0}")]
    Database(#[from] sqlx::Error),
}

/// Copies the database to `to`, a file that must not exist yet. The
/// audit trail says who took it, when, and where it went — in the copy too.
pub async fn to_file(db: &Database, to: &Path, who: &Actor) -> Result<(), BackupError> {
    if db.backend == Backend::Postgres {
        return Err(BackupError::Postgres);
    }
    let target = to.display().to_string();
    if to.exists() {
        return Err(BackupError::Exists(target));
    }
    let mut conn = db.pool.acquire().await?;
    audit::record(
        &mut conn,
        who,
        AuditEvent::new(Action::Operator).detail(format!("sauvegarde vers {target}")),
    )
    .await?;
    sqlx::query("VACUUM INTO $1")
        .bind(&target)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
