//! SQLite group commit: concurrent writes share transactions.

use std::sync::Arc;

use eyre::ensure;
use qrs_tm_store::{PayloadStore, SqliteStore, StoreOptions};

use crate::fixtures;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_share_commits() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(
        SqliteStore::open_file(&dir.path().join("gc.db"), &StoreOptions::default()).await?,
    );
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                store.save(fixtures::payload()).await?;
            }
            Ok::<_, qrs_tm_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let stats = store.group_commit_stats();
    assert_eq!(stats.requests, 64 * 40);
    assert_eq!(store.count().await?, 64 * 40);
    ensure!(stats.largest_batch > 1, "no two writes ever shared a commit: {stats:?}");
    ensure!(stats.transactions < stats.requests / 2, "group commit barely batched: {stats:?}");
    Ok(())
}

#[tokio::test]
async fn max_batch_bounds_each_commit() -> eyre::Result<()> {
    let options = StoreOptions { sqlite_max_batch: 4, ..StoreOptions::default() };
    let store = Arc::new(SqliteStore::open_memory(&options).await?);
    let saves: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.save(fixtures::payload()).await })
        })
        .collect();
    for save in saves {
        save.await??;
    }
    let stats = store.group_commit_stats();
    ensure!(stats.largest_batch <= 4, "{stats:?}");
    assert_eq!(store.count().await?, 64);
    Ok(())
}

/// `:memory:` stores (used by qtm's tests) share one in-memory database between the writer and
/// the readers; reads must work while group commits are in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_reads_during_writes() -> eyre::Result<()> {
    let store = Arc::new(SqliteStore::open_memory(&StoreOptions::default()).await?);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..20 {
                    let p = fixtures::payload();
                    store.save(p.clone()).await?;
                    ensure!(
                        store.find(&p.hash).await?.as_ref() == Some(&p),
                        "read-your-write failed"
                    );
                    ensure!(!store.find_by_recipient(&p.sender, None, 1).await?.is_empty());
                }
                Ok::<_, eyre::Report>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    assert_eq!(store.count().await?, 32 * 20);
    Ok(())
}
