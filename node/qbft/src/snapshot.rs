//! Validator voting: the snapshot of validators, pending votes and tallies at a block.
//!
//! Reference: GoQuorum `consensus/istanbul/backend/snapshot.go` (`Snapshot`, `cast`, `uncast`) and
//! `consensus/istanbul/backend/engine.go` (`snapApply`, `snapApplyHeader`). This is the data behind
//! `istanbul_getSnapshot`, `istanbul_getValidators` and, with [`Candidates`], `istanbul_propose`,
//! `istanbul_discard` and `istanbul_candidates`.

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{Address, B256};

use crate::{
    header::{istanbul_block_hash, read_ibft_vote, read_qbft_vote},
    seal::{SealError, ibft_author},
    validator::ValidatorSet,
};

/// Which istanbul flavour a header uses (decides author and vote encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Legacy IBFT: author from the proposer seal, vote in coinbase/nonce.
    Ibft,
    /// QBFT: author is the coinbase, vote in the extra data.
    Qbft,
}

/// A vote cast by a validator in a block (`Vote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// The validator that cast it.
    pub validator: Address,
    /// The block it was cast in.
    pub block: u64,
    /// The candidate.
    pub address: Address,
    /// Add (true) or remove (false).
    pub authorize: bool,
}

/// The running tally for one candidate (`Tally`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// What the votes ask for.
    pub authorize: bool,
    /// How many votes.
    pub votes: usize,
}

/// Why a header cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Not the next block after the snapshot (`ErrInvalidVotingChain`).
    #[error("invalid voting chain")]
    InvalidVotingChain,
    /// The author is not a validator (`ErrUnauthorized`).
    #[error("unauthorized")]
    Unauthorized,
    /// The vote is neither add nor drop, or the extra data is malformed (`ErrInvalidVote`).
    #[error("vote nonce not 0x00..0 or 0xff..f")]
    InvalidVote,
    /// The IBFT proposer seal does not recover.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Validators, votes and tallies at a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Blocks between vote resets.
    pub epoch: u64,
    /// The block this snapshot is at.
    pub number: u64,
    /// That block's hash.
    pub hash: B256,
    /// Votes in chronological order.
    pub votes: Vec<Vote>,
    /// Tally per candidate.
    pub tally: BTreeMap<Address, Tally>,
    /// The validators after `number`.
    pub validators: ValidatorSet,
}

impl Snapshot {
    /// A snapshot with no votes (genesis or a checkpoint).
    pub fn new(epoch: u64, number: u64, hash: B256, validators: ValidatorSet) -> Self {
        Self { epoch, number, hash, votes: Vec::new(), tally: BTreeMap::new(), validators }
    }

    fn check_vote(&self, address: &Address, authorize: bool) -> bool {
        self.validators.contains(address) != authorize
    }

    fn cast(&mut self, address: Address, authorize: bool) -> bool {
        if !self.check_vote(&address, authorize) {
            return false;
        }
        let t = self.tally.entry(address).or_insert(Tally { authorize, votes: 0 });
        t.votes = t.votes.saturating_add(1);
        true
    }

    fn uncast(&mut self, address: &Address, authorize: bool) -> bool {
        let Some(t) = self.tally.get_mut(address) else { return false };
        if t.authorize != authorize {
            return false;
        }
        if t.votes > 1 {
            t.votes = t.votes.saturating_sub(1);
        } else {
            self.tally.remove(address);
        }
        true
    }

    /// Applies the next header (GoQuorum `snapApplyHeader`), returning the new snapshot.
    pub fn apply(&self, header: &Header, flavour: Flavour) -> Result<Self, SnapshotError> {
        if Some(header.number) != self.number.checked_add(1) {
            return Err(SnapshotError::InvalidVotingChain);
        }
        let mut snap = self.clone();
        let number = header.number;
        if snap.epoch != 0 && number.checked_rem(snap.epoch) == Some(0) {
            snap.votes.clear();
            snap.tally.clear();
        }
        let (validator, vote) = match flavour {
            Flavour::Qbft => (header.beneficiary, read_qbft_vote(header)),
            Flavour::Ibft => (ibft_author(header)?, read_ibft_vote(header)),
        };
        if !snap.validators.contains(&validator) {
            return Err(SnapshotError::Unauthorized);
        }
        let (candidate, authorize) = vote.ok_or(SnapshotError::InvalidVote)?;

        // A validator has at most one vote per candidate: drop its previous one.
        if let Some(i) =
            snap.votes.iter().position(|v| v.validator == validator && v.address == candidate)
        {
            let old = snap.votes.remove(i);
            snap.uncast(&old.address, old.authorize);
        }
        if snap.cast(candidate, authorize) {
            snap.votes.push(Vote { validator, block: number, address: candidate, authorize });
        }
        let passes =
            snap.tally.get(&candidate).filter(|t| t.votes > snap.validators.len() / 2).copied();
        if let Some(t) = passes {
            if t.authorize {
                snap.validators.add(candidate);
            } else {
                snap.validators.remove(&candidate);
                // Discard the removed validator's own votes.
                let (theirs, rest): (Vec<Vote>, Vec<Vote>) =
                    snap.votes.iter().partition(|v| v.validator == candidate);
                snap.votes = rest;
                for v in theirs {
                    snap.uncast(&v.address, v.authorize);
                }
            }
            snap.votes.retain(|v| v.address != candidate);
            snap.tally.remove(&candidate);
        }
        snap.number = number;
        snap.hash = istanbul_block_hash(header);
        Ok(snap)
    }

    /// Applies consecutive headers in order (GoQuorum `snapApply`).
    pub fn apply_all<'a>(
        &self,
        headers: impl IntoIterator<Item = &'a Header>,
        flavour: Flavour,
    ) -> Result<Self, SnapshotError> {
        let mut snap = self.clone();
        for h in headers {
            snap = snap.apply(h, flavour)?;
        }
        Ok(snap)
    }
}

/// The local node's queued votes (`istanbul_propose` / `istanbul_discard` / `istanbul_candidates`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    proposals: BTreeMap<Address, bool>,
}

impl Candidates {
    /// `istanbul_propose`: queue a vote to add (`true`) or remove `address`.
    pub fn propose(&mut self, address: Address, authorize: bool) {
        self.proposals.insert(address, authorize);
    }

    /// `istanbul_discard`: drop a queued vote.
    pub fn discard(&mut self, address: &Address) {
        self.proposals.remove(address);
    }

    /// `istanbul_candidates`.
    pub fn all(&self) -> &BTreeMap<Address, bool> {
        &self.proposals
    }

    /// The vote to write into the next proposed block: the first queued candidate whose vote
    /// would change the set (GoQuorum `Prepare` picks a random valid one; we pick by address
    /// order so the choice is deterministic).
    pub fn next_vote(&self, snapshot: &Snapshot) -> Option<(Address, bool)> {
        self.proposals
            .iter()
            .find(|(addr, auth)| snapshot.check_vote(addr, **auth))
            .map(|(a, b)| (*a, *b))
    }
}
