//! Block sync and transaction gossip between qnode peers, over [`qrs_network`].
//!
//! [`spawn`] starts one service (several small tasks) on a [`Chain`] and a running
//! [`NetworkHandle`]; [`ChainRequestHandler`] answers peers' `Status` / `Blocks` requests and is
//! installed in the network's config before it starts.
//!
//! # Blocks
//!
//! * **Announcements.** Every block this node *commits itself* (an engine's
//!   `commit_block`, or an engine's own `import_block`) is broadcast in full on
//!   [`Topic::BlockAnnounce`](qrs_network::Topic) (networks are small full meshes, so the block
//!   goes straight to everyone; blocks imported from peers are not echoed). A receiver drops a
//!   block at or below its head after decoding only the header; a block that extends the head
//!   is checked by the engine's [`BlockVerifier`](qrs_consensus::BlockVerifier) and then
//!   executed by [`Chain::import_block`] on a blocking thread; a block further ahead starts
//!   range sync from the announcer.
//! * **Range sync.** On every new connection the node asks the peer's `Status`; while a peer
//!   on the same genesis reports a head above ours, blocks are fetched in batches
//!   ([`SyncConfig::blocks_per_request`]) from our head + 1 and imported in order, each one
//!   verified. A failed request moves on to another peer. When the head has not moved for
//!   [`SyncConfig::status_poll_interval`], every peer is asked again, so a lost or oversized
//!   announcement cannot leave a node behind. [`SyncHandle::status`] feeds `eth_syncing`.
//! * **Bad blocks.** Undecodable bytes, a verifier rejection (bad seal, wrong proposer) or an
//!   import failure of the block itself (`ChainError::InvalidBlock`: wrong state root, bad
//!   transaction, ...) give the sender a strike
//!   ([`NetworkHandle::penalise`](qrs_network::NetworkHandle::penalise)); the block is never
//!   imported. One importer task does all imports, so they are strictly sequential.
//!
//! # Transactions
//!
//! Transactions submitted over this node's RPC (the pool's "local" ones) are collected from the
//! pool's new-pending feed and broadcast in batches: one
//! [`Topic::Transactions`](qrs_network::Topic) message per [`SyncConfig::tx_flush_interval`]
//! (25 ms), or as soon as a batch holds [`SyncConfig::tx_batch_max`] (256) transactions or
//! [`SyncConfig::tx_batch_max_bytes`] (1 MiB). A newly connected peer receives every local
//! transaction still in the pool. Received batches are decoded and sender-recovered
//! (libsecp256k1, `qrs_primitives`) on a blocking thread and pooled as network transactions;
//! "already known" and "nonce too low" are normal, undecodable bytes earn a strike.
//!
//! **No relay.** Transactions that arrived from a peer are never forwarded: in a full mesh
//! (every permissioned GoQuorum-style network here) the originator already sent them to every
//! peer, so a relay would only multiply traffic by the peer count. A network that is not a full
//! mesh would need relaying (forward non-local pending transactions once, except to the sender).

mod blocks;
mod codec;
mod gossip;
mod handler;
mod recent;
mod service;
mod status;

use std::time::Duration;

pub use codec::{BlockDecodeError, WireBlock, decode_block, decode_header, encode_block};
pub use handler::ChainRequestHandler;
pub use service::{spawn, spawn_with};
pub use status::{SyncHandle, SyncStatus};

#[cfg(doc)]
use qrs_chain::Chain;

/// Sync and gossip settings.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Blocks asked for per range request.
    pub blocks_per_request: u32,
    /// How long the importer waits without head progress before asking every peer's status.
    pub status_poll_interval: Duration,
    /// Block work queued for the importer (announcements beyond it are dropped).
    pub job_queue: usize,
    /// Longest a local transaction waits before its batch is sent.
    pub tx_flush_interval: Duration,
    /// Most transactions per batch.
    pub tx_batch_max: usize,
    /// Most bytes per batch (a batch is sent once it reaches this).
    pub tx_batch_max_bytes: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            blocks_per_request: 128,
            status_poll_interval: Duration::from_secs(2),
            job_queue: 1024,
            tx_flush_interval: gossip::DEFAULT_FLUSH,
            tx_batch_max: 256,
            tx_batch_max_bytes: 1024 * 1024,
        }
    }
}
