//! The QBFT engine driver: runs the sans-IO [`qrs_qbft::core::Core`] against the chain and the
//! network.
//!
//! - [`QbftEngine`] ([`crate::ConsensusEngine`]) is the driver loop ([`driver`]): timer ticks at
//!   `Ready::wake_at`, consensus messages from [`qrs_network::Topic::Consensus`] (framed by
//!   [`wire`]), the safety record persisted ([`safety`]) before anything is broadcast, blocks
//!   built with [`qrs_chain::Chain::build_block`] and committed with their seals.
//! - [`QbftVerifier`] checks blocks that arrive by sync (header rules, committed seals of the
//!   parent's validators, votes).
//! - [`QbftHandle`] serves the `istanbul_*` RPC namespace.
//! - [`SnapshotCache`] (validator sets and votes per block) is shared by all three.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects, clippy::indexing_slicing))]

mod driver;
mod error;
mod handle;
pub mod safety;
mod snapshots;
mod verifier;
pub mod wire;

use std::sync::Arc;

use parking_lot::Mutex;
use qrs_chainspec::BftSettings;
use qrs_qbft::{Candidates, ValidatorKey, core::Config};

pub use error::QbftError;
pub use handle::{BlockSigners, QbftHandle, StatusView};
pub use qrs_qbft::{
    Snapshot,
    snapshot::{Tally, Vote},
};
pub use snapshots::SnapshotCache;
pub use verifier::QbftVerifier;

use crate::{EngineDeps, EngineError};

/// QBFT options that do not come from the genesis file (CLI flags). A `Some` overrides the
/// genesis value (`--istanbul.blockperiod`, `--istanbul.requesttimeout`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QbftOptions {
    /// Block period in seconds.
    pub block_period_secs: Option<u64>,
    /// Round-0 request timeout in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// `--allowedfutureblocktime`: seconds a synced header may be ahead of the clock.
    pub allowed_future_block_time_secs: u64,
}

impl QbftOptions {
    /// The core's timing and quorum settings from the genesis settings at a height.
    pub fn core_config(&self, bft: &BftSettings) -> Config {
        Config {
            request_timeout_ms: self.request_timeout_ms.unwrap_or(bft.request_timeout_ms),
            max_request_timeout_secs: bft.max_request_timeout_seconds.unwrap_or(0),
            block_period_secs: self.block_period_secs.unwrap_or(bft.block_period_seconds),
            empty_block_period_secs: bft.empty_block_period_seconds,
            ceil_2n_by_3_block: bft.ceil_2n_by_3.then_some(0),
        }
    }
}

/// State shared by the engine, its verifier and its RPC handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) chain: qrs_chain::Chain,
    pub(crate) snapshots: SnapshotCache,
    pub(crate) candidates: Mutex<Candidates>,
    pub(crate) address: alloy_primitives::Address,
    pub(crate) options: QbftOptions,
}

/// The QBFT consensus engine of one node.
#[derive(Debug)]
pub struct QbftEngine {
    deps: EngineDeps,
    key: ValidatorKey,
    shared: Arc<Shared>,
}

impl QbftEngine {
    /// An engine for the node key in `deps`; refuses chains without a `qbft`/`istanbul` config.
    pub fn new(options: QbftOptions, deps: EngineDeps) -> Result<Self, EngineError> {
        let fatal = |reason: String| EngineError::Fatal { engine: "qbft", reason };
        let head = deps.chain.head().header.number;
        let bft = deps.chain.spec().bft_at(head.saturating_add(1)).ok_or(QbftError::NotIstanbul)?;
        if bft.algorithm != qrs_chainspec::BftAlgorithm::Qbft {
            return Err(fatal("legacy IBFT block production is not supported (QBFT only)".into()));
        }
        let key = ValidatorKey::from_bytes(&deps.node_key.secret_bytes())
            .map_err(|e| fatal(e.to_string()))?;
        let shared = Arc::new(Shared {
            chain: deps.chain.clone(),
            snapshots: SnapshotCache::new(deps.chain.clone()),
            candidates: Mutex::new(Candidates::default()),
            address: key.address(),
            options,
        });
        Ok(Self { deps, key, shared })
    }

    /// The handle for the `istanbul_*` RPC methods.
    pub fn handle(&self) -> QbftHandle {
        QbftHandle::new(self.shared.clone())
    }

    /// The verifier for blocks that arrive by sync (shares this engine's snapshot cache).
    pub fn verifier(&self) -> QbftVerifier {
        QbftVerifier::new(self.shared.clone())
    }
}

impl crate::ConsensusEngine for QbftEngine {
    fn name(&self) -> &'static str {
        "qbft"
    }

    fn run(
        self: Box<Self>,
        _chain: qrs_chain::Chain,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> futures::future::BoxFuture<'static, Result<(), EngineError>> {
        let Self { deps, key, shared } = *self;
        Box::pin(driver::run(deps, key, shared, shutdown))
    }
}
