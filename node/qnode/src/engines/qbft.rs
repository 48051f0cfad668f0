//! The QBFT engine arm (`--mine` on an istanbul genesis): the engine, its block-sync verifier
//! and the `istanbul_*` RPC handle.

use std::sync::Arc;

use qrs_chain::Chain;
use qrs_consensus::{
    EngineDeps, SharedVerifier,
    qbft::{QbftEngine, QbftOptions, QbftVerifier},
};

use super::Engine;

/// Builds the QBFT engine (validator key = the node key, safety record under
/// `<datadir>/qbft`).
pub(super) fn build(opts: &QbftOptions, deps: EngineDeps) -> eyre::Result<Engine> {
    let engine = QbftEngine::new(opts.clone(), deps)?;
    let handle = engine.handle();
    let verifier: SharedVerifier = Arc::new(engine.verifier());
    Ok(Engine {
        engine: Some(Box::new(engine)),
        verifier,
        configure_rpc: Some(Box::new(move |ctx| ctx.qbft = Some(handle.clone()))),
    })
}

/// The verifier a non-validator uses on an istanbul (QBFT/IBFT) chain; `None` on other chains.
pub(super) fn follower_verifier(chain: &Chain) -> Option<SharedVerifier> {
    QbftVerifier::follower(chain.clone(), QbftOptions::default())
        .map(|v| Arc::new(v) as SharedVerifier)
}

/// A follower of an istanbul chain: its verifier, and the `istanbul_*` handle for its RPC
/// (GoQuorum serves the namespace on every node of the chain, not only on validators).
pub(super) fn follower(chain: &Chain, deps: Option<&EngineDeps>) -> Option<Engine> {
    let verifier = QbftVerifier::follower(chain.clone(), QbftOptions::default())?;
    let address = deps.map(|d| d.node_key.address()).unwrap_or_default();
    let handle = verifier.follower_handle(address);
    Some(Engine {
        engine: None,
        verifier: Arc::new(verifier),
        configure_rpc: Some(Box::new(move |ctx| ctx.qbft = Some(handle.clone()))),
    })
}
