//! New-pending-transaction broadcast and the miner's ready notification.

use std::time::Duration;

use qrs_txpool::Pool;
use tokio::sync::broadcast::error::TryRecvError;

use crate::common::*;

#[test]
fn only_pending_transactions_are_announced() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    let mut rx = pool.subscribe();
    let h0 = pool.add(legacy(&k, 0), &rules(), &state).unwrap();
    let h2 = pool.add(legacy(&k, 2), &rules(), &state).unwrap();
    assert_eq!(rx.try_recv().unwrap(), h0);
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty, "queued tx announced");
    let h1 = pool.add(legacy(&k, 1), &rules(), &state).unwrap();
    assert_eq!(rx.try_recv().unwrap(), h1);
    assert_eq!(rx.try_recv().unwrap(), h2, "promoted tx announced");
}

#[tokio::test]
async fn miner_is_woken_by_a_pending_tx() {
    let pool = std::sync::Arc::new(Pool::new(cfg()));
    let ready = pool.ready_notify();
    let waiter = tokio::spawn(async move { ready.notified().await });
    tokio::task::yield_now().await;
    let adder = pool.clone();
    tokio::task::spawn_blocking(move || {
        adder.add(legacy(&key(1), 0), &rules(), &TestState::default()).unwrap();
    })
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").unwrap();
    // The permit is kept when nobody waits: a miner that checks later does not miss it.
    pool.add(legacy(&key(2), 0), &rules(), &TestState::default()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), pool.ready_notify().notified())
        .await
        .expect("stored permit");
}
