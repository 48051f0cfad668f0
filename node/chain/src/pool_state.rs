//! The pool's view of account nonces and balances.

use std::cell::RefCell;

use alloy_primitives::{Address, U256};
use qrs_storage::ReadTx;
use qrs_txpool::AccountState;

use crate::{Chain, ChainError};

/// Latest-state nonces and balances, read from one snapshot.
#[derive(Debug)]
pub struct LatestAccounts<'a> {
    reader: &'a ReadTx,
}

impl<'a> LatestAccounts<'a> {
    /// Reads through `reader`.
    pub fn new(reader: &'a ReadTx) -> Self {
        Self { reader }
    }
}

impl AccountState for LatestAccounts<'_> {
    fn nonce(&self, address: Address) -> u64 {
        self.reader.account(&address).ok().flatten().map(|a| a.nonce).unwrap_or_default()
    }

    fn balance(&self, address: Address) -> U256 {
        self.reader.account(&address).ok().flatten().map(|a| a.balance).unwrap_or_default()
    }
}

/// Head nonces and balances for admitting transactions: reads one snapshot, reopened whenever
/// the pool has seen a new head since it was opened ([`AccountState::refresh`]). For batches
/// (gossip) and single submissions alike, so an admission never judges a nonce against a head
/// older than the one the pool has already applied.
#[derive(Debug)]
pub struct HeadAccounts<'a> {
    chain: &'a Chain,
    /// The snapshot and the pool generation it was opened at.
    snapshot: RefCell<(u64, ReadTx)>,
}

impl<'a> HeadAccounts<'a> {
    /// Opens a snapshot of `chain`'s head.
    pub fn open(chain: &'a Chain) -> Result<Self, ChainError> {
        let generation = chain.pool().head_generation();
        let reader = chain.reader()?;
        Ok(Self { chain, snapshot: RefCell::new((generation, reader)) })
    }

    fn account(&self, address: &Address) -> Option<qrs_storage::AccountRecord> {
        self.snapshot.borrow().1.account(address).ok().flatten()
    }
}

impl AccountState for HeadAccounts<'_> {
    fn nonce(&self, address: Address) -> u64 {
        self.account(&address).map(|a| a.nonce).unwrap_or_default()
    }

    fn balance(&self, address: Address) -> U256 {
        self.account(&address).map(|a| a.balance).unwrap_or_default()
    }

    fn refresh(&self, generation: u64) {
        if self.snapshot.borrow().0 == generation {
            return;
        }
        // Opened after the generation was read, so it shows at least that head.
        match self.chain.reader() {
            Ok(reader) => *self.snapshot.borrow_mut() = (generation, reader),
            // Keep the older snapshot: the admission retries while the generation moves.
            Err(e) => {
                tracing::error!(target: "chain", error = %e, "cannot read the head state for the pool");
            }
        }
    }
}
