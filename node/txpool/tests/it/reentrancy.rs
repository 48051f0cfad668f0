//! The pool never holds its lock while calling `AccountState`: a state that calls back into the
//! pool (as a node's state provider might, via metrics or a head update) must not deadlock, and
//! a head that lands during an admission makes the admission re-read the account.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    time::Duration,
};

use alloy_primitives::{Address, U256};
use qrs_txpool::{AccountState, Pool};

use crate::common::*;

/// Calls into the pool on every read; the first balance read also commits a new head.
struct ReentrantState {
    pool: Arc<Pool>,
    inner: TestState,
    nonce_reads: AtomicUsize,
    head_once: Mutex<Option<Address>>,
}

impl AccountState for ReentrantState {
    fn nonce(&self, address: Address) -> u64 {
        self.nonce_reads.fetch_add(1, Ordering::SeqCst);
        let _ = self.pool.status();
        let _ = self.pool.best_transactions();
        self.inner.nonce(address)
    }
    fn balance(&self, address: Address) -> U256 {
        let _ = self.pool.pending_nonce(address, 0);
        let head = self.head_once.lock().unwrap().take();
        if let Some(sender) = head {
            // A block lands after the nonce was read: the sender's nonce moves from 0 to 1.
            self.inner.set_nonce(sender, 1);
            self.pool.on_new_block(&[], &rules(), &self.inner);
        }
        self.inner.balance(address)
    }
}

fn within(limit: Duration, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("deadlock: the pool called AccountState under its lock")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

#[test]
fn state_calling_back_into_the_pool_does_not_deadlock_and_admission_retries() {
    within(Duration::from_secs(20), || {
        let pool = Arc::new(Pool::new(cfg()));
        let k = key(1);
        let state = ReentrantState {
            pool: pool.clone(),
            inner: TestState::default(),
            nonce_reads: AtomicUsize::new(0),
            head_once: Mutex::new(Some(k.address())),
        };
        // Nonce 0 was valid when first read, but the head moved on during admission.
        let err = pool.add(legacy(&k, 0), &rules(), &state).unwrap_err();
        assert_eq!(err, qrs_txpool::PoolError::NonceTooLow { tx_nonce: 0, state_nonce: 1 });
        assert_eq!(state.nonce_reads.load(Ordering::SeqCst), 2, "admission re-read the account");
        pool.add(legacy(&k, 1), &rules(), &state).unwrap();
        pool.add(legacy(&k, 2), &rules(), &state).unwrap();
        state.inner.set_nonce(k.address(), 2);
        pool.on_new_block(&[], &rules(), &state);
        assert_eq!(pool.status(), (1, 0));
    });
}
