//! Proposer and committed seals.
//!
//! Reference: GoQuorum `consensus/istanbul/qbft/core/commit.go` (`SignWithoutHashing(
//! PrepareCommittedSeal(header, round))`), `qbft/engine/engine.go` (`Signers`,
//! `verifyCommittedSeals`), `ibft/core/core.go` (`PrepareCommittedSeal = hash ‖ 0x02`, signed with
//! the hashing `Sign`) and `ibft/engine/engine.go` (`Author`, `Seal`).

use alloy_consensus::Header;
use alloy_primitives::{Address, B256};

use crate::{
    crypto::{SignatureError, ValidatorKey, recover_digest, recover_hashed},
    extra::{ExtraError, IbftExtra, QbftExtra},
    header::{ibft_sig_hash, istanbul_block_hash, qbft_seal_digest},
    validator::ValidatorSet,
};

/// IBFT message code of COMMIT, appended to the block hash before sealing.
pub const IBFT_MSG_COMMIT: u8 = 0x02;

/// Why the seals of a header are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Extra data malformed.
    #[error(transparent)]
    Extra(#[from] ExtraError),
    /// A seal does not recover (`ErrInvalidSignature`).
    #[error("invalid signature: {0}")]
    Signature(#[from] SignatureError),
    /// No committed seals (`ErrEmptyCommittedSeals`).
    #[error("zero committed seals")]
    EmptyCommittedSeals,
    /// A seal from a non-validator, a duplicate, or not more than F of them
    /// (`ErrInvalidCommittedSeals`).
    #[error("invalid committed seals")]
    InvalidCommittedSeals,
}

/// QBFT committed seal: `sign(QbftHashWithRoundNumber(round))`, no extra hashing.
pub fn qbft_committed_seal(
    key: &ValidatorKey,
    header: &Header,
    round: u32,
) -> Result<[u8; 65], ExtraError> {
    Ok(key.sign_digest(&qbft_seal_digest(header, round)?))
}

/// GoQuorum QBFT `Signers`: the addresses that produced the header's committed seals, recovered
/// against the digest for the header's own round.
pub fn qbft_committers(header: &Header) -> Result<Vec<Address>, SealError> {
    let extra = QbftExtra::decode_extra(&header.extra_data)?;
    let digest = qbft_seal_digest(header, extra.round)?;
    extra
        .committed_seals
        .iter()
        .map(|s| recover_digest(&digest, s).map_err(SealError::from))
        .collect()
}

/// GoQuorum `verifyCommittedSeals`: every seal recovers to a distinct validator of the parent's
/// set, and there are more than F of them (not a full quorum).
pub fn verify_committed_seals(
    committers: &[Address],
    validators: &ValidatorSet,
) -> Result<(), SealError> {
    if committers.is_empty() {
        return Err(SealError::EmptyCommittedSeals);
    }
    let mut remaining: Vec<Address> = validators.list().to_vec();
    for addr in committers {
        let pos =
            remaining.iter().position(|a| a == addr).ok_or(SealError::InvalidCommittedSeals)?;
        remaining.swap_remove(pos);
    }
    if committers.len() <= validators.f() {
        return Err(SealError::InvalidCommittedSeals);
    }
    Ok(())
}

/// The data an IBFT committed seal signs (hashed by `Sign`): `blockHash ‖ 0x02`.
pub fn ibft_committed_seal_data(block_hash: &B256) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[..32].copy_from_slice(block_hash.as_slice());
    out[32] = IBFT_MSG_COMMIT;
    out
}

/// IBFT committed seal: `sign(keccak(blockHash ‖ 0x02))`.
pub fn ibft_committed_seal(key: &ValidatorKey, block_hash: &B256) -> [u8; 65] {
    key.sign_hashed(&ibft_committed_seal_data(block_hash))
}

/// IBFT `Signers`: recovers the committed seals against the header's istanbul hash.
pub fn ibft_committers(header: &Header) -> Result<Vec<Address>, SealError> {
    let extra = IbftExtra::decode_extra(&header.extra_data)?;
    let data = ibft_committed_seal_data(&istanbul_block_hash(header));
    extra
        .committed_seals
        .iter()
        .map(|s| recover_hashed(&data, s).map_err(SealError::from))
        .collect()
}

/// IBFT proposer seal: `sign(keccak(sigHash(header)))`.
pub fn ibft_proposer_seal(key: &ValidatorKey, header: &Header) -> Result<[u8; 65], ExtraError> {
    Ok(key.sign_hashed(ibft_sig_hash(header)?.as_slice()))
}

/// IBFT `Author`: the signer of the proposer seal.
pub fn ibft_author(header: &Header) -> Result<Address, SealError> {
    let extra = IbftExtra::decode_extra(&header.extra_data)?;
    Ok(recover_hashed(ibft_sig_hash(header)?.as_slice(), &extra.seal)?)
}

/// IBFT `writeSeal`: stores the proposer seal in the extra data.
pub fn write_ibft_proposer_seal(header: &mut Header, seal: &[u8; 65]) -> Result<(), ExtraError> {
    let mut extra = IbftExtra::decode_extra(&header.extra_data)?;
    extra.seal = seal.to_vec().into();
    header.extra_data = extra.to_extra_bytes();
    Ok(())
}
