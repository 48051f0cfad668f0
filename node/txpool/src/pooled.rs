//! [`PooledTx`]: a validated transaction as the pool stores it.

use std::time::Instant;

use alloy_consensus::{Transaction, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, U256};

/// A transaction accepted by the pool, with what the pool computed about it at admission.
#[derive(Debug, Clone)]
pub struct PooledTx {
    /// The signed transaction and its sender.
    pub tx: Recovered<TxEnvelope>,
    /// Transaction hash (`keccak(raw)`).
    pub hash: B256,
    /// EIP-2718 encoded size in bytes.
    pub size: usize,
    /// When the pool accepted it.
    pub added_at: Instant,
    /// Arrival order within this pool (unique, increasing); breaks price ties.
    pub seq: u64,
    /// Maximum cost checked against the balance: `value` (+ `gas * maxFee` when gas is paid).
    pub cost: U256,
    /// Miner priority: effective tip per gas at admission (0 on a free-gas chain).
    pub priority: u128,
    /// Quorum private transaction (legacy, `v` 37/38).
    pub private: bool,
    /// Submitted over this node's RPC (geth's "local"): never evicted to make room for gossip.
    pub local: bool,
}

impl PooledTx {
    /// The sender.
    pub fn sender(&self) -> Address {
        self.tx.signer()
    }

    /// The nonce.
    pub fn nonce(&self) -> u64 {
        self.tx.inner().nonce()
    }

    /// The envelope.
    pub fn envelope(&self) -> &TxEnvelope {
        self.tx.inner()
    }
}
