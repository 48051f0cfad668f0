//! `--dev`: one node makes every block, like `geth --dev`.

use std::time::Duration;

use alloy_primitives::Address;
use futures::{FutureExt, future::BoxFuture};
use qrs_chain::{BuildAttributes, Chain, now_secs};
use tokio::sync::watch;

use crate::{ConsensusEngine, EngineError};

/// When the dev engine makes blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevMode {
    /// As soon as transactions are pending (`--dev.period 0`).
    Instant,
    /// Every period, with or without transactions (`--dev.period N`).
    Period(Duration),
}

/// The single-node engine.
#[derive(Debug, Clone)]
pub struct DevEngine {
    mode: DevMode,
    beneficiary: Address,
}

impl DevEngine {
    /// A dev engine paying (nothing) to `beneficiary`.
    pub fn new(mode: DevMode, beneficiary: Address) -> Self {
        Self { mode, beneficiary }
    }

    /// Builds one block on the blocking pool and commits it, unless it is empty and
    /// `allow_empty` is false. Returns the number of transactions committed.
    async fn produce(&self, chain: &Chain, allow_empty: bool) -> Result<usize, EngineError> {
        let chain = chain.clone();
        let beneficiary = self.beneficiary;
        tokio::task::spawn_blocking(move || {
            let attrs =
                BuildAttributes { timestamp: now_secs(), beneficiary, ..Default::default() };
            let built = chain.build_block(attrs)?;
            let count = built.block.transactions.len();
            if count > 0 || allow_empty {
                chain.commit_block(built)?;
            }
            Ok::<_, EngineError>(count)
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?
    }
}

impl ConsensusEngine for DevEngine {
    fn name(&self) -> &'static str {
        "dev"
    }

    fn run(
        self: Box<Self>,
        chain: Chain,
        mut shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, Result<(), EngineError>> {
        async move {
            tracing::info!(target: "consensus::dev", mode = ?self.mode, "dev block production started");
            let ready = chain.pool().ready_notify();
            let mut ticker = match self.mode {
                DevMode::Period(p) => Some(tokio::time::interval(p)),
                DevMode::Instant => None,
            };
            loop {
                tokio::select! {
                    _ = shutdown.changed() => {
                        if *shutdown.borrow() { return Ok(()); }
                    }
                    _ = ready.notified(), if ticker.is_none() => {
                        // keep building while transactions remain executable
                        while chain.pool().status().0 > 0 {
                            if self.produce(&chain, false).await? == 0 {
                                break;
                            }
                        }
                    }
                    _ = async { if let Some(t) = ticker.as_mut() { t.tick().await; } }, if ticker.is_some() => {
                        self.produce(&chain, true).await?;
                    }
                }
            }
        }
        .boxed()
    }
}
