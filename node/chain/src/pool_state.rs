//! The pool's view of account nonces and balances.

use alloy_primitives::{Address, U256};
use qrs_storage::ReadTx;
use qrs_txpool::AccountState;

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
