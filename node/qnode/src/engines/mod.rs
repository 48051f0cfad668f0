//! Engine construction: which [`ConsensusEngine`] makes blocks, and which [`BlockVerifier`]
//! checks blocks that arrive through block sync.
//!
//! One match arm per [`ConsensusChoice`]; each networked engine lives in its own file
//! (`qbft.rs`, `raft.rs`) and is built from [`EngineDeps`].
//!
//! [`BlockVerifier`]: qrs_consensus::BlockVerifier

mod qbft;
mod raft;

use std::sync::Arc;

use alloy_primitives::Address;
use eyre::eyre;
use qrs_chain::Chain;
use qrs_consensus::{
    ConsensusEngine, DevEngine, DevMode, EngineDeps, NoProofVerifier, SharedVerifier,
};

use crate::config::ConsensusChoice;

/// Adds an engine's state to every JSON-RPC context (e.g. the handle behind `istanbul_*`).
pub(crate) type ConfigureRpc = Box<dyn Fn(&mut qrs_rpc::RpcContext) + Send + Sync>;

/// What [`build`] makes.
pub(crate) struct Engine {
    /// The block producer (`None`: the node only follows the chain).
    pub engine: Option<Box<dyn ConsensusEngine>>,
    /// Consensus checks of blocks received from peers.
    pub verifier: SharedVerifier,
    /// Applied to every RPC context before the servers start.
    pub configure_rpc: Option<ConfigureRpc>,
}

impl Engine {
    /// An engine (or none) with a verifier and no RPC additions.
    pub(crate) fn new(engine: Option<Box<dyn ConsensusEngine>>, verifier: SharedVerifier) -> Self {
        Self { engine, verifier, configure_rpc: None }
    }
}

/// Builds the engine `choice` names. `deps` is `Some` when the network runs.
pub(crate) fn build(
    choice: &ConsensusChoice,
    chain: &Chain,
    deps: Option<EngineDeps>,
) -> eyre::Result<Engine> {
    let needs_network = |name: &str| {
        deps.clone().ok_or_else(|| {
            eyre!("the {name} engine needs p2p networking (do not combine it with --dev without --port)")
        })
    };
    match choice {
        ConsensusChoice::Dev { period } => {
            let mode = if period.is_zero() { DevMode::Instant } else { DevMode::Period(*period) };
            Ok(Engine::new(
                Some(Box::new(DevEngine::new(mode, Address::ZERO))),
                Arc::new(NoProofVerifier),
            ))
        }
        ConsensusChoice::Qbft(opts) => qbft::build(opts, needs_network("qbft")?),
        ConsensusChoice::Raft(opts) => raft::build(opts, needs_network("raft")?),
        ConsensusChoice::None => match qbft::follower(chain, deps.as_ref()) {
            Some(engine) => Ok(engine),
            None => Ok(Engine::new(None, follower_verifier(chain))),
        },
    }
}

/// The verifier of a node that makes no blocks: the genesis' engine rules.
fn follower_verifier(chain: &Chain) -> SharedVerifier {
    qbft::follower_verifier(chain)
        .or_else(|| raft::follower_verifier(chain))
        .unwrap_or_else(|| Arc::new(NoProofVerifier))
}
