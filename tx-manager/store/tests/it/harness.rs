//! Runs one store test against SQLite (a fresh file in a temp dir) and against PostgreSQL (a
//! fresh database with a random name on the server at `QRS_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, dropped afterwards). PostgreSQL being unreachable
//! fails the test loudly, unless `QRS_SKIP_POSTGRES=1`, which skips only the PostgreSQL half
//! with a loud warning.

use std::{future::Future, sync::Arc, time::Duration};

use eyre::{WrapErr as _, eyre};
use qrs_tm_store::{PayloadStore, StoreUrl, open_store};
use rand::Rng as _;
use sqlx::{Connection as _, PgConnection};

/// One test database; clone it to open more handles ("processes") on the same data.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub url: StoreUrl,
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl TestDb {
    /// Opens a new, independent store handle on this database.
    pub async fn open(&self) -> eyre::Result<Arc<dyn PayloadStore>> {
        open_store(&self.url).await.wrap_err_with(|| format!("opening {}", self.url))
    }
}

pub fn admin_url() -> String {
    std::env::var("QRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs `test` on a fresh SQLite file database.
pub async fn run_sqlite<F, Fut>(test: F) -> eyre::Result<()>
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = eyre::Result<()>> + Send + 'static,
{
    let dir = tempfile::tempdir()?;
    let url = StoreUrl::parse(&format!("sqlite://{}", dir.path().join("store.db").display()))?;
    let db = TestDb { url, _dir: Some(Arc::new(dir)) };
    run_catching(test(db)).await
}

/// Runs `test` on a fresh PostgreSQL database, dropped afterwards (also when the test fails).
pub async fn run_postgres<F, Fut>(test: F) -> eyre::Result<()>
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = eyre::Result<()>> + Send + 'static,
{
    let Some(fresh) = FreshPgDatabase::create().await? else { return Ok(()) };
    let url = StoreUrl::parse(&fresh.url)?;
    let result = run_catching(test(TestDb { url, _dir: None })).await;
    fresh.drop_database().await?;
    result
}

async fn run_catching<Fut>(test: Fut) -> eyre::Result<()>
where
    Fut: Future<Output = eyre::Result<()>> + Send + 'static,
{
    match tokio::spawn(test).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(eyre!("test task was cancelled: {join}")),
    }
}

/// A database with a random name, created on the test server.
pub struct FreshPgDatabase {
    pub name: String,
    pub url: String,
}

impl FreshPgDatabase {
    /// `Ok(None)` when PostgreSQL is unreachable and `QRS_SKIP_POSTGRES=1`.
    pub async fn create() -> eyre::Result<Option<Self>> {
        let admin = admin_url();
        let mut conn = match tokio::time::timeout(
            Duration::from_secs(5),
            PgConnection::connect(&admin),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            failure => {
                let why = match failure {
                    Ok(Err(e)) => e.to_string(),
                    _ => "connect timed out after 5 s".to_owned(),
                };
                if std::env::var("QRS_SKIP_POSTGRES").as_deref() == Ok("1") {
                    eprintln!(
                        "\n!!!!!!!! WARNING: PostgreSQL at {admin} unreachable ({why}); QRS_SKIP_POSTGRES=1 so the \
                         PostgreSQL half of this test is SKIPPED !!!!!!!!\n"
                    );
                    return Ok(None);
                }
                panic!(
                    "\n\n!!!!!!!! PostgreSQL at {admin} is unreachable: {why}\n!!!!!!!! Start PostgreSQL (or point \
                     QRS_TEST_POSTGRES_URL at one), or set QRS_SKIP_POSTGRES=1 to skip the PostgreSQL half.\n"
                );
            }
        };
        let name = format!("qrs_store_it_{:016x}", rand::thread_rng().r#gen::<u64>());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .wrap_err("CREATE DATABASE")?;
        conn.close().await?;
        let mut url = url::Url::parse(&admin)?;
        url.set_path(&name);
        Ok(Some(FreshPgDatabase { name, url: url.to_string() }))
    }

    pub async fn drop_database(self) -> eyre::Result<()> {
        let mut conn = PgConnection::connect(&admin_url()).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut conn)
            .await
            .wrap_err("DROP DATABASE")?;
        conn.close().await?;
        Ok(())
    }
}

/// Generates a `sqlite` and a `postgres` test for each named `async fn(TestDb) -> eyre::Result<()>`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> eyre::Result<()> {
                    $crate::harness::run_sqlite(super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> eyre::Result<()> {
                    $crate::harness::run_postgres(super::$name).await
                }
            )*
        }
    };
}

/// The rows of `qtm_schema_migrations`, read with a plain connection.
pub async fn schema_versions(db: &TestDb) -> eyre::Result<Vec<i64>> {
    const SQL: &str = "SELECT version FROM qtm_schema_migrations ORDER BY version";
    Ok(match &db.url {
        StoreUrl::Postgres { url, .. } => {
            let mut conn = PgConnection::connect(url.as_str()).await?;
            sqlx::query_scalar(SQL).fetch_all(&mut conn).await?
        }
        StoreUrl::Sqlite { path } => {
            let mut conn =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
            sqlx::query_scalar(SQL).fetch_all(&mut conn).await?
        }
        StoreUrl::SqliteMemory => {
            eyre::bail!("no schema of an in-memory database outside the store")
        }
    })
}
