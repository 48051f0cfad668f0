//! [`QbftHandle`]: what the `istanbul_*` RPC methods read and change (GoQuorum
//! `consensus/istanbul/backend/api.go`).

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256};
use qrs_qbft::{Snapshot, seal::qbft_committers};

use super::{QbftError, Shared};

/// `istanbul_status`'s default range.
const DEFAULT_STATUS_BLOCKS: u64 = 64;

/// `istanbul_getSignersFromBlock`: who made and who sealed a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSigners {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// The proposer (coinbase).
    pub author: Address,
    /// Signers of the committed seals.
    pub committers: Vec<Address>,
}

/// `istanbul_status`: blocks authored per validator in a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    /// Blocks authored per address (every validator at the end block appears, with 0 if idle).
    pub sealer_activity: BTreeMap<Address, u64>,
    /// GoQuorum's `numBlocks`.
    pub num_blocks: u64,
}

/// Cloneable handle to a running (or constructed) QBFT engine for the RPC.
#[derive(Debug, Clone)]
pub struct QbftHandle {
    shared: Arc<Shared>,
}

impl QbftHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// `istanbul_nodeAddress`: the validator address of this node.
    pub fn node_address(&self) -> Address {
        self.shared.address
    }

    /// The chain's head number.
    pub fn head_number(&self) -> u64 {
        self.shared.chain.head().header.number
    }

    /// `istanbul_getSnapshot`: validators and votes after block `number`.
    pub fn snapshot(&self, number: u64) -> Result<Snapshot, QbftError> {
        self.shared.snapshots.at_number(number)
    }

    /// `istanbul_getSnapshotAtHash`.
    pub fn snapshot_at_hash(&self, hash: B256) -> Result<Snapshot, QbftError> {
        self.shared.snapshots.at_hash(hash)
    }

    /// `istanbul_getValidators`: the validators after block `number`.
    pub fn validators(&self, number: u64) -> Result<Vec<Address>, QbftError> {
        Ok(self.snapshot(number)?.validators.list().to_vec())
    }

    /// `istanbul_getValidatorsAtHash`.
    pub fn validators_at_hash(&self, hash: B256) -> Result<Vec<Address>, QbftError> {
        Ok(self.snapshot_at_hash(hash)?.validators.list().to_vec())
    }

    /// `istanbul_isValidator`: is this node a validator after block `number`.
    pub fn is_validator(&self, number: u64) -> Result<bool, QbftError> {
        Ok(self.snapshot(number)?.validators.contains(&self.shared.address))
    }

    /// `istanbul_propose`: vote in our proposals to add (`true`) or remove `address`.
    pub fn propose(&self, address: Address, authorize: bool) {
        self.shared.candidates.lock().propose(address, authorize);
    }

    /// `istanbul_discard`: stop voting for `address`.
    pub fn discard(&self, address: &Address) {
        self.shared.candidates.lock().discard(address);
    }

    /// `istanbul_candidates`.
    pub fn candidates(&self) -> BTreeMap<Address, bool> {
        self.shared.candidates.lock().all().clone()
    }

    /// `istanbul_getSignersFromBlock`.
    pub fn signers(&self, number: u64) -> Result<BlockSigners, QbftError> {
        let reader = self.shared.chain.reader()?;
        let header = reader
            .header(number)
            .map_err(qrs_chain::ChainError::from)?
            .ok_or(QbftError::UnknownBlock(number))?;
        let hash = qrs_chain::Chain::block_hash(&header);
        let committers = if number == 0 {
            Vec::new()
        } else {
            qbft_committers(&header)
                .map_err(|e| QbftError::InvalidHeader { number, reason: e.to_string() })?
        };
        Ok(BlockSigners { number, hash, author: header.beneficiary, committers })
    }

    /// `istanbul_getSignersFromBlockByHash`.
    pub fn signers_by_hash(&self, hash: B256) -> Result<BlockSigners, QbftError> {
        let number = self
            .shared
            .chain
            .reader()?
            .block_number(&hash)
            .map_err(qrs_chain::ChainError::from)?
            .ok_or(QbftError::UnknownHash(hash))?;
        self.signers(number)
    }

    /// `istanbul_status`: blocks authored per validator from `start` to `end` (both or neither;
    /// neither = the last 64 blocks).
    pub fn status(&self, range: Option<(u64, u64)>) -> Result<StatusView, QbftError> {
        let head = self.head_number();
        let (mut start, end, mut num_blocks) = match range {
            None => (head.saturating_sub(DEFAULT_STATUS_BLOCKS), head, DEFAULT_STATUS_BLOCKS),
            Some((start, end)) => {
                if start > end {
                    return Err(QbftError::BadRange(
                        "start block number should be less than end block number",
                    ));
                }
                if end > head {
                    return Err(QbftError::BadRange(
                        "end block number should be less than or equal to current block height",
                    ));
                }
                (start, end, end.saturating_sub(start))
            }
        };
        if num_blocks >= end {
            start = 1;
            num_blocks = if end > 2 { end.saturating_sub(1) } else { end };
        }
        let mut activity: BTreeMap<Address, u64> =
            self.validators(end)?.into_iter().map(|a| (a, 0)).collect();
        let reader = self.shared.chain.reader()?;
        for n in start..=end {
            if n == 0 {
                continue;
            }
            let header = reader
                .header(n)
                .map_err(qrs_chain::ChainError::from)?
                .ok_or(QbftError::UnknownBlock(n))?;
            let count = activity.entry(header.beneficiary).or_default();
            *count = count.saturating_add(1);
        }
        Ok(StatusView { sealer_activity: activity, num_blocks })
    }
}
