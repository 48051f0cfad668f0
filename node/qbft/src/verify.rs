//! QBFT header verification for imported blocks.
//!
//! Reference: GoQuorum `consensus/istanbul/qbft/engine/engine.go` (`verifyHeader`,
//! `verifyCascadingFields`, `verifySigner`, `verifyCommittedSeals`).

use alloy_consensus::Header;
use alloy_primitives::U256;

use crate::{
    extra::QbftExtra,
    header::{EMPTY_UNCLE_HASH, ISTANBUL_DIGEST, istanbul_block_hash},
    seal::{SealError, qbft_committers, verify_committed_seals},
    validator::ValidatorSet,
};

/// Why a QBFT header is invalid (GoQuorum's error texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// `consensus.ErrFutureBlock`.
    #[error("block in the future")]
    FutureBlock,
    /// `ErrInvalidExtraDataFormat`.
    #[error("invalid extra data format")]
    InvalidExtraDataFormat,
    /// `ErrInvalidMixDigest`.
    #[error("invalid Istanbul mix digest")]
    InvalidMixDigest,
    /// `ErrInvalidUncleHash`.
    #[error("non empty uncle hash")]
    InvalidUncleHash,
    /// `ErrInvalidDifficulty`.
    #[error("invalid difficulty")]
    InvalidDifficulty,
    /// `consensus.ErrUnknownAncestor`.
    #[error("unknown ancestor")]
    UnknownAncestor,
    /// `ErrInvalidTimestamp`.
    #[error("invalid timestamp")]
    InvalidTimestamp,
    /// `ErrUnauthorized`: the coinbase is not a validator.
    #[error("unauthorized")]
    Unauthorized,
    /// Committed seals missing or invalid.
    #[error(transparent)]
    Seals(#[from] SealError),
}

/// Verifies a non-genesis QBFT header against its parent and the parent's validator set.
/// `now_secs + allowed_future_secs` bounds the timestamp (`--allowedfutureblocktime`).
pub fn verify_qbft_header(
    header: &Header,
    parent: &Header,
    validators: &ValidatorSet,
    block_period_secs: u64,
    now_secs: u64,
    allowed_future_secs: u64,
) -> Result<(), HeaderError> {
    if header.timestamp > now_secs.saturating_add(allowed_future_secs) {
        return Err(HeaderError::FutureBlock);
    }
    QbftExtra::decode_extra(&header.extra_data).map_err(|_| HeaderError::InvalidExtraDataFormat)?;
    if header.mix_hash != ISTANBUL_DIGEST {
        return Err(HeaderError::InvalidMixDigest);
    }
    if header.ommers_hash != EMPTY_UNCLE_HASH {
        return Err(HeaderError::InvalidUncleHash);
    }
    if header.difficulty != U256::from(1u8) {
        return Err(HeaderError::InvalidDifficulty);
    }
    if Some(header.number) != parent.number.checked_add(1)
        || istanbul_block_hash(parent) != header.parent_hash
    {
        return Err(HeaderError::UnknownAncestor);
    }
    if parent.timestamp.saturating_add(block_period_secs) > header.timestamp {
        return Err(HeaderError::InvalidTimestamp);
    }
    if !validators.contains(&header.beneficiary) {
        return Err(HeaderError::Unauthorized);
    }
    let committers = qbft_committers(header)?;
    verify_committed_seals(&committers, validators)?;
    Ok(())
}
