//! Many tasks and several store handles (as several qtm processes would hold) on one database.

use std::{collections::BTreeSet, sync::Arc};

use eyre::{ensure, eyre};
use qrs_tm_store::{PayloadStore, StoreError, StoredPayload};

use crate::{fixtures, harness::TestDb, store_tests};

store_tests!(
    concurrent_saves_from_many_tasks,
    one_bad_request_does_not_fail_concurrent_neighbours,
    two_handles_see_each_others_rows,
    save_if_unchanged_rules,
    merge_race_across_handles_loses_nothing,
    concurrent_opens_migrate_once,
    concurrent_saves_of_one_hash_leave_a_consistent_row,
    concurrent_insert_if_absent_has_one_winner,
);

async fn concurrent_saves_from_many_tasks(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for _ in 0..25 {
                let p = fixtures::payload();
                store.save(p.clone()).await?;
                // Read-your-writes: success means committed.
                ensure!(
                    store.find(&p.hash).await?.as_ref() == Some(&p),
                    "saved payload not readable"
                );
                mine.push(p.hash);
            }
            Ok::<_, eyre::Report>(mine)
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        all.extend(task.await??);
    }
    assert_eq!(all.len(), 64 * 25);
    assert_eq!(store.count().await?, 64 * 25);
    Ok(())
}

async fn one_bad_request_does_not_fail_concurrent_neighbours(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut p = fixtures::payload();
            if i == 31 {
                p.encoded_payload.clear();
            }
            (i, p.hash, store.save(p).await)
        }));
    }
    for task in tasks {
        let (i, hash, result) = task.await?;
        if i == 31 {
            ensure!(matches!(result, Err(StoreError::Rejected { .. })), "bad row: {result:?}");
            assert_eq!(store.find(&hash).await?, None);
        } else {
            result?;
            ensure!(store.find(&hash).await?.is_some(), "good row {i} lost");
        }
    }
    assert_eq!(store.count().await?, 63);
    Ok(())
}

async fn two_handles_see_each_others_rows(db: TestDb) -> eyre::Result<()> {
    let first = db.open().await?;
    let second = db.open().await?;
    let a = fixtures::payload();
    let b = fixtures::payload();
    first.save(a.clone()).await?;
    second.save(b.clone()).await?;
    assert_eq!(second.find(&a.hash).await?, Some(a.clone()));
    assert_eq!(first.find(&b.hash).await?, Some(b.clone()));
    assert_eq!(first.find_by_recipient(&b.sender, None, 10).await?, vec![b.clone()]);
    let raw = fixtures::raw();
    second.save_raw(raw.clone()).await?;
    assert_eq!(first.find_raw(&raw.hash).await?, Some(raw));
    ensure!(second.delete(&a.hash).await?);
    assert_eq!(first.find(&a.hash).await?, None);
    assert_eq!(first.count().await?, 1);
    assert_eq!(second.count().await?, 1);
    Ok(())
}

async fn save_if_unchanged_rules(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let p = fixtures::payload();
    store.save_if_unchanged(p.clone(), None).await?;
    assert_eq!(store.find(&p.hash).await?, Some(p.clone()));

    let again = store.save_if_unchanged(p.clone(), None).await;
    ensure!(
        matches!(again, Err(StoreError::Conflict { hash, .. }) if hash == p.hash),
        "insert-if-absent: {again:?}"
    );

    let newer = StoredPayload {
        encoded_payload: fixtures::bytes(300),
        recipients: vec![p.sender],
        ..p.clone()
    };
    let stale = store.save_if_unchanged(newer.clone(), Some(b"not what is stored")).await;
    ensure!(matches!(stale, Err(StoreError::Conflict { .. })), "stale expectation: {stale:?}");
    assert_eq!(store.find(&p.hash).await?, Some(p.clone()), "a conflicting write changed the row");
    ensure!(stale.is_err_and(|e| e.is_transient()));

    store.save_if_unchanged(newer.clone(), Some(&p.encoded_payload)).await?;
    assert_eq!(store.find(&p.hash).await?, Some(newer.clone()));
    assert!(
        store.find_by_recipient(&p.recipients[1], None, 10).await?.is_empty(),
        "index not replaced"
    );

    let absent = fixtures::payload();
    let missing = store.save_if_unchanged(absent.clone(), Some(&absent.encoded_payload)).await;
    ensure!(
        matches!(missing, Err(StoreError::Conflict { .. })),
        "replace of a missing row: {missing:?}"
    );
    assert_eq!(store.find(&absent.hash).await?, None);
    Ok(())
}

/// Merge-on-push from 16 concurrent writers spread over two handles: every writer adds its own
/// recipient key and box with read, merge, compare-and-swap, retry. Nothing may be lost.
async fn merge_race_across_handles_loses_nothing(db: TestDb) -> eyre::Result<()> {
    let handles = [db.open().await?, db.open().await?];
    let base = fixtures::payload_for(&[]);
    let mut tasks = Vec::new();
    let mut keys = BTreeSet::new();
    for i in 0..16 {
        let store: Arc<dyn PayloadStore> = Arc::clone(&handles[i % 2]);
        let base = base.clone();
        let key = fixtures::key();
        keys.insert(key);
        tasks.push(tokio::spawn(async move {
            for attempt in 0.. {
                ensure!(attempt < 1000, "no progress after 1000 attempts");
                let current = store.find(&base.hash).await?;
                let mut merged = current.clone().unwrap_or_else(|| base.clone());
                merged.recipients.push(key);
                merged.encoded_payload.extend_from_slice(&key);
                let expected = current.as_ref().map(|c| c.encoded_payload.as_slice());
                match store.save_if_unchanged(merged, expected).await {
                    Ok(()) => return Ok(()),
                    Err(StoreError::Conflict { .. }) => tokio::task::yield_now().await,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(eyre!("unreachable"))
        }));
    }
    for task in tasks {
        task.await??;
    }
    let stored =
        handles[0].find(&base.hash).await?.ok_or_else(|| eyre!("merged payload missing"))?;
    let stored_keys: BTreeSet<_> =
        stored.recipients.iter().copied().filter(|k| *k != base.sender).collect();
    assert_eq!(stored_keys, keys, "a concurrent merge was lost");
    assert_eq!(stored.encoded_payload.len(), base.encoded_payload.len() + 16 * 32);
    for key in &keys {
        assert_eq!(handles[1].find_by_recipient(key, None, 10).await?.len(), 1);
    }
    Ok(())
}

async fn concurrent_opens_migrate_once(db: TestDb) -> eyre::Result<()> {
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.open().await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await??);
    }
    let p = fixtures::payload();
    stores[0].save(p.clone()).await?;
    for store in &stores {
        assert_eq!(store.find(&p.hash).await?, Some(p.clone()));
    }
    assert_eq!(crate::harness::schema_versions(&db).await?, vec![1]);
    Ok(())
}

/// Many concurrent saves of one hash (they share group commits): the row ends as exactly one
/// of the versions, and the recipient index matches that version only.
async fn concurrent_saves_of_one_hash_leave_a_consistent_row(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let base = fixtures::payload();
    let versions: Vec<StoredPayload> = (0..32u8)
        .map(|i| StoredPayload {
            encoded_payload: vec![i + 1; 40],
            recipients: vec![fixtures::key()],
            ..base.clone()
        })
        .collect();
    let saves: Vec<_> = versions
        .iter()
        .cloned()
        .map(|v| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.save(v).await })
        })
        .collect();
    for save in saves {
        save.await??;
    }
    let stored = store.find(&base.hash).await?.ok_or_else(|| eyre!("row missing"))?;
    let winner = versions
        .iter()
        .find(|v| **v == stored)
        .ok_or_else(|| eyre!("row is no saved version: {stored:?}"))?;
    for v in &versions {
        let found = store.find_by_recipient(&v.recipients[0], None, 10).await?;
        if v == winner {
            assert_eq!(found, vec![stored.clone()]);
        } else {
            ensure!(found.is_empty(), "index entry of an overwritten version left behind");
        }
    }
    assert_eq!(store.count().await?, 1);
    Ok(())
}

/// 32 concurrent insert-if-absent saves of one hash (sharing group commits): exactly one wins,
/// every other one gets `Conflict`, and the stored row is the winner's.
async fn concurrent_insert_if_absent_has_one_winner(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let base = fixtures::payload();
    let attempts: Vec<_> = (0..32u8)
        .map(|i| {
            let store = Arc::clone(&store);
            let version = StoredPayload { encoded_payload: vec![i + 1; 16], ..base.clone() };
            tokio::spawn(async move {
                let result = store.save_if_unchanged(version.clone(), None).await;
                (version, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        let (version, result) = attempt.await?;
        match result {
            Ok(()) => winners.push(version),
            Err(StoreError::Conflict { hash, .. }) if hash == base.hash => {}
            Err(e) => return Err(e.into()),
        }
    }
    assert_eq!(winners.len(), 1, "insert-if-absent must have exactly one winner");
    assert_eq!(store.find(&base.hash).await?.as_ref(), winners.first());
    Ok(())
}
