//! The `geth --dev`-like development chain.

use alloy_primitives::{Address, Bytes, U256};

use crate::ChainSpec;
use crate::config::ChainConfig;
use crate::consensus::ConsensusConfig;
use crate::genesis::{Genesis, GenesisAccount};

/// Gas limit of the dev genesis (geth `--dev` uses 11,500,000; we use mainnet's 30M).
pub const DEV_GAS_LIMIT: u64 = 0x1c9c380;

pub(crate) fn dev_spec(chain_id: u64, funded: &[(Address, U256)], period_secs: u64) -> ChainSpec {
    let config = ChainConfig {
        chain_id: Some(chain_id),
        homestead_block: Some(0),
        eip150_block: Some(0),
        eip155_block: Some(0),
        eip158_block: Some(0),
        byzantium_block: Some(0),
        constantinople_block: Some(0),
        petersburg_block: Some(0),
        istanbul_block: Some(0),
        muir_glacier_block: Some(0),
        berlin_block: Some(0),
        london_block: Some(0),
        arrow_glacier_block: Some(0),
        gray_glacier_block: Some(0),
        merge_netsplit_block: Some(0),
        terminal_total_difficulty: Some(U256::ZERO),
        terminal_total_difficulty_passed: true,
        shanghai_time: Some(0),
        cancun_time: Some(0),
        prague_time: Some(0),
        is_quorum: true,
        ..ChainConfig::default()
    };
    let genesis = Genesis {
        gas_limit: DEV_GAS_LIMIT,
        difficulty: Some(U256::ZERO),
        extra_data: Bytes::from_static(&[0u8; 32]),
        base_fee_per_gas: Some(0),
        alloc: funded.iter().map(|(a, b)| (*a, GenesisAccount::with_balance(*b))).collect(),
        ..Genesis::default()
    };
    ChainSpec::assemble(chain_id, genesis, config)
        .with_consensus(ConsensusConfig::Dev { period_secs })
}
