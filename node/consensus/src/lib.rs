//! The block-production seam.
//!
//! A consensus engine is a long-running service that decides *when* a block is made and *which*
//! block becomes canonical. It never executes transactions itself: it asks the chain to build
//! a block on the head ([`qrs_chain::Chain::build_block`]), agrees on it however its protocol
//! says, and then commits it ([`qrs_chain::Chain::commit_block`]) or imports a peer's block
//! ([`qrs_chain::Chain::import_block`]). The dev engine here builds and commits at once; QBFT
//! and Raft plug in at the same two calls.

mod dev;

pub use dev::{DevEngine, DevMode};

use futures::future::BoxFuture;
use qrs_chain::Chain;
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
