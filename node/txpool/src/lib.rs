//! The transaction pool: per-sender nonce ordering, pending and queued, replacement.
//!
//! Semantics follow geth 1.10 / GoQuorum, with geth's exact error strings (clients match on them):
//!
//! - **Pending and queued.** A sender's transactions whose nonces continue the account nonce
//!   without a gap are *pending* (executable, returned by [`Pool::best_transactions`]); the others
//!   are *queued*. Filling a gap promotes; a new head drops stale transactions, drops those the
//!   sender can no longer afford and demotes what followed them.
//! - **Replacement.** Same sender and nonce, different hash: accepted only when the fee cap and
//!   the tip (gas price for legacy/EIP-2930) are both strictly higher and at least
//!   [`PoolConfig::price_bump_percent`] above the old ones, otherwise
//!   `replacement transaction underpriced`; the identical transaction is `already known`.
//!   **Free-gas chains:** the *nominal* prices are compared. Legacy transactions must carry
//!   `gasPrice = 0` there, so they can never be replaced (as in GoQuorum); an EIP-1559
//!   transaction can be replaced by one with 10 % higher `maxFeePerGas` and
//!   `maxPriorityFeePerGas` (wallets' "speed up"/"cancel" work), which costs nobody anything.
//!   Equal prices (including all zero) are refused.
//! - **Limits.** `global_slots + global_queue` transactions in all; `global_slots` pending, but
//!   every sender may always have `account_slots` pending; `global_queue` queued and
//!   `account_queue` queued per sender, except for *local* senders (as in geth: a sender with a
//!   pooled transaction submitted over this node's RPC), whose queue is capped by the global
//!   limits only and never expires, so a client sending many transactions in parallel does not
//!   get `txpool is full` when they arrive out of nonce order. Unlike geth, locals do not grow
//!   the pool past `global_slots + global_queue` (memory stays bounded).
//!   A transaction that is next in line but finds the pending
//!   set full waits in queued and is promoted when blocks drain the pool. When full, the
//!   lowest-ranked *tail* transaction (gossiped before RPC-submitted "local", queued before
//!   pending, lower priority, sender with more transactions) is evicted if it ranks below the
//!   newcomer; otherwise `txpool is full`.
//! - **Free gas** ([`TxRules::gas_price_enabled`] false): legacy/EIP-2930 `gasPrice != 0` →
//!   `Gas price not 0`; EIP-1559 transactions are accepted whatever their fees (web3.js 1.x sends
//!   a 2.5 gwei tip on a zero-base-fee London chain), cost `value` only and have priority 0, so
//!   blocks are filled in arrival order. The node's EVM must charge them nothing.
//! - **Private transactions** (legacy, `v` 37/38): see [`private`]; they pass the EIP-155 check and
//!   must have a value of 0 and non-empty data.
//! - `negative value` cannot happen: values are unsigned (`U256`).
//!
//! The pool never calls [`AccountState`] while holding its lock.
//!
//! # Use from the node
//!
//! ```
//! use std::sync::Arc;
//!
//! use alloy_primitives::{Address, U256};
//! use qrs_txpool::{AccountState, DEFAULT_MAX_TX_SIZE, Pool, PoolConfig, TxRules};
//!
//! /// Reads the latest committed head (not a snapshot taken earlier).
//! struct Head;
//! impl AccountState for Head {
//!     fn nonce(&self, _: Address) -> u64 { 0 }
//!     fn balance(&self, _: Address) -> U256 { U256::ZERO }
//! }
//!
//! let pool = Arc::new(Pool::new(PoolConfig::default()));
//! let rules = TxRules {
//!     chain_id: 1337, gas_price_enabled: false, istanbul: true, berlin: true, london: true,
//!     shanghai: true, prague: false, base_fee: 0, block_gas_limit: 30_000_000,
//!     max_tx_size: DEFAULT_MAX_TX_SIZE,
//! };
//! // eth_sendRawTransaction: decode, recover (private: `recover_private_sender`), then
//! //   pool.add(recovered, &rules, &Head) -> hash, or a JSON-RPC error -32000 with
//! //   `err.to_string()` as the message (geth's code and text).
//! // Dev miner: pool.ready_notify().notified().await; build from pool.best_transactions(),
//! //   skipping a sender's remaining txs after one of them fails.
//! // After the block is committed: pool.on_new_block(&mined_hashes, &rules, &Head).
//! // eth_getTransactionCount(a, "pending"): pool.pending_nonce(a, Head.nonce(a)).
//! assert_eq!(pool.status(), (0, 0));
//! assert_eq!(pool.pending_nonce(Address::ZERO, Head.nonce(Address::ZERO)), 0);
//! ```

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod best;
mod config;
mod error;
pub mod intrinsic;
mod metrics;
mod pool;
mod pooled;
pub mod private;
mod sender;
mod store;
mod validate;

pub use config::{DEFAULT_MAX_TX_SIZE, PoolConfig, TxRules};
pub use error::PoolError;
pub use intrinsic::{floor_data_gas, intrinsic_gas, min_gas_limit};
pub use metrics::PoolMetrics;
pub use pool::{AccountState, Pool, TxOrigin, TxsBySender};
pub use pooled::PooledTx;
pub use private::{is_private, recover_private_sender};
