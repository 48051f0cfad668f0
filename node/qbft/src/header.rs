//! Istanbul header rules: the block hash, QBFT/IBFT seal hashes and header preparation.
//!
//! Reference: GoQuorum `core/types/block.go` (`Header.Hash`, `QbftHashWithRoundNumber`),
//! `core/types/istanbul.go` (`FilteredHeader`, `IstanbulFilteredHeader`, `QbftFilteredHeader*`),
//! `consensus/istanbul/qbft/engine/engine.go` and `consensus/istanbul/ibft/engine/engine.go`.

use alloy_consensus::Header;
use alloy_primitives::{Address, B64, B256, U256, b256, keccak256};

use crate::extra::{ExtraError, IbftExtra, QbftExtra, ValidatorVote};

/// `IstanbulDigest`: the `mixHash` of every istanbul (IBFT/QBFT) block.
pub const ISTANBUL_DIGEST: B256 =
    b256!("63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365");
/// IBFT nonce voting to add the coinbase candidate.
pub const NONCE_AUTH_VOTE: B64 = B64::new([0xff; 8]);
/// IBFT nonce voting to drop the coinbase candidate (also the empty nonce).
pub const NONCE_DROP_VOTE: B64 = B64::ZERO;
/// `keccak256(rlp([]))`: the only uncle hash allowed.
pub const EMPTY_UNCLE_HASH: B256 =
    b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

fn rlp_hash(header: &Header) -> B256 {
    keccak256(alloy_rlp::encode(header))
}

/// GoQuorum `IstanbulFilteredHeader`: the header with IBFT committed seals cleared and, unless
/// `keep_seal`, the proposer seal cleared too. `None` when the extra data is not IBFT.
pub fn ibft_filtered_header(header: &Header, keep_seal: bool) -> Option<Header> {
    let mut extra = IbftExtra::decode_extra(&header.extra_data).ok()?;
    if !keep_seal {
        extra.seal = Default::default();
    }
    extra.committed_seals.clear();
    let mut h = header.clone();
    h.extra_data = extra.to_extra_bytes();
    Some(h)
}

/// GoQuorum `QbftFilteredHeaderWithRound`: committed seals cleared and `round` written into the
/// extra data. `None` when the extra data is not QBFT.
pub fn qbft_filtered_header_with_round(header: &Header, round: u32) -> Option<Header> {
    let mut extra = QbftExtra::decode_extra(&header.extra_data).ok()?;
    extra.committed_seals.clear();
    extra.round = round;
    let mut h = header.clone();
    h.extra_data = extra.to_extra_bytes();
    Some(h)
}

/// GoQuorum `Header.Hash()`: for istanbul headers (`mixHash == IstanbulDigest`) the hash of the
/// filtered header (IBFT form if `extra[32..]` decodes as IBFT, else QBFT form with round 0);
/// otherwise, or if neither form decodes, the plain `keccak(rlp(header))`.
pub fn istanbul_block_hash(header: &Header) -> B256 {
    if header.mix_hash == ISTANBUL_DIGEST {
        let filtered = if IbftExtra::decode_extra(&header.extra_data).is_ok() {
            ibft_filtered_header(header, true)
        } else {
            qbft_filtered_header_with_round(header, 0)
        };
        if let Some(h) = filtered {
            return rlp_hash(&h);
        }
    }
    rlp_hash(header)
}

/// GoQuorum `QbftHashWithRoundNumber`: the digest a QBFT committed seal signs (no extra hashing).
pub fn qbft_seal_digest(header: &Header, round: u32) -> Result<B256, ExtraError> {
    let mut extra = QbftExtra::decode_extra(&header.extra_data)?;
    extra.committed_seals.clear();
    extra.round = round;
    let mut h = header.clone();
    h.extra_data = extra.to_extra_bytes();
    Ok(rlp_hash(&h))
}

/// IBFT `sigHash`: `keccak(rlp(header with proposer seal and committed seals cleared))`. The
/// proposer seal signs `keccak256(sigHash)` because the backend's `Sign` hashes again.
pub fn ibft_sig_hash(header: &Header) -> Result<B256, ExtraError> {
    let mut extra = IbftExtra::decode_extra(&header.extra_data)?;
    extra.seal = Default::default();
    extra.committed_seals.clear();
    let mut h = header.clone();
    h.extra_data = extra.to_extra_bytes();
    Ok(rlp_hash(&h))
}

/// GoQuorum QBFT `Engine.Prepare` plus `Seal`: sets the consensus fields of a header the local
/// proposer is building. `timestamp` is `max(parent.time + blockPeriod, now)`.
pub fn prepare_qbft_header(
    header: &mut Header,
    proposer: Address,
    parent_timestamp: u64,
    block_period: u64,
    now: u64,
    validators: &[Address],
    vote: Option<ValidatorVote>,
) -> Result<(), ExtraError> {
    header.beneficiary = proposer;
    header.nonce = B64::ZERO;
    header.mix_hash = ISTANBUL_DIGEST;
    header.difficulty = U256::from(1u8);
    header.ommers_hash = EMPTY_UNCLE_HASH;
    header.timestamp = parent_timestamp.saturating_add(block_period).max(now);
    let mut extra = QbftExtra::from_header_extra_or_vanity(&header.extra_data)?;
    let mut sorted = validators.to_vec();
    sorted.sort();
    extra.validators = sorted;
    extra.vote = vote;
    header.extra_data = extra.to_extra_bytes();
    Ok(())
}

/// Why committed seals could not be written (`ErrInvalidCommittedSeals`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitHeaderError {
    /// No seals, or a seal that is not 65 bytes.
    #[error("invalid committed seals")]
    InvalidCommittedSeals,
    /// The header's extra data is not QBFT.
    #[error(transparent)]
    Extra(#[from] ExtraError),
}

/// GoQuorum QBFT `CommitHeader`: writes the committed seals and the commit round.
pub fn commit_qbft_header(
    header: &mut Header,
    seals: &[[u8; 65]],
    round: u32,
) -> Result<(), CommitHeaderError> {
    if seals.is_empty() {
        return Err(CommitHeaderError::InvalidCommittedSeals);
    }
    let mut extra = QbftExtra::from_header_extra_or_vanity(&header.extra_data)?;
    extra.committed_seals = seals.iter().map(|s| s.to_vec().into()).collect();
    extra.round = round;
    header.extra_data = extra.to_extra_bytes();
    Ok(())
}

/// GoQuorum QBFT `ReadVote`: `(candidate, authorize)`; a header without a vote reads as a drop
/// vote for the zero address. `None` means the extra data is invalid or the vote byte is neither
/// `0xff` nor `0x00` (`ErrInvalidVote`).
pub fn read_qbft_vote(header: &Header) -> Option<(Address, bool)> {
    let extra = QbftExtra::from_header_extra_or_vanity(&header.extra_data).ok()?;
    match extra.vote {
        None => Some((Address::ZERO, false)),
        Some(v) => v.authorize().map(|a| (v.recipient, a)),
    }
}

/// IBFT `ReadVote`: the candidate is the coinbase, the nonce says add (`0xff..ff`) or drop (`0`).
pub fn read_ibft_vote(header: &Header) -> Option<(Address, bool)> {
    match header.nonce {
        NONCE_AUTH_VOTE => Some((header.beneficiary, true)),
        NONCE_DROP_VOTE => Some((header.beneficiary, false)),
        _ => None,
    }
}

/// IBFT `WriteVote`: coinbase = candidate, nonce = vote.
pub fn write_ibft_vote(header: &mut Header, candidate: Address, authorize: bool) {
    header.beneficiary = candidate;
    header.nonce = if authorize { NONCE_AUTH_VOTE } else { NONCE_DROP_VOTE };
}
