//! A store that is written, dropped and reopened keeps everything (qtm restart).

use std::time::Duration;

use crate::{fixtures, harness::TestDb, store_tests};

store_tests!(reopen_keeps_everything);

async fn reopen_keeps_everything(db: TestDb) -> eyre::Result<()> {
    let key = fixtures::key();
    let payloads: Vec<_> = (0..20).map(|_| fixtures::payload_for(&[key])).collect();
    let raw = fixtures::raw();
    let group = fixtures::group(b"lookup");
    {
        let store = db.open().await?;
        for p in &payloads {
            store.save(p.clone()).await?;
        }
        store.save_raw(raw.clone()).await?;
        store.save_privacy_group(group.clone()).await?;
        // Dropped here: SQLite's writer task closes its connection, PostgreSQL's pool closes.
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    let store = db.open().await?;
    assert_eq!(store.count().await?, 20);
    for p in &payloads {
        assert_eq!(store.find(&p.hash).await?.as_ref(), Some(p));
    }
    assert_eq!(store.find_by_recipient(&key, None, 100).await?.len(), 20);
    assert_eq!(store.find_raw(&raw.hash).await?, Some(raw));
    assert_eq!(store.find_privacy_group(&group.id).await?, Some(group));
    assert_eq!(crate::harness::schema_versions(&db).await?, vec![1], "reopen re-ran migrations");
    Ok(())
}
