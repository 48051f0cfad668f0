//! The genesis block header, built with geth's `Genesis.ToBlock` rules.

use alloy_consensus::Header;
use alloy_consensus::constants::{EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_primitives::{B64, B256, U256};

use crate::ChainSpec;
use crate::hardfork::Hardfork;

/// geth `params.GenesisGasLimit`, used when `gasLimit` is 0.
pub const DEFAULT_GENESIS_GAS_LIMIT: u64 = 4_712_388;
/// geth `params.GenesisDifficulty`, used when `difficulty` is absent.
pub const DEFAULT_GENESIS_DIFFICULTY: u64 = 131_072;
/// EIP-1559 initial base fee (1 gwei), used at a London genesis without `baseFeePerGas`.
pub const INITIAL_BASE_FEE: u64 = 1_000_000_000;

/// Builds the genesis header of `spec` with the given state root.
///
/// - London at genesis: `baseFeePerGas` = the genesis value, else 0 on `isQuorum` chains
///   (Quorum charges no gas price), else 1 gwei.
/// - Shanghai: `withdrawalsRoot` = empty root.
/// - Cancun: `blobGasUsed`/`excessBlobGas` (genesis values or 0), zero `parentBeaconBlockRoot`.
/// - Prague: `requestsHash` = the empty-requests hash.
pub(crate) fn genesis_header(spec: &ChainSpec, state_root: B256) -> Header {
    let g = &spec.genesis;
    let active = |fork| spec.is_active(fork, g.number, g.timestamp);
    let base_fee_per_gas = active(Hardfork::London).then(|| {
        g.base_fee_per_gas.unwrap_or(if spec.config.is_quorum { 0 } else { INITIAL_BASE_FEE })
    });
    let cancun = active(Hardfork::Cancun);
    Header {
        parent_hash: g.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: g.coinbase,
        state_root,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        logs_bloom: Default::default(),
        difficulty: g.difficulty.unwrap_or(U256::from(DEFAULT_GENESIS_DIFFICULTY)),
        number: g.number,
        gas_limit: if g.gas_limit == 0 { DEFAULT_GENESIS_GAS_LIMIT } else { g.gas_limit },
        gas_used: g.gas_used,
        timestamp: g.timestamp,
        extra_data: g.extra_data.clone(),
        mix_hash: g.mix_hash,
        nonce: B64::from(g.nonce.to_be_bytes()),
        base_fee_per_gas,
        withdrawals_root: active(Hardfork::Shanghai).then_some(EMPTY_ROOT_HASH),
        blob_gas_used: cancun.then(|| g.blob_gas_used.unwrap_or(0)),
        excess_blob_gas: cancun.then(|| g.excess_blob_gas.unwrap_or(0)),
        parent_beacon_block_root: cancun.then_some(B256::ZERO),
        requests_hash: active(Hardfork::Prague).then_some(EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}
