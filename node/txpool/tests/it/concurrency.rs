//! Adders and a miner on several threads: every tx is admitted, mined once, and the pool drains.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use qrs_txpool::{AccountState, Pool};

use crate::common::*;

const SENDERS: u64 = 4;
const PER_SENDER: u64 = 100;

#[test]
fn concurrent_adds_and_blocks_drain_cleanly() {
    let pool = Arc::new(Pool::new(cfg()));
    let state = Arc::new(TestState::default());
    let batches: Vec<Vec<_>> = (1..=SENDERS)
        .map(|s| {
            let k = key(s);
            (0..PER_SENDER).map(|n| legacy(&k, n)).collect()
        })
        .collect();
    let adders: Vec<_> = batches
        .into_iter()
        .map(|txs| {
            let (pool, state) = (pool.clone(), state.clone());
            std::thread::spawn(move || {
                for tx in txs {
                    pool.add(tx, &rules(), state.as_ref()).expect("admitted");
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut mined_total = 0;
    loop {
        let best = pool.best_transactions();
        let mut mined = Vec::new();
        for tx in best.iter().take(25) {
            if state.nonce(tx.sender()) == tx.nonce() {
                state.set_nonce(tx.sender(), tx.nonce() + 1);
                mined.push(tx.hash);
            }
        }
        mined_total += mined.len();
        pool.on_new_block(&mined, &rules(), state.as_ref());
        for h in &mined {
            assert!(!pool.contains(h));
        }
        let adders_done = adders.iter().all(|a| a.is_finished());
        if adders_done && pool.status() == (0, 0) {
            break;
        }
        assert!(Instant::now() < deadline, "pool did not drain: {:?}", pool.status());
        std::thread::yield_now();
    }
    for a in adders {
        a.join().expect("adder thread");
    }
    assert_eq!(mined_total as u64, SENDERS * PER_SENDER);
    for s in 1..=SENDERS {
        assert_eq!(state.nonce(key(s).address()), PER_SENDER);
    }
}
