//! `save_batch` is one transaction: all rows or none.

use eyre::ensure;
use qrs_tm_store::StoreError;

use crate::{fixtures, harness::TestDb, store_tests};

store_tests!(
    batch_saves_everything,
    batch_with_a_bad_row_stores_nothing,
    later_rows_of_a_batch_win
);

async fn batch_saves_everything(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let rows: Vec<_> = (0..50).map(|_| fixtures::payload()).collect();
    store.save_batch(rows.clone()).await?;
    store.save_batch(Vec::new()).await?;
    assert_eq!(store.count().await?, 50);
    for p in &rows {
        assert_eq!(store.find(&p.hash).await?.as_ref(), Some(p));
    }
    Ok(())
}

async fn batch_with_a_bad_row_stores_nothing(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let existing = fixtures::payload();
    store.save(existing.clone()).await?;

    let first = fixtures::payload();
    // Would replace `existing` if the batch committed.
    let replacement =
        qrs_tm_store::StoredPayload { encoded_payload: fixtures::bytes(99), ..existing.clone() };
    let mut bad = fixtures::payload();
    bad.encoded_payload.clear(); // the schema refuses empty payloads
    let last = fixtures::payload();

    let err = store
        .save_batch(vec![first.clone(), replacement, bad.clone(), last.clone()])
        .await
        .expect_err("a batch with an empty payload must fail");
    ensure!(matches!(err, StoreError::Rejected { .. }), "expected Rejected, got {err:?}");
    ensure!(!err.is_transient(), "a refused row is not a transient failure");

    assert_eq!(store.count().await?, 1, "rows of the failed batch were stored");
    for p in [&first, &bad, &last] {
        assert_eq!(store.find(&p.hash).await?, None);
        for key in &p.recipients {
            assert!(store.find_by_recipient(key, None, 10).await?.is_empty());
        }
    }
    assert_eq!(
        store.find(&existing.hash).await?,
        Some(existing),
        "the failed batch modified an existing row"
    );

    // A lone bad save fails the same way.
    let err = store.save(bad).await.expect_err("an empty payload must be refused");
    ensure!(matches!(err, StoreError::Rejected { .. }), "expected Rejected, got {err:?}");
    Ok(())
}

/// Several rows with one hash in a batch (new and already stored ones): the last one wins, and
/// the recipient index matches it.
async fn later_rows_of_a_batch_win(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let stored = fixtures::payload();
    store.save(stored.clone()).await?;
    let fresh = fixtures::payload();
    let (k1, k2, k3) = (fixtures::key(), fixtures::key(), fixtures::key());
    let fresh_v2 = qrs_tm_store::StoredPayload {
        recipients: vec![k1],
        encoded_payload: fixtures::bytes(7),
        ..fresh.clone()
    };
    let fresh_v3 = qrs_tm_store::StoredPayload {
        recipients: vec![k2],
        encoded_payload: fixtures::bytes(9),
        ..fresh.clone()
    };
    let stored_v2 = qrs_tm_store::StoredPayload { recipients: vec![k3], ..stored.clone() };
    let other = fixtures::payload();
    store
        .save_batch(vec![
            fresh.clone(),
            stored_v2.clone(),
            fresh_v2,
            other.clone(),
            fresh_v3.clone(),
        ])
        .await?;

    assert_eq!(store.count().await?, 3);
    assert_eq!(store.find(&fresh.hash).await?, Some(fresh_v3.clone()));
    assert_eq!(store.find(&stored.hash).await?, Some(stored_v2.clone()));
    assert_eq!(store.find(&other.hash).await?, Some(other));
    assert!(
        store.find_by_recipient(&k1, None, 10).await?.is_empty(),
        "index kept an overwritten row's key"
    );
    for key in &fresh.recipients {
        assert!(
            store.find_by_recipient(key, None, 10).await?.is_empty(),
            "index kept the first row's keys"
        );
    }
    assert_eq!(store.find_by_recipient(&k2, None, 10).await?, vec![fresh_v3]);
    assert_eq!(store.find_by_recipient(&k3, None, 10).await?, vec![stored_v2]);
    Ok(())
}
