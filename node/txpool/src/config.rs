//! Pool limits ([`PoolConfig`]) and the chain rules a transaction is checked against ([`TxRules`]).

use std::time::Duration;

/// GoQuorum's default transaction size limit (`txnSizeLimit`, 64 KiB), in bytes.
pub const DEFAULT_MAX_TX_SIZE: usize = 64 * 1024;

/// Static pool settings (geth's `TxPoolConfig` subset that matters for a permissioned chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Minimum price bump in percent to replace a transaction with the same sender and nonce.
    pub price_bump_percent: u64,
    /// Pending slots every account is guaranteed even when the pool is over `global_slots`.
    pub account_slots: usize,
    /// Maximum number of non-executable (queued) transactions per account.
    pub account_queue: usize,
    /// Soft limit of executable (pending) transactions across all accounts.
    pub global_slots: usize,
    /// Limit of non-executable (queued) transactions across all accounts.
    pub global_queue: usize,
    /// Accept legacy transactions without EIP-155 replay protection (`--rpc.allow-unprotected-txs`).
    pub allow_unprotected: bool,
    /// Capacity of the new-pending-transaction broadcast channel (slow subscribers lag, never block).
    pub broadcast_capacity: usize,
    /// How long a queued transaction may wait before [`Pool::expire_queued`](crate::Pool::expire_queued)
    /// drops it (geth `--txpool.lifetime`, 3 h).
    pub queued_lifetime: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            price_bump_percent: 10,
            account_slots: 16,
            account_queue: 64,
            global_slots: 4096,
            global_queue: 1024,
            allow_unprotected: false,
            broadcast_capacity: 4096,
            queued_lifetime: Duration::from_secs(3 * 60 * 60),
        }
    }
}

impl PoolConfig {
    /// The hard cap on the number of transactions held (`global_slots + global_queue`).
    pub fn capacity(&self) -> usize {
        self.global_slots.saturating_add(self.global_queue)
    }
}

/// The chain rules at the current head, evaluated by the node and passed to every
/// [`Pool::add`](crate::Pool::add).
///
/// On a GoQuorum "free gas" chain `gas_price_enabled` is false; a legacy/EIP-2930 transaction must
/// then have `gasPrice == 0` and an EIP-1559 transaction is accepted whatever its fee fields, with
/// an effective gas price of 0 (the node's EVM must charge nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxRules {
    /// The chain id EIP-155 and typed transactions must carry.
    pub chain_id: u64,
    /// Gas is paid (GoQuorum `enableGasPriceBlock` / transition `gasPriceEnabled` reached).
    pub gas_price_enabled: bool,
    /// EIP-2028 calldata pricing (16 gas per non-zero byte instead of 68).
    pub istanbul: bool,
    /// EIP-2718/2930: type-1 transactions and access-list gas.
    pub berlin: bool,
    /// EIP-1559: type-2 transactions.
    pub london: bool,
    /// EIP-3860: init-code size limit and init-code word gas.
    pub shanghai: bool,
    /// EIP-7702 (type-4 transactions) and the EIP-7623 calldata floor.
    pub prague: bool,
    /// Base fee of the next block (0 on a zero-base-fee London chain).
    pub base_fee: u64,
    /// Gas limit of the next block; a transaction may not ask for more.
    pub block_gas_limit: u64,
    /// Maximum encoded transaction size in bytes (GoQuorum `txnSizeLimit * 1024`).
    pub max_tx_size: usize,
}
