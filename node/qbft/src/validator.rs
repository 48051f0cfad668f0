//! The validator set: ordering, F, quorum size and proposer selection.
//!
//! Reference: GoQuorum `consensus/istanbul/validator/default.go` (`defaultSet`, `roundRobinProposer`,
//! `stickyProposer`, `F`), `consensus/istanbul/types.go` (`ValidatorSortByByte/ByString`) and
//! `consensus/istanbul/qbft/core/core.go` (`QuorumSize`).

use alloy_primitives::Address;

/// How a new proposer is chosen (`policy` in the genesis `qbft`/`ibft` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProposerPolicy {
    /// Policy 0: the proposer changes at every block and every round.
    #[default]
    RoundRobin,
    /// Policy 1: the last proposer keeps proposing until a round change.
    Sticky,
}

impl ProposerPolicy {
    /// The policy with GoQuorum's numeric id (0 round-robin, 1 sticky).
    pub fn from_id(id: u64) -> Option<Self> {
        match id {
            0 => Some(Self::RoundRobin),
            1 => Some(Self::Sticky),
            _ => None,
        }
    }

    /// GoQuorum's numeric id.
    pub fn id(self) -> u64 {
        match self {
            Self::RoundRobin => 0,
            Self::Sticky => 1,
        }
    }
}

/// The order of the validator list, which decides the proposer rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// QBFT: raw address bytes (`ValidatorSortByByte`).
    #[default]
    Bytes,
    /// Legacy IBFT: EIP-55 checksummed hex strings (`ValidatorSortByString`).
    ChecksumString,
}

/// An ordered set of validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Address>,
    policy: ProposerPolicy,
    order: SortOrder,
}

impl ValidatorSet {
    /// Builds a set; duplicates are removed and the list sorted by `order`.
    pub fn new(
        addresses: impl IntoIterator<Item = Address>,
        policy: ProposerPolicy,
        order: SortOrder,
    ) -> Self {
        let mut validators: Vec<Address> = addresses.into_iter().collect();
        validators.sort();
        validators.dedup();
        let mut set = Self { validators, policy, order };
        set.sort();
        set
    }

    /// A QBFT set (byte order).
    pub fn qbft(addresses: impl IntoIterator<Item = Address>, policy: ProposerPolicy) -> Self {
        Self::new(addresses, policy, SortOrder::Bytes)
    }

    fn sort(&mut self) {
        match self.order {
            SortOrder::Bytes => self.validators.sort(),
            SortOrder::ChecksumString => {
                self.validators.sort_by_cached_key(|a| a.to_checksum(None));
            }
        }
    }

    /// The validators in proposer order.
    pub fn list(&self) -> &[Address] {
        &self.validators
    }

    /// The proposer policy.
    pub fn policy(&self) -> ProposerPolicy {
        self.policy
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// True when there are no validators.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Index of `address` in proposer order.
    pub fn index_of(&self, address: &Address) -> Option<usize> {
        self.validators.iter().position(|a| a == address)
    }

    /// True when `address` is a validator.
    pub fn contains(&self, address: &Address) -> bool {
        self.index_of(address).is_some()
    }

    /// `F = ceil(N/3) - 1`, the number of faulty validators tolerated (0 for an empty set).
    pub fn f(&self) -> usize {
        self.len().div_ceil(3).saturating_sub(1)
    }

    /// The quorum: `ceil(2N/3)` from `ceil2Nby3Block` on, otherwise `2F+1`.
    pub fn quorum_size(&self, height: u64, ceil_2n_by_3_block: Option<u64>) -> usize {
        match ceil_2n_by_3_block {
            Some(b) if height >= b => self.len().saturating_mul(2).div_ceil(3),
            _ => self.f().saturating_mul(2).saturating_add(1),
        }
    }

    /// The proposer of `round` after a block by `last_proposer` (the zero address for genesis).
    pub fn proposer(&self, last_proposer: Address, round: u64) -> Option<Address> {
        let n = self.len() as u64;
        if n == 0 {
            return None;
        }
        let seed = if last_proposer == Address::ZERO {
            round
        } else {
            let offset = self.index_of(&last_proposer).unwrap_or(0) as u64;
            let base = offset.wrapping_add(round);
            match self.policy {
                ProposerPolicy::RoundRobin => base.wrapping_add(1),
                ProposerPolicy::Sticky => base,
            }
        };
        let idx = usize::try_from(seed.checked_rem(n)?).ok()?;
        self.validators.get(idx).copied()
    }

    /// Adds a validator; false if it was already present.
    pub fn add(&mut self, address: Address) -> bool {
        if self.contains(&address) {
            return false;
        }
        self.validators.push(address);
        self.sort();
        true
    }

    /// Removes a validator; false if it was absent.
    pub fn remove(&mut self, address: &Address) -> bool {
        match self.index_of(address) {
            Some(i) => {
                self.validators.remove(i);
                true
            }
            None => false,
        }
    }
}
