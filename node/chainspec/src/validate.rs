//! GoQuorum's genesis checks (`params/config.go IsValid`, `CheckTransitionsData`,
//! `CheckMaxCodeConfigData`, `eth/backend.go`), with GoQuorum's messages.

use crate::ChainSpecError;
use crate::config::ChainConfig;

/// Default `txnSizeLimit` in KB.
pub const DEFAULT_TXN_SIZE_LIMIT_KB: u64 = 64;
const TXN_SIZE_KB: std::ops::RangeInclusive<u64> = 32..=128;
const CODE_SIZE_KB: std::ops::RangeInclusive<u64> = 24..=128;

/// Runs every GoQuorum check on a parsed config.
pub(crate) fn validate(c: &ChainConfig) -> Result<(), ChainSpecError> {
    match c.chain_id {
        None => return Err(ChainSpecError::MissingChainId),
        Some(1) => return Err(ChainSpecError::ChainIdOne),
        Some(_) => {}
    }
    let txn_kb = if c.txn_size_limit == 0 { DEFAULT_TXN_SIZE_LIMIT_KB } else { c.txn_size_limit };
    if !TXN_SIZE_KB.contains(&txn_kb) {
        return Err(ChainSpecError::TxnSizeLimit { kb: txn_kb });
    }
    if c.max_code_size != 0 && !CODE_SIZE_KB.contains(&c.max_code_size) {
        return Err(ChainSpecError::MaxCodeSize { kb: c.max_code_size });
    }
    validate_code_size_config(c)?;
    validate_transitions(c)?;
    validate_consensus(c)
}

fn validate_code_size_config(c: &ChainConfig) -> Result<(), ChainSpecError> {
    if c.max_code_size_config.is_empty() {
        return Ok(());
    }
    if uses_deprecated_max_code_size(c) {
        return Err(ChainSpecError::MaxCodeSizeConflict);
    }
    let mut previous = 0u64;
    for entry in &c.max_code_size_config {
        if entry.block < previous {
            return Err(ChainSpecError::MaxCodeSizeConfigOrder { block: entry.block, previous });
        }
        if !CODE_SIZE_KB.contains(&entry.size) {
            return Err(ChainSpecError::ContractSizeLimit { block: entry.block, kb: entry.size });
        }
        previous = entry.block;
    }
    Ok(())
}

/// GoQuorum `CheckMaxCodeConfigData`: `maxCodeSize` or `maxCodeSizeChangeBlock` present.
fn uses_deprecated_max_code_size(c: &ChainConfig) -> bool {
    c.max_code_size != 0 || c.max_code_size_change_block.is_some()
}

fn validate_transitions(c: &ChainConfig) -> Result<(), ChainSpecError> {
    let mut previous = 0u64;
    for t in &c.transitions {
        if t.block < previous {
            return Err(ChainSpecError::BlockOrder {
                section: "transitions",
                block: t.block,
                previous,
            });
        }
        previous = t.block;
        if let Some(kb) = t.contract_size_limit.filter(|kb| *kb != 0) {
            if !CODE_SIZE_KB.contains(&kb) {
                return Err(ChainSpecError::ContractSizeLimit { block: t.block, kb });
            }
            if uses_deprecated_max_code_size(c) {
                return Err(ChainSpecError::MaxCodeSizeConflict);
            }
        }
        if let Some(kb) = t.transaction_size_limit.filter(|kb| *kb != 0)
            && !TXN_SIZE_KB.contains(&kb)
        {
            return Err(ChainSpecError::TransitionTxSizeLimit { block: t.block, kb });
        }
        if let Some(alg) = &t.algorithm
            && !alg.eq_ignore_ascii_case("ibft")
            && !alg.eq_ignore_ascii_case("qbft")
        {
            return Err(ChainSpecError::UnknownAlgorithm {
                block: t.block,
                algorithm: alg.clone(),
            });
        }
    }
    Ok(())
}

fn validate_consensus(c: &ChainConfig) -> Result<(), ChainSpecError> {
    let present = [
        ("istanbul", c.istanbul.is_some()),
        ("ibft", c.ibft.is_some()),
        ("qbft", c.qbft.is_some()),
    ];
    let mut found = present.iter().filter(|(_, on)| *on).map(|(name, _)| *name);
    if let (Some(first), Some(second)) = (found.next(), found.next()) {
        return Err(ChainSpecError::ConsensusConflict { first, second });
    }
    Ok(())
}
