//! Save, find, replace, delete of payloads, raw payloads and privacy groups.

use eyre::ensure;
use qrs_tm_store::{PayloadCodec, StoredPayload};

use crate::{fixtures, harness::TestDb, store_tests};

store_tests!(
    save_find_delete,
    resave_is_idempotent_and_replaces_index,
    raw_payloads,
    privacy_groups,
    duplicate_recipients_stored_once,
    find_many_answers_in_the_order_asked
);

async fn save_find_delete(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    store.upcheck().await?;
    assert_eq!(store.count().await?, 0);
    let p = fixtures::payload();
    let mut cbor = fixtures::payload();
    cbor.codec = PayloadCodec::Cbor;
    store.save(p.clone()).await?;
    store.save(cbor.clone()).await?;

    assert_eq!(store.find(&p.hash).await?, Some(p.clone()));
    assert_eq!(store.find(&cbor.hash).await?, Some(cbor.clone()));
    assert_eq!(store.find(&fixtures::hash()).await?, None, "unknown hash must be Ok(None)");
    assert_eq!(store.count().await?, 2);

    ensure!(store.delete(&p.hash).await?, "delete of a stored payload must report true");
    assert_eq!(store.find(&p.hash).await?, None);
    ensure!(!store.delete(&p.hash).await?, "second delete must report false");
    assert_eq!(store.count().await?, 1);
    // The index entries went with the row.
    for key in &p.recipients {
        assert!(store.find_by_recipient(key, None, 10).await?.is_empty());
    }
    Ok(())
}

async fn resave_is_idempotent_and_replaces_index(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let only_old = fixtures::key();
    let kept = fixtures::key();
    let only_new = fixtures::key();
    let p = fixtures::payload_for(&[only_old, kept]);
    store.save(p.clone()).await?;
    store.save(p.clone()).await?;
    assert_eq!(store.count().await?, 1);
    assert_eq!(store.find(&p.hash).await?, Some(p.clone()));

    // A merge by the caller: new box list and recipient set under the same hash.
    let merged = StoredPayload {
        encoded_payload: fixtures::bytes(400),
        recipients: vec![p.sender, kept, only_new],
        timestamp: p.timestamp + 1,
        ..p.clone()
    };
    store.save(merged.clone()).await?;
    assert_eq!(store.count().await?, 1);
    assert_eq!(store.find(&p.hash).await?, Some(merged.clone()));
    assert!(
        store.find_by_recipient(&only_old, None, 10).await?.is_empty(),
        "stale index entry left behind"
    );
    assert_eq!(store.find_by_recipient(&kept, None, 10).await?, vec![merged.clone()]);
    assert_eq!(store.find_by_recipient(&only_new, None, 10).await?, vec![merged]);
    Ok(())
}

async fn duplicate_recipients_stored_once(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let k = fixtures::key();
    let mut p = fixtures::payload_for(&[k, k]);
    p.recipients.push(p.sender);
    store.save(p.clone()).await?;
    let found = store.find(&p.hash).await?.ok_or_else(|| eyre::eyre!("payload vanished"))?;
    assert_eq!(found.recipients, vec![p.sender, k], "duplicates collapse to the first occurrence");
    assert_eq!(store.find_by_recipient(&k, None, 10).await?.len(), 1);
    Ok(())
}

async fn raw_payloads(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let r = fixtures::raw();
    store.save_raw(r.clone()).await?;
    assert_eq!(store.find_raw(&r.hash).await?, Some(r.clone()));
    assert_eq!(store.find_raw(&fixtures::hash()).await?, None);
    // Raw payloads live in their own table.
    assert_eq!(store.find(&r.hash).await?, None);
    assert_eq!(store.count().await?, 0);

    let replaced =
        qrs_tm_store::StoredRawPayload { encrypted_key: fixtures::bytes(48), ..r.clone() };
    store.save_raw(replaced.clone()).await?;
    assert_eq!(store.find_raw(&r.hash).await?, Some(replaced));

    ensure!(store.delete_raw(&r.hash).await?);
    ensure!(!store.delete_raw(&r.hash).await?);
    assert_eq!(store.find_raw(&r.hash).await?, None);
    Ok(())
}

async fn privacy_groups(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let lookup = fixtures::bytes(32);
    let mut a = fixtures::group(&lookup);
    let b = fixtures::group(&lookup);
    let other = fixtures::group(&fixtures::bytes(32));
    for g in [&a, &b, &other] {
        store.save_privacy_group(g.clone()).await?;
    }
    assert_eq!(store.find_privacy_group(&a.id).await?, Some(a.clone()));
    assert_eq!(store.find_privacy_group(b"no such group").await?, None);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(store.find_privacy_groups_by_lookup(&lookup).await?, expected);

    a.data = fixtures::bytes(10);
    store.save_privacy_group(a.clone()).await?;
    assert_eq!(store.find_privacy_group(&a.id).await?, Some(a));
    Ok(())
}

async fn find_many_answers_in_the_order_asked(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    // 64 KiB each, 75 MiB in all: more than the SQLite store keeps of its recent writes in
    // memory (32 MiB), so the older ~700 are read with its chunked query (500 hashes each)
    let stored: Vec<StoredPayload> = (0..1_200)
        .map(|_| StoredPayload {
            encoded_payload: fixtures::bytes(64 * 1024),
            ..fixtures::payload()
        })
        .collect();
    for p in &stored {
        store.save(p.clone()).await?;
    }
    assert!(store.find_many(&[]).await?.is_empty());
    // more hashes than one query takes, unknown ones mixed in, one asked twice
    let mut asked = Vec::new();
    let mut expected = Vec::new();
    for (i, p) in stored.iter().enumerate().rev() {
        asked.push(p.hash);
        expected.push(Some(p.clone()));
        if i % 100 == 0 {
            asked.push(fixtures::hash());
            expected.push(None);
        }
    }
    asked.push(stored[7].hash);
    expected.push(Some(stored[7].clone()));
    let found = store.find_many(&asked).await?;
    ensure!(found.len() == asked.len(), "one answer per hash asked");
    for (i, (got, want)) in found.iter().zip(&expected).enumerate() {
        ensure!(got == want, "answer {i} differs");
    }
    Ok(())
}
