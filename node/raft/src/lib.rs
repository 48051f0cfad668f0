//! Raft consensus for quorum-rs, GoQuorum-compatible (`--raft`).
//!
//! Built on TiKV's [`raft`] crate (raft-rs), sans-IO:
//! - [`MdbxStorage`]: the raft-rs `Storage` in its own MDBX environment (log, `HardState`,
//!   `ConfState`, snapshot, applied index), with the error contract documented on the module;
//! - [`RaftNode`]: the service core. The driver ticks it every 100 ms, steps received messages,
//!   asks it to mint, and sends the `(to, bytes)` pairs [`RaftNode::process_ready`] returns. The
//!   transport is abstract: protobuf `raft::eraftpb::Message` bytes out and in;
//! - the minter (GoQuorum `raft/minter.go`): only the leader builds blocks, only with pending
//!   transactions, at most one per `--raftblocktime`, on a [`SpeculativeChain`] of proposed but
//!   unapplied blocks; followers apply log entries in order and ignore a block that does not
//!   extend their head ("Non-extending block");
//! - membership: initial peers from `static-nodes.json` (raft id = index + 1, `?raftport=`
//!   required), `raft_addPeer`/`addLearner`/`promoteToPeer`/`removePeer`, `--raftjoinexisting`,
//!   and the `raft_leader`/`role`/`cluster`/`getRaftId` queries;
//! - [`header`]: GoQuorum's Raft `extraData` seal (`0x00×32 ‖ RLP([raftIdHex, sig65])`).
//!
//! # Timestamps: seconds by default
//! GoQuorum Raft writes block timestamps in **nanoseconds**. ethers v5/v6 and web3.js 1.x break
//! on those (53-bit overflow), so [`TimestampUnit::Seconds`] is the default and
//! [`TimestampUnit::Nanoseconds`] is available for byte-compatibility with an existing GoQuorum
//! Raft chain. See [`TimestampUnit`].
//!
//! # Differences from GoQuorum
//! - CheckQuorum is on (GoQuorum's code has it off; see [`RaftConfig`]).
//! - Raft messages are raft-rs protobuf, not etcd `rafthttp`: a quorum-rs Raft cluster cannot
//!   mix with GoQuorum nodes at the Raft layer (the chain and its blocks are compatible).
//! - `raft_getRaftId` also finds this node's own enode.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects, clippy::indexing_slicing))]

pub mod chain;
pub mod config;
pub mod error;
pub mod header;
pub mod logger;
pub mod minter;
pub mod node;
pub mod peer;
pub mod snapshot;
pub mod storage;

pub use chain::{BlockBuilder, BlockRef, BuiltBlock, DecodedBlock, RaftChain};
pub use config::RaftConfig;
pub use error::{RaftError, Result};
pub use header::{RaftSeal, TimestampUnit};
pub use minter::SpeculativeChain;
pub use node::{AppliedEntry, AppliedKind, Outgoing, RaftNode, ReadyOutput};
pub use peer::{ClusterInfo, Enode, PeerAddress};
pub use raft;
pub use snapshot::SnapshotData;
pub use storage::MdbxStorage;
