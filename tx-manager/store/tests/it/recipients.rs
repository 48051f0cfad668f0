//! The recipient index: keyset pagination over every payload for a key.

use std::collections::BTreeSet;

use eyre::ensure;

use crate::{fixtures, harness::TestDb, store_tests};

store_tests!(find_by_recipient_pages_through_everything);

async fn find_by_recipient_pages_through_everything(db: TestDb) -> eyre::Result<()> {
    let store = db.open().await?;
    let a = fixtures::key();
    let b = fixtures::key();
    let mut for_a = BTreeSet::new();
    let mut for_b = BTreeSet::new();
    let mut rows = Vec::new();
    for i in 0..250 {
        let recipients = if i % 5 == 0 { vec![a, b] } else { vec![a] };
        let p = fixtures::payload_for(&recipients);
        for_a.insert(p.hash);
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
    ensure!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "pages are not in strictly increasing hash order"
    );
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), for_a);

    let all_b: BTreeSet<_> =
        store.find_by_recipient(&b, None, 1000).await?.into_iter().map(|p| p.hash).collect();
    assert_eq!(all_b, for_b);
    assert!(store.find_by_recipient(&a, None, 0).await?.is_empty());
    assert!(store.find_by_recipient(&fixtures::key(), None, 100).await?.is_empty());
    assert!(store.find_by_recipient(&a, Some([0xff; 64]), 100).await?.is_empty());
    Ok(())
}
