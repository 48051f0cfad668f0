//! The Raft engine arm. Owned by the Raft engine work: replace the bodies (the node already
//! routes `ConsensusChoice::Raft` here).

use eyre::eyre;
use qrs_chain::Chain;
use qrs_consensus::{EngineDeps, SharedVerifier, raft::RaftOptions};

use super::Engine;

/// Builds the Raft engine and its verifier.
pub(super) fn build(_opts: &RaftOptions, _deps: EngineDeps) -> eyre::Result<Engine> {
    Err(eyre!("the Raft engine is not wired into qnode yet"))
}

/// The verifier a node that is not a Raft member uses; `None` when this is not a Raft chain.
pub(super) fn follower_verifier(_chain: &Chain) -> Option<SharedVerifier> {
    None
}
