//! The recipient index: keyset pagination over every payload for a key.

use std::collections::BTreeSet;

use eyre::ensure;

use crate::{fixtures, harness::TestDb, store_tests};

store_tests!(find_by_recipient_pages_through_everything);

async fn find_by_recipient_pages_through_everything(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let a = fixtures::key();
    let b = fixtures::key();
    let mut for_a = Vec::new();
    let mut for_b = BTreeSet::new();
    let mut rows = Vec::new();
    for i in 0..250 {
        let recipients = if i % 5 == 0 { vec![a, b] } else { vec![a] };
        let p = fixtures::payload_for(&recipients);
        for_a.push(p.hash);
        if i % 5 == 0 {
            for_b.insert(p.hash);
        }
        rows.push(p);
    }
    for _ in 0..30 {
        let p = fixtures::payload_for(&[b]);
        for_b.insert(p.hash);
        rows.push(p);
    }
    for chunk in rows.chunks(100) {
        store.save_batch(chunk.to_vec()).await?;
    }

    let mut seen = Vec::new();
    let mut page_sizes = Vec::new();
    let mut after = None;
    loop {
        let page = store.find_by_recipient(&a, after, 64).await?;
        if page.is_empty() {
            break;
        }
        page_sizes.push(page.len());
        for p in &page {
            ensure!(p.recipients.contains(&a), "payload without key A returned for A");
        }
        after = page.last().map(|p| p.hash);
        seen.extend(page.into_iter().map(|p| p.hash));
        ensure!(page_sizes.len() <= 10, "pagination does not terminate");
    }
    assert_eq!(page_sizes, vec![64, 64, 64, 58]);
    assert_eq!(
        seen, for_a,
        "pages must list key A's payloads once each, in the order they were stored"
    );

    // Replacing a payload keeps its place; a vanished cursor restarts from the top.
    let mut moved = rows[3].clone();
    moved.encoded_payload = fixtures::bytes(50);
    store.save(moved).await?;
    let page = store.find_by_recipient(&a, Some(for_a[2]), 2).await?;
    assert_eq!(page.iter().map(|p| p.hash).collect::<Vec<_>>(), for_a[3..5].to_vec());
    ensure!(store.delete(&for_a[2]).await?);
    let page = store.find_by_recipient(&a, Some(for_a[2]), 2).await?;
    assert_eq!(page.iter().map(|p| p.hash).collect::<Vec<_>>(), vec![for_a[0], for_a[1]]);

    let all_b: BTreeSet<_> =
        store.find_by_recipient(&b, None, 1000).await?.into_iter().map(|p| p.hash).collect();
    assert_eq!(all_b, for_b);
    assert!(store.find_by_recipient(&a, None, 0).await?.is_empty());
    assert!(store.find_by_recipient(&fixtures::key(), None, 100).await?.is_empty());
    let last = for_a[for_a.len() - 1];
    assert!(store.find_by_recipient(&a, Some(last), 100).await?.is_empty());
    Ok(())
}
