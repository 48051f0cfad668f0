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
mod metrics;
pub mod safety;
mod snapshots;
mod verifier;
pub mod wire;

use std::sync::Arc;

use parking_lot::Mutex;
use qrs_chainspec::{ChainSpec, ConsensusConfig};
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

/// QBFT options that do not come from the genesis file (CLI flags). As in GoQuorum, a flag
/// only supplies a value the genesis leaves unset: a non-zero `blockperiodseconds` /
/// `requesttimeoutseconds` in `config.qbft` or in a transition in force wins
/// (`--istanbul.blockperiod`, `--istanbul.requesttimeout`).
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
    /// The core's timing and quorum settings for block `height`.
    pub fn core_config(&self, spec: &ChainSpec, height: u64) -> Result<Config, QbftError> {
        let bft = spec.bft_at(height).ok_or(QbftError::NotIstanbul)?;
        let (genesis_period, genesis_timeout) = match spec.consensus() {
            ConsensusConfig::Qbft(c) | ConsensusConfig::Ibft(c) => {
                (c.block_period_seconds_raw != 0, c.request_timeout_seconds_raw != 0)
            }
            _ => (false, false),
        };
        let in_force = spec.config.transitions.iter().take_while(|t| t.block <= height);
        let (mut set_period, mut set_timeout) = (genesis_period, genesis_timeout);
        for t in in_force {
            set_period |= t.block_period_seconds.is_some_and(|v| v != 0);
            set_timeout |= t.request_timeout_seconds.is_some_and(|v| v != 0);
        }
        let block_period_secs = match self.block_period_secs {
            Some(flag) if !set_period => flag,
            _ => bft.block_period_seconds,
        };
        let request_timeout_ms = match self.request_timeout_ms {
            Some(flag) if !set_timeout => flag,
            _ => bft.request_timeout_ms,
        };
        Ok(Config {
            request_timeout_ms,
            max_request_timeout_secs: bft.max_request_timeout_seconds.unwrap_or(0),
            block_period_secs,
            empty_block_period_secs: bft.empty_block_period_seconds,
            ceil_2n_by_3_block: bft.ceil_2n_by_3.then_some(0),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(genesis_period: u64, genesis_timeout: u64) -> ChainSpec {
        let json = serde_json::json!({
            "config": {
                "chainId": 1337,
                "qbft": {
                    "blockPeriodSeconds": genesis_period,
                    "requestTimeoutSeconds": genesis_timeout,
                },
                "transitions": [{ "block": 10, "blockPeriodSeconds": 7 }]
            },
            "gasLimit": "0x1c9c380", "difficulty": "0x1", "alloc": {}
        });
        ChainSpec::from_json(&json.to_string()).unwrap()
    }

    /// GoQuorum precedence: genesis and transitions win over `--istanbul.*` flags, which only
    /// fill values the genesis leaves at 0; GoQuorum's defaults (5 s, 10 s) apply otherwise.
    #[test]
    fn flags_fill_only_what_the_genesis_leaves_unset() {
        let flags = QbftOptions {
            block_period_secs: Some(2),
            request_timeout_ms: Some(1500),
            ..Default::default()
        };
        let none = QbftOptions::default();
        // (genesis period, genesis timeout, options, height) -> (period, timeout ms)
        let cases = [
            (0, 0, &flags, 1, (2, 1500)),
            (0, 0, &flags, 10, (7, 1500)),
            (3, 4, &flags, 1, (3, 4000)),
            (3, 4, &flags, 11, (7, 4000)),
            (0, 0, &none, 1, (5, 10_000)),
            (0, 0, &none, 10, (7, 10_000)),
        ];
        for (period, timeout, opts, height, want) in cases {
            let c = opts.core_config(&spec(period, timeout), height).unwrap();
            assert_eq!(
                (c.block_period_secs, c.request_timeout_ms),
                want,
                "genesis ({period}, {timeout}), {opts:?}, height {height}"
            );
        }
    }
}
