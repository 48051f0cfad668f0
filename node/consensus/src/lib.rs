//! The block-production seam.
//!
//! A consensus engine is a long-running service that decides *when* a block is made and *which*
//! block becomes canonical. It never executes transactions itself: it asks the chain to build
//! a block on the head ([`qrs_chain::Chain::build_block`]), agrees on it however its protocol
//! says, and then commits it ([`qrs_chain::Chain::commit_block`]) or imports a peer's block
//! ([`qrs_chain::Chain::import_block`]). The dev engine here builds and commits at once; QBFT
//! ([`qbft`]) and Raft ([`raft`]) plug in at the same two calls.
//!
//! Blocks that arrive from outside the engine (block sync, announcements) are checked by the
//! engine's [`BlockVerifier`] (seals, proposer, extraData) before the chain executes them.

mod dev;
pub mod qbft;
pub mod raft;

use std::{path::PathBuf, sync::Arc};

pub use dev::{DevEngine, DevMode};

use alloy_consensus::Header;
use futures::future::BoxFuture;
use qrs_chain::Chain;
use qrs_network::{NetworkHandle, NodeKey};
use tokio::sync::watch;

/// Failures that stop an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The chain refused to build or commit.
    #[error(transparent)]
    Chain(#[from] qrs_chain::ChainError),
    /// A building task panicked or was cancelled.
    #[error("block production task failed: {0}")]
    Task(String),
    /// The engine could not start or had to stop (bad configuration, storage failure, ...).
    #[error("{engine}: {reason}")]
    Fatal {
        /// `qbft` or `raft`.
        engine: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// A consensus engine driving block production on a chain.
pub trait ConsensusEngine: Send + 'static {
    /// The engine's name for logs (`dev`, `qbft`, `raft`).
    fn name(&self) -> &'static str;

    /// Runs until `shutdown` turns true.
    fn run(
        self: Box<Self>,
        chain: Chain,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, Result<(), EngineError>>;
}

/// What a networked engine needs from the node.
#[derive(Debug, Clone)]
pub struct EngineDeps {
    /// The chain.
    pub chain: Chain,
    /// The running network service.
    pub network: NetworkHandle,
    /// The node key (`nodekey`), which is also the validator / minter key.
    pub node_key: NodeKey,
    /// The node's data directory (engines keep their own files under it, e.g. `raft/`).
    pub datadir: PathBuf,
}

/// Consensus checks of a block made elsewhere (sync, announcements), done before the chain
/// executes it with [`Chain::import_block`]. The parent of `header` is the chain's head.
pub trait BlockVerifier: Send + Sync + 'static {
    /// `Ok` if `header` may follow the head under this engine's rules; `Err(reason)` otherwise
    /// (the peer that sent it is penalised).
    fn verify_header(&self, chain: &Chain, header: &Header) -> Result<(), String>;
}

/// The verifier of chains whose blocks carry no consensus proof (dev chains).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProofVerifier;

impl BlockVerifier for NoProofVerifier {
    fn verify_header(&self, _chain: &Chain, _header: &Header) -> Result<(), String> {
        Ok(())
    }
}

/// Shared verifier handle.
pub type SharedVerifier = Arc<dyn BlockVerifier>;
