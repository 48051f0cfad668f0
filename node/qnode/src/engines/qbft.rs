//! The QBFT / IBFT engine arm. Owned by the QBFT engine work: replace the bodies (the node
//! already routes `ConsensusChoice::Qbft` and followers of istanbul chains here).

use eyre::eyre;
use qrs_chain::Chain;
use qrs_consensus::{EngineDeps, SharedVerifier, qbft::QbftOptions};

use super::Engine;

/// Builds the QBFT engine and its verifier.
pub(super) fn build(_opts: &QbftOptions, _deps: EngineDeps) -> eyre::Result<Engine> {
    Err(eyre!("the QBFT engine is not wired into qnode yet"))
}

/// The verifier a non-validator uses on an istanbul (QBFT/IBFT) chain; `None` on other chains.
pub(super) fn follower_verifier(_chain: &Chain) -> Option<SharedVerifier> {
    None
}
