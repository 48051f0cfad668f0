//! Validator snapshots per canonical block, shared by the driver, the verifier and the RPC.
//!
//! The snapshot at block `n` holds the validators for block `n + 1` and the pending votes
//! (GoQuorum `backend/engine.go snapshot`). It starts from the genesis `extraData` validators (or
//! the genesis `qbft.validators`), is reset to a transition's `validators` at that transition's
//! block, and otherwise applies every header's vote ([`Snapshot::apply`]). QBFT blocks are final
//! and the chain is canonical-only, so snapshots are cached by block number.

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{Address, B256};
use parking_lot::Mutex;
use qrs_chain::Chain;
use qrs_chainspec::{BftAlgorithm, BftSettings};
use qrs_qbft::{
    Flavour, IbftExtra, ProposerPolicy, QbftExtra, Snapshot, SortOrder, ValidatorSet,
    istanbul_block_hash,
};

use super::error::QbftError;

/// Snapshots kept in memory (older ones are recomputed from the nearest kept checkpoint).
const KEEP_RECENT: u64 = 1024;
/// Every snapshot at a multiple of this is kept.
const CHECKPOINT_EVERY: u64 = 1024;

/// The snapshot cache of one chain.
#[derive(Debug)]
pub struct SnapshotCache {
    chain: Chain,
    cache: Mutex<BTreeMap<u64, Snapshot>>,
}

fn invalid(number: u64, reason: impl ToString) -> QbftError {
    QbftError::InvalidHeader { number, reason: reason.to_string() }
}

impl SnapshotCache {
    /// An empty cache over `chain`.
    pub fn new(chain: Chain) -> Self {
        Self { chain, cache: Mutex::new(BTreeMap::new()) }
    }

    fn settings(&self, number: u64) -> Result<BftSettings, QbftError> {
        self.chain.spec().bft_at(number).ok_or(QbftError::NotIstanbul)
    }

    fn validator_set(settings: &BftSettings, validators: Vec<Address>) -> ValidatorSet {
        let policy = ProposerPolicy::from_id(settings.proposer_policy).unwrap_or_default();
        let order = match settings.algorithm {
            BftAlgorithm::Qbft => SortOrder::Bytes,
            BftAlgorithm::Ibft => SortOrder::ChecksumString,
        };
        ValidatorSet::new(validators, policy, order)
    }

    /// The snapshot right after the block `header` when a configuration resets it there
    /// (genesis, or a transition with `validators`).
    fn checkpoint(&self, header: &Header) -> Result<Option<Snapshot>, QbftError> {
        let number = header.number;
        let settings = self.settings(number)?;
        let validators = if !settings.validators_override.is_empty() {
            settings.validators_override.clone()
        } else if number == 0 {
            match QbftExtra::decode_extra(&header.extra_data) {
                Ok(e) => e.validators,
                Err(_) => {
                    IbftExtra::decode_extra(&header.extra_data)
                        .map_err(|e| invalid(number, e))?
                        .validators
                }
            }
        } else {
            return Ok(None);
        };
        let set = Self::validator_set(&settings, validators);
        Ok(Some(Snapshot::new(settings.epoch_length, number, istanbul_block_hash(header), set)))
    }

    /// Applies the next header to `snap`.
    pub fn apply(&self, snap: &Snapshot, header: &Header) -> Result<Snapshot, QbftError> {
        if let Some(reset) = self.checkpoint(header)? {
            return Ok(reset);
        }
        let settings = self.settings(header.number)?;
        let flavour = match settings.algorithm {
            BftAlgorithm::Qbft => Flavour::Qbft,
            BftAlgorithm::Ibft => Flavour::Ibft,
        };
        let mut base = snap.clone();
        base.epoch = settings.epoch_length;
        base.apply(header, flavour).map_err(|e| invalid(header.number, e))
    }

    /// The snapshot after canonical block `number`.
    pub fn at_number(&self, number: u64) -> Result<Snapshot, QbftError> {
        let reader = self.chain.reader()?;
        let target = reader.canonical_hash(number).map_err(qrs_chain::ChainError::from)?;
        let target = target.ok_or(QbftError::UnknownBlock(number))?;
        let cached = self.cache.lock().range(..=number).next_back().map(|(_, s)| s.clone());
        let mut snap = match cached {
            Some(s) if s.number == number && s.hash == target => return Ok(s),
            Some(s) => s,
            None => {
                let genesis = reader
                    .header(0)
                    .map_err(qrs_chain::ChainError::from)?
                    .ok_or(QbftError::UnknownBlock(0))?;
                self.checkpoint(&genesis)?.ok_or(QbftError::NotIstanbul)?
            }
        };
        let mut fresh = Vec::new();
        while snap.number < number {
            let next = snap.number.saturating_add(1);
            let header = reader
                .header(next)
                .map_err(qrs_chain::ChainError::from)?
                .ok_or(QbftError::UnknownBlock(next))?;
            snap = self.apply(&snap, &header)?;
            fresh.push(snap.clone());
        }
        if snap.hash != target {
            // A stale cache entry (the database was replaced): start over from genesis.
            self.cache.lock().clear();
            return Err(invalid(number, "snapshot hash differs from the canonical hash"));
        }
        let mut cache = self.cache.lock();
        for s in fresh {
            cache.insert(s.number, s);
        }
        cache.insert(snap.number, snap.clone());
        let head = cache.keys().next_back().copied().unwrap_or_default();
        let floor = head.saturating_sub(KEEP_RECENT);
        cache.retain(|n, _| *n >= floor || n.checked_rem(CHECKPOINT_EVERY) == Some(0));
        Ok(snap)
    }

    /// The snapshot after the canonical block with this hash.
    pub fn at_hash(&self, hash: B256) -> Result<Snapshot, QbftError> {
        let number = self
            .chain
            .reader()?
            .block_number(&hash)
            .map_err(qrs_chain::ChainError::from)?
            .ok_or(QbftError::UnknownHash(hash))?;
        self.at_number(number)
    }
}
