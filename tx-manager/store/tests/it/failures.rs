//! Failures must never look like "not found": a broken or unreachable store answers with an
//! error (qtm: 5xx), never with `Ok(None)` (qtm: 404, which GoQuorum reads as "not a party").

use std::time::{Duration, Instant};

use eyre::ensure;
use qrs_tm_store::{MigrationError, StoreError, StoreOp, StoreUrl, open_store};
use sqlx::Connection as _;

use crate::{fixtures, harness::FreshPgDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_is_unavailable_not_not_found() -> eyre::Result<()> {
    let Some(fresh) = FreshPgDatabase::create().await? else { return Ok(()) };
    let store = open_store(&StoreUrl::parse(&fresh.url)?).await?;
    let p = fixtures::payload();
    store.save(p.clone()).await?;
    assert_eq!(store.find(&p.hash).await?, Some(p.clone()));

    // The database disappears under the running store (connections are terminated).
    fresh.drop_database().await?;

    for hash in [p.hash, fixtures::hash()] {
        let found = store.find(&hash).await;
        ensure!(
            matches!(found, Err(StoreError::Unavailable { op: StoreOp::Find, .. })),
            "find on a vanished database must be Unavailable, got {found:?}"
        );
        ensure!(found.is_err_and(|e| e.is_transient()));
    }
    ensure!(store.upcheck().await.is_err(), "upcheck passed without a database");
    ensure!(matches!(store.find_raw(&p.hash).await, Err(StoreError::Unavailable { .. })));
    ensure!(matches!(
        store.find_by_recipient(&p.sender, None, 1).await,
        Err(StoreError::Unavailable { .. })
    ));
    ensure!(matches!(store.save(fixtures::payload()).await, Err(StoreError::Unavailable { .. })));
    Ok(())
}

#[tokio::test]
async fn postgres_unreachable_at_open_is_unavailable_quickly() -> eyre::Result<()> {
    let url = StoreUrl::parse("postgres://postgres@127.0.0.1:1/nothing")?;
    let started = Instant::now();
    let err = open_store(&url).await.expect_err("nothing listens on port 1");
    ensure!(matches!(err, StoreError::Unavailable { op: StoreOp::Open, .. }), "got {err:?}");
    ensure!(started.elapsed() < Duration::from_secs(10), "open took {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn sqlite_file_that_is_not_a_database_is_refused() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, fixtures::bytes(64 * 1024))?;
    let err = open_store(&StoreUrl::Sqlite { path }).await.expect_err("garbage must not open");
    ensure!(matches!(err, StoreError::Corrupt { .. }), "expected Corrupt, got {err:?}");
    Ok(())
}

#[tokio::test]
async fn sqlite_schema_from_a_newer_build_is_refused() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let url = StoreUrl::Sqlite { path: path.clone() };
    drop(open_store(&url).await?);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    sqlx::query("INSERT INTO qtm_schema_migrations VALUES (999, 'future', 0, 0)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let err = open_store(&url).await.expect_err("a newer schema must be refused");
    ensure!(
        matches!(
            err,
            StoreError::Migration {
                detail: MigrationError::SchemaTooNew { found: 999, supported: 1 },
                ..
            }
        ),
        "got {err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn h2_jdbc_url_opens_a_sqlite_file_next_to_it() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let jdbc = format!(
        "jdbc:h2:{}/qdata/tm/db1;MODE=Oracle;TRACE_LEVEL_SYSTEM_OUT=0",
        dir.path().display()
    );
    let store = open_store(&StoreUrl::parse(&jdbc)?).await?;
    let p = fixtures::payload();
    store.save(p.clone()).await?;
    assert_eq!(store.find(&p.hash).await?, Some(p));
    ensure!(
        dir.path().join("qdata/tm/db1.sqlite").is_file(),
        "expected the SQLite file at <h2 path>.sqlite"
    );
    Ok(())
}

#[tokio::test]
async fn in_memory_store_works_and_is_private() -> eyre::Result<()> {
    let url = StoreUrl::parse(":memory:")?;
    let first = open_store(&url).await?;
    let second = open_store(&url).await?;
    let p = fixtures::payload();
    first.save(p.clone()).await?;
    assert_eq!(first.find(&p.hash).await?, Some(p.clone()));
    assert_eq!(first.find_by_recipient(&p.sender, None, 5).await?, vec![p.clone()]);
    assert_eq!(second.find(&p.hash).await?, None, "two :memory: stores must not share data");
    Ok(())
}
