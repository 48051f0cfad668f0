//! [`SenderTxs`]: one sender's transactions, keyed by nonce.
//!
//! Invariant: the first `pending_len` entries have the keys `nonce, nonce + 1, ...` (the
//! executable run); every other entry is queued and has a key `>= pending_end()`. Queued
//! entries are either behind a nonce gap or waiting for room in the pending set.

use std::{collections::BTreeMap, sync::Arc};

use crate::PooledTx;

/// One sender's transactions.
#[derive(Debug, Default)]
pub(crate) struct SenderTxs {
    /// The sender's account nonce as last seen by the pool.
    pub nonce: u64,
    /// All of the sender's transactions, pending then queued.
    pub txs: BTreeMap<u64, Arc<PooledTx>>,
    /// How many of `txs` (from `nonce` on, contiguous) are pending.
    pub pending_len: usize,
    /// A transaction of this sender came over this node's RPC while it had transactions in
    /// the pool (geth's "local" account): its queue is not capped at `account_queue` and its
    /// queued transactions do not expire.
    pub local: bool,
}

impl SenderTxs {
    pub fn new(nonce: u64) -> Self {
        Self { nonce, txs: BTreeMap::new(), pending_len: 0, local: false }
    }

    /// First nonce after the pending run.
    pub fn pending_end(&self) -> u64 {
        self.nonce.saturating_add(self.pending_len as u64)
    }

    pub fn queued_len(&self) -> usize {
        self.txs.len().saturating_sub(self.pending_len)
    }

    pub fn is_pending(&self, nonce: u64) -> bool {
        nonce >= self.nonce && nonce < self.pending_end()
    }

    /// Pending transactions in nonce order.
    pub fn pending(&self) -> impl Iterator<Item = (&u64, &Arc<PooledTx>)> {
        self.txs.range(self.nonce..self.pending_end())
    }

    /// Queued transactions in nonce order.
    pub fn queued(&self) -> impl Iterator<Item = (&u64, &Arc<PooledTx>)> {
        self.txs.range(self.pending_end()..)
    }

    /// The next queued transaction could be promoted (no gap).
    pub fn promotable(&self) -> bool {
        self.txs.contains_key(&self.pending_end())
    }

    /// The transaction with the highest nonce.
    pub fn tail(&self) -> Option<(&u64, &Arc<PooledTx>)> {
        self.txs.last_key_value()
    }

    /// First nonce not covered by the contiguous run (pending and queued) starting at `from`.
    pub fn next_free_nonce(&self, from: u64) -> u64 {
        let mut next = if from == self.nonce { self.pending_end() } else { from };
        for (nonce, _) in self.txs.range(next..) {
            if *nonce != next {
                break;
            }
            next = next.saturating_add(1);
        }
        next
    }
}
