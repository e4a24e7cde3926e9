//! One binary, two databases: the embedded SQLite file by default, PostgreSQL
//! by URL. Both go through sqlx's `Any` driver with the same SQL (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING` work on both); each has its own
//! migrations folder because their DDL differs.

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool};
use std::path::Path;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// The default: a SQLite file in `data/`, beside where the server is started.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/parcours.db";

impl Database {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://…");
        };
        let pool = match backend {
            Backend::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:")
                    .split('?')
                    .next()
                    .unwrap_or_default();
                if let Some(dir) = Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating the data folder {}", dir.display()))?;
                }
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url)?;
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets pulls read while a push writes. FULL makes every
                            // acknowledged commit survive a power cut, not only a crash.
                            // The busy timeout queues writers instead of failing them.
                            // A page cache of 512 KiB per connection (SQLite's
                            // default is 2 MiB): the file's pages stay in the
                            // system's cache anyway, and four full caches were most
                            // of what a pull added to the server's memory — a
                            // pull of 20,000 peaked at 29–30 MB, now 23, as fast.
                            // A push's statements journal what they change (a
                            // 100-row insert can fail half way): in memory, not
                            // in a temporary file written and read back.
                            // Checkpoints every 4,000 pages (16 MiB of WAL)
                            // rather than 1,000 write the hot index pages back
                            // less often. Together: the server's CPU for
                            // 100,000 pushed records 3.4–3.9 s → 3.1–3.3 s. Also
                            // keeping a push's pages in memory until its commit
                            // (cache_spill off) made it 2.5 s, but a 20,000
                            // pull then peaked 6 MB higher (docs/performance.md,
                            // session 14): not taken.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = FULL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 10000",
                                "PRAGMA cache_size = -512",
                                "PRAGMA temp_store = MEMORY",
                                "PRAGMA wal_autocheckpoint = 4000",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .with_context(|| format!("opening SQLite at {path}"))?
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?,
        };
        Ok(Self { pool, backend })
    }

    /// Applies the migrations this binary carries; run at every start.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await,
        }
        .context("applying migrations")?;
        Ok(())
    }
}

/// Rows per multi-row INSERT: few statements, well under either database's
/// limit on bound parameters.
pub const ROWS_PER_INSERT: usize = 100;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values on PostgreSQL;
/// `(?, ?), (?, ?)` on SQLite. SQLite looks a named parameter such as `$7`
/// up by walking the list of every name in the statement, once per value
/// bound: with a hundred rows of twelve values that walk was 38 % of the
/// server's time in a push. Anonymous `?` are bound by position, without it.
pub fn values_placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=columns)
                .map(|c| match backend {
                    Backend::Sqlite => "?".to_string(),
                    Backend::Postgres => format!("${}", r * columns + c),
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Backend {
    /// The database a connection talks to.
    pub fn of(conn: &AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_every_value_once() {
        use super::Backend::{Postgres, Sqlite};
        assert_eq!(
            super::values_placeholders(Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(super::values_placeholders(Postgres, 1, 1), "($1)");
        assert_eq!(super::values_placeholders(Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
