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
