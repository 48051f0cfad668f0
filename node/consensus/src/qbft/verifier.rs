//! [`QbftVerifier`]: consensus checks of blocks that arrive by sync, before the chain executes
//! them (GoQuorum QBFT `VerifyHeader` plus the snapshot's vote rules).

use std::sync::Arc;

use alloy_consensus::Header;
use qrs_chain::Chain;
use qrs_qbft::verify::verify_qbft_header;

use super::{QbftError, QbftOptions, Shared, SnapshotCache};
use crate::BlockVerifier;

/// Verifies synced QBFT headers against the head and its validator snapshot.
#[derive(Debug, Clone)]
pub struct QbftVerifier {
    shared: Arc<Shared>,
}

impl QbftVerifier {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The verifier of a node that runs no QBFT engine but follows an istanbul chain; `None`
    /// when the chain's genesis has no `qbft`/`istanbul` configuration.
    pub fn follower(chain: Chain, options: QbftOptions) -> Option<Self> {
        let head = chain.head().header.number;
        chain.spec().bft_at(head.saturating_add(1))?;
        Some(Self::new(Arc::new(Shared {
            snapshots: SnapshotCache::new(chain.clone()),
            chain,
            candidates: Default::default(),
            address: Default::default(),
            options,
        })))
    }

    /// The `istanbul_*` handle of a follower (a node of an istanbul chain that runs no engine),
    /// answering for `address` (its node key's address), as GoQuorum serves the API on every
    /// node of such a chain. Votes it records have no effect: it proposes no blocks.
    pub fn follower_handle(&self, address: alloy_primitives::Address) -> super::QbftHandle {
        let chain = self.shared.chain.clone();
        super::QbftHandle::new(Arc::new(Shared {
            snapshots: SnapshotCache::new(chain.clone()),
            chain,
            candidates: Default::default(),
            address,
            options: self.shared.options.clone(),
        }))
    }

    /// The checks, with a typed error.
    pub fn check(&self, chain: &Chain, header: &Header) -> Result<(), QbftError> {
        let invalid = |reason: String| QbftError::InvalidHeader { number: header.number, reason };
        let parent = chain.head();
        if header.parent_hash != parent.hash {
            return Err(invalid(format!(
                "parent {} is not the head {}",
                header.parent_hash, parent.hash
            )));
        }
        let snap = self.shared.snapshots.at_number(parent.header.number)?;
        let period =
            self.shared.options.core_config(chain.spec(), header.number)?.block_period_secs;
        verify_qbft_header(
            header,
            &parent.header,
            &snap.validators,
            period,
            qrs_chain::now_secs(),
            self.shared.options.allowed_future_block_time_secs,
        )
        .map_err(|e| invalid(e.to_string()))?;
        // The vote must be well-formed and its author a validator (GoQuorum snapApplyHeader).
        self.shared.snapshots.apply(&snap, header)?;
        Ok(())
    }
}

impl BlockVerifier for QbftVerifier {
    fn verify_header(&self, chain: &Chain, header: &Header) -> Result<(), String> {
        self.check(chain, header).map_err(|e| e.to_string())
    }
}
