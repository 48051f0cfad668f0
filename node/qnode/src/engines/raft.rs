//! The Raft engine arm (`--raft`): the engine, its block-sync verifier and the `raft_*` RPC
//! handle.

use std::sync::Arc;

use qrs_chain::Chain;
use qrs_consensus::{
    EngineDeps, SharedVerifier,
    raft::{RaftEngine, RaftOptions},
};

use super::Engine;

/// Builds the Raft engine (members from `static-nodes.json`, log under `<datadir>/raft`).
pub(super) fn build(opts: &RaftOptions, deps: EngineDeps) -> eyre::Result<Engine> {
    let engine = RaftEngine::new(opts.clone(), deps)?;
    let handle = engine.handle();
    let verifier: SharedVerifier = Arc::new(engine.verifier());
    Ok(Engine {
        engine: Some(Box::new(engine)),
        verifier,
        configure_rpc: Some(Box::new(move |ctx| ctx.raft = Some(handle.clone()))),
    })
}

/// A Raft chain is not recognisable from its genesis (GoQuorum selects Raft with a flag), so a
/// node started without `--raft` follows it without seal checks.
pub(super) fn follower_verifier(_chain: &Chain) -> Option<SharedVerifier> {
    None
}
