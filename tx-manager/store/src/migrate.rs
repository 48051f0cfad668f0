//! Schema migrations: SQL scripts compiled into the binary, applied in order and recorded in
//! `qtm_schema_migrations` (version, name, checksum). Safe when several processes open the same
//! database at once: PostgreSQL applies them under a transaction-scoped advisory lock (DDL is
//! transactional there), SQLite under `BEGIN IMMEDIATE` (the database write lock). A database
//! migrated by a newer build, or whose applied scripts differ from ours, is refused.

use std::sync::Arc;

use sqlx::{Connection as _, PgConnection, SqliteConnection};

use crate::error::{Backend, MigrationError, StoreError};

/// One migration script.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../migrations/sqlite/0001_initial.sql"),
}];

pub(crate) const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../migrations/postgres/0001_initial.sql"),
}];

/// Advisory lock key ("qtmstore" in ASCII) serializing migrations within one PostgreSQL database.
const PG_LOCK_KEY: i64 = 0x7174_6d73_746f_7265;

const VERSION_TABLE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS qtm_schema_migrations (
    version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum INTEGER NOT NULL,
    applied_at INTEGER NOT NULL)";
const VERSION_TABLE_PG: &str = "CREATE TABLE IF NOT EXISTS qtm_schema_migrations (
    version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum BIGINT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

/// FNV-1a 64 of the script, stored to detect edited migrations.
fn checksum(sql: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sql.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

fn version_err(backend: Backend) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Migration { backend, detail: MigrationError::Version(Arc::new(e)) }
}

/// Checks applied migrations against `scripts`; returns the scripts still to apply.
fn pending(
    backend: Backend,
    scripts: &'static [Migration],
    applied: &[(i64, i64)],
) -> Result<Vec<&'static Migration>, StoreError> {
    let supported = scripts.iter().map(|m| m.version).max().unwrap_or(0);
    for &(version, sum) in applied {
        match scripts.iter().find(|m| m.version == version) {
            None => {
                return Err(StoreError::Migration {
                    backend,
                    detail: MigrationError::SchemaTooNew { found: version, supported },
                });
            }
            Some(m) if checksum(m.sql) != sum => {
                return Err(StoreError::Migration {
                    backend,
                    detail: MigrationError::Checksum { version },
                });
            }
            Some(_) => {}
        }
    }
    Ok(scripts.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect())
}

fn script_err(backend: Backend, m: &'static Migration) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Migration {
        backend,
        detail: MigrationError::Script { version: m.version, name: m.name, source: Arc::new(e) },
    }
}

/// The statements of a migration script: `--` comment lines dropped, split on `;`. Our scripts
/// keep `;` out of comments and literals. (Statements run one by one through `sqlx::query`:
/// `sqlx::raw_sql` futures are not provably `Send` inside spawned tasks.)
fn statements(sql: &'static str) -> impl Iterator<Item = String> {
    let code: String = sql
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

async fn run_script_sqlite(
    conn: &mut SqliteConnection,
    m: &'static Migration,
) -> Result<(), StoreError> {
    for statement in statements(m.sql) {
        sqlx::query(&statement)
            .persistent(false)
            .execute(&mut *conn)
            .await
            .map_err(script_err(Backend::Sqlite, m))?;
    }
    Ok(())
}

async fn run_script_postgres(
    conn: &mut PgConnection,
    m: &'static Migration,
) -> Result<(), StoreError> {
    for statement in statements(m.sql) {
        sqlx::query(&statement)
            .persistent(false)
            .execute(&mut *conn)
            .await
            .map_err(script_err(Backend::Postgres, m))?;
    }
    Ok(())
}

/// Brings a SQLite database up to date.
pub(crate) async fn run_sqlite(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let backend = Backend::Sqlite;
    sqlx::query(VERSION_TABLE_SQLITE).execute(&mut *conn).await.map_err(version_err(backend))?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(version_err(backend))?;
    let result = apply_sqlite(conn).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = sqlx::query(end).execute(&mut *conn).await.map_err(version_err(backend));
    result.and(ended.map(|_| ()))
}

async fn apply_sqlite(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let backend = Backend::Sqlite;
    let applied: Vec<(i64, i64)> =
        sqlx::query_as("SELECT version, checksum FROM qtm_schema_migrations")
            .fetch_all(&mut *conn)
            .await
            .map_err(version_err(backend))?;
    for m in pending(backend, SQLITE, &applied)? {
        tracing::info!(target: "qtm::store", version = m.version, name = m.name, "applying SQLite migration");
        run_script_sqlite(conn, m).await?;
        sqlx::query(
            "INSERT INTO qtm_schema_migrations (version, name, checksum, applied_at)
             VALUES (?1, ?2, ?3, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(m.sql))
        .execute(&mut *conn)
        .await
        .map_err(script_err(backend, m))?;
    }
    Ok(())
}

/// Brings a PostgreSQL database (and `schema`, created if missing) up to date.
pub(crate) async fn run_postgres(
    conn: &mut PgConnection,
    schema: Option<&str>,
) -> Result<(), StoreError> {
    let backend = Backend::Postgres;
    let mut tx = conn.begin().await.map_err(version_err(backend))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(version_err(backend))?;
    if let Some(schema) = schema {
        let create = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
        sqlx::query(&create)
            .persistent(false)
            .execute(&mut *tx)
            .await
            .map_err(version_err(backend))?;
    }
    sqlx::query(VERSION_TABLE_PG).execute(&mut *tx).await.map_err(version_err(backend))?;
    let applied: Vec<(i64, i64)> =
        sqlx::query_as("SELECT version, checksum FROM qtm_schema_migrations")
            .fetch_all(&mut *tx)
            .await
            .map_err(version_err(backend))?;
    for m in pending(backend, POSTGRES, &applied)? {
        tracing::info!(target: "qtm::store", version = m.version, name = m.name, "applying PostgreSQL migration");
        run_script_postgres(&mut tx, m).await?;
        sqlx::query(
            "INSERT INTO qtm_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(m.sql))
        .execute(&mut *tx)
        .await
        .map_err(script_err(backend, m))?;
    }
    tx.commit().await.map_err(version_err(backend))
}

/// Quotes a PostgreSQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_and_unique() {
        for scripts in [SQLITE, POSTGRES] {
            assert!(scripts.windows(2).all(|w| w[0].version < w[1].version));
            assert_eq!(scripts.first().map(|m| m.version), Some(1));
        }
    }

    #[test]
    fn scripts_split_into_statements() {
        for (scripts, expected) in [(SQLITE, 5), (POSTGRES, 6)] {
            let statements: Vec<_> = statements(scripts[0].sql).collect();
            assert_eq!(statements.len(), expected, "{statements:#?}");
            assert!(statements.iter().all(|s| s.starts_with("CREATE ")), "{statements:#?}");
        }
    }

    #[test]
    fn pending_refuses_newer_or_edited_schemas() {
        let sum = checksum(SQLITE[0].sql);
        assert_eq!(pending(Backend::Sqlite, SQLITE, &[]).unwrap().len(), SQLITE.len());
        assert!(pending(Backend::Sqlite, SQLITE, &[(1, sum)]).unwrap().len() == SQLITE.len() - 1);
        let too_new = pending(Backend::Sqlite, SQLITE, &[(1, sum), (999, 0)]).unwrap_err();
        assert!(matches!(
            too_new,
            StoreError::Migration { detail: MigrationError::SchemaTooNew { found: 999, .. }, .. }
        ));
        let edited = pending(Backend::Sqlite, SQLITE, &[(1, sum ^ 1)]).unwrap_err();
        assert!(matches!(
            edited,
            StoreError::Migration { detail: MigrationError::Checksum { version: 1 }, .. }
        ));
    }
}
